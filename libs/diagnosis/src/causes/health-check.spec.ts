import { readFacts } from '../facts';
import { at, scenario, sig } from '../testing';
import { healthCheckRule } from './health-check';

const assess = (input: Parameters<typeof readFacts>[0]) => healthCheckRule.assess(readFacts(input));

const failing = { unhealthy: 4, healthy: 0, total: 4, reasons: { 'Target.ResponseCodeMismatch': 4 }, targetGroups: [{ name: 'checkout-blue', summary: '4 of 4 targets unhealthy in checkout-blue', healthCheck: { path: '/healthz' }, link: 'https://console/tg' }] };

describe('health-check rule', () => {
  it('blames the health check when targets fail it while the logs are clean and tasks run', () => {
    const h = assess(scenario({}, { alb: failing }))!;
    expect(h.confidence).toBeGreaterThanOrEqual(0.8);
    expect(h.evidence[0]).toMatchObject({ step: 'alb', link: 'https://console/tg', text: expect.stringContaining('Target.ResponseCodeMismatch ×4') });
    expect(h.summary).toContain('/healthz');
  });

  it('argues against it when the application logs errors', () => {
    const h = assess(scenario({}, { alb: failing, logs: { signatures: [sig('ERROR boom', at(-1))] } }))!;
    expect(h.against[0].step).toBe('logs');
    expect(h.confidence).toBeLessThan(0.5);
  });

  it('points to a person who changed the target group just before', () => {
    const h = assess(scenario({}, { alb: failing, changes: { changes: [{ at: at(-4), who: 'alice', eventName: 'ModifyTargetGroup', resourceType: 'AWS::ElasticLoadBalancingV2::TargetGroup', resourceName: 'checkout-blue', byAutomation: false, isDeployment: false }] } }))!;
    expect(h.against.find((a) => a.step === 'changes')?.text).toMatch(/alice changed checkout-blue/);
  });

  it('has nothing to say when every target is healthy', () => {
    expect(assess(scenario({}))).toBeNull();
  });
});
