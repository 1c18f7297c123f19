/**
 * Production-down end to end: the built service, the shipped runbook, an emulated production in
 * moto_server with AWS's latency injected on every call, from the alarm to the verdict and to the
 * automatic rollback.
 *
 *   npm run bench:production-down       # builds, then runs this file
 *   BENCH_AWS_LATENCY_MS=200            # latency added to every AWS call (default 200)
 *   BENCH_RUNS=3                        # runs, each on a freshly seeded moto_server (default 3)
 *
 * Each run seeds the sandbox's production (scripts/seed-sandbox.ts: checkout just rolled from :41
 * to :42, 5xx rising since), starts the built service with AWS_ENDPOINT_URL pointing at a stand-in
 * in front of moto that holds every call BENCH_AWS_LATENCY_MS (and answers CloudTrail, which moto
 * lacks), sends the alarm, and waits for the rollback the recent-deploy policy grants.
 *
 * The floor is the run's own critical path: the longest chain of steps through the runbook's
 * `needs`, each weighed by how long that step took (its AWS calls at the injected latency, and its
 * own work). What is over it is the engine: queueing, planning, gates, the store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { parse } from 'yaml';
import { type AwsOverlay, json, startAwsOverlay } from '../test/scenarios/support/aws-overlay';
import { alarmEvent } from '../test/support/events';
import { deleteByPrefix } from '../test/support/redis';
import { freePort } from '../test/support/net';
import { REGION, deployedMinutesAgo, sandboxCatalog, seedSandbox } from '../scripts/seed-sandbox';
import { type Child, OUT_DIR, REDIS_URL, ROOT, median, sleep, startChild, stopChild, waitReady, writeSummary } from './support/service';
import { withoutGoals } from '../test/support/runbook-text';

const LATENCY_MS = int('BENCH_AWS_LATENCY_MS', 200, true);
const RUNS = int('BENCH_RUNS', 3);

interface StepView {
  id: string;
  status: string;
  startedAt?: string;
  finishedAt?: string;
  approvedBy?: string;
}

interface Measured {
  /** Alarm sent → the run's first step started: the intake, the plan job, creating the run. */
  firstStepMs: number;
  verdictMs: number;
  verdictPathMs: number;
  mitigationMs: number;
  mitigationPathMs: number;
  calls: number;
  path: string[];
}

async function main(): Promise<number> {
  // moto never reaches a mitigation's goal (no task runs): the benchmark times the call, not its goal.
  const runbookText = withoutGoals(readFileSync(join(ROOT, 'runbooks', 'production-down.yaml'), 'utf8'))
    .replace('settle_seconds: { default: 120,', 'settle_seconds: { default: 0,')
    .replace('verify_seconds: { default: 300,', 'verify_seconds: { default: 0,');
  const needs = new Map<string, string[]>(
    ((parse(runbookText) as { steps: { id: string; needs?: string[] }[] }).steps ?? []).map((s) => [s.id, s.needs ?? []]),
  );
  const results: Measured[] = [];
  for (let i = 0; i < RUNS; i++) {
    const m = await oneRun(runbookText, needs);
    results.push(m);
    console.log(
      `  run ${i + 1}: alarm → verdict ${m.verdictMs} ms (critical path ${m.verdictPathMs} ms), alarm → rollback done ${m.mitigationMs} ms (critical path ${m.mitigationPathMs} ms), ${m.calls} AWS calls`,
    );
  }
  const f = (xs: number[]) => median(xs).toFixed(0);
  const over = (a: number, b: number) => `${a - b >= 0 ? '+' : ''}${(a - b).toFixed(0)} ms (${((a / b - 1) * 100).toFixed(0)}%)`;
  const verdict = median(results.map((r) => r.verdictMs));
  const verdictPath = median(results.map((r) => r.verdictPathMs));
  const mitigation = median(results.map((r) => r.mitigationMs));
  const mitigationPath = median(results.map((r) => r.mitigationPathMs));
  console.log(`\nResponder production-down benchmark: ${RUNS} runs, ${LATENCY_MS} ms injected per AWS call, medians`);
  console.log(`  alarm → verdict           ${f(results.map((r) => r.verdictMs))} ms; its critical path ${f(results.map((r) => r.verdictPathMs))} ms; over it ${over(verdict, verdictPath)}`);
  console.log(`  alarm → rollback done     ${f(results.map((r) => r.mitigationMs))} ms; its critical path ${f(results.map((r) => r.mitigationPathMs))} ms; over it ${over(mitigation, mitigationPath)}`);
  console.log(`  alarm → first step started ${f(results.map((r) => r.firstStepMs))} ms (intake, plan, run created: part of what is over the critical path)`);
  console.log(`  critical path: ${results[0].path.join(' → ')}`);
  writeSummary({
    title: 'Production-down end to end',
    rows: [
      { what: `alarm → verdict (${LATENCY_MS} ms per AWS call, median of ${RUNS})`, value: `${verdict.toFixed(0)} ms`, floor: `${verdictPath.toFixed(0)} ms (critical path of its steps)`, against: over(verdict, verdictPath) },
      { what: 'alarm → automatic rollback done', value: `${mitigation.toFixed(0)} ms`, floor: `${mitigationPath.toFixed(0)} ms (critical path)`, against: over(mitigation, mitigationPath) },
    ],
    notes: [
      `critical path: ${results[0].path.join(' → ')}; ${median(results.map((r) => r.calls))} AWS calls a run`,
      `alarm → first step started: ${f(results.map((r) => r.firstStepMs))} ms (the intake, the plan job, creating the run), part of what is over the critical path`,
    ],
  });
  return 0;
}

