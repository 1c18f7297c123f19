import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_TOKEN, INGEST_KEY } from '../support/app';
import { client, eventually } from '../support/engine';
import { FIXTURES } from '../support/events';
import { testRedis } from '../support/redis';
import { testCount } from '../support/test-actions';
import { freePort } from '../support/net';

const ROOT = join(__dirname, '..', '..');
const { redis, prefix, cleanup } = testRedis('crash');
const dir = mkdtempSync(join(tmpdir(), 'crash-'));
const runbookFile = join(dir, 'crash.yaml');
writeFileSync(
  runbookFile,
  `
name: crash
triggers: { services: [crash] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1, sleep_ms: 1500 } }
  - id: change
    action: test.mutate
    needs: [look]
    with: { target: "\${{ incident.id }}", sleep_ms: 2500 }
    approval: none
  - { id: verify, action: test.diagnose, needs: [change], with: { value: 2, sleep_ms: 100 } }
`,
);
const precallFile = join(dir, 'precall.yaml');
writeFileSync(
  precallFile,
  `
name: precall
triggers: { services: [precall] }
steps:
  - id: change
    action: test.mutate
    with: { target: "\${{ incident.id }}", read_ms: 4000 }
    approval: none
`,
);

const goalFile = join(dir, 'goal.yaml');
writeFileSync(
  goalFile,
  `
name: crashgoal
triggers: { services: [crashgoal] }
steps:
  - id: change
    action: test.mutate
    with: { target: "\${{ incident.id }}" }
    approval: none
    goal: { within: 60s, poll: 0.3, checks: [alarms-ok] }
`,
);

const waitFile = join(dir, 'wait.yaml');
writeFileSync(
  waitFile,
  `
name: crashwait
triggers: { services: [crashwait] }
steps:
  - { id: settle, action: wait, with: { seconds: 6 } }
  - { id: after, action: test.diagnose, needs: [settle], with: { value: 1 } }
`,
);

const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await cleanup();
});


/** Starts the service in a child process and waits until it listens. */
async function startChild(): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', 'test/support/engine-child.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      PORT: String(port),
      REDIS_PREFIX: prefix,
      INGEST_API_KEY: INGEST_KEY,
      API_TOKEN,
      LOG_LEVEL: process.env.CHILD_LOG ? 'debug' : 'warn',
      // A killed worker's job is given back after this long (BullMQ lock duration).
      ENGINE_STALLED_MS: '2000',
      CATALOG_FILE: join(FIXTURES, 'catalog', 'engine.yaml'),
      RUNBOOK_FILES: `${runbookFile}:${precallFile}:${goalFile}:${waitFile}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (process.env.CHILD_LOG) child.stdout.on('data', (d: Buffer) => appendFileSync(process.env.CHILD_LOG!, d));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('CHILD-LISTENING') && resolve());
    child.on('exit', (code) => reject(new Error(`child exited with ${code}: ${stderr}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

