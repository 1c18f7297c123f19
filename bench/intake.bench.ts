/**
 * Intake load test: the built service under a burst of EventBridge deliveries, then a check in
 * Redis that every accepted event was stored exactly once.
 *
 *   npm run bench:intake                       # builds, then runs this file
 *   BENCH_DURATION=30 npm run bench:intake     # seconds of load (default 15)
 *   BENCH_WARMUP=0                             # seconds of unmeasured load before (default 3)
 *   BENCH_CONNECTIONS=100                      # concurrent connections (default 50)
 *   BENCH_LOG_LEVEL=info                       # the service's LOG_LEVEL (default warn, see below)
 *   BENCH_CPU_PROF=1                           # V8 CPU profile of the service, summarised at the end
 *   BENCH_WORKERS=2                            # the service as n node:cluster workers on one port
 *   BENCH_MAIN=path/to/main.js                 # another build of the service (A/B comparisons)
 *   BENCH_ENFORCE_TARGETS=1                    # exit 1 when below the throughput / latency targets
 *   BENCH_FLOOR=0                              # skip the floor (a minimal Express intake, below)
 *   REDIS_URL=redis://host:6379                # default redis://127.0.0.1:6379
 *
 * The service runs as a child process (the same `node dist/.../main.js` as `npm start`) under a
 * key prefix of its own, which is deleted at the end. Its output goes to .bench/intake-*.log.
 *
 * Then the same load against the floor (bench/support/express-intake.ts): plain Express doing the
 * same Redis writes (the same ingest script through the same store, the same coalesced plan job),
 * and nothing else. The service's figures are printed against it as ratios.
 *
 * Exit code 1 when an accepted event is missing from Redis or stored twice, or when any request
 * got a non-2xx answer, an error or a timeout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import { parseAlarmEvent } from '@responder/domain';
import { alarmEvent } from '../test/support/events';
import { deleteByPrefix } from '../test/support/redis';
import { freePort } from '../test/support/net';
import { writeSummary } from './support/service';

const ROOT = resolve(__dirname, '..');
const MAIN = resolve(ROOT, process.env.BENCH_MAIN ?? 'dist/apps/responder/apps/responder/src/main.js');
const OUT_DIR = join(ROOT, '.bench');

const DURATION_S = positiveInt('BENCH_DURATION', 15);
const CONNECTIONS = positiveInt('BENCH_CONNECTIONS', 50);
// The first second runs on cold code (JIT, Lua script load, new connections) at half speed and
// would own the p99 of a 15 s run: the figures are for a warm service. Still checked for losses.
const WARMUP_S = nonNegativeInt('BENCH_WARMUP', 3);
// At info the service writes two log lines per event (pino-http's request line and the intake's
// "alarm … opened/attached" line), so the figure would measure pino's JSON serialisation and
// whatever drains stdout (a file here, a log driver's pipe in a container) besides the intake.
// warn keeps what production needs (refusals, Redis trouble). Measured with stdout to a file,
// info costs 5-10%; warn and silent measure the same, because pino-http builds a child logger
// (req serialised and redacted) for every request whatever the level.
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
// Several processes behind one port, as a stand-in for several replicas behind a load balancer:
// the intake keeps no state in memory, so this is how it uses more than one core.
const WORKERS = positiveInt('BENCH_WORKERS', 1);
const ENFORCE_TARGETS = process.env.BENCH_ENFORCE_TARGETS === '1';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Share of requests that repeat an earlier delivery, as EventBridge does when it retries. */
const DUPLICATE_RATIO = 0.3;
/** EventBridge gives an API destination 5 s; an answer later than that is a failed delivery. */
const TIMEOUT_S = 5;
const TARGET_RPS = 2000;
const TARGET_P99_MS = 50;

