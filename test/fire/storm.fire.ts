import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { INGEST_KEY } from '../support/app';
import { type AlarmEventFixture, alarmEvent } from '../support/events';
import { testRedis } from '../support/redis';
import { type ServiceProcess, pool, startService } from '../support/service-process';

/**
 * The 5,000-event storm: 100 alarms of 20 services changing state 5,000 times within 10 seconds
 * (alarm time), delivered to the intake out of order (each up to 1.5 s early or late: an OK before
 * the ALARM it clears, an old ALARM after a newer OK) with one event in ten delivered two or three
 * times, 32 at a time. The final state
 * does not depend on the order of delivery, by the intake's ordering rule (README, "outcome";
 * libs/store/src/ingest-alarm.script.ts): per alarm, a state change older than one already applied
 * is `stale` and changes nothing. So each alarm ends in the state of its newest change; a service
 * has one open incident exactly when one of its alarms ends in ALARM, holding every such alarm; a
 * resolved incident's alarms are all OK. Every distinct event is stored once (its dedupe key, and
 * one `alarm.received` in an incident's timeline or in the unattached stream), every duplicate
 * answered as one with the first delivery's incident. The service is the built one in a process of
 * its own (test/support/service-process.ts), with no runbooks: the storm is the intake's.
 */
const SERVICES = Array.from({ length: 20 }, (_, i) => `storm${String(i).padStart(2, '0')}`);
const ALARMS_PER_SERVICE = 5;
const EVENTS = 5000;
const WINDOW_MS = 10_000;

const dir = mkdtempSync(join(tmpdir(), 'storm-'));
const catalogFile = join(dir, 'catalog.yaml');
writeFileSync(
  catalogFile,
  `approverGroups:
  oncall: { users: [alice@example.com] }
services:
${SERVICES.map((s) => `  ${s}: { alarms: { patterns: ["${s}-*"] }, approvers: [oncall] }`).join('\n')}
`,
);
const runbooksDir = mkdtempSync(join(tmpdir(), 'storm-runbooks-'));
const { redis, prefix, cleanup } = testRedis('storm');
let service: ServiceProcess;
beforeAll(async () => {
  service = await startService('storm', { REDIS_PREFIX: prefix, SERVICE_CATALOG: catalogFile, RUNBOOKS_DIR: runbooksDir });
});
afterAll(async () => {
  expect(await service?.stop()).toBe('SIGTERM');
  await cleanup();
});

/** A seeded PRNG (mulberry32): the same storm every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Change {
  event: AlarmEventFixture;
  alarm: string;
  service: string;
  state: 'ALARM' | 'OK';
  at: number;
}

/** 50 changes per alarm on average (49 or 51, so that some end in ALARM), alternating from ALARM, each at its own millisecond. */
function storm(rand: () => number): Change[] {
  const t0 = Date.now() - 60_000;
  const changes: Change[] = [];
  const alarms = SERVICES.flatMap((service) => Array.from({ length: ALARMS_PER_SERVICE }, (_, j) => ({ service, alarm: `${service}-alarm-${j}` })));
  const counts: number[] = alarms.map((_, i) => (i % 2 === 0 ? 49 : 51));
  // Some alarms get one change more or fewer (the total stays 5,000): their last state flips.
  for (let i = 0; i + 1 < counts.length; i += 2) if (rand() < 0.5) [counts[i], counts[i + 1]] = [counts[i] + 1, counts[i + 1] - 1];
  for (const [i, { service, alarm }] of alarms.entries()) {
    const n = counts[i];
    // n distinct times in the window (sorted): state k is ALARM for even k.
    const times = new Set<number>();
    while (times.size < n) times.add(Math.floor(rand() * WINDOW_MS));
    [...times].sort((a, b) => a - b).forEach((offset, k) => {
      const state = k % 2 === 0 ? 'ALARM' : 'OK';
      const at = t0 + offset;
      changes.push({ event: alarmEvent({ alarmName: alarm, state, at: new Date(at) }), alarm, service, state, at });
    });
  }
  return changes;
}

interface Answer {
  incidentId: string | null;
  deduplicated: boolean;
  outcome: string;
}

jest.setTimeout(300_000);

