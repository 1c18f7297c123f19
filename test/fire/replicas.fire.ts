import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { API_TOKEN, INGEST_KEY } from '../support/app';
import { client } from '../support/engine';
import { alarmEvent } from '../support/events';
import { freePort } from '../support/net';
import { testRedis } from '../support/redis';
import { testCount } from '../support/test-actions';

/**
 * Three service processes on one Redis prefix (two `all`, one `worker`): an alarm storm with
 * duplicates sent to both HTTP replicas, and a production-down-shaped run during it; one replica
 * is SIGKILLed while the mutating step is in flight. Every alarm is stored once, every step runs
 * once, the mutating call is made once. (`npm run test:fire`.)
 */

const ROOT = join(__dirname, '..', '..');
const { redis, prefix, cleanup } = testRedis('fire');
const dir = mkdtempSync(join(tmpdir(), 'fire-'));
const SERVICES = Array.from({ length: 10 }, (_, i) => `svc${String(i).padStart(2, '0')}`);
const catalogFile = join(dir, 'catalog.yaml');
writeFileSync(
  catalogFile,
  `approverGroups:
  oncall: { users: [alice@example.com] }
services:
  prod: { alarms: { patterns: ["prod-*"] }, approvers: [oncall], autonomy: { test.mutate: auto }, limits: { cooldownMinutes: 0 } }
${SERVICES.map((s) => `  ${s}: { alarms: { patterns: ["${s}-*"] }, approvers: [oncall] }`).join('\n')}
`,
);
// The rollback runs unattended (approval: none), which the service's autonomy must allow.
const runbookFile = join(dir, 'prod.yaml');
writeFileSync(
  runbookFile,
  `
name: prod-down
triggers: { services: [prod] }
steps:
  - { id: targets, action: test.diagnose, with: { value: 1, sleep_ms: 300 } }
  - { id: deploys, action: test.diagnose, with: { value: 2, sleep_ms: 300 } }
  - id: rollback
    action: test.mutate
    needs: [targets, deploys]
    with: { target: "\${{ incident.id }}", sleep_ms: 4000 }
    approval: none
  - { id: verify, action: test.diagnose, needs: [rollback], with: { value: 3 } }
`,
);

const children = new Map<string, ChildProcess>();
const urls = new Map<string, string>();
afterAll(async () => {
  for (const c of children.values()) c.kill('SIGKILL');
  await cleanup();
});

async function startReplica(name: string, role: 'all' | 'api' | 'worker'): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'test/support/engine-child.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      PORT: String(port),
      REDIS_PREFIX: prefix,
      RESPONDER_ROLE: role,
      INGEST_API_KEY: INGEST_KEY,
      API_TOKEN,
      LOG_LEVEL: 'warn',
      ENGINE_STALLED_MS: '2000',
      CATALOG_FILE: catalogFile,
      RUNBOOK_FILES: runbookFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.set(name, child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('CHILD-LISTENING') && resolve());
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${stderr}`)));
  });
  urls.set(name, `http://127.0.0.1:${port}`);
  return `http://127.0.0.1:${port}`;
}

/** Runs the tasks, `width` at a time. */
async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < tasks.length) {
        const i = next++;
        out[i] = await tasks[i]();
      }
    }),
  );
  return out;
}

jest.setTimeout(180_000);

