import { type StepState } from '@responder/domain';
import { type RedisClient, RunStore, type StepMove } from '@responder/store';
import type { StoreTarget } from './target';

/**
 * The store's tests, run by incident-store.spec.ts against one Redis and by
 * store-cluster.spec.ts against a Redis Cluster (prefix with a hash tag).
 */
export function runStoreSuite(target: () => StoreTarget): void {
  let redis: RedisClient;
  let prefix: string;
  let store: RunStore;
  beforeAll(() => {
    ({ redis, prefix } = target());
    store = new RunStore(redis, prefix);
  });

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

    it('keeps how each person approved (channel, the name the credential carried) on the step and the timeline; the person counts once', async () => {
      const { runId } = await store.createRun({
        incidentId: 'inc_P',
        runbook: 'rb',
        trigger: 'alarm',
        inputs: {},
        steps: { a: step({ status: 'awaiting_approval', paramsHash: 'h1', approversNeeded: 2 }) },
      });
      expect((await store.addApproval(runId, 'a', 'alice', 'h1', 2, { via: 'slack', as: 'U0ALICE01' })).outcome).toBe('recorded');
      const again = await store.addApproval(runId, 'a', 'alice', 'h1', 2, { via: 'token', as: 'alice@example.com' });
      expect(again.outcome).toBe('duplicate');
      expect(again.state?.approvals).toEqual([expect.objectContaining({ by: 'alice', via: 'slack', as: 'U0ALICE01' })]);
      const granted = await store.addApproval(runId, 'a', 'bob', 'h1', 2, { via: 'oidc' });
      expect(granted.state?.approvals).toEqual([expect.objectContaining({ by: 'alice', via: 'slack', as: 'U0ALICE01' }), expect.objectContaining({ by: 'bob', via: 'oidc' })]);
      const entries = await redis.xrange(`${prefix}:incident:inc_P:timeline`, '-', '+');
      const field = (fields: string[], name: string) => fields[fields.indexOf(name) + 1];
      expect(entries.filter(([, f]) => field(f, 'type').startsWith('approval.')).map(([, f]) => [field(f, 'type'), JSON.parse(field(f, 'data')) as unknown])).toEqual([
        ['approval.recorded', expect.objectContaining({ by: 'alice', via: 'slack', as: 'U0ALICE01', count: 1, needed: 2 })],
        ['approval.granted', expect.objectContaining({ by: 'bob', via: 'oidc', count: 2, needed: 2 })],
      ]);
    });

    it('ledger: call once, reconcile after an unrecorded call, replay a recorded result', async () => {
      expect(await store.ledgerBegin('k1')).toEqual({ kind: 'call', attempt: 1 });
      // crash here, before the call started: known not to have called
      expect(await store.ledgerBegin('k1')).toEqual({ kind: 'uncalled', attempt: 1 });
      expect(await store.ledgerCalling('k1', 2)).toBe(false);
      expect(await store.ledgerCalling('k1', 1)).toBe(true);
      // crash here: the call may have happened, nothing recorded
      expect(await store.ledgerBegin('k1')).toEqual({ kind: 'reconcile', attempt: 1 });
      expect(await store.ledgerCalling('k1', 1)).toBe(false);
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

    it('claims a service cooldown for one holder at a time, lets the exempt follow, and gives it back', async () => {
      const data = { action: 'deploy.rollback', resource: 'ecs:prod/checkout' };
      expect(await store.claimCooldown('service:checkout', 'runA/rollback', [], 600, data)).toBeNull();
      // Another run, another action and resource on the same service: held, told by whom and how long.
      const held = await store.claimCooldown('service:checkout', 'runB/scale-up', [], 600, { action: 'ecs.scale-up' });
      expect(held).toMatchObject({ data: { holder: 'runA/rollback', action: 'deploy.rollback' } });
      expect(held!.secondsLeft).toBeGreaterThan(590);
      // The step itself (resumed) and a step that names it as exempt (its run sequences them) pass.
      expect(await store.claimCooldown('service:checkout', 'runA/rollback', [], 600, data)).toBeNull();
      expect(await store.claimCooldown('service:checkout', 'runA/settle-fix', ['runA/rollback'], 600, data)).toBeNull();
      expect((await store.cooldown('service:checkout'))!.data.holder).toBe('runA/settle-fix');
      // Only the holder gives it back; then anyone may claim.
      await store.releaseCooldown('service:checkout', 'runA/rollback');
      expect(await store.cooldown('service:checkout')).not.toBeNull();
      await store.releaseCooldown('service:checkout', 'runA/settle-fix');
      expect(await store.claimCooldown('service:checkout', 'runB/scale-up', [], 600, {})).toBeNull();
      // No cooldown configured: nothing claimed, nothing holds.
      expect(await store.claimCooldown('service:payments', 'runC/x', [], 0, {})).toBeNull();
      expect(await store.cooldown('service:payments')).toBeNull();
    });

    describe('moving several steps in one call', () => {
      const pending = (over: Partial<StepState> = {}): StepState => step({ action: 'test.diagnose', mutating: false, ...over });
      const queue = (stepId: string, over: Partial<StepMove> = {}): StepMove => ({ stepId, from: ['pending'], patch: { status: 'queued', paramsJson: '{}' }, event: { type: 'step.queued', data: {} }, ...over });
      const succeed = (stepId: string): StepMove => ({ stepId, from: ['running'], patch: { status: 'succeeded', outputJson: '{"ok":true}' }, event: { type: 'step.succeeded', data: { output: { ok: true } } } });

      it('makes each move a compare-and-set with its own timeline entry, and answers every status', async () => {
        const { runId } = await store.createRun({ incidentId: 'inc_M1', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: pending(), b: pending({ status: 'running' }), c: pending() } });
        const result = await store.moveSteps(runId, [queue('a'), queue('b'), { stepId: 'c', from: ['pending'], patch: { status: 'skipped', reason: 'when was false' }, event: { type: 'step.skipped', data: {} } }]);
        expect(result).toEqual({ applied: [true, false, true], statuses: { a: 'queued', b: 'running', c: 'skipped' }, runStatus: 'running' });
        expect(await timelineTypes('inc_M1')).toEqual(['run.planned', 'step.queued', 'step.skipped']);
        expect((await store.getRun(runId))!.steps.c).toMatchObject({ status: 'skipped', reason: 'when was false' });
      });

      it('makes a move with after only if the move it names applied', async () => {
        const { runId } = await store.createRun({ incidentId: 'inc_M2', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: pending({ status: 'running' }), b: pending(), c: pending() } });
        expect((await store.moveSteps(runId, [succeed('a'), queue('b', { after: 0 })])).applied).toEqual([true, true]);
        // a second success of a is refused, and so is what was decided with it
        expect((await store.moveSteps(runId, [succeed('a'), queue('c', { after: 0 })])).applied).toEqual([false, false]);
        expect((await store.runStatuses(runId))!.statuses).toEqual({ a: 'succeeded', b: 'queued', c: 'pending' });
        expect(await timelineTypes('inc_M2')).toEqual(['run.planned', 'step.succeeded', 'step.queued']);
      });

      it("settles a step with the moves decided from the statuses at its start, only while no other step's status has changed", async () => {
        const steps = () => ({ a: pending({ status: 'running' }), b: pending(), c: pending({ status: 'running' }) });
        const { runId } = await store.createRun({ incidentId: 'inc_M9', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: steps() });
        const decidedFrom = { a: 'succeeded', b: 'pending', c: 'running' } as const;
        // as decided: the statuses are the caller's already
        expect(await store.settleStep(runId, succeed('a'), [queue('b')], decidedFrom)).toEqual({ applied: [true, true], statuses: null, runStatus: 'running' });
        expect((await store.runStatuses(runId))!.statuses).toEqual({ a: 'succeeded', b: 'queued', c: 'running' });
        // settled already: what was decided with it is not made either
        expect((await store.settleStep(runId, succeed('a'), [queue('b', { from: ['queued'], patch: { status: 'skipped' } })], { ...decidedFrom, b: 'queued' })).applied).toEqual([false, false]);
        expect(await timelineTypes('inc_M9')).toEqual(['run.planned', 'step.succeeded', 'step.queued']);

        // c failed after a started: a settles, and the caller is given the statuses to decide again
        const moved = await store.createRun({ incidentId: 'inc_M10', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: steps() });
        expect(await store.transition(moved.runId, 'c', ['running'], { status: 'failed' })).not.toBeNull();
        expect(await store.settleStep(moved.runId, succeed('a'), [queue('b')], decidedFrom)).toEqual({ applied: [true, false], statuses: { a: 'succeeded', b: 'pending', c: 'failed' }, runStatus: 'running' });

        // nothing decided to follow (c was running): c has succeeded since, so the statuses come back (b may be ready)
        const join = await store.createRun({ incidentId: 'inc_M12', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: steps() });
        expect(await store.transition(join.runId, 'c', ['running'], { status: 'succeeded' })).not.toBeNull();
        expect(await store.settleStep(join.runId, succeed('a'), [], decidedFrom)).toEqual({ applied: [true], statuses: { a: 'succeeded', b: 'pending', c: 'succeeded' }, runStatus: 'running' });
        expect((await store.settleStep(runId, succeed('c'), [], { ...decidedFrom, b: 'queued', c: 'succeeded' })).statuses).toBeNull();

        // a run that ended meanwhile
        const ended = await store.createRun({ incidentId: 'inc_M11', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: steps() });
        expect(await store.finishRun(ended.runId, 'aborted', {})).toBe(true);
        expect((await store.settleStep(ended.runId, succeed('a'), [queue('b')], decidedFrom)).applied).toEqual([true, false]);
        expect(await timelineTypes('inc_M11')).toEqual(['run.planned', 'run.finished', 'step.succeeded']);
      });

      it('applies the first moves with the run, only when this call creates it', async () => {
        const first = await store.createRun({ incidentId: 'inc_M6', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: pending() } }, [queue('a')]);
        expect(first).toMatchObject({ created: true, moves: { applied: [true], statuses: { a: 'queued' } } });
        const again = await store.createRun({ incidentId: 'inc_M6', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: pending() } }, [queue('a')]);
        expect(again).toEqual({ runId: first.runId, created: false });
        expect(await timelineTypes('inc_M6')).toEqual(['run.planned', 'step.queued']);
      });
    });

    describe('a step job begins', () => {
      it('starts a read-only step (resumed after a crash), and reads a mutating one with the kill switch', async () => {
        const { runId } = await store.createRun({
          incidentId: 'inc_S1',
          runbook: 'rb',
          service: 'svc',
          trigger: 'alarm',
          inputs: { x: 1 },
          steps: { look: step({ status: 'queued', action: 'test.diagnose', mutating: false }), fix: step({ status: 'queued' }), later: step() },
        });
        const started = await store.startStep(runId, 'look', '2026-01-01T00:00:00.000Z');
        expect(started).toMatchObject({ kind: 'started', run: { id: runId, incidentId: 'inc_S1', runbook: 'rb', service: 'svc', status: 'running', inputsJson: '{"x":1}' }, state: { status: 'running', attempts: 1, startedAt: '2026-01-01T00:00:00.000Z' } });
        expect(await store.startStep(runId, 'look')).toMatchObject({ kind: 'started', state: { status: 'running', attempts: 2 } });
        expect(await timelineTypes('inc_S1')).toEqual(['run.planned', 'step.started', 'step.resumed']);

        expect(await store.startStep(runId, 'fix')).toMatchObject({ kind: 'gated', state: { status: 'queued' }, paused: null });
        await store.setPaused(true, 'alice');
        try {
          expect(await store.startStep(runId, 'fix')).toMatchObject({ kind: 'gated', paused: { by: 'alice' } });
        } finally {
          await store.setPaused(false, 'alice');
        }
        expect(await store.startStep(runId, 'later')).toEqual({ kind: 'settled', status: 'pending' });
        expect(await store.startStep('run_missing', 'look')).toEqual({ kind: 'missing' });
      });

    });

    it('keeps every step status beside the states, and rebuilds them for a run stored before them', async () => {
      const { runId } = await store.createRun({ incidentId: 'inc_T1', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: step(), b: step({ status: 'awaiting_approval', paramsHash: 'h1' }) } });
      expect((await store.runStatuses(runId))!.statuses).toEqual({ a: 'pending', b: 'awaiting_approval' });
      await store.transition(runId, 'a', ['pending'], { status: 'queued' });
      expect((await store.addApproval(runId, 'b', 'alice', 'h1', 1)).outcome).toBe('granted');
      expect((await store.runStatuses(runId))!.statuses).toEqual({ a: 'queued', b: 'queued' });
      // A run created by the code before: its states only.
      await redis.del(`${prefix}:run:${runId}:status`);
      await store.transition(runId, 'a', ['queued'], { status: 'running' });
      expect((await store.runStatuses(runId))!.statuses).toEqual({ a: 'running', b: 'queued' });
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
}
