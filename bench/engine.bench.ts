/**
 * Runbook engine benchmark (issue 3): the whole service in this process, driven through the real
 * intake path (POST /events/eventbridge), on the real Redis, next to raw BullMQ measured in the
 * same run.
 *
 *   npm run bench:engine
 *   BENCH_STEPS=100          # steps of the sequential runbook (a) and jobs of the raw chain (d)
 *   BENCH_RUNS_A=30          # measured runs of (a) and chains of (d), alternating (after 3 warm-up runs of each)
 *   BENCH_RUNS_B=10          # measured runs of (b) (after one warm-up run)
 *   BENCH_INCIDENTS=200      # incidents opened at once in (c)
 *   BENCH_MONITOR=0          # skip (e), the Redis MONITOR count of one run of (a)
 *   BENCH_CPU_PROF=1         # V8 CPU profile of one more run of (a), summarised, written to .bench/
 *   BENCH_ENFORCE_GUARDS=1   # exit 1 when a guard FAILs (BENCH_ENFORCE_TARGETS=1 is read too)
 *   BENCH_GIT=0              # do not run git to name the code measured
 *   ENGINE_CONCURRENCY=64    # the engine worker's concurrency (default 64 here)
 *   REDIS_URL=redis://host:6379
 *
 * Figures come from the timestamps the engine stores (run createdAt/finishedAt, the `run.planned`
 * and `run.finished` timeline entries, each step's queuedAt/startedAt/finishedAt), all written by
 * this process' clock, so how often the bench polls for the end of a run does not change them;
 * the start of a measurement is the bench's clock just before the alarm is POSTed.
 *
 * Redis round trips are counted in this process, without MONITOR: each write of a command (or of a
 * pipeline or MULTI block sent together) by the service's connections is one. (e) adds MONITOR's
 * view of the commands, which counts each command of a pipeline apart.
 *
 * Runs under ts-node, not tsx: esbuild emits no decorator metadata and Nest's injection needs it.
 * Everything goes under a key prefix of its own (bench-engine-<random>), deleted at the end.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import type { Server } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { type Job, type JobsOptions, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { type Action, type RunRecord, formatSourceProblem, parseCatalog } from '@responder/domain';
import { RunStore } from '@responder/store';
import { loadConfig } from '../apps/responder/src/config/config';
import { createApp } from '../apps/responder/src/create-app';
import { AlarmIntakeService } from '../apps/responder/src/intake/alarm-intake.service';
import { REDIS } from '../apps/responder/src/tokens';
import { runbooksFrom } from '../test/support/app';
import { alarmEvent } from '../test/support/events';
import { deleteByPrefix } from '../test/support/redis';
import { writeSummary } from './support/service';

const ROOT = resolve(__dirname, '..');
const OUT_DIR = join(ROOT, '.bench');
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const STEPS = positiveInt('BENCH_STEPS', 100);
const RUNS_A = positiveInt('BENCH_RUNS_A', 30);
/** Runs of (a) and chains of (d) before the measured ones: the JIT needs a few hundred steps to settle. */
const WARMUP_A = 3;
const RUNS_B = positiveInt('BENCH_RUNS_B', 10);
const RUNS_SERIAL = 3;
const INCIDENTS = positiveInt('BENCH_INCIDENTS', 200);
const CONCURRENCY = positiveInt('ENGINE_CONCURRENCY', 64);
const MONITOR = process.env.BENCH_MONITOR !== '0';
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const ENFORCE_GUARDS = process.env.BENCH_ENFORCE_GUARDS === '1' || process.env.BENCH_ENFORCE_TARGETS === '1';
const SLEEP_MS = 50;
const CRITICAL_PATH_MS = 3 * SLEEP_MS;
const SERIAL_MS = 8 * SLEEP_MS;
/**
 * Guards, not targets (issue 13): the engine stays simple (no speculative queueing) as long as a
 * step costs at most this many times a raw BullMQ job, and a parallel run stays this close to its
 * critical path. Both are measured against a floor taken in the same run.
 */
const GUARD_STEP_RATIO = 2.5;
const GUARD_OVERHEAD = 0.1;
const INGEST_KEY = randomBytes(16).toString('hex');
/** The same retention as StepQueue's jobs, so that raw BullMQ writes what the engine's queue writes. */
const RETENTION: JobsOptions = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } };

// --- what runs: two actions, four runbooks, a generated catalog -----------------------------------

/** How much later than asked each bench.sleep timer fired: part of (b)'s overhead that is not the engine's. */
const timerOvershoot: number[] = [];

const BENCH_ACTIONS: Action[] = [
  {
    id: 'bench.noop',
    mutating: false,
    description: 'A read-only action that returns at once.',
    plan: () => ({ summary: 'nothing' }),
    run: () => Promise.resolve({ output: {} }),
  },
  {
    id: 'bench.sleep',
    mutating: false,
    description: 'A read-only action that sleeps with.ms milliseconds.',
    plan: () => ({ summary: 'sleep' }),
    run: (params) => {
      const t0 = performance.now();
      return new Promise((done) =>
        setTimeout(() => {
          timerOvershoot.push(performance.now() - t0 - Number(params.ms));
          done({ output: {} });
        }, Number(params.ms)),
      );
    },
  },
];

const stepId = (i: number) => `s${String(i).padStart(3, '0')}`;
const SEQ_STEPS = Array.from({ length: STEPS }, (_, i) => stepId(i));
const DIAGNOSTICS = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];