async function oneRun(runbookText: string, needs: Map<string, string[]>): Promise<Measured> {
  const dir = join(OUT_DIR, `production-down-${process.pid}`);
  mkdirSync(join(dir, 'runbooks'), { recursive: true });
  writeFileSync(join(dir, 'runbooks', 'production-down.yaml'), runbookText);
  const prefix = `bench-pd:${randomBytes(4).toString('hex')}`;
  const ingestKey = randomBytes(24).toString('base64url');
  const apiToken = randomBytes(24).toString('base64url');
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
  let moto: ChildProcess | null = null;
  let overlay: AwsOverlay | null = null;
  let child: Child | null = null;
  try {
    const motoPort = await freePort();
    moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(motoPort)], { stdio: 'ignore' });
    const motoUrl = `http://127.0.0.1:${motoPort}`;
    await until(`moto_server at ${motoUrl}`, async () => (await fetch(motoUrl)).status < 500);
    const prod = await seedSandbox(motoUrl);
    writeFileSync(join(dir, 'service-catalog.yaml'), sandboxCatalog(prod));

    overlay = await startAwsOverlay(motoUrl, { latencyMs: LATENCY_MS });
    overlay.on('ecs:DescribeServices', { ...deployedMinutesAgo(prod, 10), delayMs: () => LATENCY_MS });
    // moto has no LookupEvents: no changes in the window, answered at the same latency.
    overlay.on('cloudtrail:LookupEvents', { answer: () => json(200, { Events: [] }) });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    child = startChild('production-down', {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      REDIS_URL,
      REDIS_PREFIX: prefix,
      AWS_ENDPOINT_URL: overlay.url,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      RUNBOOKS_DIR: join(dir, 'runbooks'),
      SERVICE_CATALOG: join(dir, 'service-catalog.yaml'),
      INGEST_API_KEY: ingestKey,
      API_TOKEN: apiToken,
      LOG_LEVEL: 'warn',
    });
    await waitReady(child, base);
    const callsBefore = total(overlay);

    const sentAt = Date.now();
    const res = await fetch(`${base}/events/eventbridge`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': ingestKey },
      body: JSON.stringify(alarmEvent({ alarmName: 'checkout-alb-5xx', state: 'ALARM', at: new Date(sentAt), reason: 'Threshold Crossed: HTTPCode_ELB_5XX_Count > 25 for 3 datapoints' })),
    });
    if (res.status !== 202) throw new Error(`POST /events/eventbridge answered ${res.status}: ${await res.text()}`);
    const { incidentId } = (await res.json()) as { incidentId: string };
    const steps = await until('the automatic rollback', async () => {
      const incident = (await (await fetch(`${base}/incidents/${incidentId}`, { headers: { authorization: `Bearer ${apiToken}` } })).json()) as { runs?: { steps: StepView[] }[] };
      const all = incident.runs?.[0]?.steps ?? [];
      const rollback = all.find((s) => s.id === 'rollback');
      if (rollback && ['failed', 'skipped', 'awaiting_approval', 'rejected', 'cancelled'].includes(rollback.status)) {
        throw new Error(`the rollback did not run by policy: ${rollback.status}`);
      }
      return rollback?.status === 'succeeded' && rollback.finishedAt ? all : undefined;
    }, 120_000);
    const at = (id: string, key: 'startedAt' | 'finishedAt') => Date.parse(steps.find((s) => s.id === id)?.[key] ?? '');
    const verdictPath = criticalPath('diagnose', needs, steps);
    const mitigationPath = criticalPath('rollback', needs, steps);
    const firstStart = Math.min(...steps.filter((s) => s.startedAt).map((s) => Date.parse(s.startedAt!)));
    return {
      firstStepMs: firstStart - sentAt,
      verdictMs: at('diagnose', 'finishedAt') - sentAt,
      verdictPathMs: verdictPath.ms,
      mitigationMs: at('rollback', 'finishedAt') - sentAt,
      mitigationPathMs: mitigationPath.ms,
      calls: total(overlay) - callsBefore,
      path: mitigationPath.steps,
    };
  } finally {
    await stopChild(child);
    await overlay?.close();
    moto?.kill('SIGTERM');
    await deleteByPrefix(redis, prefix);
    await redis.quit();
  }
}

/** The longest chain of step durations that ends at `target`, through the runbook's `needs` (steps that did not run weigh 0). */
function criticalPath(target: string, needs: Map<string, string[]>, steps: StepView[]): { ms: number; steps: string[] } {
  const duration = (id: string) => {
    const s = steps.find((x) => x.id === id);
    return s?.startedAt && s.finishedAt ? Date.parse(s.finishedAt) - Date.parse(s.startedAt) : 0;
  };
  const memo = new Map<string, { ms: number; steps: string[] }>();
  const longest = (id: string): { ms: number; steps: string[] } => {
    const known = memo.get(id);
    if (known) return known;
    let best = { ms: 0, steps: [] as string[] };
    for (const need of needs.get(id) ?? []) {
      const before = longest(need);
      if (before.ms > best.ms) best = before;
    }
    const result = { ms: best.ms + duration(id), steps: [...best.steps, id] };
    memo.set(id, result);
    return result;
  };
  return longest(target);
}

function total(overlay: AwsOverlay): number {
  return [...overlay.allCalls().values()].reduce((a, b) => a + b, 0);
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | null = null;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('the rollback')) throw err;
      last = err instanceof Error ? err : new Error(String(err));
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ''}`);
}

function int(name: string, fallback: number, zeroOk = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) throw new Error(`${name} must be a whole number${zeroOk ? '' : ' above 0'}`);
  return n;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
