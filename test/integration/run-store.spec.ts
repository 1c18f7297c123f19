import { RunStore, type StepState } from '@responder/store';
import { testRedis } from '../support/redis';

const { redis, prefix, cleanup } = testRedis('runs');
const store = new RunStore(redis, prefix);
afterAll(cleanup);

const step = (over: Partial<StepState> = {}): StepState => ({ status: 'pending', action: 'test.mutate', mutating: true, approvals: [], ...over });

async function timelineTypes(incidentId: string): Promise<string[]> {
  const entries = await redis.xrange(`${prefix}:incident:${incidentId}:timeline`, '-', '+');
  return entries.map(([, fields]) => fields[fields.indexOf('type') + 1]);
}

describe('RunStore', () => {
  it('creates one run per runbook per incident, whoever asks first', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.createRun({ incidentId: 'inc_A', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: step() } })),
    );
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    expect(await timelineTypes('inc_A')).toEqual(['run.planned']);
    const run = await store.getRun(results[0].runId);
    expect(run).toMatchObject({ incidentId: 'inc_A', runbook: 'rb', status: 'running', steps: { a: { status: 'pending', approvals: [] } } });
  });

  it('lets exactly one of many concurrent transitions win', async () => {
    const { runId } = await store.createRun({ incidentId: 'inc_B', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: step() } });
    const wins = await Promise.all(Array.from({ length: 10 }, () => store.transition(runId, 'a', ['pending'], { status: 'queued' }, { type: 'step.queued', data: {} })));
    expect(wins.filter((w) => w !== null)).toHaveLength(1);
    expect((await timelineTypes('inc_B')).filter((t) => t === 'step.queued')).toHaveLength(1);
    expect(await store.transition(runId, 'a', ['pending'], { status: 'running' })).toBeNull();
  });

  it('keeps empty arrays in outputs intact', async () => {
    const { runId } = await store.createRun({ incidentId: 'inc_C', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: step() } });
    await store.transition(runId, 'a', '*', { status: 'succeeded', outputJson: JSON.stringify({ unhealthy: [], counts: {} }) });
    const run = await store.getRun(runId);
    expect(JSON.parse(run!.steps.a.outputJson!)).toEqual({ unhealthy: [], counts: {} });
  });

  it('grants a two-person approval only to two different people with the planned parameters', async () => {
    const { runId } = await store.createRun({
      incidentId: 'inc_D',
      runbook: 'rb',
      trigger: 'alarm',
      inputs: {},
      steps: { a: step({ status: 'awaiting_approval', paramsHash: 'h1', approversNeeded: 2 }) },
    });
    expect((await store.addApproval(runId, 'a', 'alice', 'h0', 2)).outcome).toBe('stale');
    expect((await store.addApproval(runId, 'a', 'alice', 'h1', 2)).outcome).toBe('recorded');
    expect((await store.addApproval(runId, 'a', 'alice', 'h1', 2)).outcome).toBe('duplicate');
    const granted = await store.addApproval(runId, 'a', 'bob', 'h1', 2);
    expect(granted.outcome).toBe('granted');
    expect(granted.state).toMatchObject({ status: 'queued', approval: 'granted', approvals: [{ by: 'alice' }, { by: 'bob' }] });
    expect((await store.addApproval(runId, 'a', 'carol', 'h1', 2)).outcome).toBe('not_pending');
  });

  it('ledger: call once, reconcile after an unrecorded call, replay a recorded result', async () => {
    expect(await store.ledgerBegin('k1')).toEqual({ kind: 'call', attempt: 1 });
    // crash here: the call may have happened, nothing recorded
    expect(await store.ledgerBegin('k1')).toEqual({ kind: 'reconcile', attempt: 1 });
    await store.ledgerFinish('k1', { state: 'done', resultJson: '{"ok":true}' });
    expect(await store.ledgerBegin('k1')).toEqual({ kind: 'done', resultJson: '{"ok":true}' });

    expect(await store.ledgerBegin('k2')).toEqual({ kind: 'call', attempt: 1 });
    await store.ledgerFinish('k2', { state: 'failed', error: 'Throttling' });
    expect(await store.ledgerBegin('k2')).toEqual({ kind: 'call', attempt: 2 });
  });

  it('locks a resource for one holder and releases only its own lock', async () => {
    const token = await store.acquireLock('ecs:prod/checkout', 'run1', 10_000);
    expect(token).not.toBeNull();
    expect(await store.acquireLock('ecs:prod/checkout', 'run2', 10_000)).toBeNull();
    await store.releaseLock('ecs:prod/checkout', 'someone-else');
    expect(await store.lockHolder('ecs:prod/checkout')).toBe(token);
    await store.releaseLock('ecs:prod/checkout', token!);
    expect(await store.acquireLock('ecs:prod/checkout', 'run2', 10_000)).not.toBeNull();
  });

  it('gives a step resumed after a crash its own lock back, and nobody else', async () => {
    const first = await store.acquireLock('ecs:prod/payments', 'run9/change', 10_000);
    expect(await store.acquireLock('ecs:prod/payments', 'run8/change', 10_000)).toBeNull();
    const again = await store.acquireLock('ecs:prod/payments', 'run9/change', 10_000);
    expect(again).not.toBeNull();
    expect(again).not.toBe(first);
    expect(await store.acquireLock('ecs:prod/payments', 'run9/change-other', 10_000)).toBeNull();
  });

  it('pauses and resumes automation', async () => {
    expect(await store.paused()).toBeNull();
    expect(await store.setPaused(true, 'alice', 'investigating')).toBe(true);
    expect(await store.paused()).toMatchObject({ by: 'alice', reason: 'investigating' });
    expect(await store.setPaused(true, 'bob')).toBe(false);
    expect(await store.setPaused(false, 'alice')).toBe(true);
    expect(await store.paused()).toBeNull();
  });
});
