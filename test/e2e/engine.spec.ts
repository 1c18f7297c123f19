import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FIXTURES, alarmEvent } from '../support/events';
import { INGEST_KEY, startApp } from '../support/app';
import { client, eventually, personToken } from '../support/engine';
import { testRedis } from '../support/redis';
import { createTestActions, testCount } from '../support/test-actions';
import type { Incident, StepState } from '@responder/domain';
import { RunStore } from '@responder/store';
import { RunEngine, jobId } from '../../apps/responder/src/engine/run-engine.service';
import { StepQueue } from '../../apps/responder/src/engine/step-queue';
import { bullQueueOf } from '../support/bull';

const CATALOG = join(FIXTURES, 'catalog', 'engine.yaml');
const { redis, prefix, cleanup } = testRedis('engine');
const actions = createTestActions(redis, prefix);

const RUNBOOKS = [
  `
name: parallel
triggers: { services: [par] }
steps:
  - { id: a, action: test.diagnose, with: { value: 1, sleep_ms: 300 } }
  - { id: b, action: test.diagnose, with: { value: 2, sleep_ms: 300 } }
  - { id: c, action: test.diagnose, with: { value: 3, sleep_ms: 300 } }
  - id: sum
    action: test.diagnose
    needs: [a, b, c]
    with: { value: "\${{ steps.a.output.value + steps.b.output.value + steps.c.output.value }}" }
  - { id: never, action: test.diagnose, needs: [a], when: "steps.a.output.value > 5" }
  - { id: after-never, action: test.diagnose, needs: [never] }
`,
  `
name: approvals
triggers: { services: [appr] }
steps:
  - { id: look, action: test.diagnose, with: { value: look } }
  - id: fix
    action: test.mutate
    needs: [look]
    with: { target: "\${{ incident.id }}", value: "\${{ len(alarms) }}" }
    approval: required
    timeout: 2s
    on_failure: continue
  - id: fix-twice
    action: test.mutate
    needs: [look]
    with: { target: "\${{ incident.id }}-2" }
    approval: required
    approvers: [oncall]
    two_person: true
    timeout: 30s
    on_failure: continue
`,
  `
name: exactly-once
triggers: { services: [once] }
steps:
  - id: change
    action: test.mutate
    with: { target: "\${{ incident.id }}", sleep_ms: 50, fail_after_call_once: true }
    approval: none
    retries: { attempts: 3, backoff: fixed, delay: 100ms }
`,
  `
name: fails-before-call
triggers: { services: [prefail] }
steps:
  - id: change
    action: test.mutate
    with: { target: "\${{ incident.id }}", fail_before_call_once: true }
    approval: none
    retries: { attempts: 3, backoff: fixed, delay: 100ms }
`,
  `
name: held
triggers: { services: [held] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
  - { id: change, action: test.mutate, with: { target: "\${{ incident.id }}" }, approval: none }
`,
  `
name: locked
triggers: { services: [lock-a, lock-b] }
steps:
  - { id: change, action: test.mutate, with: { target: shared, sleep_ms: 400 }, approval: none }
`,
  `
name: cooled
triggers: { services: [cool] }
steps:
  - { id: change, action: test.mutate, with: { target: cool-target }, approval: none }
`,
  // Two runbooks on one service: the second's change comes from another run of the same incident.
  `
name: cooled-rollback
triggers: { services: [cool2], alarms: ["cool2-5xx"] }
steps:
  - { id: rollback, action: test.mutate, with: { target: cool2-deployment }, approval: none }
  - { id: after-rollback, action: test.mutate, needs: [rollback], with: { target: cool2-after }, approval: none }
`,
  `
name: cooled-scale
triggers: { services: [cool2], alarms: ["cool2-cpu"] }
steps:
  - { id: scale-up, action: test.mutate, with: { target: cool2-tasks }, approval: none }
`,
  `
name: autonomy
triggers: { services: [auto-ask, auto-off, auto-deny] }
policies:
  always: { description: a policy that always holds, when: true }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
  - { id: unattended, action: test.mutate, needs: [look], with: { target: "\${{ incident.id }}-u" }, approval: none, timeout: 30s, on_failure: continue }
  - { id: by-policy, action: test.mutate, needs: [look], with: { target: "\${{ incident.id }}-p" }, approval: { policy: always }, timeout: 30s, on_failure: continue }
`,
  `
name: why
triggers: { services: [why] }
steps:
  - { id: boom, action: test.diagnose, with: { fail: always }, on_failure: continue }
  - { id: never, action: test.diagnose, when: "1 > 2" }
  - id: tell
    action: test.diagnose
    needs: [boom, never]
    when: "steps.never.status == 'skipped'"
    with: { value: "\${{ steps.boom.error }} | \${{ steps.never.reason }}" }
`,
  // Started by the tests themselves (engine.startRun), never by an alarm.
  `
name: two-steps
triggers: { manual_only: true }
steps:
  - { id: first, action: test.diagnose, with: { value: 1, sleep_ms: 600 } }
  - { id: second, action: test.diagnose, needs: [first], with: { value: 2 } }
`,
  `
name: stuck
triggers: { manual_only: true }
steps:
  - { id: stuck, action: test.diagnose, timeout: 150ms, with: { value: 1, sleep_ms: 10000 } }
`,
  `
name: abort-ahead
triggers: { manual_only: true }
steps:
  - { id: slow, action: test.diagnose, with: { value: 1, sleep_ms: 300 } }
  - { id: boom, action: test.diagnose, with: { fail: always } }
  - { id: after, action: test.diagnose, needs: [slow], with: { value: 2 } }
`,
  `
name: abort-waiting
triggers: { manual_only: true }
steps:
  - { id: fix, action: test.mutate, with: { target: abort-waiting }, approval: required }
  - { id: look, action: test.diagnose, with: { fail: always, sleep_ms: 200 } }
`,
];

