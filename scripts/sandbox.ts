/**
 * `npm run sandbox`: Responder against a small emulated production, end to end, on this machine.
 *
 *   npm run sandbox                      # builds, then runs this file; Ctrl-C stops everything
 *   SANDBOX_EXIT=1 npm run sandbox       # exits after the summary (CI)
 *   MOTO_URL=http://127.0.0.1:5000       # use a running (fresh) moto_server instead of starting one
 *   PORT=3000                            # the service's port (default 3000)
 *   REDIS_URL=redis://127.0.0.1:6379     # must answer; the sandbox works under its own prefix (sandbox-<pid>), removed on exit
 *   SANDBOX_SETTLE_SECONDS=10            # the runbook's settle time in the sandbox copy (shipped: 120)
 *   SANDBOX_VERIFY_SECONDS=15            # how long its recovery check waits (shipped: 300; moto never
 *                                        # evaluates alarms, so the check reports "not recovered")
 *
 * 1. starts `moto_server` on a free port (or uses MOTO_URL) and waits until it answers;
 * 2. seeds it (scripts/seed-sandbox.ts): ECS cluster `prod`, service `checkout` rolled from
 *    checkout:41 to :42, ALB target group `checkout-blue` with one stopped instance, log errors,
 *    5xx and CPU metrics, Aurora cluster `prod-orders`;
 * 3. writes .sandbox/service-catalog.yaml (the real ARNs) and .sandbox/runbooks/production-down.yaml
 *    (the shipped runbook, settle and verify times shortened);
 * 4. starts the built service against moto, CloudTrail against the local stand-in
 *    (test/support/cloudtrail-stub.ts: moto has no LookupEvents) (its log: .sandbox/service.log);
 * 5. sends the alarm `checkout-alb-5xx`, waits (at most 60 s) until the run settles and prints each
 *    step, and the curl commands to follow the incident.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import Redis from 'ioredis';
import { ApiTokenStore } from '@responder/store';
import { startCloudTrailStub } from '../test/support/cloudtrail-stub';
import { deleteByPrefix } from '../test/support/redis';
import { startAwsOverlay } from '../test/scenarios/support/aws-overlay';
import { alarmEvent } from '../test/support/events';
import { REGION, type SandboxProduction, deployedMinutesAgo, sandboxCatalog, seedSandbox } from './seed-sandbox';
import { freePort } from '../test/support/net';

const ROOT = resolve(__dirname, '..');
const MAIN = join(ROOT, 'dist/apps/responder/apps/responder/src/main.js');
const DIR = join(ROOT, '.sandbox');
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
// Its own prefix each time, removed on exit: two sandboxes (or a sandbox and a service) never share keys.
const REDIS_PREFIX = `sandbox-${process.pid}`;
const PORT = Number(process.env.PORT || 3000);
const SETTLE_SECONDS = Number(process.env.SANDBOX_SETTLE_SECONDS || 10);
const VERIFY_SECONDS = Number(process.env.SANDBOX_VERIFY_SECONDS || 15);
const EXIT = process.env.SANDBOX_EXIT === '1';
const ALARM = 'checkout-alb-5xx';
const SETTLED = new Set(['succeeded', 'failed', 'skipped', 'rejected', 'timed_out', 'cancelled', 'awaiting_approval']);

const children: ChildProcess[] = [];

interface Step {
  id: string;
  status: string;
  summary?: string;
  reason?: string;
  error?: string;
  plan?: string;
  paramsHash?: string;
  approval?: string;
  approvedBy?: string;
}
interface Run {
  runbook: string;
  status: string;
  steps: Step[];
}

async function main(): Promise<void> {
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));

  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(join(DIR, 'runbooks'), { recursive: true });

  await checkRedis();

  const motoUrl = process.env.MOTO_URL || (await startMoto());
  await waitFor(`moto_server at ${motoUrl}`, async () => (await fetch(motoUrl)).status < 500, 20_000);
  log(`moto_server: ${motoUrl}`);

  const prod = await seedSandbox(motoUrl).catch((e: unknown) => {
    throw new Error(`seeding moto failed (use a fresh moto_server: the sandbox creates fixed names): ${(e as Error).message}`);
  });
  log(`seeded: ECS ${prod.cluster}/${prod.service} on ${short(prod.taskDefinitions.current)} (was ${short(prod.taskDefinitions.previous)}), ` +
    `target group checkout-blue (${prod.instances.stopped} stopped), ${prod.logGroup}, Aurora ${prod.auroraCluster}`);

  const catalogFile = join(DIR, 'service-catalog.yaml');
  writeFileSync(catalogFile, sandboxCatalog(prod));
  const runbook = readFileSync(join(ROOT, 'runbooks', 'production-down.yaml'), 'utf8')
    .replace('settle_seconds: { default: 120,', `settle_seconds: { default: ${SETTLE_SECONDS},`)
    .replace('verify_seconds: { default: 300,', `verify_seconds: { default: ${VERIFY_SECONDS},`);
  writeFileSync(join(DIR, 'runbooks', 'production-down.yaml'), runbook);
  log(`catalog: ${rel(catalogFile)}; runbooks: ${rel(join(DIR, 'runbooks'))} (production-down.yaml, settle ${SETTLE_SECONDS}s, verify ${VERIFY_SECONDS}s)`);

  const ingestKey = randomBytes(24).toString('hex');
  const apiToken = randomBytes(24).toString('hex');
  const base = `http://127.0.0.1:${PORT}`;
  const logFile = join(DIR, 'service.log');
  // moto has no CloudTrail LookupEvents: the changes step reads the stand-in (no changes seeded).
  const cloudtrail = await startCloudTrailStub({ region: REGION });
  // The service reads AWS through a stand-in in front of moto that dates the deployment of :42 ten
  // minutes back, before the seeded impact (moto stamps it "now").
  const overlay = await startAwsOverlay(motoUrl);
  overlay.on('ecs:DescribeServices', deployedMinutesAgo(prod, 10));
  const service = startService({ motoUrl: overlay.url, cloudtrailUrl: cloudtrail.url, catalogFile, ingestKey, apiToken, logFile });
  await waitFor(
    `the service on ${base} (GET /ready; its log: ${rel(logFile)})`,
    async () => {
      if (service.exitCode !== null) throw new Error(`the service exited (${service.exitCode}):\n${tail(logFile)}`);
      return (await fetch(`${base}/ready`)).status === 200;
    },
    30_000,
  );
  log(`service: ${base} (log: ${rel(logFile)})`);

  const onset = new Date();
  const res = await fetch(`${base}/events/eventbridge`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': ingestKey },
    body: JSON.stringify(alarmEvent({ alarmName: ALARM, state: 'ALARM', at: onset, reason: 'Threshold Crossed: HTTPCode_ELB_5XX_Count > 25 for 3 datapoints' })),
  });
  if (res.status !== 202) throw new Error(`POST /events/eventbridge answered ${res.status}: ${await res.text()}`);
  const { incidentId, outcome } = (await res.json()) as { incidentId: string; outcome: string };
  log(`alarm ${ALARM} ALARM sent: incident ${incidentId} (${outcome}); waiting for the run to settle (at most 60 s)…`);

  const auth = { authorization: `Bearer ${apiToken}` };
  let runs: Run[] = [];
  const settled = await waitFor(
    'the run',
    async () => {
      const r = await fetch(`${base}/incidents/${incidentId}`, { headers: auth });
      runs = ((await r.json()) as { runs: Run[] }).runs ?? [];
      return runs.length > 0 && runs.every((run) => run.status !== 'running' || run.steps.every((s) => SETTLED.has(s.status)));
    },
    60_000,
  ).then(
    () => true,
    () => false,
  );

  const taskDefinition = await currentTaskDefinition(motoUrl, prod);
  const aliceToken = await personalToken('alice@example.com');
  printSummary({ incidentId, runs, settled, base, apiToken, aliceToken, ingestKey, taskDefinition });

  if (EXIT) return shutdown(0);
  log('moto_server and the service keep running; Ctrl-C stops both.');
}

function startService(o: { motoUrl: string; cloudtrailUrl: string; catalogFile: string; ingestKey: string; apiToken: string; logFile: string }): ChildProcess {
  const out = openSync(o.logFile, 'w');
  // Only what the service needs: a developer's SQS_QUEUE_URL or Slack token must not leak in.
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    PORT: String(PORT),
    REDIS_URL,
    REDIS_PREFIX,
    AWS_ENDPOINT_URL: o.motoUrl,
    AWS_ENDPOINT_URL_CLOUDTRAIL: o.cloudtrailUrl,
    AWS_REGION: REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    RUNBOOKS_DIR: join(DIR, 'runbooks'),
    SERVICE_CATALOG: o.catalogFile,
    INGEST_API_KEY: o.ingestKey,
    API_TOKEN: o.apiToken,
    LOG_LEVEL: 'info',
  };
  const proc = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', out, out] });
  closeSync(out);
  children.push(proc);
  return proc;
}

async function startMoto(): Promise<string> {
  const port = await freePort();
  const out = openSync(join(DIR, 'moto.log'), 'w');
  const proc = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', out, out] });
  closeSync(out);
  proc.on('error', (e) => {
    console.error(`sandbox: cannot start moto_server (${e.message}); install it with pip install "moto[server]" or set MOTO_URL`);
    void shutdown(1);
  });
  children.push(proc);
  return `http://127.0.0.1:${port}`;
}

/** Redis must answer; keys under this sandbox's prefix are removed (a fresh moto has none of its resources). */
async function checkRedis(): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  let cause = '';
  redis.on('error', (e: Error) => (cause ||= e.message));
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    throw new Error(`Redis at ${REDIS_URL} does not answer (${cause || (e as Error).message}): start one (redis-server, or docker compose up redis) or set REDIS_URL`);
  }
  await deleteByPrefix(redis, REDIS_PREFIX);
  await redis.quit();
}

