import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';

/** A Redis client and a key prefix of its own for one test file; `cleanup()` removes its keys. */
export function testRedis(name: string): { redis: Redis; prefix: string; cleanup: () => Promise<void> } {
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 3 });
  const prefix = `test:${name}:${randomBytes(4).toString('hex')}`;
  return {
    redis,
    prefix,
    cleanup: async () => {
      await deleteByPrefix(redis, prefix);
      await redis.quit();
    },
  };
}

/** Removes every key under `prefix:` (tests and benchmarks); returns how many. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