/**
 * Alarm names by what the shipped catalog (runbooks/service-catalog.yaml) does with them: routed
 * to checkout by name or `checkout-*`, to payments by `payments-*` or by ARN (pay-queue-depth), or
 * claimed by nobody (one unrouted incident per alarm). All in ALARM: a few incidents stay open and
 * every event lands on an incident timeline (OK events would resolve them and go to the
 * unattached stream, which is capped).
 */
const ALARMS = [
  'checkout-alb-5xx',
  'checkout-down',
  'checkout-latency-p99',
  'checkout-unhealthy-targets',
  'payments-queue-age',
  'payments-errors',
  'pay-queue-depth',
  'search-api-5xx',
  'inventory-consumer-lag',
  'legacy-batch-failed',
];

const ID = '__BENCH_EVENT_ID__';
const TIME = '__BENCH_EVENT_TIME__';
const STATE_TIME = '__BENCH_STATE_TIME__';

/** Event ids over the whole run (warm-up included), for the comparison with Redis. */
interface Seen {
  sent: Set<string>;
  answered: Set<string>;
  accepted: Set<string>;
}

/** Answers of one phase (warm-up or measured load). */
interface Counts {
  duplicatesSent: number;
  status202: number;
  deduplicated: number;
  outcomes: Map<string, number>;
  otherStatus: Map<number, number>;
  firstFailure?: string;
}

interface Phase {
  result: autocannon.Result;
  counts: Counts;
}

interface Event {
  id: string;
  body: string;
}

interface Stored {
  entries: number;
  ids: Set<string>;
  incidents: number;
  unattached: number;
  dedupeKeys: number;
}

interface CpuSample {
  at: number;
  child: number | null;
  redis: number | null;
  machine: { busy: number; total: number } | null;
  self: NodeJS.CpuUsage;
}

type Target = 'service' | 'floor';
const FLOOR = join(ROOT, 'bench', 'support', 'express-intake.ts');

interface Figures {
  code: number;
  rps: number;
  p50: number;
  p99: number;
}

async function main(): Promise<number> {
  const service = await measure('service');
  if (process.env.BENCH_FLOOR === '0') return service.code;
  const floor = await measure('floor');
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
  console.log('\nThe service against the floor (a minimal Express intake doing the same Redis writes), same load, same run:');
  console.log(`  accepted req/s   service ${Math.round(service.rps)}, floor ${Math.round(floor.rps)}: ${ratio(service.rps, floor.rps)} of the floor`);
  console.log(`  latency p50/p99  service ${service.p50}/${service.p99} ms, floor ${floor.p50}/${floor.p99} ms: p99 ${ratio(service.p99, floor.p99)} the floor's`);
  writeSummary({
    title: 'Intake (POST /events/eventbridge)',
    rows: [
      { what: `accepted events/s (${CONNECTIONS} connections, ~30% duplicates)`, value: String(Math.round(service.rps)), floor: `${Math.round(floor.rps)} (minimal Express intake, same Redis writes)`, against: `${ratio(service.rps, floor.rps)} of the floor` },
      { what: 'latency p50 / p99', value: `${service.p50} / ${service.p99} ms`, floor: `${floor.p50} / ${floor.p99} ms`, against: `p99 ${ratio(service.p99, floor.p99)} the floor's` },
    ],
  });
  return Math.max(service.code, floor.code);
}

