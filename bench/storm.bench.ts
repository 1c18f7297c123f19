/**
 * Storm and memory: the built service under an alarm storm, then with 200 open incidents.
 *
 *   npm run bench:storm                 # builds, then runs this file
 *   BENCH_STORM_EVENTS=5000             # alarm state changes sent (default 5000)
 *   BENCH_STORM_SECONDS=10              # over this many seconds (default 10)
 *   BENCH_STORM_SERVICES=20             # services they belong to (default 20)
 *   BENCH_OPEN_INCIDENTS=200            # open incidents for the memory figure (default 200)
 *   BENCH_STORM_CONCURRENCY=256         # the service's ENGINE_CONCURRENCY (default: its own, 32)
 *
 * 1. Storm: EVENTS alarm state changes for SERVICES services within SECONDS, ~30% of them repeated
 *    deliveries and OK/ALARM pairs sent out of order, at a steady rate over 50 connections. What an
 *    on-call engineer feels: how long after its first alarm each incident's runbook was planned
 *    (alarm → run planned, per incident opened during the storm) and the intake's latency. The floor
 *    is the same figure with the service idle: one alarm, no storm, in the same run.
 *    Checked: every accepted event stored once, and each service ends with an open incident exactly
 *    when the newest state of one of its alarms is ALARM.
 * 2. Memory: resident set size of the service idle, then with OPEN_INCIDENTS open incidents, each
 *    with a run holding a step (a long `wait`), the way incidents sit through a bad day.
 *
 * The service runs with a catalog of its own and one small runbook (a note, then a wait), so the
 * figures are the intake's and the engine's, not AWS's. Exit code 1 when a check fails.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import Redis from 'ioredis';
import { alarmEvent } from '../test/support/events';
import { deleteByPrefix } from '../test/support/redis';
import { freePort } from '../test/support/net';
import { type Child, OUT_DIR, REDIS_URL, median, quantile, rssMiB, sleep, startChild, stopChild, waitReady, writeSummary } from './support/service';

const EVENTS = int('BENCH_STORM_EVENTS', 5000);
const SECONDS = int('BENCH_STORM_SECONDS', 10);
const SERVICES = int('BENCH_STORM_SERVICES', 20);
const OPEN_INCIDENTS = int('BENCH_OPEN_INCIDENTS', 200);
const CONNECTIONS = 50;
/**
 * The service's ENGINE_CONCURRENCY. Default: the service's own (32), which is enough: a `wait` step
 * holds no worker slot while it waits (its job is delayed, its deadline kept on the step), so the
 * memory phase's 200 runs, each sitting in a wait, leave the slots to the plans.
 */
const CONCURRENCY = process.env.BENCH_STORM_CONCURRENCY;
const ALARM_KINDS = ['5xx', 'latency', 'unhealthy'];

interface Sent {
  service: string;
  alarm: string;
  eventId: string;
  state: 'ALARM' | 'OK';
  at: number;
  body: string;
}

interface Answer {
  status: number;
  body: { incidentId?: string | null; outcome?: string; deduplicated?: boolean };
  sentAt: number;
  ms: number;
}

interface IncidentListing {
  id: string;
  service: string | null;
  status: string;
  runs: { createdAt: string }[];
}

