import { readFacts } from '../facts';
import { at, metric, scenario } from '../testing';
import { capacityRule } from './capacity';

const assess = (input: Parameters<typeof readFacts>[0]) => capacityRule.assess(readFacts(input));

const cpuHigh = metric('ecs_cpu', 'checkout CPU %', 40, 95, at(-2));

describe('capacity rule', () => {
  it('blames capacity for CPU saturated under more requests with healthy tasks', () => {
    const h = assess(scenario({}, { metrics: { cpuHigh: true, metrics: [cpuHigh, metric('tg0_requests', 'checkout-blue requests', 1000, 2600, at(-3))] } }))!;
    expect(h.confidence).toBeGreaterThanOrEqual(0.8);
    expect(h.evidence[0]).toMatchObject({ step: 'metrics', link: expect.stringContaining('ecs_cpu') });
    expect(h.evidence.map((e) => e.text).join(' ')).toMatch(/requests 1000 → 2600/);
  });

  it('argues against it when CPU is high but requests did not rise', () => {
    const h = assess(scenario({}, { metrics: { cpuHigh: true, metrics: [cpuHigh, metric('tg0_requests', 'checkout-blue requests', 1000, 1010)] } }))!;
    expect(h.against[0].text).toMatch(/requests did not rise/);
    expect(h.confidence).toBeLessThan(0.5);
  });

  it('has nothing to say about a service at rest', () => {
    expect(assess(scenario({}))).toBeNull();
  });
});
