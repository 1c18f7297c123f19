import { readFileSync, writeFileSync } from 'node:fs';
import { ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { AwsOverlay } from '../scenarios/support/aws-overlay';
import { client, eventually } from '../support/engine';
import { PROD_SIGNING_SECRET as SIGNING_SECRET, type ProdService, startProdService } from '../support/prod-service';
import { APPROVER_SLACK_ID, type ProdWorld, seedProdWorld } from '../support/prod-world';
import { testRedis } from '../support/redis';
import { blockActionsBody, signSlackRequest } from '../support/slack-sign';
import type { SlackStub, StubMessage } from '../support/slack-stub';

/**
 * Plans follow the evidence (issue 17): the shipped production-down runbook proposes a rollback
 * `:42 → :41` and asks for approval; someone deploys `:43` while it waits. Whether the click comes
 * first (the plan pre-check before the call) or another alarm does (the plan job's re-check), the
 * stale plan is never called: `approval.stale` on the timeline, the evidence steps run again, the
 * old Slack request says it was superseded and why, a new request for `:43 → :42` is posted, and
 * approving that one rolls back once. An unchanged world: `plan.checked`, and the call is made once.
 * AWS is moto_server behind the counting stand-in (aws-overlay), so UpdateService calls are counted.
 */
const MOTO_URL = process.env.MOTO_URL!;
const { prefix, cleanup } = testRedis('replan');
const ecs = new ECSClient({ endpoint: MOTO_URL });
let world: ProdWorld;
let service: ProdService;
let overlay: AwsOverlay;
let slack: SlackStub;
let app: INestApplication;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  world = await seedProdWorld(MOTO_URL, ['moved', 'again', 'steady', 'churn']);
  // People decide every rollback here (autonomy `ask`), so that a request waits for the deployment.
  writeFileSync(world.catalogFile, readFileSync(world.catalogFile, 'utf8').replaceAll('deploy.rollback: auto', 'deploy.rollback: ask'));
  service = await startProdService(prefix, world, MOTO_URL);
  ({ app, overlay, slack } = service);
  api = client(app);
}, 60_000);

afterAll(async () => {
  await service?.close();
  world?.close();
  ecs.destroy();
  await cleanup();
});

const text = (m: StubMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
type Button = { action_id: string; value: string };
const buttons = (m: StubMessage): Button[] => (m.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? (b as { elements: Button[] }).elements : []));
/** The request with buttons for the rollback at this plan hash, in the service's channel. */
const rollbackRequest = (service: string, paramsHash: string) =>
  slack.waitFor(
    () => slack.messages(`#inc-${service}`).find((m) => buttons(m).some((b) => b.action_id === 'responder_approve' && (JSON.parse(b.value) as { step: string; paramsHash: string }).step === 'rollback' && b.value.includes(paramsHash))),
    20_000,
  );
const updateServiceCalls = () => overlay.log().filter((r) => r.key === 'ecs:UpdateService').length;

function click(message: StubMessage) {
  const button = buttons(message).find((b) => b.action_id === 'responder_approve')!;
  const body = blockActionsBody({ userId: APPROVER_SLACK_ID, actionId: button.action_id, value: button.value, channelId: message.channel, messageTs: message.ts });
  return request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, body)).send(body).expect(200);
}

/** A deployment of another revision (`:43` first) of the service, made by someone else (straight at moto). */
async function deployThird(service: string, tag = 43): Promise<string> {
  const family = world.revisions[service][1].split('/').pop()!.split(':')[0];
  const out = await ecs.send(
    new RegisterTaskDefinitionCommand({ family, requiresCompatibilities: ['EC2'], networkMode: 'bridge', containerDefinitions: [{ name: 'app', image: `${service}:${tag}`, memory: 512, essential: true }] }),
  );
  const arn = out.taskDefinition!.taskDefinitionArn!;
  await ecs.send(new UpdateServiceCommand({ cluster: world.cluster, service, taskDefinition: arn }));
  return arn;
}