const RUNBOOKS = {
  seq: [
    'name: bench-seq',
    'triggers: { services: ["seq-*"] }',
    'steps:',
    ...SEQ_STEPS.map((id, i) => `  - { id: ${id}, action: bench.noop${i > 0 ? `, needs: [${SEQ_STEPS[i - 1]}]` : ''} }`),
  ].join('\n'),
  fanout: [
    'name: bench-fanout',
    'triggers: { services: ["fan-*"] }',
    'steps:',
    ...DIAGNOSTICS.map((id) => `  - { id: ${id}, action: bench.sleep, with: { ms: ${SLEEP_MS} } }`),
    `  - { id: fix1, action: bench.sleep, needs: [${DIAGNOSTICS.join(', ')}], with: { ms: ${SLEEP_MS} } }`,
    `  - { id: fix2, action: bench.sleep, needs: [fix1], with: { ms: ${SLEEP_MS} } }`,
  ].join('\n'),
  // The same eight steps as fanout, each needing the one before.
  serial: [
    'name: bench-serial',
    'triggers: { services: ["ser-*"] }',
    'steps:',
    ...[...DIAGNOSTICS, 'fix1', 'fix2'].map((id, i, all) => `  - { id: ${id}, action: bench.sleep, ${i > 0 ? `needs: [${all[i - 1]}], ` : ''}with: { ms: ${SLEEP_MS} } }`),
  ].join('\n'),
  burst: [
    'name: bench-burst',
    'triggers: { services: ["burst-*"] }',
    'steps:',
    '  - { id: d1, action: bench.noop }',
    '  - { id: d2, action: bench.noop }',
    '  - { id: d3, action: bench.noop }',
    '  - { id: act, action: bench.noop, needs: [d1, d2, d3] }',
  ].join('\n'),
};

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** One service per incident: the intake attaches a second alarm of a service to its open incident. */
const SERVICES = {
  seq: range(RUNS_A + WARMUP_A).map((i) => `seq-${i}`),
  monitor: 'seq-monitor',
  profile: 'seq-profile',
  fan: range(RUNS_B + 1).map((i) => `fan-${i}`),
  ser: range(RUNS_SERIAL + 1).map((i) => `ser-${i}`),
  burst: range(INCIDENTS).map((i) => `burst-${String(i).padStart(4, '0')}`),
};

function catalogYaml(): string {
  const all = [...SERVICES.seq, SERVICES.monitor, SERVICES.profile, ...SERVICES.fan, ...SERVICES.ser, ...SERVICES.burst];
  return ['services:', ...all.map((s) => `  ${s}: { alarms: { names: [${alarmName(s)}] } }`)].join('\n');
}

const alarmName = (service: string) => `${service}-bench-alarm`;

// --- main ------------------------------------------------------------------------------------------

interface Ctx {
  app: INestApplication;
  base: string;
  prefix: string;
  runs: RunStore;
  probe: Redis;
}

async function main(): Promise<number> {
  const prefix = `bench-engine-${randomBytes(4).toString('hex')}`;
  mkdirSync(OUT_DIR, { recursive: true });
  const logFile = join(OUT_DIR, `engine-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  const logs = createWriteStream(logFile);
  let app: INestApplication | null = null;
  try {
    const config = loadConfig({
      REDIS_URL,
      REDIS_PREFIX: prefix,
      INGEST_API_KEY: INGEST_KEY,
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      ENGINE_CONCURRENCY: String(CONCURRENCY),
    });
    const catalog = parseCatalog('bench-catalog.yaml', catalogYaml());
    if (!catalog.ok) throw new Error(catalog.problems.map(formatSourceProblem).join('\n'));
    const runbooks = runbooksFrom(Object.values(RUNBOOKS), BENCH_ACTIONS);
    app = await createApp({ config, catalog: catalog.value, runbooks, actions: BENCH_ACTIONS, logDestination: logs });
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    const ctx: Ctx = { app, base: `http://127.0.0.1:${port}`, prefix, runs: app.get(RunStore), probe: new Redis(REDIS_URL) };

    printMachine(await redisVersion(admin), config.logLevel, prefix, relative(ROOT, logFile));

    // Warm-up: JIT, Lua script loading, connections; not counted.
    const raw = rawChain(prefix, config.engine);
    for (let i = 0; i < WARMUP_A; i++) {
      await raw.run(-1 - i);
      await sequentialRun(ctx, SERVICES.seq[RUNS_A + i]);
    }
    await fanoutRun(ctx, 'bench-fanout', SERVICES.fan[0]);
    await fanoutRun(ctx, 'bench-serial', SERVICES.ser[0]);

    // (d) and (a) alternate, so that both see the same machine (other processes come and go).
    const d: Measured<ChainResult>[] = [];
    const a: Measured<SequentialResult>[] = [];
    const writes = writeCounter(REDIS_URL, [admin, ctx.probe], ctx.app.get<Redis>(REDIS));
    const trips = { raw: { store: 0, bull: 0 }, engine: { store: 0, bull: 0 } };
    for (let i = 0; i < RUNS_A; i++) {
      writes.start();
      d.push(await measure(admin, () => raw.run(i)));
      add(trips.raw, writes.stop());
      writes.start();
      a.push(await measure(admin, () => sequentialRun(ctx, SERVICES.seq[i])));
      add(trips.engine, writes.stop());
    }
    writes.restore();
    await raw.close();

    timerOvershoot.length = 0;
    const b = await measure(admin, async () => {
      const out: FanoutResult[] = [];
      for (const service of SERVICES.fan.slice(1)) out.push(await fanoutRun(ctx, 'bench-fanout', service));
      return out;
    });
    const overshoot = [...timerOvershoot];
    const serial: FanoutResult[] = [];
    for (const service of SERVICES.ser.slice(1)) serial.push(await fanoutRun(ctx, 'bench-serial', service));

    const c = await measure(admin, () => burst(ctx));
    const traffic = MONITOR ? await monitorRun(ctx, admin, raw.connection) : null;
    let profile: Profile | null = null;
    if (CPU_PROF) {
      const profiler = await startProfile();
      await sequentialRun(ctx, SERVICES.profile);
      profile = await profiler.stop();
    }

    const met = report({ a: combine(a), b, serial, c, d: combine(d), overshoot, trips: { raw: per(trips.raw, RUNS_A * STEPS), engine: per(trips.engine, RUNS_A * STEPS) } });
    if (traffic) printTraffic(traffic);
    if (profile) printProfile(profile);
    await ctx.probe.quit();
    return ENFORCE_GUARDS && !met ? 1 : 0;
  } finally {
    if (app) await app.close();
    logs.end();
    const deleted = await deleteByPrefix(admin, prefix);
    console.log(`\ncleanup: ${deleted} keys under ${prefix}:* unlinked`);
    await admin.quit();
  }
}