it('5,000 alarm state changes of 20 services in 10 s, shuffled, with duplicates: the right incidents open and resolve, every event stored once', async () => {
  const rand = random(20261207);
  const changes = storm(rand);
  expect(changes).toHaveLength(EVENTS);
  const deliveries = changes.flatMap((c) => {
    const r = rand();
    // Delivered about in alarm-time order, each up to 1.5 s early or late (EventBridge keeps no order).
    return Array.from({ length: r < 0.05 ? 3 : r < 0.1 ? 2 : 1 }, () => ({ change: c, order: c.at + (rand() - 0.5) * 3000 }));
  });
  deliveries.sort((a, b) => a.order - b.order);
  const duplicates = deliveries.length - EVENTS;
  expect(duplicates).toBeGreaterThan(300);
  // Out of order for real: an OK delivered before the ALARM it follows, for most alarms.
  const position = new Map(deliveries.map((d, i) => [d.change.event.id, i]));
  const outOfOrder = changes.filter((c, i) => i > 0 && changes[i - 1].alarm === c.alarm && position.get(c.event.id)! < position.get(changes[i - 1].event.id)!);
  expect(outOfOrder.length).toBeGreaterThan(EVENTS / 5);

  const server = service.url;
  const sendStart = Date.now();
  const answers = await pool(
    deliveries.map((d) => async () => {
      const res = await request(server).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(d.change.event);
      expect(res.status).toBe(202);
      return { id: d.change.event.id, ...(res.body as Answer) };
    }),
    32,
  );
  const sendMs = Date.now() - sendStart;

  // Each event: one first answer, its duplicates answered as such with the same incident.
  const byEvent = new Map<string, Array<Answer & { id: string }>>();
  for (const a of answers) byEvent.set(a.id, [...(byEvent.get(a.id) ?? []), a]);
  expect(byEvent.size).toBe(EVENTS);
  for (const group of byEvent.values()) {
    expect(group.filter((a) => !a.deduplicated)).toHaveLength(1);
    expect(new Set(group.map((a) => a.incidentId)).size).toBe(1);
  }

  // Every distinct event stored once: its dedupe key, and one alarm.received.
  let eventKeys = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:event:*`, 'COUNT', 1000);
    cursor = next;
    eventKeys += keys.length;
  } while (cursor !== '0');
  expect(eventKeys).toBe(EVENTS);
  const incidentIds = await redis.zrange(`${prefix}:incidents`, '0', '-1');
  let received = 0;
  const incidents: Array<{ id: string; service: string; status: string; alarms: Record<string, { state: string }> }> = [];
  for (const id of incidentIds) {
    const entries = await redis.xrange(`${prefix}:incident:${id}:timeline`, '-', '+');
    received += entries.filter(([, fields]) => fields[fields.indexOf('type') + 1] === 'alarm.received').length;
    const head = await redis.hgetall(`${prefix}:incident:${id}`);
    const alarms = Object.fromEntries(Object.entries(await redis.hgetall(`${prefix}:incident:${id}:alarms`)).map(([, raw]) => {
      const alarm = JSON.parse(raw) as { name: string; state: string };
      return [alarm.name, alarm];
    }));
    incidents.push({ id, service: head.service, status: head.status, alarms });
  }
  const unattached = await redis.xlen(`${prefix}:unattached`);
  expect(received + unattached).toBe(EVENTS);

  // The final state, from the events alone: each alarm in the state of its newest change.
  const latest = new Map<string, Change>();
  for (const c of changes) if (!latest.has(c.alarm) || latest.get(c.alarm)!.at < c.at) latest.set(c.alarm, c);
  for (const service of SERVICES) {
    const firing = [...latest.values()].filter((c) => c.service === service && c.state === 'ALARM').map((c) => c.alarm).sort();
    const open = incidents.filter((i) => i.service === service && i.status === 'open');
    if (firing.length === 0) {
      expect([service, open.map((i) => i.id)]).toEqual([service, []]);
    } else {
      expect([service, open.length]).toEqual([service, 1]);
      const [incident] = open;
      expect(Object.keys(incident.alarms).filter((name) => incident.alarms[name].state === 'ALARM').sort()).toEqual(firing);
      // Every alarm it holds shows its newest state.
      for (const [name, alarm] of Object.entries(incident.alarms)) expect([name, alarm.state]).toEqual([name, latest.get(name)!.state]);
    }
    for (const incident of incidents.filter((i) => i.service === service && i.status === 'resolved')) {
      expect([incident.id, Object.values(incident.alarms).every((a) => a.state === 'OK')]).toEqual([incident.id, true]);
    }
  }
  // Incidents opened and resolved: at least one per service; no service ever had two open at once (the open key holds one).
  expect(new Set(incidents.map((i) => i.service))).toEqual(new Set(SERVICES));
  for (const service of SERVICES) {
    const openKey = await redis.get(`${prefix}:open:${service}`);
    const open = incidents.filter((i) => i.service === service && i.status === 'open');
    expect([service, openKey]).toEqual([service, open[0]?.id ?? null]);
  }
  const outcomes: Record<string, number> = {};
  for (const a of answers) outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
  // Every kind of answer the rule has was given.
  for (const outcome of ['opened', 'attached', 'updated', 'resolved', 'stale', 'unattached', 'duplicate']) expect([outcome, outcomes[outcome] ?? 0]).not.toEqual([outcome, 0]);
  process.stdout.write(`storm: ${deliveries.length} deliveries (${duplicates} duplicates) in ${sendMs} ms, ${incidents.length} incidents, outcomes ${JSON.stringify(outcomes)}\n`);
});
