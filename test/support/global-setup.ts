import { spawn } from 'node:child_process';
import Redis from 'ioredis';
import { freePort } from './net';

/**
 * Before any test: Redis must answer (tests use the real one, each file under its own key prefix),
 * and a moto_server (AWS API emulator) is started on a free port for the AWS-facing tests.
 */
export default async function globalSetup(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    throw new Error(`Redis does not answer at ${redisUrl}: the tests need a real Redis (bash .ci/run starts one)`);
  } finally {
    redis.disconnect();
  }

  if (!process.env.MOTO_URL) {
    const port = await freePort();
    const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore', detached: false });
    child.on('error', () => undefined);
    (globalThis as { __MOTO__?: typeof child }).__MOTO__ = child;
    const url = `http://127.0.0.1:${port}`;
    await waitFor(url, 20_000);
    process.env.MOTO_URL = url;
  }
}


async function waitFor(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/moto-api/`);
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`moto_server did not start at ${url} (is moto installed? pip install "moto[server]")`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