// --- (a) sequential runbook ------------------------------------------------------------------------

interface SequentialResult {
  /** POST → run finished. */
  wallMs: number;
  /** Per step, once the run is going: first step started → last step started, / (steps - 1). */
  stepMs: number;
  /** run.planned → run.finished. */
  runMs: number;
  /** POST → first step queued: intake, the plan job, createRun. */
  startMs: number;
  /** Per step, summed over the run: previous step finished → this one queued (advance). */
  handoffMs: number;
  /** queued → started: queue.add, BullMQ hand-over, the job's load and its running transition. */
  pickupMs: number;
  /** started → finished: the action (no-op) and the code around it. */
  execMs: number;
}

async function sequentialRun(ctx: Ctx, service: string): Promise<SequentialResult> {
  const body = JSON.stringify(alarmEvent({ alarmName: alarmName(service) }));
  const t0 = Date.now();
  const incidentId = await postAlarm(ctx.base, body);
  const [run] = await waitRuns(ctx, [incidentId], 'bench-seq', 10);
  const s = SEQ_STEPS.map((id) => run.steps[id]);
  let handoffMs = 0;
  let pickupMs = 0;
  let execMs = 0;
  s.forEach((step, i) => {
    if (i > 0) handoffMs += at(step.queuedAt) - at(s[i - 1].finishedAt);
    pickupMs += at(step.startedAt) - at(step.queuedAt);
    execMs += at(step.finishedAt) - at(step.startedAt);
  });
  return {
    wallMs: at(run.finishedAt) - t0,
    stepMs: (at(s[s.length - 1].startedAt) - at(s[0].startedAt)) / (s.length - 1),
    runMs: at(run.finishedAt) - at(run.createdAt),
    startMs: at(s[0].queuedAt) - t0,
    handoffMs,
    pickupMs,
    execMs,
  };
}

// --- (b) fan-out then two steps ---------------------------------------------------------------------

/** One run of (b), cut into consecutive pieces that add up to runMs. */
interface FanoutResult {
  wallMs: number;
  runMs: number;
  /** run.planned → the first diagnostic started. */
  startMs: number;
  /** First diagnostic started → last one started (they were queued one after another). */
  spreadMs: number;
  /** Last diagnostic started → last diagnostic finished. */
  lastDiagnosticMs: number;
  /** Last diagnostic finished → fix1 started. */
  joinMs: number;
  fix1Ms: number;
  /** fix1 finished → fix2 started. */
  chainMs: number;
  fix2Ms: number;
  /** fix2 finished → run finished. */
  endMs: number;
}

async function fanoutRun(ctx: Ctx, runbook: string, service: string): Promise<FanoutResult> {
  const body = JSON.stringify(alarmEvent({ alarmName: alarmName(service) }));
  const t0 = Date.now();
  const incidentId = await postAlarm(ctx.base, body);
  const [run] = await waitRuns(ctx, [incidentId], runbook, 5);
  const d = DIAGNOSTICS.map((id) => run.steps[id]);
  const { fix1, fix2 } = run.steps;
  const firstStart = Math.min(...d.map((x) => at(x.startedAt)));
  const lastStart = Math.max(...d.map((x) => at(x.startedAt)));
  const lastFinish = Math.max(...d.map((x) => at(x.finishedAt)));
  return {
    wallMs: at(run.finishedAt) - t0,
    runMs: at(run.finishedAt) - at(run.createdAt),
    startMs: firstStart - at(run.createdAt),
    spreadMs: lastStart - firstStart,
    lastDiagnosticMs: lastFinish - lastStart,
    joinMs: at(fix1.startedAt) - lastFinish,
    fix1Ms: at(fix1.finishedAt) - at(fix1.startedAt),
    chainMs: at(fix2.startedAt) - at(fix1.finishedAt),
    fix2Ms: at(fix2.finishedAt) - at(fix2.startedAt),
    endMs: at(run.finishedAt) - at(fix2.finishedAt),
  };
}