async function main(): Promise<number> {
  const prefix = `bench-storm:${randomBytes(4).toString('hex')}`;
  const ingestKey = randomBytes(24).toString('base64url');
  const apiToken = randomBytes(24).toString('base64url');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dir = join(OUT_DIR, `storm-${process.pid}`);
  mkdirSync(join(dir, 'runbooks'), { recursive: true });
  const services = Array.from({ length: Math.max(SERVICES, OPEN_INCIDENTS) }, (_, i) => `svc-${String(i + 1).padStart(3, '0')}`);
  writeFileSync(join(dir, 'service-catalog.yaml'), catalog(services));
  writeFileSync(join(dir, 'runbooks', 'hold.yaml'), RUNBOOK);

  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  let child: Child | null = null;
  const failures: string[] = [];
  try {
    child = startChild('storm', {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL,
      REDIS_PREFIX: prefix,
      INGEST_API_KEY: ingestKey,
      API_TOKEN: apiToken,
      RUNBOOKS_DIR: join(dir, 'runbooks'),
      SERVICE_CATALOG: join(dir, 'service-catalog.yaml'),
      AWS_REGION: 'us-east-1',
      LOG_LEVEL: 'warn',
      ...(CONCURRENCY ? { ENGINE_CONCURRENCY: CONCURRENCY } : {}),
    });
    await waitReady(child, base);
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    const post = (body: string) => postEvent(agent, port, ingestKey, body);
    const get = async <T>(path: string): Promise<T> => (await (await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${apiToken}` } })).json()) as T;

    // The floor: one alarm on an idle service, alarm → run planned.
    const idle: number[] = [];
    for (let i = 0; i < 5; i++) {
      const service = services[SERVICES + i] ?? `idle-${i}`;
      const sentAt = Date.now();
      const answer = await post(JSON.stringify(alarmEvent({ alarmName: `${service}-5xx`, state: 'ALARM', at: new Date() })));
      const id = answer.body.incidentId!;
      const planned = await waitPlanned(get, id);
      idle.push(planned - sentAt);
      await post(JSON.stringify(alarmEvent({ alarmName: `${service}-5xx`, state: 'OK', at: new Date(Date.now() + 1) })));
    }
    const rssIdle = rssMiB(child.proc.pid);

    // 1. The storm.
    const sequence = storm(services.slice(0, SERVICES));
    const answers = await sendAtRate(sequence, post);
    await sleep(1000);
    const firstSent = new Map<string, number>();
    for (let i = 0; i < sequence.length; i++) {
      const id = answers[i].body.incidentId;
      if (answers[i].body.outcome === 'opened' && id && !firstSent.has(id)) firstSent.set(id, answers[i].sentAt);
    }
    // An incident the storm resolved before its plan job ran gets no run (planning reads the
    // incident as it is then): counted apart. One still open must have its run.
    const plannedAfter: number[] = [];
    let resolvedFirst = 0;
    for (const [id, sentAt] of firstSent) {
      const incident = await get<{ status: string; runs?: { createdAt: string }[] }>(`/incidents/${id}`);
      if (!incident.runs?.length && incident.status !== 'open') {
        resolvedFirst++;
        continue;
      }
      try {
        plannedAfter.push((await waitPlanned(get, id, 10_000)) - sentAt);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
    const latencies = answers.map((a) => a.ms);
    const refused = answers.filter((a) => a.status !== 202);
    if (refused.length > 0) failures.push(`${refused.length} storm deliveries were not accepted (first: ${refused[0].status})`);

    const accepted = new Set(sequence.filter((_, i) => answers[i].status === 202).map((s) => s.eventId));
    const sent = new Set(sequence.map((s) => s.eventId));
    const stored = await storedEventIds(redis, prefix);
    const storedStorm = [...stored.counts].filter(([id]) => sent.has(id));
    const lost = [...accepted].filter((id) => !stored.counts.has(id));
    const twice = storedStorm.filter(([, n]) => n > 1);
    if (lost.length > 0) failures.push(`${lost.length} accepted events are not stored`);
    if (storedStorm.length !== accepted.size) failures.push(`${accepted.size} events accepted but ${storedStorm.length} stored`);
    if (twice.length > 0) failures.push(`${twice.length} events are stored more than once`);

    const open = new Map<string, number>();
    for (const inc of await openIncidents(get)) {
      if (inc.service) open.set(inc.service, (open.get(inc.service) ?? 0) + 1);
    }
    const wrong: string[] = [];
    // The intake's rule: per alarm, a state change older than one applied is stale; an incident
    // resolves when every alarm it holds is OK. So a service ends with one open incident exactly
    // when one of its alarms' newest state is ALARM.
    for (const service of services.slice(0, SERVICES)) {
      const newest = new Map<string, Sent>();
      for (const e of sequence.filter((x) => x.service === service)) if ((newest.get(e.alarm)?.at ?? -1) < e.at) newest.set(e.alarm, e);
      const want = [...newest.values()].some((e) => e.state === 'ALARM') ? 1 : 0;
      if ((open.get(service) ?? 0) !== want) wrong.push(`${service}: ${open.get(service) ?? 0} open, expected ${want}`);
    }
    if (wrong.length > 0) failures.push(`final state wrong for ${wrong.length} services (${wrong.slice(0, 3).join('; ')})`);

    // 2. Memory with OPEN_INCIDENTS open incidents, each with a run holding its wait step.
    for (const service of services.slice(0, SERVICES)) {
      await post(JSON.stringify(alarmEvent({ alarmName: `${service}-5xx`, state: 'OK', at: new Date(Date.now() + 60_000) })));
    }
    const ids: string[] = [];
    for (const service of services.slice(0, OPEN_INCIDENTS)) {
      const answer = await post(JSON.stringify(alarmEvent({ alarmName: `${service}-latency`, state: 'ALARM', at: new Date(Date.now() + 120_000) })));
      if (answer.body.incidentId) ids.push(answer.body.incidentId);
    }
    for (const id of ids) await waitPlanned(get, id);
    await sleep(2000);
    const rssLoaded = rssMiB(child.proc.pid);
    const openNow = (await openIncidents(get)).length;
    agent.destroy();

    const f = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
    console.log('\nResponder storm and memory benchmark');
    console.log(`  storm: ${sequence.length} alarm state changes, ${SERVICES} services, ${SECONDS} s, ${CONNECTIONS} connections; ${firstSent.size} incidents opened during it, ${resolvedFirst} of them resolved by the storm before their plan ran`);
    console.log(`  intake latency during the storm   p50 ${f(quantile(latencies, 0.5))} ms, p99 ${f(quantile(latencies, 0.99))} ms, max ${f(Math.max(...latencies))} ms`);
    console.log(`  alarm → run planned, storm        median ${f(median(plannedAfter))} ms, p99 ${f(quantile(plannedAfter, 0.99))} ms, max ${f(Math.max(...plannedAfter))} ms (${plannedAfter.length} incidents)`);
    console.log(`  alarm → run planned, idle (floor) median ${f(median(idle))} ms (${idle.length} alarms)`);
    console.log(`  stored: ${accepted.size} distinct events accepted, ${storedStorm.length} stored${twice.length ? `, ${twice.length} twice` : ', each once'}`);
    console.log(`  memory: RSS ${rssIdle?.toFixed(0) ?? 'n/a'} MiB idle, ${rssLoaded?.toFixed(0) ?? 'n/a'} MiB with ${openNow} open incidents (each run holding a step)`);
    for (const failure of failures) console.error(`  !!! ${failure}`);

    writeSummary({
      title: 'Storm and memory',
      rows: [
        { what: `alarm → run planned during a storm (${sequence.length} events, ${SERVICES} services, ${SECONDS} s), median / p99`, value: `${f(median(plannedAfter))} / ${f(quantile(plannedAfter, 0.99))} ms`, floor: `${f(median(idle))} ms (one alarm, idle service)` },
        { what: 'intake latency during the storm, p50 / p99', value: `${f(quantile(latencies, 0.5))} / ${f(quantile(latencies, 0.99))} ms` },
        { what: 'events accepted / stored once', value: `${accepted.size} / ${storedStorm.length - twice.length}`, against: failures.length === 0 ? 'nothing lost, nothing doubled, final states right' : failures.join('; ') },
        { what: `resident memory with ${openNow} open incidents (each run holding a step)`, value: `${rssLoaded?.toFixed(0) ?? 'n/a'} MiB`, floor: `${rssIdle?.toFixed(0) ?? 'n/a'} MiB idle` },
      ],
      notes: CONCURRENCY ? [`ENGINE_CONCURRENCY=${CONCURRENCY}`] : [],
    });
    return failures.length > 0 ? 1 : 0;
  } finally {
    await stopChild(child);
    await deleteByPrefix(redis, prefix);
    await redis.quit();
  }
}

/** Every service gets a run of ALARM/OK transitions; ~30% of deliveries repeat one, and neighbours are swapped so pairs arrive out of order. */
function storm(services: string[]): Sent[] {
  const start = Date.now() - 60_000;
  const events: Sent[] = [];
  const perService = Math.floor(EVENTS / services.length);
  for (const [s, service] of services.entries()) {
    const mine: Sent[] = [];
    let fresh = 0;
    while (mine.length < perService) {
      if (mine.length > 0 && Math.random() < 0.3) {
        mine.push(mine[Math.floor(Math.random() * mine.length)]);
        continue;
      }
      fresh++;
      // Three alarms per service firing again and again; now and then one goes back to OK.
      const state: 'ALARM' | 'OK' = fresh % 10 === 0 ? 'OK' : 'ALARM';
      const at = start + fresh * 7 + s;
      const eventId = randomUUID();
      const alarmName = `${service}-${ALARM_KINDS[fresh % ALARM_KINDS.length]}`;
      mine.push({ service, alarm: alarmName, eventId, state, at, body: JSON.stringify(alarmEvent({ alarmName, state, at: new Date(at), id: eventId })) });
    }
    events.push(...mine);
  }
  // Interleave the services (a storm is many services at once), then swap neighbours now and then.
  const byService = services.map((service) => events.filter((e) => e.service === service));
  const mixed: Sent[] = [];
  for (let i = 0; mixed.length < events.length; i++) for (const list of byService) if (i < list.length) mixed.push(list[i]);
  for (let i = 0; i + 1 < mixed.length; i += 7) [mixed[i], mixed[i + 1]] = [mixed[i + 1], mixed[i]];
  return mixed;
}

/** Sends the sequence at a steady rate over SECONDS, at most CONNECTIONS in flight. */
async function sendAtRate(sequence: Sent[], post: (body: string) => Promise<Answer>): Promise<Answer[]> {
  const answers: Answer[] = new Array(sequence.length);
  const interval = (SECONDS * 1000) / sequence.length;
  const t0 = performance.now();
  const inFlight = new Set<Promise<void>>();
  for (let i = 0; i < sequence.length; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    while (inFlight.size >= CONNECTIONS) await Promise.race(inFlight);
    const p = post(sequence[i].body).then((a) => {
      answers[i] = a;
    });
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  return answers;
}

function postEvent(agent: Agent, port: number, ingestKey: string, body: string): Promise<Answer> {
  const sentAt = Date.now();
  const t = performance.now();
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/events/eventbridge', method: 'POST', agent, headers: { 'content-type': 'application/json', 'x-api-key': ingestKey } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let parsed: Answer['body'] = {};
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Answer['body'];
        } catch {
          // not JSON: counted by its status
        }
        done({ status: res.statusCode ?? 0, body: parsed, sentAt, ms: performance.now() - t });
      });
    });
    req.on('error', fail);
    req.end(body);
  });
}

async function openIncidents(get: <T>(path: string) => Promise<T>): Promise<IncidentListing[]> {
  const all: IncidentListing[] = [];
  for (let offset: number | null = 0; offset !== null; ) {
    const page: { items: IncidentListing[]; nextOffset: number | null } = await get(`/incidents?status=open&limit=200&offset=${offset}`);
    all.push(...page.items);
    offset = page.nextOffset;
  }
  return all;
}

/** When the incident's first run was planned (epoch ms), polling the API. */
async function waitPlanned(get: <T>(path: string) => Promise<T>, incidentId: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const incident = await get<{ runs?: { createdAt: string }[] }>(`/incidents/${incidentId}`);
    const first = incident.runs?.map((r) => Date.parse(r.createdAt)).sort((a, b) => a - b)[0];
    if (first !== undefined) return first;
    await sleep(50);
  }
  throw new Error(`incident ${incidentId} is open with no run planned after ${timeoutMs / 1000} s`);
}

/** How many times each event id was stored as alarm.received, over every incident timeline and the unattached stream. */
async function storedEventIds(redis: Redis, prefix: string): Promise<{ counts: Map<string, number> }> {
  const counts = new Map<string, number>();
  const streams = [...(await redis.zrange(`${prefix}:incidents`, '0', '-1')).map((id) => `${prefix}:incident:${id}:timeline`), `${prefix}:unattached`];
  for (const stream of streams) {
    for (const [, fields] of await redis.xrange(stream, '-', '+')) {
      const entry: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) entry[fields[i]] = fields[i + 1];
      if (entry.type !== 'alarm.received') continue;
      const id = (JSON.parse(entry.data ?? '{}') as { eventId?: string }).eventId ?? '?';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return { counts };
}

function catalog(services: string[]): string {
  const lines = ['# Written by bench/storm.bench.ts', 'services:'];
  for (const s of services) lines.push(`  ${s}:`, `    description: benchmark service ${s}`, `    alarms: { patterns: ["${s}-*"] }`);
  return `${lines.join('\n')}\n`;
}

const RUNBOOK = `name: hold
description: a note, then a long wait, so each open incident keeps a run holding a step
triggers:
  services: ["*"]
steps:
  - id: hello
    action: note
    with: { text: "incident opened" }
  - id: hold
    action: wait
    needs: [hello]
    with: { seconds: 3600 }
`;

function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number`);
  return n;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
