import { type Server, createServer } from 'node:http';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { type KeyLike, SignJWT, exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { tokensCreate } from '../../apps/cli/src/commands/tokens.command';
import { startApp } from '../support/app';
import { client, personToken } from '../support/engine';
import { FIXTURES } from '../support/events';
import { freePort } from '../support/net';
import { testRedis } from '../support/redis';
import { blockActionsBody, signSlackRequest, slashCommandBody } from '../support/slack-sign';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';
import { createTestActions, testCount } from '../support/test-actions';

/**
 * One person, many channels (issue 17): the catalog's `people` tie a Slack user id, an e-mail (a
 * personal token) and an OIDC subject to one engineer, so a two-person step needs two people
 * whichever way each of them approves. And SLACK_TEAM_ID: requests from another workspace change
 * nothing.
 */
const CATALOG = join(FIXTURES, 'catalog', 'people.yaml');
const SIGNING_SECRET = 'test-signing-secret-0123456789';
const TEAM = 'T1'; // the team of the captured Slack payloads (test/fixtures/slack)
const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'responder';
const { redis, prefix, cleanup } = testRedis('people');
const actions = createTestActions(redis, prefix);

const RUNBOOK = `
name: pair
triggers: { services: [pair, team, tokens] }
steps:
  - id: fix
    action: test.mutate
    with: { target: "\${{ incident.id }}" }
    approval: required
    two_person: true
    timeout: 5m
`;

let app: INestApplication;
let logs: () => string;
let slack: SlackStub;
let api: ReturnType<typeof client>;
let jwks: Server;
let signingKey: KeyLike;
let teamIncident: string;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  jwks = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => jwks.listen(port, '127.0.0.1', resolve));
  slack = await startSlackStub();
  ({ app, logs } = await startApp(
    prefix,
    {
      SLACK_BOT_TOKEN: 'xoxb-test-0000-token',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      SLACK_TEAM_ID: TEAM,
      // The OIDC subject is the person's name here: an opaque id the catalog lists under usernames.
      OIDC_ISSUER: ISSUER,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
      OIDC_USER_CLAIM: 'sub',
    },
    { catalogFile: CATALOG, runbooks: [RUNBOOK], actions },
  ));
  api = client(app);
});
afterAll(async () => {
  await app.close();
  await slack.close();
  await new Promise((resolve) => jwks.close(resolve));
  await cleanup();
});

const jwt = (sub: string) => new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'idp-1' }).setSubject(sub).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime('5m').sign(signingKey);
const text = (m: StubMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
interface Button {
  action_id: string;
  value: string;
}
const buttons = (m: StubMessage): Button[] =>
  (m.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? ((b as { elements: Button[] }).elements ?? []) : []));
const approvalRequest = (channel: string) => slack.waitFor(() => slack.messages(channel).find((m) => buttons(m).some((b) => (JSON.parse(b.value) as { step: string }).step === 'fix')), 10_000);

function click(message: StubMessage, userId: string, teamId = TEAM) {
  const button = buttons(message).find((b) => b.action_id === 'responder_approve')!;
  const body = blockActionsBody({ userId, teamId, actionId: 'responder_approve', value: button.value, channelId: message.channel, messageTs: message.ts, messageBlocks: message.blocks, responseUrl: slack.responseUrl(`click-${userId}-${teamId}`) });
  return request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, body)).send(body);
}

describe('one person is one approver, whatever the channel', () => {
  it('a Slack click and a personal token (and an OIDC token) of one person do not make two approvals; a second person does', async () => {
    const incidentId = await api.alarm('pair-down');
    const message = await approvalRequest('#inc-pair');
    const step = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);

    // oncall1 clicks Approve in Slack (as U0ONCALL1) ...
    await click(message, 'U0ONCALL1').expect(200);
    expect((await slack.waitFor(() => slack.ephemerals.find((e) => e.user === 'U0ONCALL1'))).text).toMatch(/recorded \(1 of 2\)/);
    // ... then approves over HTTP with their personal token (made for their e-mail): the same person.
    const token = await personToken(redis, prefix, 'oncall1@example.com');
    const again = await api.postAs(token, `/incidents/${incidentId}/steps/fix/approve`, { paramsHash: step.paramsHash }).expect(409);
    expect(again.body).toMatchObject({ code: 'duplicate', via: 'slack' });
    expect(again.body.message).toBe('oncall1 (as oncall1@example.com) has already approved fix (in Slack); it needs a second, different approver');
    // ... and with an OIDC token whose subject the catalog lists for them.
    const oidc = await api.postAs(await jwt('00u-oncall1'), `/incidents/${incidentId}/steps/fix/approve`, { paramsHash: step.paramsHash }).expect(409);
    expect(oidc.body.code).toBe('duplicate');

    expect(await api.step(incidentId, 'fix')).toMatchObject({ status: 'awaiting_approval', approvals: [{ by: 'oncall1', via: 'slack', as: 'U0ONCALL1' }] });
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(0);

    // A different person, with their own personal token: granted, and the step runs once.
    const other = await personToken(redis, prefix, 'oncall2@example.com');
    const granted = await api.postAs(other, `/incidents/${incidentId}/steps/fix/approve`, { paramsHash: step.paramsHash }).expect(200);
    expect(granted.body).toMatchObject({ outcome: 'granted', approvals: 2, needed: 2 });
    const done = await api.waitStep(incidentId, 'fix', ['succeeded']);
    expect(done.approvals).toEqual([
      expect.objectContaining({ by: 'oncall1', via: 'slack', as: 'U0ONCALL1' }),
      expect.objectContaining({ by: 'oncall2', via: 'token', as: 'oncall2@example.com' }),
    ]);
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);

    // The timeline, the Slack message and the RCA name the people and their channels.
    const timeline = await api.timeline(incidentId);
    expect(timeline.find((e) => e.type === 'approval.recorded')?.data).toMatchObject({ by: 'oncall1', via: 'slack', as: 'U0ONCALL1', count: 1, needed: 2 });
    expect(timeline.find((e) => e.type === 'approval.granted')?.data).toMatchObject({ by: 'oncall2', via: 'token', as: 'oncall2@example.com', count: 2 });
    const decided = await slack.waitFor(() => slack.messages('#inc-pair').find((m) => m.ts === message.ts && buttons(m).length === 0));
    expect(text(decided)).toContain('by <@U0ONCALL1> (in Slack) and <@U0ONCALL2> (API, personal token)');
    const rca = (await api.get(`/incidents/${incidentId}/rca.md`).expect(200)).text;
    expect(rca).toContain('approved by oncall1 (in Slack as U0ONCALL1) and oncall2 (with a personal token as oncall2\\@example.com)');
    expect(logs()).toMatch(/oncall1 \(as oncall1@example.com\) approved fix a second time: one person counts once/);
  });

  it('a person who approved over the API is told so when they click in Slack', async () => {
    const incidentId = (teamIncident = await api.alarm('team-down'));
    const message = await approvalRequest('#inc-team');
    const step = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
    await api.postAs(await jwt('00u-oncall2'), `/incidents/${incidentId}/steps/fix/approve`, { paramsHash: step.paramsHash }).expect(200);
    await click(message, 'U0ONCALL2').expect(200);
    const told = await slack.waitFor(() => slack.ephemerals.find((e) => e.user === 'U0ONCALL2' && e.channel === slack.channelId('#inc-team')));
    expect(told.text).toBe('You have already approved fix (with an OIDC token: the same person); it needs a second, different approver.');
    expect(await api.step(incidentId, 'fix')).toMatchObject({ status: 'awaiting_approval', approvals: [{ by: 'oncall2', via: 'oidc', as: '00u-oncall2' }] });
  });
});

