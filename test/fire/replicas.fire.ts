import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { type AwsOverlay, type OverlayRequest, startAwsOverlay } from '../scenarios/support/aws-overlay';
import { INGEST_KEY } from '../support/app';
import { type CloudTrailStub, startCloudTrailStub } from '../support/cloudtrail-stub';
import { client, eventually } from '../support/engine';
import { alarmEvent } from '../support/events';
import { APPROVER_SLACK_ID, type ProdWorld, seedProdWorld, startsPerStep } from '../support/prod-world';
import { testRedis } from '../support/redis';
import { type ServiceProcess, pool, startService } from '../support/service-process';
import { blockActionsBody, signSlackRequest } from '../support/slack-sign';
import { type SlackStub, type StubMessage, startSlackStub } from '../support/slack-stub';

/**
 * Three processes of the built service (`node dist/.../main.js`, as the Dockerfile runs it) on one
 * Redis prefix: two `RESPONDER_ROLE=all`, one `worker`, with the shipped production-down runbook
 * against one moto_server (behind the AWS stand-in that counts every call: test/scenarios/support/
 * aws-overlay.ts) and one Slack stand-in. Each replica has a Slack bot token and an AWS user-agent
 * app id of its own (`AWS_SDK_UA_APP_ID`), only so that the stand-ins can say which replica posted
 * or called. In turn: an alarm storm with production-down runs and a Slack approval clicked on
 * replicas that did not post it; the kill switch pulled on one replica and honoured by each
 * (each in turn alone at work, the others frozen); a replica SIGKILLed during the rollback's UpdateService, then another SIGTERMed; a
 * rolling restart of all three during a run. Every step runs once, every mutating AWS call
 * reaches the emulator once, every Slack message is posted once. (`npm run test:fire`.)
 */
const SIGNING_SECRET = 'test-signing-secret-0123456789';
const STORM = Array.from({ length: 6 }, (_, i) => `storm${i}`);
const ALARMS_PER_SERVICE = 10;
const { redis, prefix, cleanup } = testRedis('replicas');

let world: ProdWorld;
let overlay: AwsOverlay;
let cloudtrail: CloudTrailStub;
let slack: SlackStub;
let runbooksDir: string;
/** The replicas running now, by name (a restarted one gets a new name: a, a2, a3...). */
const replicas = new Map<string, ServiceProcess & { role: 'all' | 'worker' }>();
/** Every name used: a successor never takes a predecessor's (the stand-ins tell replicas apart by it). */
const started = new Set<string>();
const incidents = new Map<string, string>();

beforeAll(async () => {
  world = await seedProdWorld(process.env.MOTO_URL!, [...STORM, 'asked', 'paused', 'killed', 'rolling']);
  runbooksDir = mkdtempSync(join(tmpdir(), 'replicas-runbooks-'));
  writeFileSync(join(runbooksDir, 'production-down.yaml'), world.runbook);
  overlay = await startAwsOverlay(process.env.MOTO_URL!);
  cloudtrail = await startCloudTrailStub();
  slack = await startSlackStub();
}, 60_000);

afterAll(async () => {
  await Promise.all([...replicas.values()].map((r) => r.kill()));
  await slack?.close();
  await cloudtrail?.close();
  await overlay?.close();
  world?.close();
  await cleanup();
});

async function start(name: string, role: 'all' | 'worker'): Promise<void> {
  const service = await startService(name, {
    REDIS_PREFIX: prefix,
    RESPONDER_ROLE: role,
    RESPONDER_MODE: 'live',
    SERVICE_CATALOG: world.catalogFile,
    RUNBOOKS_DIR: runbooksDir,
    AWS_ENDPOINT_URL: overlay.url,
    // moto has no CloudTrail LookupEvents: the changes step reads the stand-in.
    AWS_ENDPOINT_URL_CLOUDTRAIL: cloudtrail.url,
    AWS_SDK_UA_APP_ID: name,
    SLACK_BOT_TOKEN: `xoxb-replica-${name}`,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slack.apiUrl,
    // A dead replica's jobs go to the others after this; a live one renews its locks at half of it,
    // longer than the kill-switch test keeps a replica frozen.
    ENGINE_STALLED_MS: '20000',
    ENGINE_PLAN_SWEEP_SECONDS: '5',
  });
  replicas.set(name, { ...service, role });
  started.add(name);
}

async function stop(name: string, how: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  const replica = replicas.get(name)!;
  replicas.delete(name);
  if (how === 'SIGKILL') await replica.kill();
  else expect([name, await replica.stop()]).toEqual([name, 'SIGTERM']);
}

