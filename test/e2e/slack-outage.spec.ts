import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { startApp } from '../support/app';
import { client, eventually } from '../support/engine';
import { testRedis } from '../support/redis';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';
import { createTestActions, testCount } from '../support/test-actions';

/**
 * Slack down for a whole incident (every call answers 500), then rate-limiting every call (429 with
 * Retry-After), then back: the runs never wait for it (they finish, the incidents resolve, while
 * nothing has reached Slack), and once Slack answers again every message arrives exactly once:
 * the incident message, the findings, the action, the resolution, the RCA draft and the
 * stakeholder update, each Retry-After waited out.
 */
const dir = mkdtempSync(join(tmpdir(), 'slack-outage-'));
const catalogFile = join(dir, 'catalog.yaml');
const SERVICES = ['north', 'south'];
writeFileSync(
  catalogFile,
  `approverGroups:
  oncall: { users: [alice@example.com], slackUsers: [U0ALICE01] }
services:
${SERVICES.map((s) => `  ${s}: { alarms: { patterns: ["${s}-*"] }, approvers: [oncall], slack: { channel: "#inc-${s}", stakeholderChannel: "#status-${s}" }, autonomy: { test.mutate: auto }, limits: { cooldownMinutes: 0 } }`).join('\n')}
`,
);
const RUNBOOK = `
name: outage
triggers: { services: [${SERVICES.join(', ')}] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
  - { id: look-again, action: test.diagnose, with: { value: 2 } }
  - id: fix
    action: test.mutate
    needs: [look, look-again]
    with: { target: "\${{ incident.id }}" }
    approval: none
`;
const { redis, prefix, cleanup } = testRedis('slack-outage');
let slack: SlackStub;
let app: INestApplication;

beforeAll(async () => {
  slack = await startSlackStub();
  const env = { SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: 'test-signing-secret-0123456789', SLACK_API_URL: slack.apiUrl };
  ({ app } = await startApp(prefix, env, { catalogFile, runbooks: [RUNBOOK], actions: createTestActions(redis, prefix) }));
});
afterAll(async () => {
  await app?.close();
  await slack?.close();
  await cleanup();
});

const text = (m: StubMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
const posts = () => slack.calls.filter((c) => c.method !== 'auth.test');

it('Slack answering 500, then 429, through a whole incident: the runs do not wait, and every message arrives exactly once', async () => {
  const api = client(app);
  slack.outage({ status: 500 });
  const incidents = await Promise.all(SERVICES.map((s) => api.alarm(`${s}-5xx`)));
  for (const id of incidents) expect((await api.waitRun(id, ['succeeded', 'failed'])).status).toBe('succeeded');
  for (const s of SERVICES) await api.alarm(`${s}-5xx`, 'OK');
  for (const id of incidents) {
    await eventually(`${id} resolved`, async () => (((await api.get(`/incidents/${id}`).expect(200)).body as { status: string }).status === 'resolved' ? true : undefined));
    expect(await testCount(redis, prefix, 'calls-total', id)).toBe(1);
  }
  // All of it done while Slack took nothing (it was asked, and answered 500 each time).
  expect(posts().length).toBeGreaterThan(0);
  expect(posts().filter((c) => c.ok)).toEqual([]);
  expect(new Set(posts().map((c) => c.status))).toEqual(new Set([500]));

  // Then Slack rate-limits every call, then answers again.
  slack.outage({ status: 429, retryAfter: 1 });
  await slack.waitFor(() => SERVICES.every((s) => posts().some((c) => c.status === 429 && c.args.channel === `#inc-${s}`)), 30_000);
  slack.outage(null);

  for (const [i, s] of SERVICES.entries()) {
    const main = await slack.waitFor(() => slack.messages(`#inc-${s}`).find((m) => m.threadTs === undefined), 30_000);
    await slack.waitFor(() => slack.uploadsIn(`#inc-${s}`, main.ts)[0], 30_000);
    await slack.waitFor(() => slack.messages(`#status-${s}`)[0], 30_000);
    const thread = slack.replies(`#inc-${s}`, main.ts);
    expect(text(main)).toContain(incidents[i]);
    // Exactly once each: one incident message, two findings, the action, the resolution, one RCA draft, one stakeholder update.
    expect(slack.messages(`#inc-${s}`).filter((m) => m.threadTs === undefined)).toHaveLength(1);
    expect(thread.filter((m) => /diagnosed 1\b/.test(text(m)))).toHaveLength(1);
    expect(thread.filter((m) => /diagnosed 2\b/.test(text(m)))).toHaveLength(1);
    expect(thread.filter((m) => /\*Action\*/.test(text(m)))).toHaveLength(1);
    expect(thread.filter((m) => /\*Resolved\*/.test(text(m)))).toHaveLength(1);
    expect(thread).toHaveLength(4);
    expect(slack.uploadsIn(`#inc-${s}`)).toHaveLength(1);
    expect(slack.messages(`#status-${s}`)).toHaveLength(1);
  }
  // Nothing posted twice anywhere: each successful post made one message, no two alike.
  const okPosts = slack.callsTo('chat.postMessage').filter((c) => c.ok);
  expect(okPosts).toHaveLength(slack.messages().length);
  const keys = slack.messages().map((m) => `${m.channel}|${m.threadTs ?? ''}|${m.text ?? ''}`);
  expect(new Set(keys).size).toBe(keys.length);
  // Each 429 was waited out: the next call for that incident came at least Retry-After later.
  for (const s of SERVICES) {
    const calls = posts().filter((c) => c.args.channel === `#inc-${s}`);
    for (const [k, c] of calls.entries()) {
      if (c.status === 429 && calls[k + 1]) expect(calls[k + 1].at - c.at).toBeGreaterThanOrEqual(1000);
    }
  }
  await new Promise((r) => setTimeout(r, 1500));
  expect(slack.messages()).toHaveLength(okPosts.length); // and nothing more came later
}, 90_000);
