import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import { INGEST_KEY, startApp } from '../support/app';
import { client, eventually } from '../support/engine';
import { alarmEvent } from '../support/events';
import { OwnRedisServer } from '../support/redis-server';
import { blockActionsBody, signSlackRequest } from '../support/slack-sign';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';
import { createTestActions, testCount } from '../support/test-actions';

/**
 * Redis fails over to a replica that lost the last writes (here: the server killed and started
 * again from a snapshot taken earlier): while it is gone the service answers 503 (intake and
 * /ready); once it is back the service goes on without a restart, says which incidents it can no
 * longer find (a warning, and a note in their Slack thread), drops the work of a run that vanished
 * instead of retrying it, refuses a click on a lost incident's button, and keeps Slack in line
 * with what remains.
 */
const SIGNING_SECRET = 'test-signing-secret-0123456789';
const prefix = 'test:lost-writes';
const dir = mkdtempSync(join(tmpdir(), 'lost-writes-'));
const catalogFile = join(dir, 'catalog.yaml');
writeFileSync(
  catalogFile,
  `approverGroups:
  oncall: { users: [alice@example.com], slackUsers: [U0ALICE01] }
services:
  kept: { alarms: { patterns: ["kept-*"] }, approvers: [oncall], slack: { channel: "#inc-kept" }, limits: { cooldownMinutes: 0 } }
  lost: { alarms: { patterns: ["lost-*"] }, approvers: [oncall], slack: { channel: "#inc-lost" }, limits: { cooldownMinutes: 0 } }
`,
);
const runbook = (service: string, sleepMs: number) => `
name: fix-${service}
triggers: { services: [${service}] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1, sleep_ms: ${sleepMs} } }
  - id: fix
    action: test.mutate
    needs: [look]
    with: { target: "\${{ incident.id }}" }
    approval: required
    timeout: 5m
`;
const RUNBOOKS = [runbook('kept', 0), runbook('lost', 4000)];

let server: OwnRedisServer;
let redis: Redis;
let slack: SlackStub;
let app: INestApplication;
let logs: () => string;

beforeAll(async () => {
  server = await OwnRedisServer.start();
  redis = new Redis(server.url, { maxRetriesPerRequest: 20 });
  redis.on('error', () => undefined);
  slack = await startSlackStub();
  const env = { REDIS_URL: server.url, SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, ENGINE_STALLED_MS: '2000' };
  ({ app, logs } = await startApp(prefix, env, { catalogFile, runbooks: RUNBOOKS, actions: createTestActions(redis, prefix) }));
}, 30_000);
afterAll(async () => {
  await app?.close();
  await slack?.close();
  redis?.disconnect();
  await server?.destroy();
});

const text = (m: StubMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
const topLevel = (channel: string) => slack.messages(channel).filter((m) => m.threadTs === undefined);
const approvalRequests = (channel: string) => slack.messages(channel).filter((m) => text(m).includes('responder_approve'));

const approveButton = (message: StubMessage) =>
  (message.blocks ?? [])
    .flatMap((b) => ((b as { type: string }).type === 'actions' ? (b as { elements: Array<{ action_id: string; value: string }> }).elements : []))
    .find((b) => b.action_id === 'responder_approve')!;

/** Clicks Approve on the message (its button's value, or another one), signed as Slack signs it. */
function click(message: StubMessage, value = approveButton(message).value) {
  const body = blockActionsBody({ userId: 'U0ALICE01', actionId: 'responder_approve', value, channelId: message.channel, messageTs: message.ts });
  return request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, body)).send(body);
}