// --- (c) many incidents at once ---------------------------------------------------------------------

interface BurstResult {
  totalMs: number;
  intakeMs: number;
  /** Per run, POST burst start → run finished. */
  latencies: number[];
  runMs: number[];
}

/**
 * The alarms go to AlarmIntakeService.receive, the code behind POST /events/eventbridge, without
 * HTTP: 200 fetches at once from this process cost it 0.6-0.8 s of CPU (undici and Express, 200
 * new connections), which the engine would be charged with; in production the sender is EventBridge.
 */
async function burst(ctx: Ctx): Promise<BurstResult> {
  const intake = ctx.app.get(AlarmIntakeService);
  const events: unknown[] = SERVICES.burst.map((s) => alarmEvent({ alarmName: alarmName(s) }));
  const t0 = Date.now();
  const results = await Promise.all(events.map((event) => intake.receive(event, 'http')));
  const intakeMs = Date.now() - t0;
  const incidentIds = results.map((r) => {
    if (!r.incidentId || r.outcome !== 'opened') throw new Error(`the intake did not open an incident: ${JSON.stringify(r)}`);
    return r.incidentId;
  });
  const runs = await waitRuns(ctx, incidentIds, 'bench-burst', 50);
  const latencies = runs.map((r) => at(r.finishedAt) - t0);
  return { totalMs: Math.max(...latencies), intakeMs, latencies, runMs: runs.map((r) => at(r.finishedAt) - at(r.createdAt)) };
}

// --- (d) raw BullMQ: each job adds the next ---------------------------------------------------------

interface ChainResult {
  /** Per job: adding the first job → the last job's processor, / jobs (as (a)'s POST → finished). */
  wholeMs: number;
  /** Per job, once the chain is going: first processor → last processor, / (jobs - 1) (as (a)'s stepMs). */
  stepMs: number;
}

/**
 * A queue and a worker with StepQueue's settings, on their own prefix, whose jobs look like the
 * engine's (name `step`, data { runId, stepId }, job id `<runId>-<stepId>`, no options beyond the
 * queue's retention, as the engine adds a step without retries); run(rep) times one chain.
 */
function rawChain(prefix: string, engine: { concurrency: number; stalledMs: number }) {
  const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('chain', { connection, prefix: `${prefix}:raw`, defaultJobOptions: RETENTION });
  const chains = new Map<string, { first: number; done: (last: number) => void }>();
  const add = (runId: string, i: number) => queue.add('step', { runId, stepId: stepId(i) }, { jobId: `${runId}-${stepId(i)}` });
  const worker = new Worker(
    'chain',
    async (job: Job<{ runId: string; stepId: string }>) => {
      const t = performance.now();
      const { runId } = job.data;
      const i = Number(job.data.stepId.slice(1));
      const chain = chains.get(runId);
      if (chain && i === 0) chain.first = t;
      if (i + 1 < STEPS) await add(runId, i + 1);
      else chain?.done(t);
    },
    {
      connection: workerConnection,
      prefix: `${prefix}:raw`,
      concurrency: engine.concurrency,
      lockDuration: engine.stalledMs,
      stalledInterval: Math.max(1000, Math.floor(engine.stalledMs / 2)),
      maxStalledCount: 5,
    },
  );
  return {
    connection,
    async run(rep: number): Promise<ChainResult> {
      const runId = `raw_${rep < 0 ? `w${-rep}` : rep}`;
      let done: (last: number) => void = () => undefined;
      const finished = new Promise<number>((resolve) => (done = resolve));
      const chain = { first: 0, done };
      chains.set(runId, chain);
      const t0 = performance.now();
      await add(runId, 0);
      const last = await finished;
      return { wholeMs: (last - t0) / STEPS, stepMs: (last - chain.first) / (STEPS - 1) };
    },
    async close(): Promise<void> {
      await worker.close();
      await queue.close();
      connection.disconnect();
      workerConnection.disconnect();
    },
  };
}

// --- (e) Redis commands of one run, from MONITOR ----------------------------------------------------

interface Traffic {
  steps: number;
  roundTrips: Map<string, number>;
  insideLua: number;
}

/**
 * One more run of (a) with MONITOR on (which slows Redis, so it is not timed). A MULTI…EXEC block
 * is one round trip (ioredis sends it as one pipeline); commands a Lua script runs are counted apart.
 */
async function monitorRun(ctx: Ctx, admin: Redis, bullClient: Redis): Promise<Traffic> {
  // BullMQ defines its scripts on the connection it is given; one version has one set of shas.
  const names = scriptNames([ctx.app.get<Redis>(REDIS), bullClient]);
  const monitor = await admin.monitor(); // a connection of its own
  const probePort = (ctx.probe as unknown as { stream: { localPort: number } }).stream.localPort;
  const roundTrips = new Map<string, number>();
  const multi = new Map<string, string[]>();
  let insideLua = 0;
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!args.some((a) => a.includes(ctx.prefix)) && !/^(multi|exec)$/i.test(args[0])) return;
    if (source.endsWith(`:${probePort}`)) return;
    if (source === 'lua') {
      insideLua++;
      return;
    }
    const cmd = args[0].toLowerCase();
    const label = cmd === 'evalsha' ? (names.get(args[1]) ?? `evalsha ${args[1].slice(0, 8)}`) : cmd === 'eval' ? 'eval (script loading)' : `${cmd} ${keyShape(args[1] ?? '', ctx.prefix)}`;
    const open = multi.get(source);
    if (cmd === 'multi') multi.set(source, []);
    else if (cmd === 'exec' && open) {
      multi.delete(source);
      if (open.length === 0) return; // another client's transaction
      const block = `multi(${open.join(', ')})`;
      roundTrips.set(block, (roundTrips.get(block) ?? 0) + 1);
    } else if (open) open.push(label);
    else roundTrips.set(label, (roundTrips.get(label) ?? 0) + 1);
  });
  await sequentialRun(ctx, SERVICES.monitor);
  await sleep(200);
  monitor.disconnect();
  return { steps: STEPS, roundTrips, insideLua };
}

