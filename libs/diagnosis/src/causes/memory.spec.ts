import { readFacts } from '../facts';
import { metric, scenario } from '../testing';
import { memoryRule } from './memory';

const assess = (input: Parameters<typeof readFacts>[0]) => memoryRule.assess(readFacts(input));

describe('memory rule', () => {
  it('blames memory for OOM kills with memory near its limit', () => {
    const h = assess(
      scenario({}, {
        ecs: { oomKills: 3, exitCodes: { '137': 3 }, stoppedGroups: [{ reason: 'OutOfMemoryError: Container killed due to memory usage', count: 3, oom: true, link: 'https://console/stopped' }] },
        metrics: { metrics: [metric('ecs_memory', 'checkout memory %', 60, 97)] },
      }),
    )!;
    expect(h.confidence).toBeGreaterThanOrEqual(0.8);
    expect(h.evidence[0]).toMatchObject({ step: 'ecs', link: 'https://console/stopped' });
    expect(h.summary).toMatch(/3 OOM kills/);
  });

  it('argues against high memory alone when no task was killed', () => {
    const h = assess(scenario({}, { metrics: { metrics: [metric('ecs_memory', 'checkout memory %', 60, 93)] } }))!;
    expect(h.against.map((a) => a.text)).toContain('no task was killed for memory');
    expect(h.confidence).toBeLessThan(0.5);
  });

  it('has nothing to say when memory is fine', () => {
    expect(assess(scenario({}))).toBeNull();
  });
});
