import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { FIXTURES } from '../support/events';
import { startApp } from '../support/app';
import { client } from '../support/engine';
import { testRedis } from '../support/redis';
import { blockActionsBody, signSlackRequest, slashCommandBody } from '../support/slack-sign';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';
import { createTestActions, testCount } from '../support/test-actions';

const CATALOG = join(FIXTURES, 'catalog', 'slack.yaml');
const SIGNING_SECRET = 'test-signing-secret-0123456789';
const { redis, prefix, cleanup } = testRedis('slack');
const actions = createTestActions(redis, prefix);

const RUNBOOKS = [
  `
name: shop
triggers: { services: [shop, flaky] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
  - { id: look-again, action: test.diagnose, with: { value: 2 } }
  - id: fix
    action: test.mutate
    needs: [look, look-again]
    with: { target: "\${{ incident.id }}" }
    approval: required
    timeout: 5m
`,
  `
name: pair
triggers: { services: [pair, forge] }
steps:
  - id: fix
    action: test.mutate
    with: { target: "\${{ incident.id }}" }
    approval: required
    two_person: true
    timeout: 5m
`,
  `
name: plan
triggers: { services: [plan, hold] }
steps:
  - id: fix
    action: test.mutate
    with: { target: "\${{ incident.id }}", value: "\${{ len(alarms) }}" }
    approval: required
    timeout: 5m
`,
  `
name: slow
triggers: { services: [slow] }
steps:
  - id: fix
    action: test.mutate
    with: { target: "\${{ incident.id }}" }
    approval: required
    timeout: 4s
    on_failure: continue
`,
];

let app: INestApplication;
let logs: () => string;
let slack: SlackStub;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  slack = await startSlackStub();
  slack.userGroups.set('S0ONCALL1', ['U0CAROL01']);
  ({ app, logs } = await startApp(
    prefix,
    { SLACK_BOT_TOKEN: 'xoxb-test-0000-token', SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl, SLACK_REMINDER_SECONDS: '1' },
    { catalogFile: CATALOG, runbooks: RUNBOOKS, actions },
  ));
  api = client(app);
});
afterAll(async () => {
  await app.close();
  await slack.close();
  await cleanup();
});

/** The top-level messages of a channel (not thread replies). */
const topLevel = (channel: string) => slack.messages(channel).filter((m) => m.threadTs === undefined);
const text = (m: StubMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;

interface Button {
  action_id: string;
  value: string;
}
function buttons(m: StubMessage): Button[] {
  return (m.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? ((b as { elements: Button[] }).elements ?? []) : []));
}

/** The thread message carrying a step's Approve/Reject buttons. */
async function approvalRequest(channel: string, step: string, notTs?: string): Promise<StubMessage> {
  return slack.waitFor(() => slack.messages(channel).find((m) => m.ts !== notTs && buttons(m).some((b) => (JSON.parse(b.value) as { step: string }).step === step)), 10_000);
}

/** Clicks a button as Slack would: a signed block_actions POST to /slack/events. */
function click(message: StubMessage, actionId: 'responder_approve' | 'responder_reject', userId: string, signedAt?: number, secret = SIGNING_SECRET) {
  const button = buttons(message).find((b) => b.action_id === actionId)!;
  const body = blockActionsBody({ userId, actionId, value: button.value, channelId: message.channel, messageTs: message.ts, messageBlocks: message.blocks, responseUrl: slack.responseUrl(`click-${userId}`) });
  return request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(secret, body, signedAt)).send(body);
}

async function command(text: string, userId: string, id: string) {
  const body = slashCommandBody({ text, userId, channelId: slack.channelId('#inc-shop'), responseUrl: slack.responseUrl(id) });
  await request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, body)).send(body).expect(200);
  return slack.waitFor(() => slack.responses.find((r) => r.id === id)?.body as { text: string; response_type: string } | undefined);
}

