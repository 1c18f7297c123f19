import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { INGEST_KEY, startApp } from '../support/app';
import { client, personToken } from '../support/engine';
import { FIXTURES, alarmEvent } from '../support/events';
import { testRedis } from '../support/redis';
import { type SlackStub, startSlackStub } from '../support/slack-stub';
import { createTestActions, testCount } from '../support/test-actions';

/**
 * RESPONDER_ROLE splits replicas on one Redis prefix: an `api` replica takes the alarm and the
 * approval but runs nothing and posts nothing to Slack; a `worker` replica answers only health and
 * metrics, and runs the steps (once each) and the Slack delivery.
 */

const { redis, prefix, cleanup } = testRedis('roles');
const actions = createTestActions(redis, prefix);
const RUNBOOK = `
name: shop
triggers: { services: [shop] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
  - id: fix
    action: test.mutate
    needs: [look]
    with: { target: "\${{ incident.id }}" }
    approval: required
    timeout: 5m
`;

let slack: SlackStub;
const apps: INestApplication[] = [];
const start = async (role: string) => {
  const { app } = await startApp(
    prefix,
    { RESPONDER_ROLE: role, SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: 'test-signing-secret-0123456789', SLACK_API_URL: slack.apiUrl },
    { catalogFile: join(FIXTURES, 'catalog', 'slack.yaml'), runbooks: [RUNBOOK], actions },
  );
  apps.push(app);
  return app;
};

beforeAll(async () => {
  slack = await startSlackStub();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await slack.close();
  await cleanup();
});

it('an api replica takes the alarm and runs nothing; a worker replica, started later, runs each step once and posts to Slack', async () => {
  const apiApp = await start('api');
  const api = client(apiApp);
  const incidentId = await api.alarm('shop-5xx');
  // Nothing takes the jobs while only the api replica is up.
  await new Promise((r) => setTimeout(r, 1500));
  const before = await api.runs(incidentId);
  expect(before.flatMap((r) => r.steps).filter((s) => !['queued', 'pending', 'planned', 'waiting'].includes(s.status))).toEqual([]);
  expect(slack.messages('#inc-shop')).toHaveLength(0);
  expect(await redis.keys(`${prefix}:test:calls:*`)).toEqual([]);

  const workerApp = await start('worker');
  const step = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
  const [run] = await api.runs(incidentId);
  expect(await testCount(redis, prefix, 'calls', run.id, 'look')).toBe(1);
  // The approval reaches the api replica; the worker makes the call, once.
  const alice = await personToken(redis, prefix, 'alice@example.com');
  await api.postAs(alice, `/incidents/${incidentId}/steps/fix/approve`, { approver: 'alice@example.com', paramsHash: step.paramsHash }).expect(200);
  await api.waitStep(incidentId, 'fix', ['succeeded']);
  expect(await testCount(redis, prefix, 'calls', run.id, 'fix')).toBe(1);
  await slack.waitFor(() => slack.messages('#inc-shop').length > 0 || undefined, 10_000);

  // The worker replica answers health and metrics, and nothing else.
  const worker = request(workerApp.getHttpServer());
  await worker.get('/health').expect(200);
  await worker.get('/ready').expect(200);
  await worker.get('/metrics').expect(200);
  const refused = await request(workerApp.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName: 'shop-5xx' })).expect(404);
  expect((refused.body as { message: string }).message).toMatch(/RESPONDER_ROLE=worker/);
  await request(workerApp.getHttpServer()).get(`/incidents/${incidentId}`).expect(404);
  await request(workerApp.getHttpServer()).post('/slack/events').send('payload=%7B%7D').expect(404);
});
