import { type ActionContext, PermanentActionError } from '@responder/domain';
import { diagnoseAction } from './diagnose-action';

const ctx: ActionContext = { incidentId: 'inc_1', runId: 'run_1', stepId: 'diagnose', idempotencyKey: 'k', signal: new AbortController().signal, dryRun: false };

describe('diagnose action', () => {
  it('turns the run\'s steps (status, output, error) into the verdict, gaps included', async () => {
    const evidence = {
      alb: { status: 'succeeded', output: { unhealthy: 4, healthy: 0, total: 4, reasons: { 'Target.ResponseCodeMismatch': 4 }, targetGroups: [] } },
      ecs: { status: 'succeeded', output: { desired: 4, running: 4, missing: 0, oomKills: 0, stoppedGroups: [] } },
      logs: { status: 'succeeded', output: { signatures: [] } },
      aurora: { status: 'skipped', reason: 'when was false: service.aurora != null' },
      deploy: { status: 'failed', error: 'access denied: the role Responder runs as needs ecs:DescribeServices on prod/checkout (AWS: no)' },
      rollback: { status: 'pending' },
    };
    const result = await diagnoseAction.run({ evidence, onset: '2026-12-07T10:00:00Z' }, ctx);
    expect(result.output).toMatchObject({ cause: 'health-check', impactStartedAt: null });
    expect(result.output.gaps).toEqual([
      { step: 'deploy', reason: 'deployments not checked: access denied (the role needs ecs:DescribeServices)' },
      { step: 'aurora', reason: 'Aurora health not checked: not configured for this service (when was false: service.aurora != null)' },
    ]);
    expect(result.summary).toMatch(/^The health check fails healthy tasks/);
    expect(Object.keys(result.output).sort()).toEqual(['cause', 'confidence', 'gaps', 'hypotheses', 'impactStartedAt', 'summary']);
  });

  it('refuses evidence that is not the run\'s steps', async () => {
    await expect(diagnoseAction.run({ evidence: [1] }, ctx)).rejects.toThrow(PermanentActionError);
    await expect(diagnoseAction.run({ evidence: {}, onset: 'yesterday' }, ctx)).rejects.toThrow('"onset" must be an ISO time or null');
  });
});