describe('crash safety', () => {
  it('a run survives SIGKILL during a diagnostic and during a mutating call, and calls the mutating action once', async () => {
    let { child, url } = await startChild();
    const incidentId = await client(url).alarm('crash-5xx');

    // 1. killed while the diagnostic runs
    await eventually('the diagnostic to start', async () => ((await client(url).step(incidentId, 'look'))?.status === 'running' ? true : undefined));
    await kill(child);
    ({ child, url } = await startChild());

    // 2. killed while the mutating action is in flight: called, outcome not recorded
    await eventually('the mutating call', async () => ((await testCount(redis, prefix, 'calls-total', incidentId)) === 1 ? true : undefined), 30_000);
    await kill(child);
    ({ child, url } = await startChild());

    const run = await client(url).waitRun(incidentId, ['succeeded'], 30_000);
    expect(run.steps.map((s) => [s.id, s.status]).sort()).toEqual([
      ['change', 'succeeded'],
      ['look', 'succeeded'],
      ['verify', 'succeeded'],
    ]);
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
    expect(await testCount(redis, prefix, 'reconciles', run.id, 'change')).toBe(1);
    const types = (await client(url).timeline(incidentId)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['step.resumed', 'step.reconciling']));
    const reconciling = (await client(url).timeline(incidentId)).find((e) => e.type === 'step.reconciling');
    expect(reconciling?.data.reason).toMatch(/the call may have been made/);
    expect(types.filter((t) => t === 'run.finished')).toHaveLength(1);
    await client(url).alarm('crash-5xx', 'OK', new Date(Date.now() + 30_000));
    await kill(child);
  }, 90_000);

  it('a process killed before the mutating call: the timeline says the call was not made, and the next attempt makes it once', async () => {
    let { child, url } = await startChild();
    const incidentId = await client(url).alarm('precall-5xx');
    // killed while the action reads, before it announces its call
    await eventually('the action to start reading', async () => ((await testCount(redis, prefix, 'reads', incidentId)) === 1 ? true : undefined), 30_000);
    await kill(child);
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(0);
    ({ child, url } = await startChild());

    const run = await client(url).waitRun(incidentId, ['succeeded'], 30_000);
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
    expect(await testCount(redis, prefix, 'reconciles', run.id, 'change')).toBe(0);
    const timeline = await client(url).timeline(incidentId);
    expect(timeline.map((e) => e.type)).not.toContain('step.reconciling');
    const notCalled = timeline.filter((e) => e.type === 'step.not_called');
    expect(notCalled).toHaveLength(1);
    expect(notCalled[0].data.reason).toMatch(/the call was not made/);
    expect(JSON.stringify(timeline)).not.toMatch(/called the action and did not record/);
    await client(url).alarm('precall-5xx', 'OK', new Date(Date.now() + 30_000));
    await kill(child);
  }, 90_000);

  it('a process killed during a wait: the next one resumes it from its checkpoint (its deadline), not from the start', async () => {
    let { child, url } = await startChild();
    const incidentId = await client(url).alarm('crashwait-5xx');
    const runId = await eventually('the run', async () => (await client(url).runs(incidentId))[0]?.id);
    await eventually('the wait to keep its checkpoint', async () => (JSON.parse((await redis.hget(`${prefix}:run:${runId}:steps`, 'settle')) ?? '{}') as { checkpointJson?: string }).checkpointJson);
    await kill(child);
    ({ child, url } = await startChild());
    const run = await client(url).waitRun(incidentId, ['succeeded'], 30_000);
    const settle = run.steps.find((s) => s.id === 'settle')!;
    // One wait: from the step's start to its deadline, whatever the restart took (a wait started
    // again after the restart would end a restart's time after startedAt + waitedMs).
    const span = Date.parse(settle.finishedAt!) - Date.parse(settle.startedAt!);
    expect(settle.output!.waitedMs).toBeGreaterThanOrEqual(6000);
    expect(span - (settle.output!.waitedMs as number)).toBeLessThan(1000);
    const types = (await client(url).timeline(incidentId)).filter((e) => e.data.step === 'settle').map((e) => e.type);
    expect(types).toEqual(['step.queued', 'step.started', 'step.succeeded']);
    expect(await testCount(redis, prefix, 'calls', run.id, 'after')).toBe(1);
    await client(url).alarm('crashwait-5xx', 'OK', new Date(Date.now() + 30_000));
    await kill(child);
  }, 90_000);

  it("a process killed while a mitigation's goal is verified: the next one resumes the verification, the call made once", async () => {
    let { child, url } = await startChild();
    const incidentId = await client(url).alarm('crashgoal-5xx');
    // Called, then checked four times (not met): the step is running, its progress kept on it.
    await eventually('the goal to be checked four times', async () => ((await testCount(redis, prefix, 'goal-checks', incidentId)) >= 4 ? true : undefined), 30_000);
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
    expect((await client(url).step(incidentId, 'change'))?.status).toBe('running');
    await kill(child);
    const checksBefore = await testCount(redis, prefix, 'goal-checks', incidentId);
    ({ child, url } = await startChild());
    // The next process goes on checking (it does not call again), and the goal is met once the change shows.
    await eventually('the goal to be checked again', async () => ((await testCount(redis, prefix, 'goal-checks', incidentId)) > checksBefore ? true : undefined), 30_000);
    await redis.set(`${prefix}:test:goal-met:${incidentId}`, '1');
    const step = await client(url).waitStep(incidentId, 'change', ['succeeded', 'failed'], 30_000);
    expect(step).toMatchObject({ status: 'succeeded', goal: 'met' });
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
    const run = (await client(url).runs(incidentId))[0];
    expect(await testCount(redis, prefix, 'reconciles', run.id, 'change')).toBe(0);
    const timeline = await client(url).timeline(incidentId);
    expect(timeline.filter((e) => e.type === 'mitigation.goal_met')).toHaveLength(1);
    expect(timeline.map((e) => e.type)).not.toContain('step.reconciling');
    // The count of checks went on from where it was: one verification, not a second from zero.
    const met = timeline.find((e) => e.type === 'mitigation.goal_met')!;
    expect(met.data.checks).toBeGreaterThan(checksBefore);
    await client(url).alarm('crashgoal-5xx', 'OK', new Date(Date.now() + 30_000));
    await kill(child);
  }, 90_000);

  it('SIGTERM lets the mutating step in flight finish, and the next process goes on from there', async () => {
    let { child, url } = await startChild();
    const incidentId = await client(url).alarm('crash-latency', 'ALARM', new Date(Date.now() + 60_000));
    await client(url).waitStep(incidentId, 'change', ['running'], 30_000);
    await kill(child, 'SIGTERM'); // Nest closes the app, then re-raises the signal
    const exitedAt = Date.now();
    ({ child, url } = await startChild());
    const done = await client(url).waitRun(incidentId, ['succeeded'], 30_000);
    const change = done.steps.find((s) => s.id === 'change')!;
    expect(change.status).toBe('succeeded');
    // finished by the process that got SIGTERM, before it exited: not resumed by the next one
    expect(Date.parse(change.finishedAt!)).toBeLessThanOrEqual(exitedAt);
    const resumed = (await client(url).timeline(incidentId)).filter((e) => e.type === 'step.resumed' || e.type === 'step.reconciling');
    expect(resumed).toEqual([]);
    expect(await testCount(redis, prefix, 'calls-total', incidentId)).toBe(1);
    expect(await testCount(redis, prefix, 'reconciles', done.id, 'change')).toBe(0);
    await kill(child);
  }, 90_000);
});