it('a storm and a production-down run on three replicas, one SIGKILLed mid-call: nothing lost, nothing doubled', async () => {
  const [a, b] = await Promise.all([startReplica('a', 'all'), startReplica('b', 'all'), startReplica('c', 'worker')]);
  const api = client(a);

  // The production-down alarm, then the storm while its run goes on.
  const prodIncident = await client(b).alarm('prod-alb-5xx');
  const t0 = Date.now() - 60_000;
  const events = SERVICES.flatMap((s, i) => Array.from({ length: 10 }, (_, j) => alarmEvent({ alarmName: `${s}-alarm-${j}`, at: new Date(t0 + i * 10 + j) })));
  // Every event three times, to both HTTP replicas, in a shuffled order.
  const deliveries = events.flatMap((e, i) => [0, 1, 2].map((k) => ({ event: e, url: (i + k) % 2 === 0 ? a : b, order: (i * 7919 + k * 104729) % 1009 })));
  deliveries.sort((x, y) => x.order - y.order);
  const storm = pool(
    deliveries.map((d) => () => request(d.url).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(d.event).then((r) => r.status)),
    16,
  );

  // Kill the worker-only replica while the mutating call is in flight (whoever runs it: if that
  // was this one, the job comes back after the lock expires and is reconciled, not called again).
  await api.waitStep(prodIncident, 'rollback', ['running'], 30_000);
  children.get('c')!.kill('SIGKILL');
  const statuses = await storm;
  expect(statuses.filter((s) => s !== 202)).toEqual([]);

  const run = await api.waitRun(prodIncident, ['succeeded'], 60_000);
  for (const step of ['targets', 'deploys', 'verify']) expect({ step, calls: await testCount(redis, prefix, 'calls', run.id, step) }).toEqual({ step, calls: 1 });
  expect(await testCount(redis, prefix, 'calls', run.id, 'rollback')).toBe(1);
  expect(await testCount(redis, prefix, 'calls-total', prodIncident)).toBe(1);

  // Exactly one incident per storming service, each with its ten alarms, each alarm received once.
  const open = (await api.get('/incidents?status=open&limit=200').expect(200)).body as { items: { id: string; service: string | null; alarms: { name: string }[] }[] };
  const byService = new Map<string, { id: string; alarms: { name: string }[] }[]>();
  for (const i of open.items) byService.set(i.service ?? '(unrouted)', [...(byService.get(i.service ?? '(unrouted)') ?? []), i]);
  expect([...byService.keys()].sort()).toEqual(['prod', ...SERVICES].sort());
  for (const s of SERVICES) {
    const [incident, ...others] = byService.get(s)!;
    expect(others).toHaveLength(0);
    expect(incident.alarms.map((x) => x.name).sort()).toEqual(Array.from({ length: 10 }, (_, j) => `${s}-alarm-${j}`).sort());
    const timeline = await api.timeline(incident.id);
    expect(timeline.filter((e) => e.type === 'alarm.received')).toHaveLength(10);
  }
});

/** Sends SIGTERM and waits for the process to exit (it finishes its jobs within SHUTDOWN_GRACE_MS). */
async function stopReplica(name: string): Promise<void> {
  const child = children.get(name)!;
  // The start-up listener would report this exit as a failure to start.
  child.removeAllListeners('exit');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await exited;
  children.delete(name);
}

it('a second run goes on through a SIGTERM of one replica and a rolling restart of the others: each step once', async () => {
  const api = client(urls.get('a')!);
  // Resolve the first incident, so that the next alarm opens a new one with a new run.
  await request(urls.get('a')!).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(alarmEvent({ alarmName: 'prod-alb-5xx', state: 'OK' })).expect(202);
  await startReplica('c2', 'worker');
  const incidentId = await api.alarm('prod-alb-5xx');
  await api.waitStep(incidentId, 'targets', ['running', 'succeeded'], 30_000);
  await stopReplica('b');
  await startReplica('b2', 'all');
  await api.waitStep(incidentId, 'rollback', ['running', 'succeeded'], 30_000);
  // Rolling restart of the workers' side: one at a time, a new one up before the next goes.
  await stopReplica('c2');
  await startReplica('c3', 'worker');
  const run = await client(urls.get('b2')!).waitRun(incidentId, ['succeeded'], 60_000);
  for (const step of ['targets', 'deploys', 'rollback', 'verify']) expect({ step, calls: await testCount(redis, prefix, 'calls', run.id, step) }).toEqual({ step, calls: 1 });
  expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
  // The last of the rolling restart: replica a, with nothing left to lose.
  await stopReplica('a');
});