/**
 * sha → command name, from the commands ioredis defined on these clients (its scriptsSet is not
 * public API; without it the figures say `evalsha <sha>`).
 */
function scriptNames(clients: Redis[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const c of clients) {
    const set = (c as unknown as { scriptsSet?: Record<string, { sha: string }> }).scriptsSet ?? {};
    for (const [name, script] of Object.entries(set)) names.set(script.sha, name);
  }
  return names;
}

/** A key with its ids replaced by *, e.g. `hgetall run:*:steps`. */
function keyShape(key: string, prefix: string): string {
  if (!key.startsWith(`${prefix}:`)) return '';
  return key
    .slice(prefix.length + 1)
    .split(':')
    .map((part) => (/\d/.test(part) ? '*' : part))
    .join(':');
}

// --- driving and waiting ----------------------------------------------------------------------------

async function postAlarm(base: string, body: string): Promise<string> {
  const res = await fetch(`${base}/events/eventbridge`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': INGEST_KEY }, body });
  const json = (await res.json()) as { incidentId?: string };
  if (res.status !== 202 || !json.incidentId) throw new Error(`intake answered ${res.status}: ${JSON.stringify(json)}`);
  return json.incidentId;
}

/**
 * Waits until each incident's run of `runbook` has finished, reading two hash fields per poll on a
 * connection of its own (the figures come from the stored timestamps, not from when this notices).
 */
async function waitRuns(ctx: Ctx, incidentIds: string[], runbook: string, pollMs: number, timeoutMs = 60_000): Promise<RunRecord[]> {
  const runIds = new Map<string, string>();
  const finished = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  while (finished.size < incidentIds.length) {
    if (Date.now() > deadline) throw new Error(`${incidentIds.length - finished.size} runs of ${runbook} not finished after ${timeoutMs} ms`);
    const missing = incidentIds.filter((i) => !runIds.has(i));
    const open = [...runIds.values()].filter((r) => !finished.has(r));
    const pipeline = ctx.probe.pipeline();
    for (const i of missing) pipeline.hget(`${ctx.prefix}:incident:${i}:runs`, runbook);
    for (const r of open) pipeline.hget(`${ctx.prefix}:run:${r}`, 'status');
    const results = (await pipeline.exec()) ?? [];
    missing.forEach((i, n) => {
      const runId = results[n][1] as string | null;
      if (runId) runIds.set(i, runId);
    });
    open.forEach((r, n) => {
      const status = results[missing.length + n][1] as string | null;
      if (status && status !== 'running') finished.add(r);
    });
    if (finished.size < incidentIds.length) await sleep(pollMs);
  }
  const runs = await Promise.all(incidentIds.map((i) => ctx.runs.getRun(runIds.get(i)!)));
  for (const run of runs) {
    if (run?.status !== 'succeeded') throw new Error(`run ${run?.id ?? '?'} of ${runbook} ended ${run?.status ?? 'missing'}: ${JSON.stringify(run?.steps)}`);
  }
  return runs as RunRecord[];
}

// --- CPU of this process and of Redis around a section ----------------------------------------------

interface Measured<T> {
  value: T;
  wallMs: number;
  cpuMs: number;
  redisCpuMs: number | null;
}

async function measure<T>(admin: Redis, fn: () => Promise<T>): Promise<Measured<T>> {
  const redis0 = await redisCpuMs(admin);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const redis1 = await redisCpuMs(admin);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, redisCpuMs: redis0 !== null && redis1 !== null ? redis1 - redis0 : null };
}

async function redisCpuMs(admin: Redis): Promise<number | null> {
  const info = await admin.info('cpu');
  const sys = /used_cpu_sys:([\d.]+)/.exec(info)?.[1];
  const user = /used_cpu_user:([\d.]+)/.exec(info)?.[1];
  return sys && user ? (Number(sys) + Number(user)) * 1000 : null;
}

/** The runs of a section measured one by one (interleaved with another section), as one. */
function combine<T>(parts: Measured<T>[]): Measured<T[]> {
  const sum = (xs: (number | null)[]) => (xs.some((x) => x === null) ? null : xs.reduce<number>((t, x) => t + (x ?? 0), 0));
  return {
    value: parts.map((p) => p.value),
    wallMs: parts.reduce((t, p) => t + p.wallMs, 0),
    cpuMs: parts.reduce((t, p) => t + p.cpuMs, 0),
    redisCpuMs: sum(parts.map((p) => p.redisCpuMs)),
  };
}

function cpuLine(m: Measured<unknown>): string {
  const load = (ms: number) => `${Math.round((ms / m.wallMs) * 100)}%`;
  return `CPU over the section: this process ${load(m.cpuMs)} of one core, Redis ${m.redisCpuMs === null ? 'n/a' : load(m.redisCpuMs)}`;
}