async function measure(target: Target): Promise<Figures> {
  console.log(`\n=== ${target === 'service' ? 'the service (built, as npm start runs it)' : 'the floor (bench/support/express-intake.ts)'}`);
  const prefix = `bench:${randomBytes(4).toString('hex')}`;
  const ingestKey = randomBytes(24).toString('base64url');
  const apiToken = randomBytes(24).toString('base64url');
  const port = await freePort();
  mkdirSync(OUT_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const logFile = join(OUT_DIR, `intake-${target}-${stamp}.log`);
  const profDir = join(OUT_DIR, `prof-${stamp}`);

  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3, lazyConnect: true });
  await redis.connect();
  let child: ChildProcess | null = null;
  const cleanup = once(async () => {
    if (child) await stop(child);
    const deleted = await deleteByPrefix(redis, prefix);
    await redis.quit();
    console.log(`cleanup: service stopped, ${deleted} keys under ${prefix}:* deleted`);
  });
  process.once('SIGINT', () => {
    void cleanup().finally(() => process.exit(130));
  });

  try {
    child = startService({ target, port, prefix, ingestKey, apiToken, logFile, profDir });
    await waitReady(child, port, logFile);

    const next = eventSource();
    const seen: Seen = { sent: new Set(), answered: new Set(), accepted: new Set() };
    const warmup = WARMUP_S > 0 ? await load({ port, ingestKey, durationS: WARMUP_S, next, seen }) : null;
    const before = await cpuSample(child, redis);
    const measured = await load({ port, ingestKey, durationS: DURATION_S, next, seen });
    const after = await cpuSample(child, redis);
    // Requests in flight when autocannon stopped are still being stored: let them land.
    await sleep(500);
    const stored = await readStored(redis, prefix);
    const profile = CPU_PROF ? await stopForProfile(child, profDir) : null;
    if (profile) child = null;

    return report({ target, warmup, measured, seen, stored, cpu: cpuDelta(before, after), logFile, profile });
  } finally {
    await cleanup();
  }
}

// ---------------------------------------------------------------------------------------------
// The service

