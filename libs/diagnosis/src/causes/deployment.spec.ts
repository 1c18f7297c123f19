import { readFacts } from '../facts';
import { at, deployedAt, ok, scenario, sig } from '../testing';
import { deploymentRule } from './deployment';

const assess = (input: Parameters<typeof readFacts>[0]) => deploymentRule.assess(readFacts(input));

describe('deployment rule', () => {
  it('blames a deployment shortly before the impact with an error first seen after it, citing both with links', () => {
    const h = assess(scenario({ deploy: ok(deployedAt(-3)) }, { logs: { signatures: [sig('NullPointerException at CartService.total', at(-2))] }, metrics: { impactStartedAt: at(-1) } }))!;
    expect(h.confidence).toBeGreaterThanOrEqual(0.9);
    expect(h.evidence.map((e) => e.step)).toEqual(['deploy', 'logs', 'metrics']);
    expect(h.evidence[0]).toMatchObject({ text: expect.stringContaining('checkout:42'), link: 'https://console/deploy/2' });
    expect(h.evidence[1].link).toContain('logs-insights');
    expect(h.against).toEqual([]);
  });

  it('blames it on tasks of the new task definition failing when the logs could not be read', () => {
    const h = assess(
      scenario(
        { deploy: ok(deployedAt(-3)), logs: { status: 'failed', error: 'access denied: the role Responder runs as needs logs:FilterLogEvents on /ecs/checkout' } },
        { ecs: { deployments: [{ taskDefinition: 'checkout:42', status: 'PRIMARY', rolloutState: 'FAILED', failedTasks: 6 }] } },
      ),
    )!;
    expect(h.confidence).toBeGreaterThanOrEqual(0.8);
    expect(h.evidence.find((e) => e.step === 'ecs')?.text).toMatch(/6 tasks of checkout:42 failed/);
  });

  it('gives timing alone no more than a hint', () => {
    const h = assess(scenario({ deploy: ok(deployedAt(-3)) }, { metrics: { impactStartedAt: at(0) } }))!;
    expect(h.confidence).toBeLessThan(0.8);
    expect(h.against.map((a) => a.text)).toContain('no error signature first seen after the deployment');
  });

  it('argues against the decoy: database errors logged before the deployment landed', () => {
    const h = assess(
      scenario(
        { deploy: ok(deployedAt(-3)) },
        {
          logs: { signatures: [sig('could not connect to database checkout-db: connection refused', at(-9), 200), sig('NullPointerException in handler', at(-1), 3)] },
          aurora: { verdict: 'writer-down', writer: { instanceId: 'checkout-db-1', status: 'stopped' } },
          metrics: { impactStartedAt: at(-8) },
        },
      ),
    )!;
    expect(h.confidence).toBeLessThan(0.3);
    expect(h.against.map((a) => a.step)).toEqual(expect.arrayContaining(['metrics', 'logs']));
    expect(h.against.find((a) => a.step === 'metrics')?.text).toMatch(/before the deployment landed/);
  });

  it('weighs earlier database errors less while the Aurora writer is available', () => {
    const h = assess(scenario({ deploy: ok(deployedAt(-3)) }, { logs: { signatures: [sig('upstream connect error to 10.0.0.1:5432', at(-9)), sig('NullPointerException in CartService', at(-2))] } }))!;
    expect(h.against.find((a) => a.step === 'logs')?.text).toMatch(/\(the Aurora writer is available\)$/);
    expect(h.confidence).toBeGreaterThanOrEqual(0.8);
  });

  it('argues against it when Aurora failed over before it landed (events only)', () => {
    const h = assess(
      scenario({ deploy: ok(deployedAt(-3)) }, { aurora: { verdict: 'degraded', failoverInProgress: true, events: [{ at: at(-6), message: 'Started cross AZ failover to DB instance: checkout-db-2' }] } }),
    )!;
    expect(h.against.find((a) => a.step === 'aurora')?.text).toMatch(/already failing over/);
  });

  it('says nothing about a deployment outside the window', () => {
    expect(assess(scenario({}))).toBeNull();
  });
});