// --- report -----------------------------------------------------------------------------------------

function printMachine(redis: string, logLevel: string, prefix: string, logFile: string): void {
  const cpu = os.cpus()[0];
  console.log('Runbook engine benchmark (issue 3)');
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`machine: ${os.cpus().length} cores, ${cpu?.model ?? 'unknown cpu'}, node ${process.version}, ${os.platform()} ${os.release()}, Redis ${redis} at ${REDIS_URL}; load average ${load} at start`);
  console.log(`code: ${codeVersion()}`);
  console.log(`service: in this process (createApp), alarms POSTed to /events/eventbridge; ENGINE_CONCURRENCY=${CONCURRENCY}, LOG_LEVEL=${logLevel} (log: ${logFile}), prefix ${prefix}`);
  console.log('timing: stored timestamps (run createdAt/finishedAt = run.planned/run.finished, step queuedAt/startedAt/finishedAt); start = bench clock just before the POST');
}

function report(r: {
  a: Measured<SequentialResult[]>;
  b: Measured<FanoutResult[]>;
  serial: FanoutResult[];
  c: Measured<BurstResult>;
  d: Measured<ChainResult[]>;
  overshoot: number[];
  trips: { raw: Trips; engine: Trips };
}): boolean {
  const a = r.a.value;
  const d = r.d.value;
  // The target's figure: a step's cost once the run is going, against a job's once the chain is.
  // What a run costs once (the intake, the plan job, creating the run) is not a step's; it is
  // shown apart (whole run, and "before the first step" below).
  const rawPerJob = median(d.map((x) => x.stepMs));
  const perStep = a.map((x) => x.stepMs);
  const ratio = median(perStep) / rawPerJob;
  const rawWhole = median(d.map((x) => x.wholeMs));
  const wholePerStep = a.map((x) => x.wallMs / STEPS);
  const wholeRatio = median(wholePerStep) / rawWhole;
  // Each run of (a) against the chain run just before it: steadier than the ratio of medians when
  // the machine's load changes during the section.
  const paired = a.map((x, i) => x.stepMs / d[i].stepMs);
  const tripsLine = (t: Trips, what: string) =>
    `${f(t.store + t.bull, 1)} per ${what} (BullMQ's connections ${f(t.bull, 1)}, the engine's store ${f(t.store, 1)}), counted in this process`;

  console.log(`\n(d) raw BullMQ, one job adding the next, ${STEPS} jobs, ${RUNS_A} chains, each run just before one of (a) (same Redis, StepQueue's worker settings, jobs shaped as the engine's)`);
  console.log(`    per job, once the chain is going (first job's processor → last's, / ${STEPS - 1}): median ${f(rawPerJob, 3)} ms, min ${f(Math.min(...d.map((x) => x.stepMs)), 3)} ms`);
  console.log(`    per job, whole chain (adding the first job → last job's processor, / ${STEPS}):       median ${f(rawWhole, 3)} ms`);
  console.log(`    Redis round trips: ${tripsLine(r.trips.raw, 'job')}`);
  console.log(`    ${cpuLine(r.d)}`);

  console.log(`\n(a) ${STEPS}-step sequential runbook of no-op steps, ${RUNS_A} runs (one incident each)`);
  console.log(`    run, POST → run finished:      median ${f(median(a.map((x) => x.wallMs)), 0)} ms, min ${f(Math.min(...a.map((x) => x.wallMs)), 0)} ms`);
  console.log(`    per step, once the run is going (first step started → last step started, / ${STEPS - 1}): median ${f(median(perStep), 3)} ms, min ${f(Math.min(...perStep), 3)} ms = ${f(ratio, 2)}× raw BullMQ chaining`);
  console.log(`    engine overhead per step:       ${f(median(perStep) - rawPerJob, 3)} ms over raw BullMQ's ${f(rawPerJob, 3)} ms per job`);
  console.log(`    each run vs the chain just before it: median ${f(median(paired), 2)}×, range ${f(Math.min(...paired), 2)}-${f(Math.max(...paired), 2)}×`);
  console.log(`    per step, whole run (POST → run finished, / ${STEPS}, with the intake, planning and the first pickup): median ${f(median(wholePerStep), 3)} ms = ${f(wholeRatio, 2)}× the whole raw chain`);
  console.log(`    per step, run.planned → finished: median ${f(median(a.map((x) => x.runMs / STEPS)), 2)} ms`);
  console.log(`    Redis round trips: ${tripsLine(r.trips.engine, 'step')}`);
  console.log(`    where a step's time goes (mean per step over all runs):`);
  const perStepMean = (k: keyof SequentialResult, n: number) => a.reduce((s, x) => s + x[k], 0) / (a.length * n);
  // queuedAt is the time the step was decided (before the call that queues it), finishedAt the time
  // the step before decided its outcome (before the call that records it).
  console.log(`      previous step finished → queued (recording it, deciding the next):                          ${f(perStepMean('handoffMs', STEPS - 1), 2)} ms`);
  console.log(`      queued → started (the call that queues it, queue.add, BullMQ hand-over, its start):        ${f(perStepMean('pickupMs', STEPS), 2)} ms`);
  console.log(`      started → finished (the no-op action, deciding what follows):                              ${f(perStepMean('execMs', STEPS), 2)} ms`);
  console.log(`      before the first step (intake, plan job, createRun): ${f(perStepMean('startMs', 1), 0)} ms per run`);
  console.log(`    ${cpuLine(r.a)}`);

  const b = r.b.value;
  const bRun = median(b.map((x) => x.runMs));
  const bWall = median(b.map((x) => x.wallMs));
  const over = (ms: number) => ms / CRITICAL_PATH_MS - 1;
  const serialRun = median(r.serial.map((x) => x.runMs));
  console.log(`\n(b) 6 parallel diagnostics, then 2 sequential steps, each sleeping ${SLEEP_MS} ms; ${RUNS_B} runs`);
  console.log(`    run.planned → run finished: median ${f(bRun, 0)} ms, min ${f(Math.min(...b.map((x) => x.runMs)), 0)} ms = ${pct(over(bRun))} over the critical path (${CRITICAL_PATH_MS} ms)`);
  console.log(`    POST → run finished:        median ${f(bWall, 0)} ms = ${pct(over(bWall))} over the critical path`);
  console.log(`    vs the 8 steps one after another: ${SERIAL_MS} ms on paper (${f(SERIAL_MS / bRun, 2)}× the parallel run); through the engine ${f(serialRun, 0)} ms (median of ${RUNS_SERIAL})`);
  const m = (k: keyof FanoutResult) => f(median(b.map((x) => x[k])), 0);
  console.log(`    where the run's time goes (medians, ms): planned → first diagnostic started ${m('startMs')}; the 6 started within ${m('spreadMs')};`);
  console.log(`      last diagnostic ${m('lastDiagnosticMs')}; → fix1 started ${m('joinMs')}; fix1 ${m('fix1Ms')}; → fix2 started ${m('chainMs')}; fix2 ${m('fix2Ms')}; → run finished ${m('endMs')}`);
  console.log(`      the ${SLEEP_MS} ms timers fired ${f(mean(r.overshoot), 1)} ms late on average (${f(3 * mean(r.overshoot), 1)} ms over the critical path is the timer, not the engine)`);
  console.log(`    ${cpuLine(r.b)}`);

  const c = r.c.value;
  const steps = INCIDENTS * 4;
  console.log(`\n(c) ${INCIDENTS} incidents at once (${INCIDENTS} services, runbook of 3 parallel no-op diagnostics then 1 step)`);
  console.log(`    all ${INCIDENTS} runs succeeded after ${f(c.totalMs, 0)} ms (alarms to AlarmIntakeService.receive, no HTTP; all ${INCIDENTS} taken in after ${f(c.intakeMs, 0)} ms)`);
  console.log(`    ${f((INCIDENTS / c.totalMs) * 1000, 0)} runs/s, ${f((steps / c.totalMs) * 1000, 0)} steps/s`);
  console.log(`    per run, burst start → finished: p50 ${f(percentile(c.latencies, 0.5), 0)} ms, p99 ${f(percentile(c.latencies, 0.99), 0)} ms; run.planned → finished p50 ${f(percentile(c.runMs, 0.5), 0)} ms`);
  console.log(`    ${cpuLine(r.c)}`);

  const stepMet = ratio <= GUARD_STEP_RATIO;
  const pathMet = over(bRun) <= GUARD_OVERHEAD;
  const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
  console.log('\nguards (issue 13; floors measured in this run)');
  console.log(
    `    ${verdict(stepMet)}  per step ${f(ratio, 2)}× raw BullMQ chaining (guard ≤ ${GUARD_STEP_RATIO}×): ${f(median(perStep), 3)} ms vs ${f(rawPerJob, 3)} ms a job; paired ${f(median(paired), 2)}×; whole run with its start ${f(wholeRatio, 2)}×`,
  );
  console.log(`    ${verdict(pathMet)}  parallel run ${pct(over(bRun))} over its critical path (guard ≤ +${GUARD_OVERHEAD * 100}%): ${f(bRun, 0)} ms vs ${CRITICAL_PATH_MS} ms; from the POST ${pct(over(bWall))}`);
  writeSummary({
    title: 'Engine (runbook steps)',
    rows: [
      { what: `a step once the run is going (${STEPS} sequential no-op steps)`, value: `${f(median(perStep), 3)} ms`, floor: `${f(rawPerJob, 3)} ms (raw BullMQ chaining)`, against: `${f(ratio, 2)}× (guard ≤ ${GUARD_STEP_RATIO}×): ${verdict(stepMet)}` },
      { what: `6 parallel + 2 sequential steps of ${SLEEP_MS} ms`, value: `${f(bRun, 0)} ms`, floor: `${CRITICAL_PATH_MS} ms (critical path)`, against: `${pct(over(bRun))} (guard ≤ +${GUARD_OVERHEAD * 100}%): ${verdict(pathMet)}` },
      { what: `${INCIDENTS} incidents at once`, value: `${f(c.totalMs, 0)} ms for all runs`, against: `${f((INCIDENTS / c.totalMs) * 1000, 0)} runs/s` },
    ],
  });
  return stepMet && pathMet;
}

