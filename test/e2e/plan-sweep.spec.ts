import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FIXTURES, alarmEvent } from '../support/events';
import { INGEST_KEY, startApp } from '../support/app';
import { client } from '../support/engine';
import { testRedis } from '../support/redis';
import { createTestActions } from '../support/test-actions';
import { PlanListener } from '../../apps/responder/src/engine/plan-listener';
import { RunEngine } from '../../apps/responder/src/engine/run-engine.service';
import { StepQueue } from '../../apps/responder/src/engine/step-queue';

const CATALOG = join(FIXTURES, 'catalog', 'engine.yaml');
const { redis, prefix, cleanup } = testRedis('plan-sweep');
const actions = createTestActions(redis, prefix);
const RUNBOOKS = [
  `
name: swept
triggers: { services: [sweep] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
`,
  `
name: heard
triggers: { services: [held] }
steps:
  - { id: look, action: test.diagnose, with: { value: 2 } }
`,
  `
name: stuck
triggers: { services: [stuck] }
steps:
  - { id: first, action: test.diagnose, with: { value: 3 } }
  - { id: second, action: test.diagnose, needs: [first], with: { value: 4 } }
`,
];

let app: INestApplication;
beforeAll(async () => {
  ({ app } = await startApp(prefix, { ENGINE_PLAN_SWEEP_SECONDS: '1' }, { catalogFile: CATALOG, runbooks: RUNBOOKS, actions }));
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

describe('an event stored whose plan could not be queued', () => {
  it('is answered 202, and its run starts without a second delivery', async () => {
    const queue = app.get(StepQueue);
    // The store write succeeded; queueing the plan meets a connection that dropped.
    const add = jest.spyOn(queue, 'plan').mockRejectedValueOnce(new Error('Connection is closed.'));
    const res = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName: 'sweep-5xx' }));
    expect(res.status).toBe(202);
    const { incidentId, outcome } = res.body as { incidentId: string; outcome: string };
    expect(outcome).toBe('opened');
    // The engine hears of the change from the change feed, after the answer: wait for its first try.
    for (let waited = 0; add.mock.calls.length === 0 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    await expect(add.mock.results[0]?.value).rejects.toThrow('Connection is closed.');

    const run = await client(app).waitRun(incidentId, ['succeeded'], 20_000);
    expect(run.runbook).toBe('swept');
    const timeline = await client(app).timeline(incidentId);
    expect(timeline.filter((e) => e.type === 'alarm.received')).toHaveLength(1);
    expect(timeline.filter((e) => e.type === 'run.planned')).toHaveLength(1);
    const metrics = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(metrics.text).toMatch(/^responder_plan_queue_failures_total 1$/m);
  }, 30_000);

  it('the sweep leaves planned incidents alone', async () => {
    const incidentId = await client(app).alarm('sweep-latency'); // joins the incident above
    await client(app).waitRun(incidentId, ['succeeded'], 20_000);
    expect(await app.get(RunEngine).sweepUnplanned()).toEqual([]);
  }, 30_000);

  it('leaves a change unacknowledged while its plan cannot be queued (it is read again), and acknowledges the others', async () => {
    const add = jest.spyOn(app.get(StepQueue), 'plan').mockRejectedValue(new Error('Connection is closed.'));
    let incidentId: string;
    try {
      incidentId = await client(app).alarm('held-5xx');
      const listener = app.get(PlanListener);
      // It reads the alarm feed: only alarm changes reach it (a step move never wakes it).
      expect(listener.stream).toBe('alarms');
      const alarms = [
        { id: '1-1', incidentId, type: 'alarm.received' },
        { id: '1-3', incidentId: 'inc_00000000000000000000', type: 'alarm.received' },
      ];
      // The alarm change waits to be read again; an incident that does not exist plans nothing.
      expect([...(await listener.handle(alarms))]).toEqual(['1-1']);
    } finally {
      add.mockRestore();
    }
    await client(app).waitRun(incidentId, ['succeeded'], 20_000);
  }, 30_000);
});

describe('a run left stuck between a move and its job (a crash, Redis gone between two calls)', () => {
  it('is moved on by the next sweep: the queued step gets its job back and the run finishes, each step once', async () => {
    const queue = app.get(StepQueue);
    // The run and its first step's move are stored; adding that step's job fails, so the step is
    // queued with no job to run it: without the sweep it waits for the next boot.
    const lost = jest.spyOn(queue, 'queueStep').mockRejectedValueOnce(new Error('Connection is closed.'));
    let incidentId: string;
    try {
      incidentId = await client(app).alarm('stuck-5xx');
      for (let waited = 0; lost.mock.calls.length === 0 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      await expect(lost.mock.results[0]?.value).rejects.toThrow('Connection is closed.');
    } finally {
      lost.mockRestore();
    }
    const run = await client(app).waitRun(incidentId, ['succeeded'], 20_000);
    expect(run.runbook).toBe('stuck');
    const timeline = await client(app).timeline(incidentId);
    expect(timeline.filter((e) => e.type === 'step.started').map((e) => e.data.step)).toEqual(['first', 'second']);
  }, 30_000);
});
