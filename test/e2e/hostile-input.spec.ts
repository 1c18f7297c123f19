import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { INGEST_KEY, startApp } from '../support/app';
import { client } from '../support/engine';
import { FIXTURES } from '../support/events';
import { testRedis } from '../support/redis';
import { blockActionsBody, signSlackRequest, slashCommandBody } from '../support/slack-sign';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';
import { createTestActions } from '../support/test-actions';

/**
 * The hostile-input corpus (test/fixtures/hostile/, written by scripts/hostile-corpus.ts) against
 * the whole service: every request gets the answer its fixture names, a 4xx, an ignored event
 * (202, another detail-type) or an ignored click with a log line, and nothing in Redis changes (keys, incidents, runs, the waiting approval).
 */

const HOSTILE = join(FIXTURES, 'hostile');
const SIGNING_SECRET = 'test-signing-secret-0123456789';
const { redis, prefix, cleanup } = testRedis('hostile');
const actions = createTestActions(redis, prefix);
const RUNBOOK = `
name: shop
triggers: { services: [shop] }
steps:
  - id: fix
    action: test.mutate
    with: { target: "\${{ incident.id }}" }
    approval: required
    timeout: 30m
`;

interface IntakeCase {
  description: string;
  request: { headers?: Record<string, string>; apiKey?: string; query?: string; body?: string; json?: unknown; repeat?: { prefix: string; char: string; count: number; suffix: string } };
  expect: { status: number; message?: string; outcome?: string; log?: string };
}
interface SlackCase {
  description: string;
  request: {
    kind: 'click' | 'command' | 'raw';
    click?: { actionId: string; value: Record<string, string> | string; userId: string; teamId?: string };
    command?: { text: string; teamId?: string };
    raw?: string;
    contentType?: string;
    signing: { mode: 'valid' | 'none' | 'wrong-secret' | 'header' | 'other-body'; ageSeconds?: number; headers?: Record<string, string> };
  };
  expect: { status: number; log?: string };
}

const load = <T>(dir: string): [string, T][] =>
  readdirSync(join(HOSTILE, dir))
    .sort()
    .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(HOSTILE, dir, f), 'utf8')) as T]);
const intakeCases = load<IntakeCase>('intake');
const slackCases = load<SlackCase>('slack');

/** "__FILL:x:200000__" stands for 200000 x's: huge strings stay small on disk. */
function fill(value: unknown): unknown {
  if (typeof value === 'string') {
    const m = /^__FILL:(.):(\d+)__$/.exec(value);
    return m ? m[1].repeat(Number(m[2])) : value;
  }
  if (Array.isArray(value)) return value.map(fill);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]));
  return value;
}

let app: INestApplication;
let logs: () => string;
let slack: SlackStub;
let live: { incidentId: string; runId: string; step: string; paramsHash: string; channel: string; message: StubMessage };

/** Everything a hostile request must not change. */
async function snapshot(): Promise<{ keys: string[]; incidents: number; runs: string; approval: string }> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const api = client(app);
  const incidents = (await api.get('/incidents?limit=100').expect(200)).body as { total: number };
  const runs = await api.runs(live.incidentId);
  const step = runs[0].steps.find((s) => s.id === live.step)!;
  return {
    // Test-action counters, the timed sweeps and BullMQ's own bookkeeping move on their own, the
    // Slack outbox carries the answer to a refused click (an ephemeral message), and the clicks
    // inbox keeps every click it took before the ack (refused ones too): none of them is an
    // incident's state. What a hostile request could change is everything else.
    keys: keys.filter((k) => !/:test:|:(retention|plan):sweep|:bull:slack:|:bull:clicks:|:bull:.*:(events|meta|stalled-check|repeat|delayed|marker)/.test(k)).sort(),
    incidents: incidents.total,
    runs: JSON.stringify(runs.map((r) => ({ id: r.id, status: r.status, steps: r.steps.map((s) => [s.id, s.status, s.approvals?.length ?? 0, s.approvedBy ?? null]) }))),
    approval: `${step.status} ${step.paramsHash}`,
  };
}

beforeAll(async () => {
  slack = await startSlackStub();
  ({ app, logs } = await startApp(
    prefix,
    {
      SLACK_BOT_TOKEN: 'xoxb-test-0000-token',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      SLACK_TEAM_ID: 'T1',
      ALARM_ACCOUNTS: '123456789012,210987654321',
    },
    { catalogFile: join(FIXTURES, 'catalog', 'slack.yaml'), runbooks: [RUNBOOK], actions },
  ));
  // A live approval for the clicks to aim at.
  const api = client(app);
  const incidentId = await api.alarm('shop-5xx');
  const step = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
  const message = await slack.waitFor(() => slack.messages('#inc-shop').find((m) => JSON.stringify(m.blocks ?? []).includes('responder_approve')), 10_000);
  const button = (message.blocks as { type: string; elements?: { action_id: string; value: string }[] }[])
    .flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []))
    .find((b) => b.action_id === 'responder_approve')!;
  const value = JSON.parse(button.value) as { incidentId: string; runId: string; step: string; paramsHash: string };
  expect(value).toMatchObject({ incidentId, step: 'fix', paramsHash: step.paramsHash });
  live = { ...value, channel: message.channel, message };
});
afterAll(async () => {
  await app.close();
  await slack.close();
  await cleanup();
});

