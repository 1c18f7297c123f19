import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { freePort } from './net';

const run = promisify(execFile);

/** Whether this machine can start a Redis Cluster for the tests (redis-server and redis-cli on the PATH). */
export function redisClusterAvailable(): boolean {
  const ok = (cmd: string) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  return ok('redis-server') && ok('redis-cli');
}

/**
 * A Redis Cluster of three masters (no replicas) on free ports, in a temporary directory, with no
 * persistence; `stop()` kills the nodes and removes the directory.
 */
export class TestRedisCluster {
  private constructor(
    private readonly children: ChildProcess[],
    readonly ports: number[],
    private readonly dir: string,
  ) {}

  static async start(nodes = 3): Promise<TestRedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'responder-cluster-'));
    const ports: number[] = [];
    const children: ChildProcess[] = [];
    const cluster = new TestRedisCluster(children, ports, dir);
    try {
      for (let i = 0; i < nodes; i++) {
        // The cluster bus port is set too: the default (port + 10000) may be taken or out of range.
        const [port, busPort] = [await freePort(), await freePort()];
        ports.push(port);
        const child = spawn(
          'redis-server',
          ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--appendonly', 'no', '--save', '', '--dir', dir],
          { stdio: 'ignore' },
        );
        children.push(child);
      }
      for (const port of ports) await waitForPing(port);
      await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes']);
      for (const port of ports) await waitForClusterOk(port);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** An ioredis Cluster client; the caller quits it. */
  client(): Cluster {
    return new Cluster(
      this.ports.map((port) => ({ host: '127.0.0.1', port })),
      { redisOptions: { maxRetriesPerRequest: 3 } },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitForPing(port: number): Promise<void> {
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    for (let i = 0; ; i++) {
      try {
        if (probe.status !== 'ready') await probe.connect();
        if ((await probe.ping()) === 'PONG') return;
      } catch (err) {
        if (i > 200) throw new Error(`redis-server on ${port} did not start: ${(err as Error).message}`);
        probe.disconnect();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } finally {
    probe.disconnect();
  }
}

async function waitForClusterOk(port: number): Promise<void> {
  const probe = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  try {
    for (let i = 0; ; i++) {
      const info = (await probe.cluster('INFO'));
      if (/cluster_state:ok/.test(info)) return;
      if (i > 200) throw new Error(`the cluster node on ${port} never reached cluster_state:ok:\n${info}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    probe.disconnect();
  }
}
