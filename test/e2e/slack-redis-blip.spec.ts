import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import { startApp } from '../support/app';
import request from 'supertest';
import { client, eventually } from '../support/engine';
import { OwnRedisServer } from '../support/redis-server';
import { type SlackStub, startSlackStub } from '../support/slack-stub';
import { createTestActions } from '../support/test-actions';

/**
 * Redis goes away (a restart with AOF) between Slack accepting a post and the post's ts being
 * recorded: the ts is recorded once Redis is back, so the sync that follows updates the message
 * instead of posting it again. (Found by redis-aof-restart.spec.ts, which posted the incident
 * message twice when its restart fell there.) The run, whose step may be settling when Redis goes,
 * still finishes: a job whose store call failed in the outage runs again instead of being failed
 * with the step settled and its run never finished (this test timed out on that under load).
 */
const prefix = 'test:slack-blip';
const dir = mkdtempSync(join(tmpdir(), 'slack-blip-'));
const catalogFile = join(dir, 'catalog.yaml');
writeFileSync(
  catalogFile,
  `approverGroups:
  oncall: { users: [alice@example.com] }
services:
  blip: { alarms: { patterns: ["blip-*"] }, approvers: [oncall], slack: { channel: "#inc-blip" } }
`,
);
const RUNBOOK = `
name: blip
triggers: { services: [blip] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
`;
let server: OwnRedisServer;
let redis: Redis;
let slack: SlackStub;
let app: INestApplication;

beforeAll(async () => {
  server = await OwnRedisServer.start({ aof: true });
  redis = new Redis(server.url, { maxRetriesPerRequest: 20 });
  redis.on('error', () => undefined);
  slack = await startSlackStub();
  const env = { REDIS_URL: server.url, SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: 'test-signing-secret-0123456789', SLACK_API_URL: slack.apiUrl };
  ({ app } = await startApp(prefix, env, { catalogFile, runbooks: [RUNBOOK], actions: createTestActions(redis, prefix) }));
}, 30_000);
afterAll(async () => {
  await app?.close();
  await slack?.close();
  redis?.disconnect();
  await server?.destroy();
});

it('a post Slack accepted while Redis was away is recorded once Redis is back, not posted again', async () => {
  const api = client(app);
  const held = slack.holdNext('chat.postMessage');
  const incidentId = await api.alarm('blip-5xx');
  await held.reached;
  await server.stop('SIGTERM');
  held.release();
  // Slack has the message; its ts cannot be recorded yet.
  await slack.waitFor(() => slack.callsTo('chat.postMessage').find((c) => c.ok), 10_000);
  await new Promise((r) => setTimeout(r, 1000));
  await server.up();
  await eventually('ready again', async () => ((await request(app.getHttpServer()).get('/ready')).status === 200 ? true : undefined), 20_000);

  await api.waitRun(incidentId, ['succeeded'], 30_000);
  const finding = await slack.waitFor(() => slack.messages('#inc-blip').find((m) => /diagnosed 1\b/.test(m.text ?? '')), 30_000);
  const tops = slack.messages('#inc-blip').filter((m) => m.threadTs === undefined);
  expect(tops).toHaveLength(1);
  const [main] = tops;
  expect(finding.threadTs).toBe(main.ts);
  expect(await redis.hget(`${prefix}:slack:${incidentId}`, 'main')).toBe(main.ts);
  await new Promise((r) => setTimeout(r, 1500));
  expect(slack.messages('#inc-blip')).toHaveLength(2); // the incident message and its one finding
}, 60_000);