let app: INestApplication;
let api: ReturnType<typeof client>;
/** The engine's queue, through BullMQ itself. */
let steps: ReturnType<typeof bullQueueOf>;
beforeAll(async () => {
  ({ app } = await startApp(prefix, { ENGINE_STALLED_MS: '5000' }, { catalogFile: CATALOG, runbooks: RUNBOOKS, actions }));
  api = client(app);
  steps = bullQueueOf(app.get(StepQueue).jobs);
});
afterAll(async () => {
  await steps.close();
  await app.close();
  await cleanup();
});

const ms = (iso: unknown) => Number(iso);

describe('runbook engine', () => {
  it('runs independent diagnostics in parallel, waits for dependents, skips on a false when', async () => {
    const incidentId = await api.alarm('par-5xx');
    const run = await api.waitRun(incidentId, ['succeeded']);
    const step = (id: string) => run.steps.find((s) => s.id === id)!;
    const [a, b, c, sum] = ['a', 'b', 'c', 'sum'].map((id) => step(id).output!);
    // a, b and c overlap: each started before any of them finished.
    expect(Math.max(ms(a.startedAt), ms(b.startedAt), ms(c.startedAt))).toBeLessThan(Math.min(ms(a.finishedAt), ms(b.finishedAt), ms(c.finishedAt)));
    expect(ms(sum.startedAt)).toBeGreaterThanOrEqual(Math.max(ms(a.finishedAt), ms(b.finishedAt), ms(c.finishedAt)));
    expect(sum.value).toBe(6);
    expect(step('never')).toMatchObject({ status: 'skipped', reason: 'when was false: steps.a.output.value > 5' });
    expect(step('after-never')).toMatchObject({ status: 'skipped', reason: 'needs never which was skipped' });
    const types = (await api.timeline(incidentId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['run.planned', 'step.queued', 'step.started', 'step.succeeded', 'step.skipped', 'run.finished']));
  });

  it("gives later steps an earlier step's error and skip reason (steps.<id>.error, .reason)", async () => {
    const incidentId = await api.alarm('why-5xx');
    const run = await api.waitRun(incidentId, ['succeeded', 'failed']);
    const step = (id: string) => run.steps.find((s) => s.id === id)!;
    expect(step('boom').status).toBe('failed');
    expect(step('tell').output!.value).toBe(`${step('boom').error} | when was false: 1 > 2`);
    expect(step('boom').error).toMatch(/diagnostic failed/);
  });

  it('asks for one plan in an alarm storm: an alarm firing again, and each event delivered twice, plan nothing more', async () => {
    const post = (event: object) => request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(event).expect(202);
    const since = Date.now();
    // `par` may have an open incident from the tests above: par-storm then attaches to it (and plans).
    const first = alarmEvent({ alarmName: 'par-storm' });
    const incidentId = ((await post(first)).body as { incidentId: string }).incidentId;
    await post(first);
    for (let i = 1; i <= 10; i++) {
      const again = alarmEvent({ alarmName: 'par-storm', at: new Date(Date.now() + i * 1000) });
      expect((await post(again)).body).toMatchObject({ incidentId, outcome: 'updated' });
      expect((await post(again)).body).toMatchObject({ incidentId, outcome: 'duplicate' });
    }
    await api.waitRun(incidentId, ['succeeded']);
    const jobs = await steps.getJobs(['completed', 'waiting', 'active', 'delayed', 'failed']);
    // The first delivery's plan; its repeat asks again (the first may not have reached the engine), and is folded or runs after.
    expect(jobs.filter((j) => j.name === 'plan' && j.timestamp >= since && (j.data as { incidentId: string }).incidentId === incidentId).length).toBeLessThanOrEqual(2);
    expect(await api.runs(incidentId)).toHaveLength(1);
  });

  it('starts one run of a runbook per incident, however many alarms attach', async () => {
    const incidentId = await api.alarm('par-latency');
    await api.alarm('par-errors');
    await api.alarm('par-cpu');
    await api.waitRun(incidentId, ['succeeded']);
    expect(await api.runs(incidentId)).toHaveLength(1);
  });

  describe('approvals', () => {
    let incidentId: string;
    // Approvals need a person's credential: the approver is who the token names.
    const as: Record<string, string> = {};
    beforeAll(async () => {
      for (const who of ['alice@example.com', 'bob@example.com', 'mallory@example.com']) as[who] = await personToken(redis, prefix, who);
      incidentId = await api.alarm('appr-5xx');
    });

    it('asks for approval with the exact call, refuses a wrong approver, and runs once granted', async () => {
      const fix = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
      expect(fix.plan).toBe(`set ${incidentId} to 1`);
      const refused = await api.postAs(as['mallory@example.com'], `/incidents/${incidentId}/steps/fix/approve`, { paramsHash: fix.paramsHash }).expect(403);
      expect(refused.body.message).toMatch(/not one of the approvers/);
      expect((await api.timeline(incidentId)).some((e) => e.type === 'approval.refused' && e.data.by === 'mallory@example.com')).toBe(true);

      await api.postAs(as['alice@example.com'], `/incidents/${incidentId}/steps/fix/approve`, { paramsHash: fix.paramsHash }).expect(200, );
      const done = await api.waitStep(incidentId, 'fix', ['succeeded']);
      expect(done).toMatchObject({ approval: 'granted', approvals: [expect.objectContaining({ by: 'alice@example.com' })] });
      expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
      // a second click on a decided step changes nothing
      await api.postAs(as['bob@example.com'], `/incidents/${incidentId}/steps/fix/approve`, { paramsHash: fix.paramsHash }).expect(409);
    });

    it('two-person: the same person twice is not enough, a second person is', async () => {
      const step = await api.waitStep(incidentId, 'fix-twice', ['awaiting_approval']);
      await api.postAs(as['alice@example.com'], `/incidents/${incidentId}/steps/fix-twice/approve`, { paramsHash: step.paramsHash }).expect(200);
      const again = await api.postAs(as['alice@example.com'], `/incidents/${incidentId}/steps/fix-twice/approve`, { paramsHash: step.paramsHash }).expect(409);
      expect(again.body.code).toBe('duplicate');
      expect((await api.step(incidentId, 'fix-twice'))!.status).toBe('awaiting_approval');
      await api.postAs(as['bob@example.com'], `/incidents/${incidentId}/steps/fix-twice/approve`, { paramsHash: step.paramsHash }).expect(200);
      await api.waitStep(incidentId, 'fix-twice', ['succeeded']);
      expect(await testCount(redis, prefix, 'calls-total', `${incidentId}-2`)).toBe(1);
    });

    it('refuses an approval of parameters that changed since (new evidence), and takes the new ones', async () => {
      await api.alarm('appr-5xx', 'OK');
      const second = await api.alarm('appr-latency');
      expect(second).not.toBe(incidentId);
      const before = await api.waitStep(second, 'fix', ['awaiting_approval']);
      expect(before.params).toEqual({ target: second, value: 1 });
      await api.alarm('appr-errors'); // attaches: len(alarms) is now 2
      const stale = await api.postAs(as['bob@example.com'], `/incidents/${second}/steps/fix/approve`, { paramsHash: before.paramsHash }).expect(409);
      expect(stale.body).toMatchObject({ code: 'stale', plan: `set ${second} to 2` });
      expect(stale.body.paramsHash).not.toBe(before.paramsHash);
      expect((await api.timeline(second)).some((e) => e.type === 'approval.stale')).toBe(true);
      await api.postAs(as['bob@example.com'], `/incidents/${second}/steps/fix/approve`, { paramsHash: stale.body.paramsHash }).expect(200);
      const done = await api.waitStep(second, 'fix', ['succeeded']);
      expect(done.params).toEqual({ target: second, value: 2 });
      await api.postAs(as['bob@example.com'], `/incidents/${second}/steps/fix-twice/reject`, { reason: 'not needed' }).expect(200);
      expect(await api.waitStep(second, 'fix-twice', ['rejected'])).toMatchObject({ approval: 'rejected', approvedBy: 'bob@example.com' });
      expect(await testCount(redis, prefix, 'calls-total', `${second}-2`)).toBe(0);
      await api.alarm('appr-latency', 'OK');
      await api.alarm('appr-errors', 'OK');
    });

    it('times out a pending approval and goes on as the step says', async () => {
      const third = await api.alarm('appr-disk');
      await api.waitStep(third, 'fix', ['awaiting_approval']);
      const step = await api.waitStep(third, 'fix', ['timed_out'], 10_000);
      expect(step.approval).toBe('timed_out');
      expect((await api.timeline(third)).some((e) => e.type === 'approval.timed_out')).toBe(true);
      expect(await testCount(redis, prefix, 'calls-total', third)).toBe(0);
      // on_failure: continue: the run is not aborted; fix-twice still waits for people
      expect((await api.step(third, 'fix-twice'))!.status).toBe('awaiting_approval');
    });
  });

  describe('exactly once', () => {
    it('reconciles instead of calling again when the call happened but its outcome was not recorded', async () => {
      const incidentId = await api.alarm('once-5xx');
      const step = await api.waitStep(incidentId, 'change', ['succeeded']);
      expect(step.output).toMatchObject({ reconciled: true });
      const [run] = await api.runs(incidentId);
      expect(await testCount(redis, prefix, 'calls', run.id, 'change')).toBe(1);
      expect(await testCount(redis, prefix, 'reconciles', run.id, 'change')).toBe(1);
      expect((await api.timeline(incidentId)).map((e) => e.type)).toEqual(expect.arrayContaining(['step.retrying', 'step.reconciling', 'step.succeeded']));
    });

    it('calls on the retry, without reconciling, when the first attempt failed before its call started', async () => {
      const incidentId = await api.alarm('prefail-5xx');
      const step = await api.waitStep(incidentId, 'change', ['succeeded']);
      expect(step.output).not.toHaveProperty('reconciled');
      const [run] = await api.runs(incidentId);
      expect(await testCount(redis, prefix, 'reads', incidentId)).toBe(2);
      expect(await testCount(redis, prefix, 'calls', run.id, 'change')).toBe(1);
      expect(await testCount(redis, prefix, 'reconciles', run.id, 'change')).toBe(0);
      const types = (await api.timeline(incidentId)).map((e) => e.type);
      expect(types).toContain('step.retrying');
      expect(types).not.toContain('step.reconciling');
    });

    it('does nothing when the job of a finished step runs again', async () => {
      const incidentId = await api.alarm('once-latency');
      await api.waitStep(incidentId, 'change', ['succeeded']);
      const [run] = await api.runs(incidentId);
      // Listening before the job is added: a job that finishes at once is not missed.
      const events = queueEventsFor(app.get(StepQueue));
      await events.waitUntilReady();
      const job = await steps.add('step', { runId: run.id, stepId: 'change' }, { jobId: `again-${run.id}` });
      await job.waitUntilFinished(events, 5000);
      expect(await testCount(redis, prefix, 'calls', run.id, 'change')).toBe(1);
    });
  });

  describe('step jobs and their steps', () => {
    const incident = (id: string): Incident => ({ id, status: 'open', service: 'par', routed: true, title: id, openedAt: '', resolvedAt: null, onsetAt: '', alarms: [] });
    const runStatus = async (runId: string) => (await app.get(RunStore).getRun(runId))?.status;
    const start = async (runbook: string, incidentId: string) => {
      const engine = app.get(RunEngine);
      return (await engine.startRun(incident(incidentId), engine.runbook(runbook)!, 'manual', {}))!;
    };

    it('a job added before its step is queued waits for it, so the step still runs, once', async () => {
      const runId = await start('two-steps', 'inc_early_job');
      // The job `second` gets when `first` finishes, here before: taken at once, it finds its step pending.
      await steps.add('step', { runId, stepId: 'second' }, { jobId: jobId(runId, 'second') });
      await eventually('the run to finish', async () => ((await runStatus(runId)) === 'running' ? undefined : true));
      expect(await runStatus(runId)).toBe('succeeded');
      expect(await testCount(redis, prefix, 'calls', runId, 'second')).toBe(1);
      const job = await steps.getJob(jobId(runId, 'second'));
      expect(await job?.getState()).toBe('completed');
    });

    it('a job of a step decided already moves the run on (its worker died before doing so)', async () => {
      const runs = app.get(RunStore);
      const settled = (status: StepState['status']): StepState => ({ status, action: 'test.diagnose', mutating: false, attempts: 1, approvals: [] });
      const { runId } = await runs.createRun({ incidentId: 'inc_settled_job', runbook: 'two-steps', service: 'par', trigger: 'manual', inputs: {}, steps: { first: settled('succeeded'), second: settled('succeeded') } });
      await steps.add('step', { runId, stepId: 'second' }, { jobId: `again-${runId}` });
      await eventually('the run to finish', async () => ((await runStatus(runId)) === 'running' ? undefined : true));
      expect(await runStatus(runId)).toBe('succeeded');
    });

    it('never records a step whose queueing was refused, though its job ran before the refusal was known', async () => {
      // A job for `after` exists before its step is queued (as one added by another replica would);
      // boom's failure aborts the run, so `after` is never queued: it is cancelled, and its job,
      // which waited for it, ends without running the action or recording anything.
      const runs = app.get(RunStore);
      const runId = await start('abort-ahead', 'inc_abort_ahead');
      await steps.add('step', { runId, stepId: 'after' }, { jobId: jobId(runId, 'after') });
      await eventually('the run to end', async () => ((await runStatus(runId)) === 'running' ? undefined : true));
      const run = await runs.getRun(runId);
      expect(run).toMatchObject({ status: 'aborted', steps: { slow: { status: 'succeeded' }, boom: { status: 'failed' }, after: { status: 'cancelled' } } });
      expect(run!.steps.after.startedAt).toBeUndefined();
      const entries = (await redis.xrange(`${prefix}:incident:inc_abort_ahead:timeline`, '-', '+')).map(([, f]) => ({ type: f[f.indexOf('type') + 1], data: JSON.parse(f[f.indexOf('data') + 1]) as { step?: string } }));
      expect(entries.filter((e) => e.data.step === 'after').map((e) => e.type)).toEqual(['step.cancelled']);
      // Without speculation the action never begins for a step that was not queued.
      expect(await testCount(redis, prefix, 'calls', runId, 'after')).toBe(0);
      await eventually('the job to be done', async () => ((await (await steps.getJob(jobId(runId, 'after')))?.getState()) === 'completed' ? true : undefined));
    });

    it('fails a step whose action overruns its timeout, and aborts the action', async () => {
      const runId = await start('stuck', 'inc_stuck');
      await eventually('the run to end', async () => ((await runStatus(runId)) === 'running' ? undefined : true));
      const run = await app.get(RunStore).getRun(runId);
      expect(run).toMatchObject({ status: 'aborted', steps: { stuck: { status: 'failed', error: 'test.diagnose did not finish within 150 ms' } } });
      await eventually('the action to see the abort', async () => ((await testCount(redis, prefix, 'aborted', runId, 'stuck')) === 1 ? true : undefined));
    });

    it('finishes a run aborted while a step waits for approval, cancelling that step', async () => {
      const runId = await start('abort-waiting', 'inc_abort_waiting');
      await eventually('the run to end', async () => ((await runStatus(runId)) === 'running' ? undefined : true));
      const run = await app.get(RunStore).getRun(runId);
      expect(run).toMatchObject({ status: 'aborted', steps: { look: { status: 'failed' }, fix: { status: 'cancelled', reason: 'run aborted: look failed' } } });
      expect(await testCount(redis, prefix, 'calls-total', 'abort-waiting')).toBe(0);
    });
  });

  it('dry-run: mutating steps are planned and reported, never called', async () => {
    const dryPrefix = `${prefix}-dry`;
    const { app: dry } = await startApp(dryPrefix, { RESPONDER_MODE: 'dry-run' }, { catalogFile: CATALOG, runbooks: RUNBOOKS, actions: createTestActions(redis, dryPrefix) });
    try {
      const dryApi = client(dry);
      const incidentId = await dryApi.alarm('held-5xx');
      const step = await dryApi.waitStep(incidentId, 'change', ['dry-run']);
      expect(step).toMatchObject({ status: 'dry-run', dryRun: true, output: { dryRun: true, wouldCall: `set ${incidentId} to null` } });
      expect(await dryApi.waitRun(incidentId, ['succeeded'])).toMatchObject({ status: 'succeeded' });
      expect(await testCount(redis, dryPrefix, 'calls-total', incidentId)).toBe(0);
    } finally {
      await dry.close();
    }
  });

  it('the kill switch holds mutating steps, lets diagnostics run, and releases them on resume', async () => {
    const bystander = await api.alarm('dry-5xx'); // an open incident with no runbook: the pause is on its timeline too
    await api.post('/automation/pause', { by: 'alice@example.com', reason: 'investigating' }).expect(200);
    try {
      const incidentId = await api.alarm('held-5xx');
      await api.waitStep(incidentId, 'look', ['succeeded']);
      const held = await api.waitStep(incidentId, 'change', ['queued']);
      await new Promise((r) => setTimeout(r, 1500));
      expect((await api.step(incidentId, 'change'))!.status).toBe('queued');
      expect(held.reason ?? (await api.step(incidentId, 'change'))!.reason).toMatch(/automation paused by alice@example.com/);
      expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(0);
      await api.post('/automation/resume', { by: 'alice@example.com' }).expect(200);
      await api.waitStep(incidentId, 'change', ['succeeded']);
      expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
      const types = (await api.timeline(incidentId)).map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(['step.held', 'automation.resumed']));
      expect((await api.timeline(bystander)).filter((e) => e.type.startsWith('automation.')).map((e) => e.data)).toEqual([
        { by: 'alice@example.com', reason: 'investigating' },
        { by: 'alice@example.com', reason: null },
      ]);
    } finally {
      await api.post('/automation/resume', { by: 'alice@example.com' });
    }
  });

  it('marks a step failed when BullMQ gives up on its job without the engine recording it', async () => {
    await api.alarm('held-5xx', 'OK'); // resolve the kill-switch test's incident: this one opens anew
    await api.post('/automation/pause', { by: 'alice@example.com' }).expect(200);
    try {
      const incidentId = await api.alarm('held-stalled', 'ALARM', new Date(Date.now() + 1000));
      await api.waitStep(incidentId, 'change', ['queued']);
      const [run] = await api.runs(incidentId);
      // What the worker's 'failed' event hands over, e.g. for a job that stalled too often.
      const engine = app.get(RunEngine);
      await engine.jobFailed({ name: 'step', data: { runId: run.id, stepId: 'change' } }, new Error('job stalled more than allowable limit'));
      expect(await api.step(incidentId, 'change')).toMatchObject({ status: 'failed', error: 'the job failed: job stalled more than allowable limit' });
      await api.waitRun(incidentId, ['aborted']);
    } finally {
      await api.post('/automation/resume', { by: 'alice@example.com' });
    }
    await api.alarm('held-stalled', 'OK');
  });

  it('never runs two mutating steps on one resource at once, across incidents', async () => {
    const [a, b] = await Promise.all([api.alarm('lock-a-5xx'), api.alarm('lock-b-5xx')]);
    await Promise.all([api.waitStep(a, 'change', ['succeeded']), api.waitStep(b, 'change', ['succeeded'])]);
    const held = [...(await api.timeline(a)), ...(await api.timeline(b))].filter((e) => e.type === 'step.held');
    expect(held.map((e) => e.data.reason)).toEqual(['waiting for the lock on test:shared']);
    expect(await testCount(redis, prefix, 'calls-total', 'shared')).toBe(2);
    expect(await testCount(redis, prefix, 'max-active', 'shared')).toBe(1);
  });

  it('honours the cooldown of an action on a resource', async () => {
    const first = await api.alarm('cool-5xx');
    await api.waitStep(first, 'change', ['succeeded']);
    await api.alarm('cool-5xx', 'OK');
    const second = await api.alarm('cool-5xx', 'ALARM', new Date(Date.now() + 1000));
    expect(second).not.toBe(first);
    const skipped = await api.waitStep(second, 'change', ['skipped']);
    expect(skipped.reason).toMatch(new RegExp(`^cooldown: test.mutate \\(step change of incident ${first}\\) changed service cool at \\S+; \\d+s left of 10 min`));
    expect(await testCount(redis, prefix, 'calls-total', 'cool-target')).toBe(1);
  });

  describe('autonomy from the catalog', () => {
    it('ask (the default): people approve even a step the runbook runs unattended or a policy grants, and the plan says why', async () => {
      const incidentId = await api.alarm('auto-ask-5xx');
      const unattended = await api.waitStep(incidentId, 'unattended', ['awaiting_approval']);
      const byPolicy = await api.waitStep(incidentId, 'by-policy', ['awaiting_approval']);
      expect(unattended).toMatchObject({ approval: 'pending', approvalWhy: 'autonomy ask for test.mutate on service auto-ask (the default: the catalog does not say): a person approves' });
      expect(byPolicy.approvalWhy).toBe(unattended.approvalWhy);
      const requested = (await api.timeline(incidentId)).filter((e) => e.type === 'approval.requested');
      expect(requested.map((e) => e.data.why)).toEqual([unattended.approvalWhy, unattended.approvalWhy]);
      const alice = await personToken(redis, prefix, 'alice@example.com'); // approvals need a person's credential
      await api.postAs(alice, `/incidents/${incidentId}/steps/unattended/approve`, { paramsHash: unattended.paramsHash }).expect(200);
      await api.waitStep(incidentId, 'unattended', ['succeeded']);
      expect(await testCount(redis, prefix, 'calls-total', `${incidentId}-p`)).toBe(0);
      await api.postAs(alice, `/incidents/${incidentId}/steps/by-policy/reject`, {}).expect(200);
    });

    it('off: never proposed; deny: never run, whatever the runbook says; each skipped with the reason', async () => {
      const off = await api.alarm('auto-off-5xx');
      const denied = await api.alarm('auto-deny-5xx');
      for (const step of ['unattended', 'by-policy']) {
        expect((await api.waitStep(off, step, ['skipped'])).reason).toBe('autonomy off for test.mutate on service auto-off (catalog): never proposed');
        expect((await api.waitStep(denied, step, ['skipped'])).reason).toBe('test.mutate is on the deny list of service auto-deny in the catalog: never run');
      }
      for (const id of [off, denied]) {
        expect(await testCount(redis, prefix, 'calls-total', `${id}-u`)).toBe(0);
        expect(await testCount(redis, prefix, 'calls-total', `${id}-p`)).toBe(0);
        expect((await api.timeline(id)).some((e) => e.type === 'approval.requested')).toBe(false);
      }
    });
  });

  it('holds every mutating action on a service during the cooldown, whatever its resource, except the steps its own run sequences', async () => {
    const incidentId = await api.alarm('cool2-5xx');
    // The runbook sequences after-rollback after rollback (needs): it follows at once.
    await api.waitStep(incidentId, 'after-rollback', ['succeeded']);
    expect(await api.step(incidentId, 'rollback')).toMatchObject({ status: 'succeeded' });
    // Another run (another runbook, another resource) on the same service, moments later: held.
    expect(await api.alarm('cool2-cpu')).toBe(incidentId);
    const skipped = await api.waitStep(incidentId, 'scale-up', ['skipped']);
    expect(skipped.reason).toMatch(/^cooldown: test.mutate \(step after-rollback of incident inc_\w+\) changed service cool2 at \S+; \d+s left of 10 min before another mutating action on it$/);
    expect(Number(/; (\d+)s left/.exec(skipped.reason!)![1])).toBeGreaterThan(500);
    expect(await testCount(redis, prefix, 'calls-total', 'cool2-tasks')).toBe(0);
    expect(await testCount(redis, prefix, 'calls-total', 'cool2-after')).toBe(1);
  });
});

import { QueueEvents } from 'bullmq';
const opened: QueueEvents[] = [];
function queueEventsFor(queue: StepQueue): QueueEvents {
  // From the start of the events stream ('$' would miss what happens before its first read).
  const events = new QueueEvents(queue.jobs.name, { connection: { host: '127.0.0.1', port: 6379 }, prefix: queue.jobs.prefix, lastEventId: '0' });
  opened.push(events);
  return events;
}
afterAll(async () => {
  await Promise.all(opened.map((e) => e.close()));
});
