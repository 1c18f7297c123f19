import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { API_TOKEN, INGEST_KEY } from './app';
import { freePort } from './net';

/**
 * The service as it ships, in a process of its own: `node dist/.../main.js` (the Dockerfile's
 * command, built by `npm run build`; `npm run test:fire` builds first), configured by its
 * environment only. The tests under fire start several on one Redis and stop them as an
 * orchestrator would (SIGTERM, waiting for the exit) or as a crash does (SIGKILL).
 */
const ROOT = join(__dirname, '..', '..');
export const SERVICE_MAIN = join(ROOT, 'dist', 'apps', 'responder', 'apps', 'responder', 'src', 'main.js');

export interface ServiceProcess {
  name: string;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  pid: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /**
   * SIGTERM, then waits for the exit (it finishes its jobs within SHUTDOWN_GRACE_MS). Resolves to
   * how it ended: `SIGTERM` after a clean shutdown (Nest's shutdown hooks raise the signal again
   * once every hook has run), or `exit <code>` when it exited by itself.
   */
  stop(): Promise<string>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /**
   * SIGSTOP / SIGCONT: the process stays, frozen (its Redis connections open, its jobs' locks
   * running out), so that the others are the only ones working for a while.
   */
  freeze(): void;
  thaw(): void;
}

/**
 * Starts the built service with `env` on top of the test process's environment (Redis, AWS
 * region and credentials) and a free `PORT`, with the test's ingest key and API token. Resolves
 * once `/health` answers; rejects with its output if it exits first.
 */
export async function startService(name: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ServiceProcess> {
  if (!existsSync(SERVICE_MAIN)) throw new Error(`${SERVICE_MAIN} is missing: run npm run build (npm run test:fire does)`);
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [SERVICE_MAIN], {
    cwd: ROOT,
    env: { ...process.env, INGEST_API_KEY: INGEST_KEY, API_TOKEN, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  let up = false;
  const early = exited.then((how) => {
    if (!up) throw new Error(`${name} ended (${how}) before it answered: ${output}`);
  });
  early.catch(() => undefined);
  for (;;) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || child.signalCode !== null) await early;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not answer /health within ${timeoutMs} ms: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  up = true;
  return {
    name,
    url,
    pid: child.pid!,
    output: () => output,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
  };
}

/** Runs the tasks, `width` at a time, and returns their results in order. */
export async function pool<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
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