function startService(o: { target: Target; port: number; prefix: string; ingestKey: string; apiToken: string; logFile: string; profDir: string }): ChildProcess {
  const log = openSync(o.logFile, 'w');
  // Only what the service needs: a developer's SQS_QUEUE_URL or Slack token must not leak in.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(o.port),
    REDIS_URL,
    REDIS_PREFIX: o.prefix,
    INGEST_API_KEY: o.ingestKey,
    API_TOKEN: o.apiToken,
    LOG_LEVEL,
  };
  if (o.target === 'floor') {
    const proc = spawn(process.execPath, ['--import', 'tsx', FLOOR], { cwd: ROOT, env, stdio: ['ignore', log, log] });
    closeSync(log);
    return proc;
  }
  if (WORKERS > 1) {
    if (CPU_PROF) throw new Error('BENCH_CPU_PROF profiles a single process: leave BENCH_WORKERS unset');
    // The primary only forks and forwards SIGTERM; it exits once its workers have.
    const primary = [
      "const cluster = require('node:cluster');",
      // execArgv: [] or the workers would inherit `-e` and run this script instead of main.js.
      `cluster.setupPrimary({ exec: ${JSON.stringify(MAIN)}, execArgv: [] });`,
      `for (let i = 0; i < ${WORKERS}; i++) cluster.fork();`,
      "process.on('SIGTERM', () => { for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM'); });",
    ].join('\n');
    const proc = spawn(process.execPath, ['-e', primary], { cwd: ROOT, env, stdio: ['ignore', log, log] });
    closeSync(log);
    return proc;
  }
  const nodeArgs = CPU_PROF
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${o.profDir}`,
        // V8 writes the profile only on a normal exit, and Nest's shutdown hook ends the process
        // by re-raising SIGTERM. SIGWINCH means nothing to a daemon (and Nest does not listen to
        // it; SIGUSR1 belongs to the inspector): here it asks for process.exit(0).
        '--import',
        'data:text/javascript,process.on("SIGWINCH",()=>process.exit(0))',
      ]
    : [];
  const proc = spawn(process.execPath, [...nodeArgs, MAIN], { cwd: ROOT, env, stdio: ['ignore', log, log] });
  closeSync(log);
  return proc;
}

async function waitReady(proc: ChildProcess, port: number, logFile: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`the service exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/ready`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`GET /ready did not answer 200 within 30 s:\n${tail(logFile)}`);
}

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  proc.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) return;
  proc.kill('SIGKILL');
  await exited;
}

async function stopForProfile(proc: ChildProcess, dir: string): Promise<string | null> {
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  proc.kill('SIGWINCH');
  await Promise.race([exited, sleep(10_000)]);
  if (proc.exitCode === null && proc.signalCode === null) {
    proc.kill('SIGKILL');
    await exited;
  }
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  return file ? join(dir, file) : null;
}

// ---------------------------------------------------------------------------------------------
// The load

/** One alarm's event as JSON with placeholders, so that each request costs three replaces. */
function template(alarmName: string): string {
  const event = alarmEvent({ alarmName, state: 'ALARM', reason: `bench: ${alarmName} crossed its threshold` });
  event.id = ID;
  event.time = TIME;
  event.detail.state.timestamp = STATE_TIME;
  return JSON.stringify(event);
}

/** The events to send, one per call: fresh ones, and ~30% repeats of recent ones. */
function eventSource(): () => Event {
  const templates = ALARMS.map(template);
  // Every template must be an event the service accepts, or the bench measures 400s.
  for (const t of templates) {
    const sample = JSON.parse(t.replace(ID, 'x').replace(TIME, '2026-11-20T17:04:40Z').replace(STATE_TIME, '2026-11-20T17:04:40.989+0000')) as unknown;
    const parsed = parseAlarmEvent(sample);
    if (!parsed.ok) throw new Error(`bench event is invalid: ${JSON.stringify(parsed.problems)}`);
  }
  // State-change times one millisecond apart, starting an hour ago: every event distinct and
  // plausible. Requests overtake each other across connections, so some arrive out of order and
  // are recorded as stale, as a real out-of-order delivery would be.
  const base = Date.now() - 3600_000;
  let seq = 0;
  // Recent deliveries, byte for byte, for the retries: some repeat an event whose first delivery
  // is still in flight, the race EventBridge produces when it retries after a slow answer.
  const recent: Event[] = [];
  const RECENT = 2000;

  const fresh = (): Event => {
    const n = seq++;
    const at = new Date(base + n);
    const id = randomUUID();
    const body = templates[n % templates.length]
      .replace(ID, id)
      .replace(TIME, at.toISOString().replace(/\.\d{3}Z$/, 'Z'))
      .replace(STATE_TIME, at.toISOString().replace('Z', '+0000'));
    if (recent.length < RECENT) recent.push({ id, body });
    else recent[n % RECENT] = { id, body };
    return { id, body };
  };
  return () => (recent.length > 0 && Math.random() < DUPLICATE_RATIO ? recent[Math.floor(Math.random() * recent.length)] : fresh());
}

function load(o: { port: number; ingestKey: string; durationS: number; next: () => Event; seen: Seen }): Promise<Phase> {
  const { seen } = o;
  const counts: Counts = { duplicatesSent: 0, status202: 0, deduplicated: 0, outcomes: new Map(), otherStatus: new Map() };
  return new Promise((done, fail) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${o.port}`,
        connections: CONNECTIONS,
        duration: o.durationS,
        timeout: TIMEOUT_S,
        requests: [
          {
            method: 'POST',
            path: '/events/eventbridge',
            headers: { 'content-type': 'application/json', 'x-api-key': o.ingestKey },
            // With pipelining 1 a connection has one request in flight, and autocannon hands the
            // same context to setupRequest and to onResponse of that request.
            setupRequest: (req, context) => {
              const pick = o.next();
              if (seen.sent.has(pick.id)) counts.duplicatesSent++;
              seen.sent.add(pick.id);
              (context as { eventId?: string }).eventId = pick.id;
              return { ...req, body: pick.body };
            },
            onResponse: (status, body, context) => {
              const id = (context as { eventId?: string }).eventId;
              if (id) seen.answered.add(id);
              if (status !== 202) {
                counts.otherStatus.set(status, (counts.otherStatus.get(status) ?? 0) + 1);
                counts.firstFailure ??= `${status} ${body.slice(0, 300)}`;
                return;
              }
              counts.status202++;
              if (id) seen.accepted.add(id);
              const answer = JSON.parse(body) as { deduplicated?: boolean; outcome?: string };
              if (answer.deduplicated) counts.deduplicated++;
              const outcome = answer.outcome ?? '(none)';
              counts.outcomes.set(outcome, (counts.outcomes.get(outcome) ?? 0) + 1);
            },
          },
        ],
      },
      (err, result) => (err ? fail(err instanceof Error ? err : new Error(String(err))) : done({ result, counts })),
    );
    autocannon.track(instance, { renderProgressBar: process.stderr.isTTY, renderResultsTable: false });
  });
}

