import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './net';

export interface OwnRedisOptions {
  /**
   * Persistence as production runs it: AOF (`appendonly yes`, `appendfsync everysec`) in a
   * directory of its own, so that restart() comes back with the data. Default: none, a restart is empty.
   */
  aof?: boolean;
}

/**
 * A redis-server of the test's own, on a free port, for tests that pause, flush or restart Redis
 * (the shared one on 6379 serves every other test file), in a directory of its own. Without `aof`, no
 * persistence: a restart is empty, unless restartFrom() gives it a snapshot.
 */
export class OwnRedisServer {
  private child: ChildProcess | null = null;
  /** True between pause() and resume(). */
  paused = false;
  private readonly dir: string;
  private readonly aof: boolean;

  private constructor(
    readonly port: number,
    options: OwnRedisOptions,
  ) {
    this.aof = options.aof === true;
    this.dir = mkdtempSync(join(tmpdir(), 'own-redis-'));
  }

  static async start(options: OwnRedisOptions = {}): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort(), options);
    await server.spawn();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async spawn(): Promise<void> {
    // Without AOF nothing is written unless asked (snapshot()); a dump.rdb in the directory is loaded at start.
    const persistence = ['--dir', this.dir, '--dbfilename', 'dump.rdb', ...(this.aof ? ['--appendonly', 'yes', '--appendfsync', 'everysec'] : ['--appendonly', 'no'])];
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
    this.child = child;
    const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (let i = 0; ; i++) {
        try {
          if (probe.status !== 'ready') await probe.connect();
          if ((await probe.ping()) === 'PONG') return;
        } catch (err) {
          if (i > 100 || child.exitCode !== null) throw new Error(`redis-server on ${this.port} did not start: ${(err as Error).message}`);
          probe.disconnect();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    } finally {
      probe.disconnect();
    }
  }

  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void {
    this.child?.kill('SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    this.child?.kill('SIGCONT');
    this.paused = false;
  }

  /** Kills the server and starts a new, empty one on the same port (a server started with `aof` is emptied too). */
  async restartEmpty(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir);
    await this.spawn();
  }

  /** The data as it is now (SAVE), for restartFrom(): what a replica that stopped replicating here would hold. */
  async snapshot(): Promise<Buffer> {
    const redis = new Redis(this.url, { maxRetriesPerRequest: 0 });
    try {
      await redis.save();
    } finally {
      redis.disconnect();
    }
    return readFileSync(join(this.dir, 'dump.rdb'));
  }

  /**
   * Kills the server and starts it again with the data of `snapshot` only: a failover to a replica
   * that lost the writes made after it (servers without `aof`).
   */
  async restartFrom(snapshot: Buffer): Promise<void> {
    if (this.aof) throw new Error('restartFrom() is for servers without aof (an AOF would be loaded instead of the snapshot)');
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir);
    writeFileSync(join(this.dir, 'dump.rdb'), snapshot);
    await this.spawn();
  }

  /**
   * Stops the server and starts it again on the same port, on the same files: `SIGTERM` (a
   * shutdown: the AOF is flushed first) or `SIGKILL` (a crash: with everysec, the last second of
   * writes may be lost). `downMs`: how long it stays down in between.
   */
  async restart(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM', downMs = 0): Promise<void> {
    if (!this.aof) throw new Error('restart() keeps data only with { aof: true }; use restartEmpty() or restartFrom()');
    await this.stop(signal);
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.spawn();
  }

  /** Starts a stopped server again, on the same port and files (with `aof`, the data it had). */
  async up(): Promise<void> {
    if (this.child) throw new Error('redis-server is running');
    await this.spawn();
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    if (this.paused) this.resume();
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }

  /** Stops the server and removes its files. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