/** An alarm an hour after the deployment: the rollback waits for a person. */
async function awaitingRollback(service: string) {
  const incidentId = await api.alarm(`${service}-5xx`, 'ALARM', new Date(Date.now() + 60 * 60_000));
  const step = await api.waitStep(incidentId, 'rollback', ['awaiting_approval'], 60_000);
  expect(step.plan).toContain(`from ${world.revisions[service][1]} to ${world.revisions[service][0]}`);
  return { incidentId, step, asked: await rollbackRequest(service, step.paramsHash!) };
}

async function staleEntry(incidentId: string) {
  return eventually('approval.stale on the timeline', async () => (await api.timeline(incidentId)).find((e) => e.type === 'approval.stale' && e.data.step === 'rollback'), 30_000);
}

/** The superseded request, its new one, and approving the new plan: a rollback of :43 to :42, made once. */
async function replannedAndApproved(service: string, incidentId: string, asked: StubMessage, oldHash: string, third: string, callsBefore: number): Promise<void> {
  const replanned = await eventually(
    'a new plan awaiting approval',
    async () => {
      const s = await api.step(incidentId, 'rollback');
      return s?.status === 'awaiting_approval' && s.paramsHash !== oldHash ? s : undefined;
    },
    60_000,
  );
  expect(replanned.plan).toContain(`from ${third} to ${world.revisions[service][1]}`);
  // The evidence the plan depends on ran again (deploy.recent saw :43).
  const timeline = await api.timeline(incidentId);
  expect(timeline.filter((e) => e.type === 'step.rerun').map((e) => e.data.step)).toEqual(expect.arrayContaining(['deploy', 'diagnose']));
  expect(timeline.filter((e) => e.type === 'step.started' && e.data.step === 'deploy')).toHaveLength(2);
  // Slack: the old request is superseded (no buttons, the reason), the approvers are told, a new request is posted.
  const old = await slack.waitFor(() => slack.messages(`#inc-${service}`).find((m) => m.ts === asked.ts && /Superseded/.test(text(m))), 20_000);
  expect(buttons(old)).toEqual([]);
  expect(text(old)).toContain(third);
  const notice = await slack.waitFor(() => slack.messages(`#inc-${service}`).find((m) => /was \*superseded\*/.test(text(m))), 20_000);
  expect(text(notice)).toContain(`<@${APPROVER_SLACK_ID}>`);
  const fresh = await rollbackRequest(service, replanned.paramsHash!);
  expect(fresh.ts).not.toBe(asked.ts);
  expect(text(fresh)).toContain('A new plan: the previous request was superseded');
  expect(updateServiceCalls() - callsBefore).toBe(0);
  expect(await world.taskDefinitionOf(service)).toBe(third);

  // The old button now refuses, says why, and approves nothing.
  const told = slack.ephemerals.length;
  await click(asked);
  const refusal = await slack.waitFor(() => slack.ephemerals.slice(told).find((e) => /superseded/.test(e.text ?? '')), 20_000);
  expect(refusal.text).toMatch(/^That request for rollback was superseded \(.*now runs .*\), so nothing was done/);
  expect((await api.step(incidentId, 'rollback'))?.status).toBe('awaiting_approval');

  await click(fresh);
  const done = await api.waitStep(incidentId, 'rollback', ['succeeded', 'failed'], 60_000);
  expect(done.status).toBe('succeeded');
  expect(await world.taskDefinitionOf(service)).toBe(world.revisions[service][1]);
  expect(updateServiceCalls() - callsBefore).toBe(1);
  expect((await api.timeline(incidentId)).filter((e) => e.type === 'plan.checked' && e.data.step === 'rollback')).toHaveLength(1);
}