let before: Awaited<ReturnType<typeof snapshot>>;
let logsBefore: number;
beforeEach(async () => {
  before = await snapshot();
  logsBefore = logs().length;
});
afterEach(async () => {
  expect(await snapshot()).toEqual(before);
  // Nothing answered 5xx or crashed in the meantime: the service is still up and ready.
  await request(app.getHttpServer()).get('/ready').expect(200);
});

it('has at least 200 cases, each with the answer it must get', () => {
  expect(intakeCases.length + slackCases.length).toBeGreaterThanOrEqual(200);
  for (const [, c] of [...intakeCases, ...slackCases]) expect(c.expect.status).toBeGreaterThanOrEqual(200);
});

describe.each(intakeCases)('POST /events/eventbridge: %s', (_name, c) => {
  it(`answers ${c.expect.status} to ${c.description}`, async () => {
    let req = request(app.getHttpServer()).post(`/events/eventbridge${c.request.query ? `?${c.request.query}` : ''}`);
    const apiKey = c.request.apiKey ?? INGEST_KEY;
    if (apiKey !== 'none') req = req.set('x-api-key', apiKey);
    for (const [name, value] of Object.entries(c.request.headers ?? {})) req = req.set(name, value);
    let body: string | Buffer;
    if (c.request.repeat) body = `${c.request.repeat.prefix}${c.request.repeat.char.repeat(c.request.repeat.count)}${c.request.repeat.suffix}`;
    else if (c.request.body !== undefined) body = c.request.body;
    else {
      if (!c.request.headers?.['content-type']) req = req.set('content-type', 'application/json');
      body = JSON.stringify(fill(c.request.json));
    }
    const res = await req.send(body);
    expect({ status: res.status }).toEqual({ status: c.expect.status });
    if (c.expect.message) expect(String((res.body as { message?: unknown }).message)).toContain(c.expect.message);
    if (c.expect.outcome) expect(res.body).toEqual({ incidentId: null, deduplicated: false, outcome: c.expect.outcome });
    if (c.expect.log) expect(logs().slice(logsBefore)).toContain(c.expect.log);
    // A JSON key named __proto__ or constructor never reaches a prototype.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

function slackRequest(c: SlackCase) {
  const r = c.request;
  let body: string;
  let contentType = 'application/x-www-form-urlencoded';
  if (r.kind === 'click') {
    const click = r.click!;
    const substitute = (s: string) =>
      s
        .replace(/\$INCIDENT/g, live.incidentId)
        .replace(/\$RUN/g, live.runId)
        .replace(/\$STEP/g, live.step)
        .replace(/\$OLD_HASH/g, [...live.paramsHash].reverse().join('') === live.paramsHash ? '0123456789abcdef' : [...live.paramsHash].reverse().join(''))
        .replace(/\$HASH/g, live.paramsHash);
    const value = typeof click.value === 'string' ? substitute(click.value) : JSON.stringify(Object.fromEntries(Object.entries(click.value).map(([k, v]) => [k, substitute(v)])));
    body = blockActionsBody({ userId: click.userId, actionId: click.actionId, value, teamId: click.teamId, channelId: live.channel, messageTs: live.message.ts, messageBlocks: live.message.blocks, responseUrl: slack.responseUrl('hostile') });
  } else if (r.kind === 'command') {
    body = slashCommandBody({ text: r.command!.text, userId: 'U0ALICE01', teamId: r.command!.teamId, channelId: live.channel, responseUrl: slack.responseUrl('hostile-command') });
  } else {
    body = r.raw!;
    contentType = r.contentType ?? contentType;
  }
  const now = Math.floor(Date.now() / 1000);
  const signed = signSlackRequest(SIGNING_SECRET, body, now - (r.signing.ageSeconds ?? 0), contentType);
  let headers: Record<string, string>;
  switch (r.signing.mode) {
    case 'valid':
      headers = signed;
      break;
    case 'none':
      headers = { 'content-type': contentType };
      break;
    case 'wrong-secret':
      headers = signSlackRequest('not-the-signing-secret-at-all', body, now, contentType);
      break;
    case 'other-body':
      headers = signSlackRequest(SIGNING_SECRET, `${body}&user_id=U0ALICE01`, now, contentType);
      break;
    case 'header': {
      const digest = signed['x-slack-signature'].slice(3);
      headers = { ...signed };
      for (const [name, v] of Object.entries(r.signing.headers ?? {})) {
        headers[name] = v.replace('$DIGEST_HALF', digest.slice(0, 32)).replace('$DIGEST_UPPER', digest.toUpperCase()).replace('$DIGEST', digest);
      }
      break;
    }
  }
  return request(app.getHttpServer()).post('/slack/events').set(headers).send(body);
}

describe.each(slackCases)('POST /slack/events: %s', (_name, c) => {
  it(`answers ${c.expect.status} to ${c.description}`, async () => {
    const ephemerals = slack.ephemerals.length;
    const res = await slackRequest(c);
    expect({ status: res.status }).toEqual({ status: c.expect.status });
    if (c.expect.log) {
      const log = c.expect.log;
      // The click is acknowledged first and handled after: wait for its log line.
      await slack.waitFor(() => logs().slice(logsBefore).includes(log) || undefined, 10_000).catch(() => undefined);
      expect(logs().slice(logsBefore)).toContain(log);
    }
    if (c.expect.status === 401) expect(slack.ephemerals.length).toBe(ephemerals);
  });
});

it('left the live approval waiting, approvable by a real click', async () => {
  const step = await client(app).step(live.incidentId, live.step);
  expect(step).toMatchObject({ status: 'awaiting_approval', paramsHash: live.paramsHash });
  expect(step?.approvals ?? []).toHaveLength(0);
});