/** Stops a replica and starts its successor in the same role, as a rolling deployment does (a → a2 → a3). */
async function restart(name: string, how: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<string> {
  const { role } = replicas.get(name)!;
  await stop(name, how);
  const [, letter, generation] = /^([a-z]+)(\d*)$/.exec(name)!;
  let n = Number(generation || '1') + 1;
  while (replicas.has(`${letter}${n}`) || started.has(`${letter}${n}`)) n++;
  const next = `${letter}${n}`;
  await start(next, role);
  return next;
}

const http = () => [...replicas.values()].filter((r) => r.role === 'all');
const api = () => client(http()[0].url);
const replicaOfToken = (token: string | undefined) => token?.replace(/^xoxb-replica-/, '') ?? '?';
const text = (m: StubMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
const buttons = (m: StubMessage) =>
  (m.blocks ?? []).flatMap((b) => ((b as { type: string }).type === 'actions' ? (b as { elements: Array<{ action_id: string; value: string }> }).elements : []));
const about = (req: OverlayRequest, service: string) => req.params.service === service;
const updatesOf = (service: string) => overlay.log().filter((c) => c.key === 'ecs:UpdateService' && about(c, service));

/** The approval request of the incident's rollback, as posted in its channel, and the replica that posted it. */
async function approvalRequest(service: string): Promise<{ message: StubMessage; postedBy: string }> {
  const message = await slack.waitFor(() => slack.messages(`#inc-${service}`).find((m) => buttons(m).some((b) => b.action_id === 'responder_approve')), 30_000);
  const call = slack
    .callsTo('chat.postMessage')
    .find((c) => c.ok && slack.channelId(String(c.args.channel)) === message.channel && JSON.stringify(c.args.blocks ?? '').includes('responder_approve'));
  return { message, postedBy: replicaOfToken(call?.token) };
}

/** Clicks Approve, signed as Slack signs it, on each of the given replicas; every delivery must be acknowledged. */
async function clickApprove(message: StubMessage, on: string[]): Promise<void> {
  const approve = buttons(message).find((b) => b.action_id === 'responder_approve')!;
  const body = blockActionsBody({ userId: APPROVER_SLACK_ID, actionId: approve.action_id, value: approve.value, channelId: message.channel, messageTs: message.ts });
  for (const name of on) await request(replicas.get(name)!.url).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, body)).send(body).expect(200);
}

/** The HTTP replicas other than the one that posted, each once, and the first of them again (a retry landing elsewhere): two deliveries of one click. */
function clickTargets(postedBy: string): string[] {
  const others = http().map((r) => r.name).filter((n) => n !== postedBy);
  return others.length > 1 ? others : [others[0], others[0]];
}

/** Until the Slack stand-in has had no call for a second and a half (the replicas' syncs are done). */
async function quiet(): Promise<void> {
  await eventually('Slack to be quiet', () => Promise.resolve(Date.now() - (slack.calls.at(-1)?.at ?? 0) > 1500 ? true : undefined), 30_000);
}

/** A run of the incident that went through: every step started at most once, the rollback made once, by the emulator's count. */
async function expectOnce(service: string): Promise<void> {
  const incidentId = incidents.get(service)!;
  const run = await api().waitRun(incidentId, ['succeeded', 'failed'], 90_000);
  expect([service, run.status]).toEqual([service, 'succeeded']);
  expect([service, run.steps.find((s) => s.id === 'rollback')?.status]).toEqual([service, 'succeeded']);
  const starts = startsPerStep(await api().timeline(incidentId));
  expect([service, Object.entries(starts).filter(([, n]) => n !== 1)]).toEqual([service, []]);
  expect([service, updatesOf(service).length]).toEqual([service, 1]);
  expect([service, await world.taskDefinitionOf(service)]).toEqual([service, world.revisions[service][0]]);
}

jest.setTimeout(240_000);