async function currentTaskDefinition(motoUrl: string, prod: SandboxProduction): Promise<string> {
  const ecs = new ECSClient({ endpoint: motoUrl, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  try {
    const out = await ecs.send(new DescribeServicesCommand({ cluster: prod.cluster, services: [prod.service] }));
    return out.services?.[0]?.taskDefinition ?? '?';
  } finally {
    ecs.destroy();
  }
}

/** What `npm run cli -- tokens create <user>` does: approvals need a person's token, not API_TOKEN. */
async function personalToken(user: string): Promise<string> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    return (await new ApiTokenStore(redis, REDIS_PREFIX).create(user, { label: 'sandbox' })).token;
  } finally {
    redis.disconnect();
  }
}

function printSummary(o: { incidentId: string; runs: Run[]; settled: boolean; base: string; apiToken: string; aliceToken: string; ingestKey: string; taskDefinition: string }): void {
  const lines: string[] = [''];
  for (const run of o.runs) {
    lines.push(`Run ${run.runbook}: ${run.status}${o.settled ? '' : ' (not settled after 60 s)'}`);
    for (const s of run.steps) {
      const approval = s.approvedBy ? ` [approved by ${s.approvedBy}]` : s.status === 'awaiting_approval' ? ' [waiting for approval]' : '';
      const text = s.summary ?? s.error ?? s.reason ?? s.plan ?? '';
      lines.push(`  ${s.id.padEnd(20)} ${s.status.padEnd(18)} ${text}${approval}`);
    }
  }
  lines.push('', `checkout now runs ${short(o.taskDefinition)}`, '');
  lines.push(`API_TOKEN=${o.apiToken}`, `INGEST_API_KEY=${o.ingestKey}`, `alice@example.com's personal token (approvals): ${o.aliceToken}`, '');
  const curl = `curl -s -H "Authorization: Bearer ${o.apiToken}"`;
  lines.push('The incident and its runs:', `  ${curl} ${o.base}/incidents/${o.incidentId}`);
  lines.push('Its timeline:', `  ${curl} ${o.base}/incidents/${o.incidentId}/timeline`);
  const waiting = o.runs.flatMap((r) => r.steps).filter((s) => s.status === 'awaiting_approval');
  // Every line pastes into a shell as printed: no <placeholders> (a shell reads < as a redirection).
  lines.push('The same with the command line, as alice:', `  export RESPONDER_URL=${o.base} RESPONDER_TOKEN=${o.aliceToken}`, `  ./bin/responder incidents show ${o.incidentId}`);
  if (waiting.length > 0) {
    for (const s of waiting) lines.push(`Approve ${s.id} (${s.plan ?? ''}):`, `  ./bin/responder approve ${o.incidentId} ${s.id} --hash ${s.paramsHash ?? ''}`);
  } else {
    lines.push('Approve a step once one waits (none does now): set STEP to its id; the plan is shown before it is approved:', `  STEP=scale-up; ./bin/responder approve ${o.incidentId} "$STEP" --yes`);
  }
  console.log(lines.join('\n'));
}

/** Removes the sandbox's keys (on exit); a Redis that is gone by then keeps them, with a word. */
async function removeKeys(): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000, commandTimeout: 5000 });
  try {
    await redis.connect();
    const removed = await deleteByPrefix(redis, REDIS_PREFIX);
    log(`removed ${removed} Redis keys under ${REDIS_PREFIX}:`);
  } catch (e) {
    log(`could not remove the Redis keys under ${REDIS_PREFIX}: (${(e as Error).message})`);
  } finally {
    redis.disconnect();
  }
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((done) => {
          if (c.exitCode !== null || c.signalCode !== null) return done();
          const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
          c.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  await removeKeys();
  process.exit(code);
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (e) {
      last = e;
      if (e instanceof Error && /exited/.test(e.message)) throw e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
}


function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

const short = (taskDefinitionArn: string) => taskDefinitionArn.split('/').at(-1) ?? taskDefinitionArn;
const rel = (path: string) => relative(process.cwd(), path) || '.';
const log = (message: string) => console.log(`sandbox: ${message}`);

main().catch((e: unknown) => {
  console.error(`sandbox: ${(e as Error).message}`);
  void shutdown(1);
});
