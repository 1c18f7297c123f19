import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { RunStore } from '@responder/store';
import { jobId } from '../../apps/responder/src/engine/run-engine.service';
import { StepQueue } from '../../apps/responder/src/engine/step-queue';
import { bullQueueOf } from '../support/bull';
import { client, eventually } from '../support/engine';
import { FIXTURES } from '../support/events';
import { startApp } from '../support/app';
import { testRedis } from '../support/redis';
import { createTestActions, createTestGoalChecker, testCount } from '../support/test-actions';

/**
 * Waits hold no worker (issue 16): a `wait` answers "not yet" with its deadline, the step keeps it
 * as a checkpoint and its job is delayed. With two worker slots and five incidents waiting, a new
 * incident's diagnostic still runs: no assertion on elapsed time, only on states and their order.
 */
const CATALOG = join(FIXTURES, 'catalog', 'engine-waits.yaml');
const { redis, prefix, cleanup } = testRedis('engine-waits');
const actions = createTestActions(redis, prefix);

const RUNBOOKS = [
  `
name: sit
triggers: { services: [waiter-1, waiter-2, waiter-3, waiter-4, waiter-5] }
steps:
  - { id: settle, action: wait, with: { seconds: 600 }, timeout: 15m }
  - { id: after, action: test.diagnose, needs: [settle], with: { value: 1 } }
`,
  `
name: look
triggers: { services: [quick] }
steps:
  - { id: look, action: test.diagnose, with: { value: 42 } }
`,
  `
name: settle-then-look
triggers: { services: [settle] }
steps:
  - { id: settle, action: wait, with: { seconds: 1 } }
  - { id: look, action: test.diagnose, needs: [settle], with: { value: 7 } }
`,
  `
name: verifying
triggers: { services: [verifying] }
steps:
  - id: change
    action: test.mutate
    with: { target: "\${{ incident.id }}" }
    approval: none
    goal: { within: 60s, poll: 0.2, checks: [alarms-ok] }
`,
  `
name: bounded
triggers: { services: [bounded] }
steps:
  - { id: settle, action: wait, with: { seconds: 600 }, timeout: 1s }
`,
];

let app: INestApplication;
let api: ReturnType<typeof client>;
let steps: ReturnType<typeof bullQueueOf>;
let runs: RunStore;
beforeAll(async () => {
  ({ app } = await startApp(prefix, { ENGINE_CONCURRENCY: '2' }, { catalogFile: CATALOG, runbooks: RUNBOOKS, actions, goalChecker: createTestGoalChecker(redis, prefix) }));
  api = client(app);
  steps = bullQueueOf(app.get(StepQueue).jobs);
  runs = new RunStore(redis, prefix);
});
afterAll(async () => {
  await steps.close();
  await app.close();
  await cleanup();
});

describe('waits hold no worker (ENGINE_CONCURRENCY=2)', () => {
  it("five incidents sit in a wait, and a new incident's diagnostic still runs at once", async () => {
    const waiting: string[] = [];
    for (let i = 1; i <= 5; i++) waiting.push(await api.alarm(`waiter-${i}-5xx`));
    // All five waits run at once on two slots: each is running, with its checkpoint, its job delayed.
    const waitRuns = await Promise.all(waiting.map((id) => api.waitStep(id, 'settle', ['running']).then(async () => (await api.runs(id))[0].id)));
    for (const runId of waitRuns) {
      await eventually(`the wait of ${runId} to keep its checkpoint`, async () => ((await runs.getRunStep(runId, 'settle'))?.steps.settle.checkpointJson ? true : undefined));
      await eventually(`the job of ${runId}'s wait to be delayed`, async () => ((await (await steps.getJob(jobId(runId, 'settle')))?.getState()) === 'delayed' ? true : undefined));
    }

    const quick = await api.alarm('quick-5xx');
    const run = await api.waitRun(quick, ['succeeded']);
    expect(run.steps[0]).toMatchObject({ id: 'look', status: 'succeeded', output: { value: 42 } });
    // Order: the diagnostic finished while every wait is still running (none of them ended first).
    for (const id of waiting) {
      expect((await api.step(id, 'settle'))?.status).toBe('running');
      expect((await api.step(id, 'after'))?.status).toBe('pending');
      expect((await api.timeline(id)).map((e) => e.type)).not.toContain('step.resumed');
    }
  });

  it('a wait resumes from its checkpoint and ends once: the step after it runs, nothing is started twice', async () => {
    const incidentId = await api.alarm('settle-5xx');
    const run = await api.waitRun(incidentId, ['succeeded']);
    const settle = run.steps.find((s) => s.id === 'settle')!;
    expect(settle.output?.waitedMs).toBeGreaterThanOrEqual(1000);
    expect(run.steps.find((s) => s.id === 'look')).toMatchObject({ status: 'succeeded', output: { value: 7 } });
    const types = (await api.timeline(incidentId)).filter((e) => e.data.step === 'settle').map((e) => e.type);
    expect(types).toEqual(['step.queued', 'step.started', 'step.succeeded']);
    expect((await runs.getRunStep(run.id, 'settle'))?.steps.settle.checkpointJson).toBeUndefined();
    expect(await testCount(redis, prefix, 'calls', run.id, 'look')).toBe(1);
  });

  it("the kill switch holds a mitigation's goal verification (no check while paused), which goes on after resume: the call made once", async () => {
    const incidentId = await api.alarm('verifying-5xx');
    await eventually('the goal to be checked', async () => ((await testCount(redis, prefix, 'goal-checks', incidentId)) >= 1 ? true : undefined));
    await api.post('/automation/pause', { by: 'alice@example.com', reason: 'looking' }).expect(200);
    try {
      const held = await eventually('the verification to be held', async () => {
        const step = await api.step(incidentId, 'change');
        return step?.status === 'running' && /automation paused/.test(step.reason ?? '') ? step : undefined;
      });
      expect(held.status).toBe('running');
      // Held: the next check waits for the resume, the met goal is not seen while paused.
      const checks = await testCount(redis, prefix, 'goal-checks', incidentId);
      await redis.set(`${prefix}:test:goal-met:${incidentId}`, '1');
      // Five polls' time: a verification that ignored the pause would have seen the goal met.
      await new Promise((r) => setTimeout(r, 1000));
      expect(await testCount(redis, prefix, 'goal-checks', incidentId)).toBeLessThanOrEqual(checks + 1);
      expect((await api.step(incidentId, 'change'))?.status).toBe('running');
    } finally {
      await api.post('/automation/resume', { by: 'alice@example.com' }).expect(200);
    }
    const done = await api.waitStep(incidentId, 'change', ['succeeded', 'failed']);
    expect(done).toMatchObject({ status: 'succeeded', goal: 'met' });
    expect(done.reason).toBeUndefined();
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
    const types = (await api.timeline(incidentId)).map((e) => e.type);
    expect(types).toContain('step.held');
    expect(types.filter((t) => t === 'mitigation.goal_met')).toHaveLength(1);
  });

  it("still fails a wait at its step's timeout, counted from the step's start across its runs", async () => {
    const incidentId = await api.alarm('bounded-5xx');
    const step = await api.waitStep(incidentId, 'settle', ['failed']);
    expect(step.error).toBe('wait did not finish within 1000 ms');
  });
});
