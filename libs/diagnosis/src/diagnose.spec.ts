import { CAUSES, ruledOut } from '@responder/domain';
import { diagnose } from './diagnose';
import { CAUSE_RULES } from './registry';
import { at, deployedAt, metric, ok, scenario, sig } from './testing';

describe('diagnose', () => {
  it('names a bad deployment, best hypothesis first, with the impact start from the metrics', () => {
    const v = diagnose(scenario({ deploy: ok(deployedAt(-3)) }, { logs: { signatures: [sig('TypeError: cannot read properties of undefined', at(-2))] }, metrics: { impactStartedAt: at(-1), errorsUp: true } }));
    expect(v.cause).toBe('deployment');
    expect(v.confidence).toBeGreaterThanOrEqual(0.8);
    expect(v.summary).toMatch(/^Deployment .*checkout:42.*confidence 0\.\d\d\)\.$/);
    expect(v.hypotheses[0].cause).toBe('deployment');
    expect(v.impactStartedAt).toBe(at(-1));
    expect(v.gaps).toEqual([]);
  });

  it('blames the database, not the decoy deployment that landed while the writer was already failing', () => {
    const v = diagnose(
      scenario(
        { deploy: ok(deployedAt(-3)) },
        {
          logs: { signatures: [sig('could not connect to database checkout-db: connection refused', at(-9), 300), sig('ERROR order 42 not found', at(-1), 2)] },
          aurora: { verdict: 'writer-down', writer: { instanceId: 'checkout-db-1', status: 'stopped' }, reasons: ['the writer checkout-db-1 is stopped'] },
          metrics: { impactStartedAt: at(-8), errorsUp: true },
        },
      ),
    );
    expect(v.cause).toBe('database');
    const deployment = v.hypotheses.find((h) => h.cause === 'deployment')!;
    expect(deployment.confidence).toBeLessThan(0.3);
    expect(ruledOut(v).map((h) => h.cause)).toContain('deployment');
  });

  it('abstains when two causes are level', () => {
    // A deployment with a new error after it, and a person's security group change just before: both have a case.
    const v = diagnose(
      scenario({ deploy: ok(deployedAt(-3)) }, {
        logs: { signatures: [sig('connect ETIMEDOUT 10.0.3.4:8443', at(-2), 80)] },
        metrics: { impactStartedAt: at(-1) },
        changes: { changes: [{ at: at(-5), who: 'bob', eventName: 'RevokeSecurityGroupIngress', resourceType: 'AWS::EC2::SecurityGroup', resourceName: 'sg-0abc', summary: 'revoked ingress on sg-0abc', byAutomation: false, isDeployment: false }] },
      }),
    );
    expect(v.cause).toBe('unknown');
    expect(v.confidence).toBe(0);
    expect(v.summary).toMatch(/^No cause is clearly ahead: deployment \(0\.95\) and (configuration-change|dependency) \(0\.80\)/);
    expect(v.hypotheses.length).toBeGreaterThanOrEqual(2);
  });

  it('abstains when nothing is wrong: unknown, no hypothesis', () => {
    const v = diagnose(scenario({}));
    expect(v).toEqual({ cause: 'unknown', confidence: 0, summary: 'No cause found: no diagnostic points to one.', hypotheses: [], gaps: [], impactStartedAt: null });
  });

  it('abstains on timing alone (a deployment just before, nothing new after it)', () => {
    const v = diagnose(scenario({ deploy: ok(deployedAt(-3)) }, { metrics: { impactStartedAt: at(0) } }));
    expect(v.hypotheses[0]).toMatchObject({ cause: 'deployment' });
    expect(v.hypotheses[0].confidence).toBeLessThan(0.8);
  });

  it('names the gaps: access denied with the IAM action, failures, and checks not configured', () => {
    const v = diagnose(
      scenario({
        logs: { status: 'failed', error: 'the job failed: access denied: the role Responder runs as needs logs:FilterLogEvents on /ecs/checkout (AWS: User is not authorized)' },
        changes: { status: 'failed', error: 'access denied: the role Responder runs as needs cloudtrail:LookupEvents on * (AWS: denied)' },
        aurora: { status: 'skipped', reason: 'when was false: service.aurora != null' },
        alb: { status: 'timed_out', error: 'alb.target-health did not finish within 120000 ms' },
      }),
    );
    expect(v.gaps).toEqual([
      { step: 'alb', reason: 'target health not checked: timed out: alb.target-health did not finish within 120000 ms' },
      { step: 'logs', reason: 'application logs not checked: access denied (the role needs logs:FilterLogEvents)' },
      { step: 'aurora', reason: 'Aurora health not checked: not configured for this service (when was false: service.aurora != null)' },
      { step: 'changes', reason: 'recent changes (CloudTrail) not checked: access denied (the role needs cloudtrail:LookupEvents)' },
    ]);
    expect(v.summary).toMatch(/4 checks could not run/);
  });

  it('reads older outputs: impact from the earliest 5xx movement when metrics has no impactStartedAt', () => {
    const v = diagnose(scenario({}, { metrics: { impactStartedAt: undefined, metrics: [metric('elb_5xx', 'ELB 5xx', 0, 40, at(-4)), metric('tg0_latency', 'latency', 0.1, 0.9, at(-2))] } }));
    expect(v.impactStartedAt).toBe(at(-4));
  });

  it('tolerates missing steps and junk outputs', () => {
    expect(diagnose({ steps: {}, onsetAt: null }).cause).toBe('unknown');
    expect(diagnose({ steps: { ecs: ok({ stoppedGroups: 'x', deployments: [null, 3] }), logs: ok({ signatures: [{}] }) }, onsetAt: 'not a date' }).cause).toBe('unknown');
  });

  it('registers one rule per cause', () => {
    expect(CAUSE_RULES.map((r) => r.cause).sort()).toEqual([...CAUSES].sort());
  });
});