describe('responder tokens create, for any name of a person', () => {
  const create = async (user: string) => {
    let out = '';
    let err = '';
    const code = await tokensCreate(user, {}, { env: { SERVICE_CATALOG: CATALOG, REDIS_URL: process.env.REDIS_URL, REDIS_PREFIX: prefix }, out: (t) => (out += t), err: (t) => (err += t) });
    return { code, token: out.trim(), err };
  };

  it('makes a token for a person id or their Slack id that acts as the person; refuses a name of nobody', async () => {
    const byId = await create('oncall1');
    expect(byId.code).toBe(0);
    const bySlackId = await create('U0ONCALL1');
    expect(bySlackId).toMatchObject({ code: 0, err: expect.stringContaining('(person oncall1)') });
    expect(await create('mallory@example.com')).toMatchObject({ code: 1, err: expect.stringContaining('"mallory@example.com" is not in any approver group') });

    const incidentId = await api.alarm('tokens-down');
    const step = await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
    await api.postAs(byId.token, `/incidents/${incidentId}/steps/fix/approve`, { paramsHash: step.paramsHash }).expect(200);
    expect((await api.postAs(bySlackId.token, `/incidents/${incidentId}/steps/fix/approve`, { paramsHash: step.paramsHash }).expect(409)).body.code).toBe('duplicate');
    expect(await api.step(incidentId, 'fix')).toMatchObject({ status: 'awaiting_approval', approvals: [{ by: 'oncall1', via: 'token' }] });
    expect((await api.step(incidentId, 'fix'))!.approvals![0]).not.toHaveProperty('as');
  });
});

describe('SLACK_TEAM_ID', () => {
  it('ignores a click and a slash command from another workspace (acknowledged, logged, nothing changed); its own team still counts', async () => {
    // The incident of the test above: oncall2 approved it over OIDC, it waits for a second person.
    const incidentId = teamIncident;
    const message = await approvalRequest('#inc-team');
    const before = await api.step(incidentId, 'fix');
    const entries = (await api.timeline(incidentId)).length;

    await click(message, 'U0ONCALL1', 'T0OTHER01').expect(200);
    expect(logs()).toMatch(/ignored a Slack block_actions by U0ONCALL1 from team T0OTHER01: only team T1 \(SLACK_TEAM_ID\) is served/);
    const command = slashCommandBody({ text: 'pause hands off', userId: 'U0ONCALL1', teamId: 'T0OTHER01', channelId: slack.channelId('#inc-team'), responseUrl: slack.responseUrl('other-team-pause') });
    await request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, command)).send(command).expect(200);
    expect(logs()).toMatch(/ignored a Slack command \/incident by U0ONCALL1 from team T0OTHER01/);

    // Both were acknowledged before any listener ran: nothing was stored, so nothing can happen later.
    expect(await api.step(incidentId, 'fix')).toEqual(before);
    expect((await api.timeline(incidentId)).length).toBe(entries);
    expect(slack.responses.filter((r) => r.id === 'other-team-pause')).toEqual([]);
    expect(slack.ephemerals.filter((e) => e.user === 'U0ONCALL1' && e.channel === slack.channelId('#inc-team'))).toEqual([]);

    // The same person from the right team: their approval is the second one, and the step runs.
    await click(message, 'U0ONCALL1').expect(200);
    await api.waitStep(incidentId, 'fix', ['succeeded']);
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
  });
});