// ---------------------------------------------------------------------------------------------
// What Redis holds

/** Every alarm.received entry of every incident timeline and of the unattached stream. */
async function readStored(redis: Redis, prefix: string): Promise<Stored> {
  const stored: Stored = { entries: 0, ids: new Set(), incidents: 0, unattached: 0, dedupeKeys: 0 };
  const ids = await redis.zrange(`${prefix}:incidents`, '0', '-1');
  stored.incidents = ids.length;
  for (const id of ids) await countReceived(redis, `${prefix}:incident:${id}:timeline`, stored);
  const beforeUnattached = stored.entries;
  await countReceived(redis, `${prefix}:unattached`, stored);
  stored.unattached = stored.entries - beforeUnattached;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:event:*`, 'COUNT', 1000);
    cursor = next;
    stored.dedupeKeys += keys.length;
  } while (cursor !== '0');
  return stored;
}

async function countReceived(redis: Redis, stream: string, stored: Stored): Promise<void> {
  let start = '-';
  for (;;) {
    const page = await redis.xrange(stream, start, '+', 'COUNT', 1000);
    for (const [, fields] of page) {
      const entry = fieldMap(fields);
      if (entry.type !== 'alarm.received') continue;
      stored.entries++;
      stored.ids.add((JSON.parse(entry.data ?? '{}') as { eventId?: string }).eventId ?? '(no eventId)');
    }
    if (page.length < 1000) return;
    start = `(${page[page.length - 1][0]}`;
  }
}

function fieldMap(fields: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i]] = fields[i + 1];
  return map;
}

// ---------------------------------------------------------------------------------------------
// CPU: the service, Redis, the whole machine, and this process (autocannon)

async function cpuSample(proc: ChildProcess, redis: Redis): Promise<CpuSample> {
  return { at: performance.now(), child: treeCpuSeconds(proc.pid), redis: await redisCpuSeconds(redis), machine: machineCpu(), self: process.cpuUsage() };
}

/**
 * utime + stime of a process and its descendants (the cluster workers) from /proc (Linux), in
 * seconds; the kernel counts in USER_HZ, which is 100 on Linux.
 */
function treeCpuSeconds(root: number | undefined): number | null {
  if (root === undefined) return null;
  try {
    const procs = new Map<number, { ppid: number; cpu: number }>();
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        procs.set(Number(name), { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / 100 });
      } catch {
        // exited meanwhile
      }
    }
    if (!procs.has(root)) return null;
    const tree = new Set([root]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [pid, p] of procs) {
        if (!tree.has(pid) && tree.has(p.ppid)) {
          tree.add(pid);
          grew = true;
        }
      }
    }
    return [...tree].reduce((sum, pid) => sum + procs.get(pid)!.cpu, 0);
  } catch {
    return null;
  }
}

async function redisCpuSeconds(redis: Redis): Promise<number | null> {
  const info = await redis.info('cpu');
  const user = /used_cpu_user:([\d.]+)/.exec(info)?.[1];
  const sys = /used_cpu_sys:([\d.]+)/.exec(info)?.[1];
  return user && sys ? Number(user) + Number(sys) : null;
}

function machineCpu(): { busy: number; total: number } | null {
  try {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
    const n = ticks.map(Number);
    const total = n.reduce((a, b) => a + b, 0);
    return { busy: total - n[3] - (n[4] ?? 0), total };
  } catch {
    return null;
  }
}

function cpuDelta(a: CpuSample, b: CpuSample): string {
  const wall = (b.at - a.at) / 1000;
  const pct = (x: number | null, y: number | null) => (x === null || y === null ? 'n/a' : `${Math.round(((y - x) / wall) * 100)}%`);
  const self = ((b.self.user - a.self.user + b.self.system - a.self.system) / 1e6 / wall) * 100;
  const machine =
    a.machine && b.machine ? `${Math.round(((b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total)) * 100)}% of ${os.cpus().length} cores` : 'n/a';
  return `service ${pct(a.child, b.child)} of a core${WORKERS > 1 ? ` (${WORKERS} workers)` : ''}, redis ${pct(a.redis, b.redis)}, autocannon ${Math.round(self)}%, machine ${machine}`;
}

// ---------------------------------------------------------------------------------------------
// The report

function report(o: {
  target: Target;
  warmup: Phase | null;
  measured: Phase;
  seen: Seen;
  stored: Stored;
  cpu: string;
  logFile: string;
  profile: string | null;
}): Figures {
  const { result: r, counts: c } = o.measured;
  const { seen: t, stored: s } = o;
  const cpu = os.cpus()[0];
  const lost = [...t.accepted].filter((id) => !s.ids.has(id));
  const unexpected = [...s.ids].filter((id) => !t.sent.has(id));
  // Stored but never answered: in flight when autocannon stopped (it drops open requests at the
  // end of each phase). Stored, so not lost, but not counted as accepted either.
  const unanswered = [...s.ids].filter((id) => !t.accepted.has(id) && t.sent.has(id) && !t.answered.has(id));
  const storedTwice = s.entries - s.ids.size;
  const refusedButStored = [...s.ids].filter((id) => t.answered.has(id) && !t.accepted.has(id));
  const storedAccepted = s.ids.size - unanswered.length;
  const failures: string[] = [];

  const line = (label: string, value: string | number) => console.log(`  ${label.padEnd(34)} ${value}`);
  const phaseFailures = (name: string, p: Phase) => {
    if (p.result.non2xx > 0) {
      failures.push(`${name}: ${p.result.non2xx} non-2xx answers ${JSON.stringify(Object.fromEntries(p.counts.otherStatus))}, first: ${p.counts.firstFailure ?? ''}`);
    }
    if (p.result.errors > 0 || p.result.timeouts > 0) failures.push(`${name}: ${p.result.errors} errors, ${p.result.timeouts} timeouts`);
  };

  console.log(`\nResponder intake benchmark: POST /events/eventbridge, ${o.target === 'service' ? 'the service' : 'the floor (minimal Express intake)'}`);
  line('machine', `${os.cpus().length} cores, ${cpu?.model ?? 'unknown cpu'}, node ${process.version}, ${os.platform()} ${os.release()}`);
  line(
    'config',
    `${r.connections} connections, ${DURATION_S} s after ${WARMUP_S} s warm-up, pipelining 1, timeout ${TIMEOUT_S} s, ~${DUPLICATE_RATIO * 100}% duplicates, LOG_LEVEL=${LOG_LEVEL}${WORKERS > 1 ? `, ${WORKERS} service workers` : ''}`,
  );
  if (process.env.BENCH_MAIN) line('service build', relative(ROOT, MAIN));
  line('events', `${ALARMS.length} alarm names: checkout-*, payments-* / pay-queue-depth, 3 unrouted; all ALARM`);
  if (o.warmup) {
    const w = o.warmup.result;
    line('warm-up (not in the figures)', `${w.requests.total} requests, ${o.warmup.counts.status202} x 202, p99 ${w.latency.p99} ms, max ${w.latency.max} ms`);
  }
  console.log('');
  line('accepted req/s (202, mean)', Math.round(c.status202 / r.duration));
  line('req/s (all answers, mean/p50/min)', `${Math.round(r.requests.mean)} / ${Math.round(r.requests.p50)} / ${Math.round(r.requests.min)}`);
  line('total requests (answered)', r.requests.total);
  line('202', c.status202);
  line('non-2xx', r.non2xx === 0 ? 0 : `${r.non2xx} ${JSON.stringify(Object.fromEntries(c.otherStatus))}; first: ${c.firstFailure ?? ''}`);
  line('errors / timeouts', `${r.errors} / ${r.timeouts}`);
  line('latency p50 / p90 / p99 / max', `${r.latency.p50} / ${r.latency.p90} / ${r.latency.p99} / ${r.latency.max} ms (mean ${r.latency.mean.toFixed(1)})`);
  line('duplicates sent / deduplicated', `${c.duplicatesSent} / ${c.deduplicated}`);
  line('outcomes', [...c.outcomes].map(([k, v]) => `${k} ${v}`).join(', '));
  line('cpu during load', o.cpu);
  console.log('');
  line('distinct events accepted (202)', `${t.accepted.size} (warm-up included)`);
  line('stored alarm.received entries', `${s.entries} (${s.incidents} incidents, ${s.unattached} unattached)`);
  line('distinct event ids stored', s.ids.size);
  line('dedupe keys', s.dedupeKeys);
  if (unanswered.length > 0) line('stored, unanswered at stop', `${unanswered.length} (in flight when a phase stopped)`);

  if (o.warmup) phaseFailures('warm-up', o.warmup);
  phaseFailures('load', o.measured);
  if (lost.length > 0) failures.push(`${lost.length} accepted events are not in Redis (e.g. ${lost.slice(0, 3).join(', ')})`);
  if (storedTwice > 0) failures.push(`${storedTwice} events were stored more than once (dedupe failed)`);
  if (unexpected.length > 0) failures.push(`${unexpected.length} stored event ids were never sent`);
  if (refusedButStored.length > 0) failures.push(`${refusedButStored.length} events were refused (non-2xx) yet stored`);
  if (storedAccepted !== t.accepted.size) failures.push(`accepted ${t.accepted.size} != stored ${storedAccepted}`);

  const rps = c.status202 / r.duration;
  const below: string[] = [];
  if (rps < TARGET_RPS) below.push(`${Math.round(rps)} accepted/s < ${TARGET_RPS}`);
  if (r.latency.p99 >= TARGET_P99_MS) below.push(`p99 ${r.latency.p99} ms >= ${TARGET_P99_MS} ms`);

  console.log('');
  if (failures.length === 0) console.log(`  nothing lost: ${t.accepted.size} accepted = ${storedAccepted} stored, each once`);
  else for (const f of failures) console.error(`  !!! MISMATCH: ${f}`);
  if (o.target === 'service') console.log(
    below.length === 0
      ? `  targets met (>= ${TARGET_RPS} accepted/s, p99 < ${TARGET_P99_MS} ms)`
      : `  BELOW TARGET: ${below.join('; ')}${ENFORCE_TARGETS ? '' : ' (set BENCH_ENFORCE_TARGETS=1 to fail on this)'}`,
  );
  console.log(`  service log: ${relative(process.cwd(), o.logFile)}`);
  if (o.profile) summariseProfile(o.profile);
  const code = failures.length > 0 || (o.target === 'service' && ENFORCE_TARGETS && below.length > 0) ? 1 : 0;
  return { code, rps, p50: r.latency.p50, p99: r.latency.p99 };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time of the CPU profile by package / area and by function: where the service spends. */
function summariseProfile(file: string): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byNode.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    const fn = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(`file://${ROOT}/`, '')}:${lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  }
  const top = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `    ${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  console.log(`\n  CPU profile of the service (${relative(process.cwd(), file)}), self time, idle excluded:`);
  console.log(`  by area:\n${top(byArea, 15)}`);
  console.log(`  by function:\n${top(byFn, 20)}`);
}

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  if (url.includes('/dist/')) return 'responder (dist)';
  return url;
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number`);
  return n;
}

function nonNegativeInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number (0 or more)`);
  return n;
}


function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => (running ??= fn());
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
