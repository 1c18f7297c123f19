import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import { FIXTURES, alarmEvent } from '../support/events';
import { INGEST_KEY, startApp } from '../support/app';
import { client, eventually } from '../support/engine';
import { OwnRedisServer } from '../support/redis-server';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';
import { createTestActions } from '../support/test-actions';

// Redis loses the Slack reporter's consumer group (restarted empty, flushed, a lagging replica
// promoted): a server of this file's own, so that the other test files keep theirs.
const CATALOG = join(FIXTURES, 'catalog', 'slack.yaml');
const prefix = 'test:slack-restart';
const RUNBOOKS = [
  `
name: pair
triggers: { services: [forge, plan] }
steps:
  - id: fix
    action: test.mutate
    with: { target: "\${{ incident.id }}" }
    approval: required
    timeout: 5m
`,
];

let server: OwnRedisServer;
let redis: Redis;
let slack: SlackStub;
const apps: INestApplication[] = [];

beforeAll(async () => {
  server = await OwnRedisServer.start();
  redis = new Redis(server.url);
  redis.on('error', () => undefined);
  slack = await startSlackStub();
}, 30_000);
afterAll(async () => {
  for (const app of apps) await app.close();
  await slack.close();
  redis.disconnect();
  await server.stop();
});

async function start(withSlack: boolean) {
  const env: Record<string, string> = { REDIS_URL: server.url };
  if (withSlack) Object.assign(env, { SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: 'test-signing-secret-0123456789', SLACK_API_URL: slack.apiUrl });
  const started = await startApp(prefix, env, { catalogFile: CATALOG, runbooks: RUNBOOKS, actions: createTestActions(redis, prefix) });
  apps.push(started.app);
  return started;
}

const topLevel = (channel: string) => slack.messages(channel).filter((m) => m.threadTs === undefined);
const approvalRequests = (channel: string) => slack.messages(channel).filter((m) => JSON.stringify(m.blocks ?? []).includes('responder_approve'));
const syncsDone = async (app: INestApplication) => Number(/^responder_slack_jobs_total\{job="sync",outcome="ok"\} (\d+)$/m.exec((await request(app.getHttpServer()).get('/metrics')).text)?.[1] ?? 0);

describe('the Slack reporter and a Redis that lost its consumer group', () => {
  let app: INestApplication;
  // One pino root per process: the second app's lines may land in the first one's capture.
  let logs: () => string;

  it('at boot, a new group re-syncs the open incidents changed while nobody followed the feed; a second re-sync posts nothing twice', async () => {
    // Slack off: the incident and its approval request are stored, nobody follows the change feed.
    const quiet = await start(false);
    let slackLogs: () => string;
    const incidentId = await client(quiet.app).alarm('forge-5xx');
    await client(quiet.app).waitStep(incidentId, 'fix', ['awaiting_approval']);
    await quiet.app.close();
    apps.splice(apps.indexOf(quiet.app), 1);

    ({ app, logs: slackLogs } = await start(true));
    logs = () => quiet.logs() + slackLogs();
    const [approval] = await slack.waitFor(() => (approvalRequests('#inc-forge').length > 0 ? approvalRequests('#inc-forge') : undefined), 20_000);
    expect(topLevel('#inc-forge')).toHaveLength(1);
    expect(JSON.stringify(approval.blocks)).toContain(incidentId);

    // The group alone is lost (the data is there): recreated, every open incident synced again.
    const posts = slack.callsTo('chat.postMessage').length;
    const syncs = await syncsDone(app);
    await redis.xgroup('DESTROY', `${prefix}:changes`, 'slack');
    await eventually('the re-sync', async () => ((await syncsDone(app)) > syncs ? true : undefined), 20_000);
    expect(logs()).toMatch(/consumer group 'slack' is gone/);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(posts);
    expect(topLevel('#inc-forge')).toHaveLength(1);
    expect(approvalRequests('#inc-forge')).toHaveLength(1);
  }, 60_000);

  it('Redis restarted empty while Slack is on: the next alarm and its approval request reach Slack, no restart', async () => {
    await server.restartEmpty();
    const event = alarmEvent({ alarmName: 'plan-5xx' });
    // The service reconnects in the background; EventBridge would deliver again until it answers 202.
    const incidentId = await eventually('the intake to take the event', async () => {
      const res = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(event);
      return res.status === 202 ? (res.body as { incidentId: string }).incidentId : undefined;
    }, 20_000);
    const main: StubMessage = await slack.waitFor(() => topLevel('#inc-plan')[0], 30_000);
    expect(`${main.text ?? ''}${JSON.stringify(main.blocks)}`).toContain(incidentId);
    const [approval] = await slack.waitFor(() => (approvalRequests('#inc-plan').length > 0 ? approvalRequests('#inc-plan') : undefined), 30_000);
    expect(approval.threadTs).toBe(main.ts);
  }, 60_000);
});