describe('a plan follows new evidence', () => {
  it('a click on a plan made stale by a deployment calls nothing: approval.stale, evidence again, a new request; the new plan rolls back once', async () => {
    const callsBefore = updateServiceCalls();
    const { incidentId, step, asked } = await awaitingRollback('moved');
    const third = await deployThird('moved');
    await click(asked);
    const stale = await staleEntry(incidentId);
    expect(stale.data).toMatchObject({ trigger: 'call', replans: 1, paramsHash: step.paramsHash });
    expect(String(stale.data.reason)).toContain(`now runs ${third}, not the plan's ${world.revisions.moved[1]}`);
    // The approval was given, then the pre-check refused the call: no rollback to :41 was attempted.
    expect(updateServiceCalls() - callsBefore).toBe(0);
    await replannedAndApproved('moved', incidentId, asked, step.paramsHash!, third, callsBefore);
    const rca = (await api.get(`/incidents/${incidentId}/rca.md`).expect(200)).text;
    expect(rca).toContain('Plan of step rollback stale before the call: ');
    expect(rca).toContain('Plan of step rollback checked before the call: ');
  }, 180_000);

  it('another alarm on the incident checks the waiting plan again and re-plans it, without a click', async () => {
    const callsBefore = updateServiceCalls();
    const { incidentId, step, asked } = await awaitingRollback('again');
    const third = await deployThird('again');
    expect(await api.alarm('again-latency', 'ALARM', new Date(Date.now() + 61 * 60_000))).toBe(incidentId);
    const stale = await staleEntry(incidentId);
    expect(stale.data).toMatchObject({ trigger: 'alarm', replans: 1 });
    await replannedAndApproved('again', incidentId, asked, step.paramsHash!, third, callsBefore);
  }, 180_000);

  it('a world that keeps changing: after 3 re-plans the step fails with the reason instead of asking again', async () => {
    const callsBefore = updateServiceCalls();
    const { incidentId, step } = await awaitingRollback('churn');
    let hash = step.paramsHash!;
    for (let i = 1; i <= 3; i++) {
      await deployThird('churn', 42 + i);
      await api.alarm('churn-latency', 'ALARM', new Date(Date.now() + (60 + i) * 60_000));
      await eventually(`re-plan ${i}`, async () => {
        const s = await api.step(incidentId, 'rollback');
        return s?.status === 'awaiting_approval' && s.paramsHash !== hash ? (hash = s.paramsHash!) : undefined;
      }, 60_000);
    }
    const last = await deployThird('churn', 46);
    await api.alarm('churn-latency', 'ALARM', new Date(Date.now() + 70 * 60_000));
    const failed = await api.waitStep(incidentId, 'rollback', ['failed'], 60_000);
    expect(failed.error).toMatch(/^the plan was found stale 3 times; not planned again \(a person should look\): .*now runs /);
    expect(failed.error).toContain(last);
    const stale = (await api.timeline(incidentId)).filter((e) => e.type === 'approval.stale' && e.data.step === 'rollback');
    expect(stale.map((e) => [e.data.replans, e.data.replanned])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
    expect(updateServiceCalls() - callsBefore).toBe(0);
  }, 180_000);

  it('an unchanged world: plan.checked, and the rollback is made once', async () => {
    const callsBefore = updateServiceCalls();
    const { incidentId, asked } = await awaitingRollback('steady');
    await click(asked);
    const done = await api.waitStep(incidentId, 'rollback', ['succeeded', 'failed'], 60_000);
    expect(done.status).toBe('succeeded');
    const timeline = await api.timeline(incidentId);
    expect(timeline.find((e) => e.type === 'plan.checked' && e.data.step === 'rollback')?.data).toMatchObject({ trigger: 'call', checked: `${world.cluster}/steady still runs ${world.revisions.steady[1]}` });
    expect(timeline.filter((e) => e.type === 'approval.stale')).toEqual([]);
    expect(updateServiceCalls() - callsBefore).toBe(1);
    expect(await world.taskDefinitionOf('steady')).toBe(world.revisions.steady[0]);
  }, 120_000);
});