function printTraffic(t: Traffic): void {
  const total = [...t.roundTrips.values()].reduce((s, n) => s + n, 0);
  const bull = [...t.roundTrips.entries()].filter(([label]) => isBullLabel(label)).reduce((s, [, n]) => s + n, 0);
  console.log(`\n(e) Redis commands of one more ${t.steps}-step run of (a), from MONITOR (not timed; intake and planning included; a pipeline's commands count apart)`);
  console.log(`    ${f(total / t.steps, 1)} commands per step (BullMQ ${f(bull / t.steps, 1)}, engine and intake ${f((total - bull) / t.steps, 1)}); ${f(t.insideLua / t.steps, 1)} more commands per step run inside Lua scripts`);
  const rows = [...t.roundTrips.entries()].sort((x, y) => y[1] - x[1]);
  for (const [label, n] of rows.slice(0, 14)) console.log(`    ${f(n / t.steps, 2).padStart(6)}  ${label}`);
  const rest = rows.slice(14).reduce((s, [, n]) => s + n, 0);
  if (rest > 0) console.log(`    ${f(rest / t.steps, 2).padStart(6)}  (other)`);
}

/** A MONITOR label of BullMQ's: one of its scripts (name:version) or its blocking pop. */
function isBullLabel(label: string): boolean {
  return /:\d+\.\d+\.\d+/.test(label) || label.startsWith('bzpopmin ');
}

