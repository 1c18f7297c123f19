import { readFacts } from '../facts';
import { scenario } from '../testing';
import { infrastructureRule } from './infrastructure';

const assess = (input: Parameters<typeof readFacts>[0]) => infrastructureRule.assess(readFacts(input));

describe('infrastructure rule', () => {
  it('blames lost hosts for tasks stopped with their instance and targets in InvalidState', () => {
    const h = assess(
      scenario({}, {
        ecs: { missing: 3, running: 1, stoppedGroups: [{ reason: 'Host EC2 (instance i-<hex>) stopped/terminated.', stopCode: null, count: 3, oom: false, link: 'https://console/stopped' }] },
        alb: { unhealthy: 0, healthy: 1, total: 4, reasons: { 'Target.InvalidState': 3 } },
      }),
    )!;
    expect(h.confidence).toBeGreaterThanOrEqual(0.8);
    expect(h.evidence[0]).toMatchObject({ step: 'ecs', link: 'https://console/stopped' });
  });

  it('counts spot interruptions', () => {
    const h = assess(scenario({}, { ecs: { stoppedGroups: [{ reason: 'Your Spot Task was interrupted.', stopCode: 'SpotInterruption', count: 2, oom: false }] } }))!;
    expect(h.evidence[0].text).toMatch(/2 tasks stopped with their host/);
  });

  it('has nothing to say when no host was lost', () => {
    expect(assess(scenario({}))).toBeNull();
  });
});