describe('three replicas of the built service on one Redis, moto_server and the Slack stand-in', () => {
  it('an alarm storm with production-down runs, and an approval clicked on replicas that did not post it: every step, AWS call and approval once', async () => {
    await Promise.all([start('a', 'all'), start('b', 'all'), start('c', 'worker')]);
    // An hour after the deploy: outside the recent-deploy window, so the rollback waits for a person.
    incidents.set('asked', await client(replicas.get('b')!.url).alarm('asked-5xx', 'ALARM', new Date(Date.now() + 60 * 60_000)));

    // The storm: each alarm of each storm service three times, to both HTTP replicas, shuffled. Just
    // after the deploy, so each run's rollback is granted by the recent-deploy policy.
    const t0 = Date.now();
    const events = STORM.flatMap((s, i) => Array.from({ length: ALARMS_PER_SERVICE }, (_, j) => alarmEvent({ alarmName: `${s}-alarm-${j}`, at: new Date(t0 + i * 10 + j) })));
    const urls = [replicas.get('a')!.url, replicas.get('b')!.url];
    const deliveries = events.flatMap((e, i) => [0, 1, 2].map((k) => ({ event: e, url: urls[(i + k) % 2], order: (i * 7919 + k * 104729) % 1009 })));
    deliveries.sort((x, y) => x.order - y.order);
    const storm = pool(
      deliveries.map((d) => async () => {
        const res = await request(d.url).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(d.event);
        return { status: res.status, incidentId: (res.body as { incidentId?: string }).incidentId, service: d.event.detail.alarmName.replace(/-alarm-\d+$/, '') };
      }),
      16,
    );

    // While the storm goes on, the approver clicks; the click reaches replicas that did not post the request.
    await api().waitStep(incidents.get('asked')!, 'rollback', ['awaiting_approval'], 60_000);
    const { message, postedBy } = await approvalRequest('asked');
    const targets = clickTargets(postedBy);
    await clickApprove(message, targets);
    process.stdout.write(`replicas: the approval request was posted by ${postedBy}, the click delivered to ${targets.join(' and ')}\n`);

    const answers = await storm;
    expect(answers.filter((a) => a.status !== 202)).toEqual([]);
    for (const s of STORM) {
      const ids = new Set(answers.filter((a) => a.service === s).map((a) => a.incidentId));
      expect([s, ids.size]).toEqual([s, 1]);
      incidents.set(s, [...ids][0]!);
      const timeline = await api().timeline(incidents.get(s)!);
      expect([s, timeline.filter((e) => e.type === 'alarm.received').length]).toEqual([s, ALARMS_PER_SERVICE]);
    }

    for (const s of [...STORM, 'asked']) await expectOnce(s);
    // The click, delivered twice, was applied once: one approval, one grant.
    const asked = await api().waitStep(incidents.get('asked')!, 'rollback', ['succeeded']);
    expect(asked).toMatchObject({ approval: 'granted', approvals: [expect.objectContaining({ by: APPROVER_SLACK_ID })] });
    expect((await api().timeline(incidents.get('asked')!)).filter((e) => e.type === 'approval.granted')).toHaveLength(1);
  });

  it('the kill switch pulled on one replica holds a mutating step on every replica, and nothing is called until resumed', async () => {
    incidents.set('paused', await api().alarm('paused-5xx', 'ALARM', new Date(Date.now() + 60 * 60_000)));
    await api().waitStep(incidents.get('paused')!, 'rollback', ['awaiting_approval'], 60_000);
    const { message } = await approvalRequest('paused');

    // Paused through a, approved on b: the rollback's job goes to whichever replica takes it.
    const pausedAt = Date.now();
    await client(replicas.get('a')!.url).post('/automation/pause', { by: 'fire-test', reason: 'kill switch across replicas' }).expect(200);
    try {
      const clickedAt = Date.now();
      await clickApprove(message, ['b']);
      const held = await eventually(
        'the rollback to be held',
        async () => (await api().timeline(incidents.get('paused')!)).find((e) => e.type === 'step.held' && e.data.step === 'rollback'),
        30_000,
      );
      const heldAt = Date.now();
      expect(held.data.reason).toBe('automation paused by fire-test');

      // Then each replica in turn is the only one working (the other two frozen with SIGSTOP, for
      // less than half a job lock, so that no job of theirs changes hands): the held job comes back
      // every second, that replica takes it (BullMQ counts the start) and holds it again, no call.
      // It may take up to BullMQ's drain delay (5 s): a frozen worker can have taken the wake-up.
      await quiet();
      const runId = (await api().runs(incidents.get('paused')!))[0].id;
      const jobKey = `${prefix}:bull:steps:${`${runId}-rollback`.replace(/:/g, '_')}`;
      const took: string[] = [];
      for (const alone of ['a', 'b', 'c']) {
        const others = [...replicas.values()].filter((r) => r.name !== alone);
        const starts = Number(await redis.hget(jobKey, 'ats'));
        const from = Date.now();
        others.forEach((r) => r.freeze());
        try {
          // Taken (its start counted) and put back in the delayed set: held, not called.
          await eventually(
            `${alone} alone to take the held rollback`,
            async () => (Number(await redis.hget(jobKey, 'ats')) > starts && (await redis.zscore(`${prefix}:bull:steps:delayed`, jobKey.split(':').at(-1)!)) !== null ? true : undefined),
            9_000,
          );
          took.push(`${alone} after ${Date.now() - from} ms`);
          expect([alone, updatesOf('paused').length]).toEqual([alone, 0]);
        } finally {
          others.forEach((r) => r.thaw());
        }
      }
      expect((await api().step(incidents.get('paused')!, 'rollback'))?.status).toBe('queued');
      expect(startsPerStep(await api().timeline(incidents.get('paused')!)).rollback).toBeUndefined();
      expect(updatesOf('paused')).toHaveLength(0);
      // Figures, not assertions: the first hold (on any replica) after the pause, then each replica alone.
      process.stdout.write(
        `replicas: kill switch paused on a: the approved rollback held ${heldAt - clickedAt} ms after the click on b (${heldAt - pausedAt} ms after the pause; polled every 50 ms); then held by each alone: ${took.join(', ')}\n`,
      );
    } finally {
      await client(replicas.get('a')!.url).post('/automation/resume', { by: 'fire-test' }).expect(200);
    }
    await expectOnce('paused');
  });

  it('a replica SIGKILLed during the rollback call, then another SIGTERMed: the run finishes, the call made once', async () => {
    let caller: string | undefined;
    const reached = new Promise<void>((resolve) => {
      overlay.on('ecs:UpdateService', {
        delayMs: (req) => {
          if (!about(req, 'killed')) return 0;
          caller ??= req.appId;
          resolve();
          return 4000;
        },
      });
    });
    try {
      incidents.set('killed', await api().alarm('killed-5xx'));
      await reached;
      // The replica making the call dies with it in flight (the stand-in still passes it to moto):
      // another one finds the ledger's "calling", reconciles by reading ECS, and does not call again.
      expect(replicas.has(caller!)).toBe(true);
      await restart(caller!, 'SIGKILL');
      await api().waitStep(incidents.get('killed')!, 'rollback', ['succeeded'], 60_000);
      // Then another replica is stopped while settle and verify run.
      const other = [...replicas.keys()].find((n) => n !== caller && replicas.get(n)!.role === 'all')!;
      await restart(other, 'SIGTERM');
      await expectOnce('killed');
      const timeline = await api().timeline(incidents.get('killed')!);
      expect(timeline.filter((e) => e.type === 'step.reconciling' && e.data.step === 'rollback')).toHaveLength(1);
      process.stdout.write(`replicas: SIGKILLed ${caller} during its UpdateService, then SIGTERMed ${other}\n`);
    } finally {
      overlay.on('ecs:UpdateService', {});
    }
  });

  it('a rolling restart of all three, one at a time, during a run with an approval: nothing lost, nothing doubled', async () => {
    const order = [...replicas.keys()];
    let caller: string | undefined;
    const reached = new Promise<void>((resolve) => {
      overlay.on('ecs:UpdateService', {
        delayMs: (req) => {
          if (!about(req, 'rolling')) return 0;
          caller ??= req.appId;
          resolve();
          return 2000;
        },
      });
    });
    try {
      incidents.set('rolling', await api().alarm('rolling-5xx', 'ALARM', new Date(Date.now() + 60 * 60_000)));
      // First while the diagnostics run, the second while the rollback waits for its approver.
      await restart(order[0]);
      await api().waitStep(incidents.get('rolling')!, 'rollback', ['awaiting_approval'], 60_000);
      const { message, postedBy } = await approvalRequest('rolling');
      await restart(order[1]);
      const targets = clickTargets(postedBy);
      await clickApprove(message, targets);
      // The third while the rollback's call is in flight (on whichever replica made it).
      await reached;
      await restart(order[2]);
      await expectOnce('rolling');
      expect((await api().timeline(incidents.get('rolling')!)).filter((e) => e.type === 'approval.granted')).toHaveLength(1);
      process.stdout.write(`replicas: rolling restart of ${order.join(', ')}; the approval posted by ${postedBy}, clicked on ${targets.join(' and ')}; the rollback called by ${caller}\n`);
    } finally {
      overlay.on('ecs:UpdateService', {});
    }
  });

  it('every Slack message was posted once, whichever replica posted it', async () => {
    // Let the last syncs land.
    await new Promise((r) => setTimeout(r, 3000));
    const posts = slack.callsTo('chat.postMessage').filter((c) => c.ok);
    const byContent = new Map<string, string[]>();
    for (const c of posts) {
      const key = JSON.stringify([c.args.channel, c.args.thread_ts ?? 'main', c.args.text, c.args.blocks ?? null]);
      byContent.set(key, [...(byContent.get(key) ?? []), replicaOfToken(c.token)]);
    }
    expect([...byContent.entries()].filter(([, by]) => by.length > 1)).toEqual([]);
    // One incident message per incident, in its service's channel.
    for (const service of incidents.keys()) {
      const main = slack.messages(`#inc-${service}`).filter((m) => m.threadTs === undefined);
      expect([service, main.length]).toEqual([service, 1]);
      expect([service, text(main[0])]).toEqual([service, expect.stringContaining(incidents.get(service)!)]);
    }
    const posters: Record<string, number> = {};
    for (const c of posts) posters[replicaOfToken(c.token)] = (posters[replicaOfToken(c.token)] ?? 0) + 1;
    process.stdout.write(`replicas: ${posts.length} Slack posts, by replica ${JSON.stringify(posters)}\n`);
  });
});