// --- Redis round trips, counted in this process ------------------------------------------------------

interface Trips {
  /** Writes by the engine's store connection (the app's REDIS client). */
  store: number;
  /** Writes by every other connection to Redis: BullMQ's queue, worker and blocking connections. */
  bull: number;
}

/**
 * Counts the writes this process makes to Redis between start() and stop(), leaving out the bench's
 * own connections. ioredis writes a command, or a pipeline or MULTI block, in one write: one round
 * trip each.
 */
function writeCounter(url: string, ignore: Redis[], store: Redis) {
  const port = Number(new URL(url).port || 6379);
  const socketOf = (r: Redis) => (r as unknown as { stream?: Socket }).stream;
  const ignored = new Set(ignore.map(socketOf));
  const storeSocket = socketOf(store);
  let counts: Trips | null = null;
  const original = Socket.prototype.write;
  Socket.prototype.write = function (this: Socket, ...args: unknown[]) {
    if (counts && this.remotePort === port && !ignored.has(this)) {
      if (this === storeSocket) counts.store++;
      else counts.bull++;
    }
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  };
  return {
    start: () => void (counts = { store: 0, bull: 0 }),
    stop: (): Trips => {
      const out = counts ?? { store: 0, bull: 0 };
      counts = null;
      return out;
    },
    restore: () => void (Socket.prototype.write = original),
  };
}

function add(into: Trips, t: Trips): void {
  into.store += t.store;
  into.bull += t.bull;
}

function per(t: Trips, n: number): Trips {
  return { store: t.store / n, bull: t.bull / n };
}

// --- CPU profile (BENCH_CPU_PROF=1) -----------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

async function startProfile(): Promise<{ stop: () => Promise<Profile> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
      session.disconnect();
      return profile;
    },
  };
}

function printProfile(profile: Profile): void {
  const file = join(OUT_DIR, `engine-a-${Date.now()}.cpuprofile`);
  writeFileSync(file, JSON.stringify(profile));
  const total = profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0);
  const byArea = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const { url, functionName, lineNumber } = n.callFrame;
    const area = areaOf(url, functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
    const fn = `${functionName || '(anonymous)'} ${url ? `${relative(ROOT, url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : ''}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + hits);
  }
  const top = (m: Map<string, number>, n: number) => [...m.entries()].sort((x, y) => y[1] - x[1]).slice(0, n);
  console.log(`\nCPU profile of one more run of (a) (${relative(ROOT, file)}), self time by area:`);
  for (const [area, hits] of top(byArea, 10)) console.log(`    ${share(hits / total).padStart(6)}  ${area}`);
  console.log('  top functions:');
  for (const [fn, hits] of top(byFn, 12)) console.log(`    ${share(hits / total).padStart(6)}  ${fn}`);
}

function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const path = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (pkg) return pkg[1];
  if (path.startsWith('node:')) return 'node internals';
  const rel = relative(ROOT, path);
  return rel.startsWith('..') ? path : rel;
}

// --- helpers ----------------------------------------------------------------------------------------

const at = (iso: string | undefined): number => {
  if (!iso) throw new Error('a timestamp is missing');
  return Date.parse(iso);
};

function mean(xs: number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function median(xs: number[]): number {
  return percentile(xs, 0.5);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  if (s.length === 0) return NaN;
  const i = (s.length - 1) * p;
  const lo = Math.floor(i);
  return s[lo] + (s[Math.ceil(i)] - s[lo]) * (i - lo);
}

const f = (x: number, digits: number) => x.toFixed(digits);
/** A change, signed, to a tenth (a target of 10% must not read "+10%" when it is 10.7%). */
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
/** A share: 12.5%. */
const share = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The commit measured, and whether apps/ or libs/ had uncommitted changes (read-only git commands). */
function codeVersion(): string {
  // BENCH_GIT=0: no git at all (e.g. while others commit in the same checkout: `git status` may take the index lock).
  if (process.env.BENCH_GIT === '0') return 'not read (BENCH_GIT=0)';
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = git('status', '--porcelain', '--', 'apps', 'libs') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes in apps/ or libs/' : ''}`;
  } catch {
    return 'unknown (no git)';
  }
}

async function redisVersion(admin: Redis): Promise<string> {
  return /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive whole number`);
  return n;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error((err as Error).stack ?? String(err));
    process.exit(1);
  },
);