// The second test builds on the first.
it('a failover that lost the last writes: 503 while gone, then the lost incident reported, its work dropped, what remains in Slack once', async () => {
  const api = client(app);
  // Kept: stored before the snapshot, with its approval request in Slack.
  const kept = await api.alarm('kept-5xx');
  await api.waitStep(kept, 'fix', ['awaiting_approval']);
  const keptRequest = await slack.waitFor(() => approvalRequests('#inc-kept')[0], 15_000);
  const snapshot = await server.snapshot();

  // Lost: opened after the snapshot, in Slack, its diagnostic in flight when Redis goes.
  const lost = await api.alarm('lost-5xx');
  const lostMain = await slack.waitFor(() => topLevel('#inc-lost')[0], 15_000);
  await api.waitStep(lost, 'look', ['running']);
  const [lostRun] = await api.runs(lost);
  await server.stop();

  // While Redis is gone: 503 with Retry-After, alive but not ready.
  const refused = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName: 'kept-latency' }));
  expect(refused.status).toBe(503);
  expect(refused.headers['retry-after']).toBeDefined();
  await request(app.getHttpServer()).get('/ready').expect(503);
  await request(app.getHttpServer()).get('/health').expect(200);

  await server.restartFrom(snapshot);
  await eventually('ready again', async () => ((await request(app.getHttpServer()).get('/ready')).status === 200 ? true : undefined), 20_000);
  await api.get(`/incidents/${lost}`).expect(404);
  await api.get(`/incidents/${kept}`).expect(200);

  // The lost incident is named, in the logs and in its Slack thread (once).
  await eventually('the lost incident reported', () => Promise.resolve(new RegExp(`incident ${lost} .*no longer in the store`).test(logs()) ? true : undefined), 20_000);
  const note = await slack.waitFor(() => slack.replies('#inc-lost', lostMain.ts).find((m) => /no longer/.test(text(m))), 20_000);
  expect(text(note)).toContain(lost);
  // Its diagnostic, in flight during the failover, finished into a run that no longer exists: dropped with a warning.
  await eventually('the vanished run reported', () => Promise.resolve(new RegExp(`run ${lostRun.id} of incident ${lost} is no longer in the store`).test(logs()) ? true : undefined), 20_000);

  // A click on a button of the lost incident (as one posted before the failover would be) changes nothing and says why.
  const keptValue = JSON.parse(approveButton(keptRequest).value) as { incidentId: string; runId: string };
  expect(keptValue).toMatchObject({ incidentId: kept });
  await click(lostMain, JSON.stringify({ ...keptValue, incidentId: lost, runId: lostRun.id })).expect(200);
  const told = await slack.waitFor(() => slack.ephemerals.find((e) => e.user === 'U0ALICE01' && (e.text ?? '').includes(lost)), 15_000);
  expect(told.text).toBe(`Sorry, that button no longer matches a step (incident ${lost} is no longer in the store (lost with Redis' last writes?): nothing was done).`);

  // What remains: kept's messages are not posted again, an alarm attaching to it updates its message, and its approval still works once.
  await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName: 'kept-latency' })).expect(202);
  await slack.waitFor(() => topLevel('#inc-kept').find((m) => /kept-latency/.test(text(m))), 20_000);
  expect(topLevel('#inc-kept')).toHaveLength(1);
  expect(approvalRequests('#inc-kept')).toHaveLength(1);
  await click(keptRequest).expect(200);
  await api.waitStep(kept, 'fix', ['succeeded'], 20_000);
  expect(await testCount(redis, prefix, 'calls-total', kept)).toBe(1);
  expect(await testCount(redis, prefix, 'calls-total', lost)).toBe(0);
  expect(slack.replies('#inc-lost', lostMain.ts).filter((m) => /no longer/.test(text(m)))).toHaveLength(1);
}, 120_000);

it('then Redis restarts empty: 503 while gone, the incidents it had are reported lost, and a new alarm reaches Slack, no restart', async () => {
  const api = client(app);
  const keptMain = topLevel('#inc-kept')[0];
  await server.stop();
  await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName: 'kept-5xx' })).expect(503);
  await request(app.getHttpServer()).get('/ready').expect(503);
  await server.restartEmpty();

  // The change feed's group is gone with everything else: the incidents this process had read are looked up, and reported.
  const note = await slack.waitFor(() => slack.replies('#inc-kept', keptMain.ts).find((m) => /no longer/.test(text(m))), 30_000);
  const keptId = /inc_[0-9A-Z]+/.exec(text(note))![0];
  expect(logs()).toContain(`incident ${keptId} is no longer in the store`);

  // A new alarm opens a new incident, posted once, with its approval request.
  const reopened = await eventually('the intake to take the event', async () => {
    const res = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName: 'kept-5xx' }));
    return res.status === 202 ? (res.body as { incidentId: string }).incidentId : undefined;
  }, 20_000);
  expect(reopened).not.toBe(keptId);
  await api.waitStep(reopened, 'fix', ['awaiting_approval'], 20_000);
  await slack.waitFor(() => approvalRequests('#inc-kept').find((m) => text(m).includes(reopened)), 20_000);
  expect(topLevel('#inc-kept').filter((m) => text(m).includes(reopened))).toHaveLength(1);
  expect(slack.replies('#inc-kept', keptMain.ts).filter((m) => /no longer/.test(text(m)))).toHaveLength(1);
}, 90_000);
