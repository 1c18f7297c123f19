import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FIXTURES } from '../support/events';
import { startApp } from '../support/app';
import { client } from '../support/engine';
import { testRedis } from '../support/redis';
import { blockActionsPayload, slashCommandPayload } from '../support/slack-sign';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';
import { createTestActions, testCount } from '../support/test-actions';

const CATALOG = join(FIXTURES, 'catalog', 'slack.yaml');
const { redis, prefix, cleanup } = testRedis('slack-socket');
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

let app: INestApplication;
let slack: SlackStub;
let api: ReturnType<typeof client>;

/** Socket Mode: the private-subnet deployment, with no inbound traffic. */
beforeAll(async () => {
  slack = await startSlackStub();
  ({ app } = await startApp(
    prefix,
    { SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_APP_TOKEN: 'xapp-1-A0TEST-0000-secret', SLACK_API_URL: slack.apiUrl },
    { catalogFile: CATALOG, runbooks: [RUNBOOK], actions },
  ));
  api = client(app);
  await slack.waitFor((s) => s.socketConnections === 1, 10_000);
});
afterAll(async () => {
  await app.close();
  await slack.waitFor((s) => s.socketConnections === 0);
  await slack.close();
  await cleanup();
});

const buttonsOf = (m: StubMessage) =>
  (m.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? (b as { elements: Array<{ action_id: string; value: string }> }).elements : []));

describe('Slack in Socket Mode', () => {
  it('has no /slack/events route: nothing comes in over HTTP', async () => {
    await request(app.getHttpServer()).post('/slack/events').send('payload=%7B%7D').expect(404);
  });

  it('takes an Approve click over the socket, acknowledges it, and runs the step', async () => {
    const incidentId = await api.alarm('shop-5xx');
    const message = await slack.waitFor(() => slack.messages('#inc-shop').find((m) => buttonsOf(m).length > 0), 10_000);
    const approve = buttonsOf(message).find((b) => b.action_id === 'responder_approve')!;
    const envelopeId = slack.socketSend({
      type: 'interactive',
      payload: blockActionsPayload({ userId: 'U0ALICE01', actionId: approve.action_id, value: approve.value, channelId: message.channel, messageTs: message.ts }),
    });
    await slack.waitFor((s) => s.socketAcks.find((a) => a.envelope_id === envelopeId));
    const step = await api.waitStep(incidentId, 'fix', ['succeeded']);
    expect(step.approvals!.map((a) => a.by)).toEqual(['U0ALICE01']);
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
    await slack.waitFor(() => slack.messages('#inc-shop').find((m) => m.ts === message.ts && buttonsOf(m).length === 0));
  });

  it('answers /incident over the socket', async () => {
    const envelopeId = slack.socketSend({
      type: 'slash_commands',
      payload: slashCommandPayload({ text: 'help', userId: 'U0ALICE01', responseUrl: slack.responseUrl('socket-help') }),
      accepts_response_payload: true,
    });
    await slack.waitFor((s) => s.socketAcks.find((a) => a.envelope_id === envelopeId));
    const reply = await slack.waitFor(() => slack.responses.find((r) => r.id === 'socket-help'));
    expect(JSON.stringify(reply.body)).toContain('status');
  });
});
