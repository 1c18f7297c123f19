import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { Action } from '@responder/domain';
import request from 'supertest';
import { INGEST_KEY, startApp } from '../support/app';
import { client, personToken } from '../support/engine';
import { FIXTURES, alarmEvent } from '../support/events';
import { testRedis } from '../support/redis';
import { blockActionsBody, signSlackRequest } from '../support/slack-sign';
import { type SlackStub, startSlackStub } from '../support/slack-stub';

/**
 * Secrets planted where they really turn up (the service's own tokens, a database password in a
 * log line an action reads, an AWS secret key and a DB password in an action's error message, a
 * Slack token in an alarm reason and a note) must appear in no output: logs, the timeline, Slack
 * calls, the RCA (markdown and JSON), /metrics, API answers.
 */

const SECRETS = {
  botToken: 'xoxb-1111111111-2222222222-PLANTEDbotTOKENvalue',
  signingSecret: 'planted-signing-secret-4f9a8b7c6d5e',
  dbPassword: 'Pl4ntedDbPassw0rd-9x7',
  awsSecretKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY1',
  userToken: 'xoxp-3333333333-4444444444-PLANTEDuserTOKEN',
};
const { redis, prefix, cleanup } = testRedis('secrets');

const leaky: Action[] = [
  {
    id: 'test.read-logs',
    mutating: false,
    description: 'Reads application log lines (which carry a DSN with a password).',
    plan: () => ({ summary: 'read logs' }),
    run: () =>
      Promise.resolve({
        output: {
          lines: [
            `2026-12-07T14:00:00Z ERROR pool: cannot connect to postgres://shop:${SECRETS.dbPassword}@db.internal:5432/shop`,
            `2026-12-07T14:00:01Z WARN retrying with password=${SECRETS.dbPassword}`,
          ],
        },
        summary: `2 errors, first: connect to postgres://shop:${SECRETS.dbPassword}@db.internal:5432/shop failed`,
      }),
  },
  {
    id: 'test.leaky-failure',
    mutating: false,
    description: 'Fails with credentials in its error message.',
    plan: () => ({ summary: 'fail' }),
    run: () => Promise.reject(new Error(`could not sign request with aws_secret_access_key=${SECRETS.awsSecretKey}; FATAL: password authentication failed (password=${SECRETS.dbPassword})`)),
  },
  {
    id: 'test.leaky-mutate',
    mutating: true,
    description: 'A mutating call that fails with a credential in its message.',
    plan: () => ({ summary: 'restart shop', resource: 'test:shop' }),
    run: () => Promise.reject(new Error(`UpdateService failed: DSN postgres://admin:${SECRETS.dbPassword}@db.internal/shop refused`)),
  },
];
const RUNBOOK = `
name: leak
triggers: { services: [shop] }
steps:
  - { id: logs, action: test.read-logs }
  - { id: broken, action: test.leaky-failure, on_failure: continue }
  - id: fix
    action: test.leaky-mutate
    needs: [logs, broken]
    approval: required
    on_failure: continue
    timeout: 1m
`;

let app: INestApplication;
let logs: () => string;
let slack: SlackStub;

beforeAll(async () => {
  slack = await startSlackStub();
  ({ app, logs } = await startApp(
    prefix,
    { SLACK_BOT_TOKEN: SECRETS.botToken, SLACK_SIGNING_SECRET: SECRETS.signingSecret, SLACK_API_URL: slack.apiUrl },
    { catalogFile: join(FIXTURES, 'catalog', 'slack.yaml'), runbooks: [RUNBOOK], actions: leaky },
  ));
});
afterAll(async () => {
  await app.close();
  await slack.close();
  await cleanup();
});

it('shows no planted secret in any output of an incident whose actions met them', async () => {
  const api = client(app);
  const at = new Date(Date.now() - 60_000);
  const event = alarmEvent({ alarmName: 'shop-5xx', at, reason: `Threshold Crossed; token ${SECRETS.userToken}` });
  const opened = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(event).expect(202);
  const incidentId = (opened.body as { incidentId: string }).incidentId;
  await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
  const note = await api.post(`/incidents/${incidentId}/notes`, { text: `customer pasted their token ${SECRETS.userToken} and password=${SECRETS.dbPassword}`, author: 'alice' }).expect(201);
  // An approval click, signed: the request carries nothing secret, the answer neither.
  const [message] = slack.messages('#inc-shop');
  const body = blockActionsBody({ userId: 'U0ALICE01', actionId: 'responder_approve', value: 'not-a-button-value', channelId: message?.channel ?? 'C0SHOP', messageTs: message?.ts ?? '1.1' });
  await request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SECRETS.signingSecret, body)).send(body).expect(200);
  const alice = await personToken(redis, prefix, 'alice@example.com');
  await api.postAs(alice, `/incidents/${incidentId}/steps/fix/approve`, { approver: 'alice@example.com' }).expect((res) => expect(res.status).toBeLessThan(300));
  await api.waitStep(incidentId, 'fix', ['failed']);
  await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName: 'shop-5xx', state: 'OK', at: new Date() })).expect(202);
  // Let Slack catch up with the last steps and the resolution.
  await slack.waitFor(() => slack.messages('#inc-shop').some((m) => /resolved/i.test(`${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`)) || undefined, 15_000).catch(() => undefined);

  const outputs: Record<string, string> = {
    logs: logs(),
    incident: (await api.get(`/incidents/${incidentId}`).expect(200)).text,
    list: (await api.get('/incidents?limit=100').expect(200)).text,
    timeline: (await api.get(`/incidents/${incidentId}/timeline`).expect(200)).text,
    'rca.md': (await api.get(`/incidents/${incidentId}/rca.md`).expect(200)).text,
    'rca.json': (await api.get(`/incidents/${incidentId}/rca.json`).expect(200)).text,
    metrics: (await request(app.getHttpServer()).get('/metrics').expect(200)).text,
    // What was sent to Slack (the bot token a call authenticates with is Slack's to see, not its content).
    slack: JSON.stringify(['chat.postMessage', 'chat.update', 'chat.postEphemeral', 'files.getUploadURLExternal', 'files.completeUploadExternal'].flatMap((m) => slack.callsTo(m).map((c) => c.args))) + JSON.stringify(slack.messages()) + JSON.stringify(slack.ephemerals) + slack.uploadsIn('#inc-shop').map((u) => `${u.text} ${u.initialComment ?? ''}`).join('\n'),
    'note answer': note.text,
    'wrong token answer': (await request(app.getHttpServer()).get('/incidents').set('Authorization', `Bearer ${SECRETS.userToken}`)).text,
  };
  // The outputs are not empty: the secrets had their chance to leak.
  expect(outputs.timeline).toContain('step');
  expect(outputs['rca.md']).toContain('could not sign request');
  expect(outputs.incident).toContain('postgres://admin:[REDACTED]@db.internal');
  expect(outputs.timeline).toContain('aws_secret_access_key=[REDACTED]');
  expect(outputs.slack).toContain('postgres://shop:[REDACTED]@db.internal');
  const hits = Object.entries(outputs).flatMap(([where, text]) => Object.entries(SECRETS).filter(([, secret]) => text.includes(secret)).map(([name]) => `${name} in ${where}`));
  expect(hits).toEqual([]);
});
