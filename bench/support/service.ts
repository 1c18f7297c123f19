import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * What the benchmarks share: the built service (or another program) as a child process with only
 * the environment it is given, its readiness, its resident memory, a clean stop, and the summary
 * file `npm run bench` collects into bench/RESULTS.md.
 */
export const ROOT = resolve(__dirname, '..', '..');
export const MAIN = resolve(ROOT, process.env.BENCH_MAIN ?? 'dist/apps/responder/apps/responder/src/main.js');
export const OUT_DIR = join(ROOT, '.bench');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface Child {
  proc: ChildProcess;
  logFile: string;
}

/**
 * Starts `node <script>` (default: the built service) with `env` on top of PATH and HOME only: a
 * developer's SQS_QUEUE_URL or Slack token must not leak into a benchmark.
 */
export function startChild(name: string, env: NodeJS.ProcessEnv, args: string[] = [MAIN]): Child {
  mkdirSync(OUT_DIR, { recursive: true });
  const logFile = join(OUT_DIR, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  const log = openSync(logFile, 'w');
  const proc = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', log, log] });
  closeSync(log);
  return { proc, logFile };
}

/** Resolves once GET <base>/<path> answers 200; throws with the log's tail when the child exits or 30 s pass. */
export async function waitReady(child: Child, base: string, path = '/ready'): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) {
      throw new Error(`${child.logFile}: the process exited (${child.proc.exitCode ?? child.proc.signalCode}) before it was ready:\n${tail(child.logFile)}`);
    }
    try {
      if ((await fetch(`${base}${path}`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`GET ${base}${path} did not answer 200 within 30 s:\n${tail(child.logFile)}`);
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stopChild(child: Child | null | undefined): Promise<void> {
  const proc = child?.proc;
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((done) => proc.once('exit', () => done()));
  proc.kill('SIGTERM');
  if (await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) return;
  proc.kill('SIGKILL');
  await exited;
}

/** Resident set size of a process in MiB (Linux /proc), or null where it cannot be read. */
export function rssMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * A benchmark's figures for bench/RESULTS.md: written to BENCH_SUMMARY when `npm run bench` sets it
 * (each benchmark still prints its own report).
 */
export interface Summary {
  title: string;
  /** One row per figure: what, the figure, its floor measured in the same run, and the ratio or verdict. */
  rows: { what: string; value: string; floor?: string; against?: string }[];
  notes?: string[];
}

export function writeSummary(summary: Summary): void {
  const file = process.env.BENCH_SUMMARY;
  if (!file) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(summary, null, 2));
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The q-quantile (0..1) by the nearest-rank method. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}
