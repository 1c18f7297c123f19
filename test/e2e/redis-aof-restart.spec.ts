import type { INestApplication } from '@nestjs/common';
import Redis from 'ioredis';
import request from 'supertest';
import type { AwsOverlay } from '../scenarios/support/aws-overlay';
import { INGEST_KEY } from '../support/app';
import { client, eventually } from '../support/engine';
import { type AlarmEventFixture, alarmEvent } from '../support/events';
import { type ProdService, startProdService } from '../support/prod-service';
import { PROD_DOWN_AWS_STEPS, type ProdWorld, seedProdWorld, startsPerStep } from '../support/prod-world';
import { OwnRedisServer } from '../support/redis-server';
import type { SlackStub } from '../support/slack-stub';

/**
 * Redis as production runs it (AOF, appendfsync everysec) restarted in the middle of the shipped
 * production-down run, while diagnostics are in flight and alarms keep arriving: the service
 * reconnects by itself, the run finishes, every event it accepted (202) is still stored, each step
 * started once, the rollback was made once, and Slack shows the incident once.
 */
const prefix = 'test:aof-restart';
let server: OwnRedisServer;
let redis: Redis;
let world: ProdWorld;
let service: ProdService;
let overlay: AwsOverlay;
let slack: SlackStub;
let app: INestApplication;
let logs: () => string;

beforeAll(async () => {
  server = await OwnRedisServer.start({ aof: true });
  redis = new Redis(server.url, { maxRetriesPerRequest: 20 });
  redis.on('error', () => undefined);
  world = await seedProdWorld(process.env.MOTO_URL!, ['steady']);
  service = await startProdService(prefix, world, process.env.MOTO_URL!, { REDIS_URL: server.url });
  ({ app, logs, overlay, slack } = service);
  // The ECS diagnostics take 1.5 s (as a slow API would): the restart lands while they are in flight.
  overlay.on('ecs:DescribeServices', { delayMs: () => 1500 });
}, 60_000);

afterAll(async () => {
  await service?.close();
  world?.close();
  redis?.disconnect();
  await server?.destroy();
});

/** Delivers an event as EventBridge does: again (after a pause) until it gets a 2xx. Returns the incident id and how many 503s it got first. */
async function deliver(event: AlarmEventFixture): Promise<{ incidentId: string; refused: number }> {
  let refused = 0;
  const incidentId = await eventually(
    `event ${event.id} to be accepted`,
    async () => {
      const res = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(event);
      if (res.status === 202) return (res.body as { incidentId: string }).incidentId;
      expect(res.status).toBe(503);
      refused++;
      await new Promise((r) => setTimeout(r, 100));
      return undefined;
    },
    30_000,
  );
  return { incidentId, refused };
}

it('a Redis restart with AOF mid-run: the run finishes, no accepted event is lost, no step or call doubled', async () => {
  const api = client(app);
  const incidentId = await api.alarm('steady-5xx');
  await api.waitStep(incidentId, 'ecs', ['running'], 30_000);

  // Alarms keep arriving (one new alarm of the service, and alarms no service claims, each its own
  // unrouted incident) before, during and after the restart.
  const events = Array.from({ length: 30 }, (_, i) => alarmEvent({ alarmName: i === 0 ? 'steady-latency' : `elsewhere-${i}` }));
  const delivered: Promise<{ incidentId: string; refused: number }>[] = [];
  const sending = (async () => {
    for (const event of events) {
      delivered.push(deliver(event));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await new Promise((r) => setTimeout(r, 300));
  const down = Date.now();
  await server.restart('SIGTERM', 2000);
  const up = Date.now();
  await sending;
  // The ECS diagnostics' answers came while Redis was away: their results had to wait for it.
  expect(overlay.log().filter((c) => c.key === 'ecs:DescribeServices' && c.at > down && c.at < up).length).toBeGreaterThan(0);
  const accepted = await Promise.all(delivered);
  const refused = accepted.reduce((n, a) => n + a.refused, 0);
  // The restart was felt (some deliveries were refused with 503 and sent again), and every one got through.
  expect(refused).toBeGreaterThan(0);

  const run = await api.waitRun(incidentId, ['succeeded', 'failed'], 90_000);
  const step = (id: string) => run.steps.find((s) => s.id === id)!;
  expect(run.status).toBe('succeeded');
  expect(step('diagnose').output).toMatchObject({ cause: 'deployment' });
  expect(step('rollback')).toMatchObject({ status: 'succeeded', approval: 'policy' });
  expect(await world.taskDefinitionOf('steady')).toBe(world.revisions.steady[0]);

  // Every accepted event is stored once, with the incident it was answered with.
  for (const [i, event] of events.entries()) {
    expect([event.id, (await redis.get(`${prefix}:event:${event.id}`))?.split('|')[0]]).toEqual([event.id, accepted[i].incidentId]);
  }
  expect(accepted[0].incidentId).toBe(incidentId);
  const incidents = new Set([incidentId, ...accepted.map((a) => a.incidentId)]);
  expect(await redis.zcard(`${prefix}:incidents`)).toBe(incidents.size);
  expect(incidents.size).toBe(30); // steady's incident and 29 unrouted ones
  const timeline = await api.timeline(incidentId);
  expect(timeline.filter((e) => e.type === 'alarm.received')).toHaveLength(2);
  expect(timeline.filter((e) => e.type === 'incident.opened')).toHaveLength(1);

  // Each step started once (a diagnostic in flight during the restart may resume, never start twice); one rollback call.
  const starts = startsPerStep(timeline);
  for (const id of [...PROD_DOWN_AWS_STEPS, 'diagnose', 'settle']) expect([id, starts[id]]).toEqual([id, 1]);
  expect(overlay.calls('ecs:UpdateService')).toBe(1);
  // The diagnostics whose jobs lost their lock in the outage were resumed (and read AWS again); the
  // rollback, after it, neither resumed nor needed reconciling.
  const resumed = timeline.filter((e) => e.type === 'step.resumed').map((e) => e.data.step);
  expect(resumed.every((s) => ['ecs', 'metrics', 'deploy', 'changes', 'logs'].includes(String(s)))).toBe(true);
  expect(timeline.filter((e) => e.type === 'step.reconciling' || e.type === 'step.not_called')).toEqual([]);
  expect(timeline.filter((e) => e.type === 'step.succeeded' && e.data.step === 'rollback')).toHaveLength(1);

  // Slack: the incident once, the rollback once in its thread.
  const main = await slack.waitFor(() => slack.messages('#inc-steady').find((m) => m.threadTs === undefined && /rollback/.test(JSON.stringify(m.blocks))), 20_000);
  expect(slack.messages('#inc-steady').filter((m) => m.threadTs === undefined)).toEqual([expect.objectContaining({ ts: main.ts })]);
  await slack.waitFor(() => slack.replies('#inc-steady', main.ts).find((m) => /recent-deploy/.test(JSON.stringify(m.blocks))), 20_000);
  expect(slack.replies('#inc-steady', main.ts).filter((m) => /recent-deploy/.test(JSON.stringify(m.blocks)))).toHaveLength(1);
  // What the restart cost, as the logs say it: refused deliveries, no fatal error.
  expect(logs()).toMatch(/store unavailable/);
  expect(logs()).not.toMatch(/"level":60/);
}, 150_000);