describe('Slack', () => {
  let shopIncident: string;

  // First, while no other incident is talking to Slack: the failures below hit this incident's posts.
  it('delivers every message once, after Slack answered 500 and then 429, and the run did not wait', async () => {
    slack.failNext('chat.postMessage', 1, { status: 500 });
    slack.failNext('chat.postMessage', 1, { status: 429, retryAfter: 2 });
    const incidentId = await api.alarm('flaky-5xx');
    // The diagnostics finish and the step waits for approval while Slack has not got a message yet.
    await api.waitStep(incidentId, 'fix', ['awaiting_approval']);
    expect(topLevel('#inc-flaky')).toHaveLength(0);
    const asked = await approvalRequest('#inc-flaky', 'fix');
    const [main] = topLevel('#inc-flaky');
    expect(topLevel('#inc-flaky')).toHaveLength(1);
    const replies = await slack.waitFor(() => {
      const r = slack.replies('#inc-flaky', main.ts);
      return r.length >= 3 ? r : undefined;
    });
    expect(replies.filter((m) => /diagnosed 1\b/.test(text(m)))).toHaveLength(1);
    expect(replies.filter((m) => /diagnosed 2\b/.test(text(m)))).toHaveLength(1);
    expect(replies.filter((m) => buttons(m).length > 0)).toEqual([asked]);
    const failed = slack.callsTo('chat.postMessage').filter((c) => !c.ok);
    expect(failed.map((c) => c.status)).toEqual([500, 429]);
    // The 429 was honoured: nothing was posted within Retry-After of it.
    const after429 = slack.callsTo('chat.postMessage').filter((c) => c.ok && c.at > failed[1].at);
    expect(after429[0].at - failed[1].at).toBeGreaterThanOrEqual(1900);
    const metrics = (await request(app.getHttpServer()).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/responder_slack_jobs_total\{job="sync",outcome="rate_limited"\} 1/);
    expect(metrics).toMatch(/responder_slack_jobs_total\{job="sync",outcome="retry"\} 1/);
  });

  it('posts one message per incident, updates it as steps finish, and puts findings in its thread', async () => {
    shopIncident = await api.alarm('shop-5xx');
    const request = await approvalRequest('#inc-shop', 'fix');
    const [main] = topLevel('#inc-shop');
    expect(topLevel('#inc-shop')).toHaveLength(1);
    expect(request.threadTs).toBe(main.ts);
    // Both diagnostics' findings are in the thread, once each.
    const replies = await slack.waitFor(() => {
      const r = slack.replies('#inc-shop', main.ts);
      return r.filter((m) => /diagnosed/.test(text(m))).length >= 2 ? r : undefined;
    });
    expect(replies.filter((m) => /diagnosed 1\b/.test(text(m)))).toHaveLength(1);
    expect(replies.filter((m) => /diagnosed 2\b/.test(text(m)))).toHaveLength(1);
    // The main message was updated in place as the run went on, and names the service and the alarm.
    const current = await slack.waitFor(() => slack.messages('#inc-shop').find((m) => m.ts === main.ts && m.updates > 0));
    expect(text(current)).toContain('shop');
    expect(text(current)).toContain('shop-5xx');
    // The request says what it will do, and who may approve.
    expect(text(request)).toContain(`set ${shopIncident}`);
    expect(text(request)).toContain('U0ALICE01');
    // Stakeholders were told, without internals.
    const [status] = await slack.waitFor(() => (topLevel('#status-shop').length > 0 ? topLevel('#status-shop') : undefined));
    expect(text(status)).not.toContain('shop-5xx');
    expect(text(status)).not.toContain('fix');
  });

  it('refuses a click by someone who is not an approver, tells only them, logs it, and changes nothing', async () => {
    const message = await approvalRequest('#inc-shop', 'fix');
    await click(message, 'responder_approve', 'U0MALLORY').expect(200);
    const refusal = await slack.waitFor(() => slack.ephemerals.find((e) => e.user === 'U0MALLORY'));
    expect(refusal.text).toMatch(/not one of the approvers/);
    expect(refusal.channel).toBe(slack.channelId('#inc-shop'));
    expect((await api.step(shopIncident, 'fix'))!.status).toBe('awaiting_approval');
    expect((await api.timeline(shopIncident)).some((e) => e.type === 'approval.refused' && e.data.by === 'U0MALLORY')).toBe(true);
    expect(logs()).toMatch(/refused.*U0MALLORY|U0MALLORY.*refused/);
    expect(await testCount(redis, prefix, 'calls-total', shopIncident)).toBe(0);
  });

  it('runs the step when an approver clicks Approve, and replaces the buttons by the decision and its author', async () => {
    const message = await approvalRequest('#inc-shop', 'fix');
    await click(message, 'responder_approve', 'U0ALICE01').expect(200);
    await api.waitStep(shopIncident, 'fix', ['succeeded']);
    const decided = await slack.waitFor(() => slack.messages('#inc-shop').find((m) => m.ts === message.ts && buttons(m).length === 0 && /succeeded|done|✅/i.test(text(m))));
    expect(text(decided)).toContain('U0ALICE01');
    expect(await testCount(redis, prefix, 'calls-total', shopIncident)).toBe(1);
    // A second click on the decided step changes nothing, and says so to the clicker only.
    await click(message, 'responder_approve', 'U0BOB0001').expect(200);
    const told = await slack.waitFor(() => slack.ephemerals.find((e) => e.user === 'U0BOB0001'));
    expect(told.text).toMatch(/already decided/);
    expect(await testCount(redis, prefix, 'calls-total', shopIncident)).toBe(1);
    // The stakeholders heard it was mitigated.
    await slack.waitFor(() => topLevel('#status-shop').length === 2);
  });

  it('needs two different approvers for a two-person step; a Slack user group member counts', async () => {
    const incidentId = await api.alarm('pair-down');
    const message = await approvalRequest('#inc-pair', 'fix');
    await click(message, 'responder_approve', 'U0CAROL01').expect(200);
    expect((await slack.waitFor(() => slack.ephemerals.find((e) => e.user === 'U0CAROL01'))).text).toMatch(/needs another, different approver/);
    await click(message, 'responder_approve', 'U0CAROL01').expect(200);
    await slack.waitFor(() => slack.ephemerals.filter((e) => e.user === 'U0CAROL01').length === 2);
    expect(slack.ephemerals.filter((e) => e.user === 'U0CAROL01')[1].text).toMatch(/already approved/);
    expect((await api.step(incidentId, 'fix'))!.status).toBe('awaiting_approval');
    await click(message, 'responder_approve', 'U0BOB0001').expect(200);
    const step = await api.waitStep(incidentId, 'fix', ['succeeded']);
    expect(step.approvals!.map((a) => a.by).sort()).toEqual(['U0BOB0001', 'U0CAROL01']);
  });

  it('refuses a click on a plan that changed since it was posted, and posts the new plan', async () => {
    const incidentId = await api.alarm('plan-5xx');
    const first = await approvalRequest('#inc-plan', 'fix');
    await api.alarm('plan-latency'); // a second alarm: the parameters (len(alarms)) change
    await click(first, 'responder_approve', 'U0ALICE01').expect(200);
    expect((await slack.waitFor(() => slack.ephemerals.find((e) => e.channel === slack.channelId('#inc-plan')))).text).toMatch(/plan for fix changed/);
    const second = await approvalRequest('#inc-plan', 'fix', first.ts);
    expect(text(second)).toContain('2');
    const old = await slack.waitFor(() => slack.messages('#inc-plan').find((m) => m.ts === first.ts && buttons(m).length === 0));
    expect(text(old)).toMatch(/plan changed/);
    expect((await api.step(incidentId, 'fix'))!.status).toBe('awaiting_approval');
    await click(second, 'responder_reject', 'U0ALICE01').expect(200);
    await api.waitStep(incidentId, 'fix', ['rejected']);
    await slack.waitFor(() => slack.messages('#inc-plan').find((m) => m.ts === second.ts && buttons(m).length === 0 && /reject/i.test(text(m))));
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(0);
  });

  it('answers 401 to a forged or replayed request, and does nothing', async () => {
    const incidentId = await api.alarm('forge-5xx');
    const message = await approvalRequest('#inc-forge', 'fix');
    await click(message, 'responder_approve', 'U0ALICE01', undefined, 'not-the-signing-secret-at-all').expect(401);
    await click(message, 'responder_approve', 'U0ALICE01', Math.floor(Date.now() / 1000) - 6 * 60).expect(401);
    const body = 'payload=%7B%7D';
    await request(app.getHttpServer()).post('/slack/events').set({ 'content-type': 'application/x-www-form-urlencoded' }).send(body).expect(401);
    // Nothing reached the service: no approval, no refusal, no answer to anyone.
    const step = await api.step(incidentId, 'fix');
    expect(step).toMatchObject({ status: 'awaiting_approval', approvals: [] });
    expect((await api.timeline(incidentId)).filter((e) => e.type.startsWith('approval.') && e.type !== 'approval.requested')).toEqual([]);
    expect(slack.ephemerals.filter((e) => e.channel === slack.channelId('#inc-forge'))).toEqual([]);
  });

  it('re-pings the approvers once when an approval waits, and says so when it times out', async () => {
    const incidentId = await api.alarm('slow-5xx');
    const request = await approvalRequest('#inc-slow', 'fix');
    const reminder = await slack.waitFor(() => slack.replies('#inc-slow', request.threadTs!).find((m) => m.ts !== request.ts && /S0ONCALL1/.test(text(m))));
    expect(text(reminder)).toContain('<!subteam^S0ONCALL1>');
    await api.waitStep(incidentId, 'fix', ['timed_out'], 10_000);
    const timedOut = await slack.waitFor(() => slack.replies('#inc-slow', request.threadTs!).find((m) => m.ts !== request.ts && m.ts !== reminder.ts && /timed out/i.test(text(m))));
    expect(timedOut).toBeDefined();
    await slack.waitFor(() => slack.messages('#inc-slow').find((m) => m.ts === request.ts && buttons(m).length === 0));
    // Once: no second reminder for the same request.
    expect(slack.replies('#inc-slow', request.threadTs!).filter((m) => /S0ONCALL1/.test(text(m)) && m.ts !== request.ts && m.ts !== timedOut.ts)).toHaveLength(1);
  });

  it('while paused: tells the approver the step is held, shows it held (not queued to run), and runs it once resumed', async () => {
    await api.post('/automation/pause', { by: 'alice@example.com', reason: 'hands off' }).expect(200);
    try {
      const incidentId = await api.alarm('hold-5xx');
      const request = await approvalRequest('#inc-hold', 'fix');
      expect(text(request)).toContain('Automation is paused (by alice@example.com): once approved, this step is held until `/incident resume`.');
      await click(request, 'responder_approve', 'U0ALICE01').expect(200);
      await api.waitStep(incidentId, 'fix', ['queued']);
      const decided = await slack.waitFor(() => slack.messages('#inc-hold').find((m) => m.ts === request.ts && buttons(m).length === 0 && /Held: automation is paused/.test(text(m))));
      expect(text(decided)).not.toContain('Queued to run');
      const main = await slack.waitFor(() => topLevel('#inc-hold').find((m) => /held: automation paused/.test(text(m))));
      expect(text(main)).toContain('No mutating step starts until `/incident resume` (one already calling AWS completes); diagnostics go on.');
      expect(text(main)).not.toContain('No new step starts');
      expect(text(main)).not.toMatch(/fix` test\.mutate: \*queued\*/);
      expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(0);
      await api.post('/automation/resume', { by: 'alice@example.com' }).expect(200);
      await api.waitStep(incidentId, 'fix', ['succeeded']);
      await slack.waitFor(() => slack.messages('#inc-hold').find((m) => m.ts === request.ts && /Done/.test(text(m))));
      expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
    } finally {
      await api.post('/automation/resume', { by: 'alice@example.com' });
    }
  });

  it('answers /incident list, status and pause/resume (approvers only)', async () => {
    const list = await command('list', 'U0MALLORY', 'list');
    expect(list.response_type).toBe('ephemeral');
    expect(JSON.stringify(list)).toContain(shopIncident);
    const status = await command(`status ${shopIncident}`, 'U0MALLORY', 'status');
    expect(JSON.stringify(status)).toContain('shop');
    const refused = await command('pause', 'U0MALLORY', 'pause-refused');
    expect(refused.text).toMatch(/only on-call approvers/);
    expect((await api.get('/ready')).status).toBeLessThan(600);
    const paused = await command('pause deploy in progress', 'U0ALICE01', 'pause');
    expect(paused.text).toMatch(/paused/);
    expect((await api.timeline(shopIncident)).some((e) => e.type === 'automation.paused' && e.data.by === 'U0ALICE01')).toBe(true);
    const resumed = await command('resume', 'U0CAROL01', 'resume');
    expect(resumed.text).toMatch(/resumed/);
    const rca = await command(`rca ${shopIncident}`, 'U0MALLORY', 'rca');
    expect(rca.text).toContain('RCA');
    const help = await command('', 'U0MALLORY', 'help');
    expect(JSON.stringify(help)).toContain('run &lt;runbook&gt; &lt;service&gt;');
  });

  it('answers a slash command that came without response_url with an ephemeral message instead of failing', async () => {
    const body = slashCommandBody({ text: 'help', userId: 'U0NORESP1', channelId: slack.channelId('#inc-shop'), responseUrl: null });
    expect(body).not.toContain('response_url');
    await request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, body)).send(body).expect(200);
    const answer = await slack.waitFor(() => slack.ephemerals.find((e) => e.user === 'U0NORESP1'));
    expect(answer.channel).toBe(slack.channelId('#inc-shop'));
    expect(JSON.stringify(answer)).toContain('run &lt;runbook&gt; &lt;service&gt;');
    expect(logs()).not.toContain('respond is not a function');
  });

  it('adds a note from /incident note to the timeline and the RCA, with its author', async () => {
    const added = await command(`note ${shopIncident} customers report failed payments since 18:02`, 'U0BOB0001', 'note');
    expect(added.text).toMatch(/Note added/);
    const note = (await api.timeline(shopIncident)).find((e) => e.type === 'note');
    expect(note?.data).toMatchObject({ author: 'U0BOB0001', text: 'customers report failed payments since 18:02', source: 'slack' });
    expect((await api.get(`/incidents/${shopIncident}/rca.md`).expect(200)).text).toContain('customers report failed payments since 18:02');
    expect((await command('note inc_NOPE something', 'U0BOB0001', 'note-missing')).text).toMatch(/No incident/);
  });

  it('starts a manual run from /incident run for an approver only', async () => {
    const refused = await command('run slow slow', 'U0MALLORY', 'run-refused');
    expect(refused.text).toMatch(/only slow's approvers/);
    const started = await command('run pair forge', 'U0ALICE01', 'run');
    expect(started.text).toMatch(/already has a run of pair|Started pair for forge/);
    const unknown = await command('run nope forge', 'U0ALICE01', 'run-unknown');
    expect(unknown.text).toMatch(/no runbook named "nope"/);
  });

  it('posts a resolution summary and uploads the RCA draft to the thread when the incident resolves', async () => {
    await api.alarm('shop-5xx', 'OK');
    const [main] = topLevel('#inc-shop');
    const upload = await slack.waitFor(() => slack.uploadsIn('#inc-shop', main.ts)[0], 10_000);
    expect(upload.text).toContain(shopIncident);
    expect(upload.filename).toBe(`rca-${shopIncident}.md`);
    await slack.waitFor(() => slack.replies('#inc-shop', main.ts).find((m) => /resolved/i.test(text(m))));
    await slack.waitFor(() => topLevel('#status-shop').length === 3);
    expect(topLevel('#inc-shop')).toHaveLength(1);

    // The draft changes after the upload (a note on the resolved incident): a new version in the thread.
    await command(`note ${shopIncident} the cache was cold after the deploy`, 'U0BOB0001', 'note-after-resolution');
    const second = await slack.waitFor(() => slack.uploadsIn('#inc-shop', main.ts)[1], 10_000);
    expect(second.text).toContain('the cache was cold after the deploy');
    expect(second.filename).toBe(`rca-${shopIncident}.md`);
    expect(upload.text).not.toContain('the cache was cold');
    expect(slack.uploadsIn('#inc-shop', main.ts)).toHaveLength(2);
  });

  it('sets the postmortem owner and status from /incident postmortem: on the timeline as the typing user, and a new RCA version in the thread each time', async () => {
    const [main] = topLevel('#inc-shop');
    const before = slack.uploadsIn('#inc-shop', main.ts).length;
    // Slack escapes a mention as <@U…|name>: the owner is the Slack user id.
    const owner = await command(`postmortem ${shopIncident} owner <@U0BOB0001|bob>`, 'U0CAROL01', 'pm-owner');
    expect(owner.response_type).toBe('ephemeral');
    expect(owner.text).toBe(`Postmortem of ${shopIncident}: draft, owner <@U0BOB0001> (on the timeline; the RCA shows it at its top).`);
    const entry = (await api.timeline(shopIncident)).find((e) => e.type === 'postmortem.updated');
    expect(entry?.data).toMatchObject({ by: 'U0CAROL01', owner: 'U0BOB0001', status: 'draft', source: 'slack' });
    const withOwner = await slack.waitFor(() => slack.uploadsIn('#inc-shop', main.ts)[before], 10_000);
    expect(withOwner.text).toMatch(/^\*\*Postmortem\*\*: draft; owner: U0BOB0001 \(last set by U0CAROL01 at .+ UTC\)$/m);
    expect(withOwner.title).toContain(`(version ${before + 1})`);

    const review = await command(`postmortem ${shopIncident} status review`, 'U0BOB0001', 'pm-status');
    expect(review.text).toBe(`Postmortem of ${shopIncident}: in review, owner <@U0BOB0001> (on the timeline; the RCA shows it at its top).`);
    const inReview = await slack.waitFor(() => slack.uploadsIn('#inc-shop', main.ts)[before + 1], 10_000);
    expect(inReview.text).toMatch(/^\*\*Postmortem\*\*: in review; owner: U0BOB0001 \(last set by U0BOB0001 at /m);

    // Refusals change nothing and upload nothing.
    expect((await command(`postmortem ${shopIncident} status done`, 'U0BOB0001', 'pm-bad')).text).toMatch(/^Status refused: expected one of draft, review, published\. Usage: /);
    expect((await command(`postmortem ${shopIncident} colour blue`, 'U0BOB0001', 'pm-usage')).text).toMatch(/^Usage: \/incident postmortem <incident id> owner @user/);
    expect((await command('postmortem inc_NOPE status review', 'U0BOB0001', 'pm-missing')).text).toBe('No incident inc_NOPE.');
    expect((await command(`postmortem ${shopIncident} status review`, 'U0BOB0001', 'pm-again')).text).toBe(`The postmortem of ${shopIncident} was already in review, owner <@U0BOB0001>.`);
    expect((await api.timeline(shopIncident)).filter((e) => e.type === 'postmortem.updated')).toHaveLength(2);
    expect(slack.uploadsIn('#inc-shop', main.ts)).toHaveLength(before + 2);
  });
});
