import { readFacts } from '../facts';
import { at, scenario, sig } from '../testing';
import { dependencyRule } from './dependency';

const assess = (input: Parameters<typeof readFacts>[0]) => dependencyRule.assess(readFacts(input));

describe('dependency rule', () => {
  it('blames a dependency for upstream timeouts while the service is healthy', () => {
    const h = assess(scenario({}, { logs: { signatures: [sig('POST https://payments.internal/charge failed: ETIMEDOUT', at(-1), 300), sig('INFO GET /health 200', at(-30), 500, 'INFO')] } }))!;
    expect(h.confidence).toBeGreaterThanOrEqual(0.7);
    expect(h.evidence[0].text).toMatch(/payments\.internal/);
    expect(h.evidence.map((e) => e.step)).toEqual(['logs', 'logs', 'ecs', 'alb']);
  });

  it('does not take database connection errors for another service', () => {
    expect(assess(scenario({}, { logs: { signatures: [sig('connection refused: checkout-db.cluster-x.rds.amazonaws.com:5432', at(-1))] } }))).toBeNull();
  });

  it('argues against it when the Aurora writer is down', () => {
    const h = assess(scenario({}, { logs: { signatures: [sig('upstream timed out', at(-1))] }, aurora: { verdict: 'writer-down' } }))!;
    expect(h.against[0].step).toBe('aurora');
  });
});
