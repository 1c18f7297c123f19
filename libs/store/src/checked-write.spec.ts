import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { CHECKED_WRITE_LUA, type Guard, KeyList, type Write } from './checked-write';

// Against the real Redis (REDIS_URL): the script is the only atomic part of ingest.
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 3 });
const prefix = `test:checked:${randomBytes(4).toString('hex')}`;
redis.defineCommand('testCheckedWrite', { lua: CHECKED_WRITE_LUA });
const run = async (keys: string[], guards: Guard[], writes: Write[]) =>
  (await (redis as unknown as { testCheckedWrite: (...a: (string | number)[]) => Promise<number[]> }).testCheckedWrite(keys.length, ...keys, JSON.stringify(guards), JSON.stringify(writes)));

afterAll(async () => {
  await redis.del(`${prefix}:s`, `${prefix}:h`, `${prefix}:t`);
  await redis.quit();
});

describe('KeyList', () => {
  it('gives each key one 1-based index', () => {
    const k = new KeyList();
    expect([k.ref('a'), k.ref('b'), k.ref('a')]).toEqual([1, 2, 1]);
    expect(k.keys).toEqual(['a', 'b']);
  });
});

describe('CHECKED_WRITE_LUA', () => {
  const s = `${prefix}:s`;
  const h = `${prefix}:h`;
  const t = `${prefix}:t`;

  beforeEach(async () => {
    await redis.del(s, h, t);
    await redis.set(s, 'v');
    await redis.hset(h, 'ms', '10', 'f', 'x');
  });

  it('writes when every guard holds', async () => {
    const guards: Guard[] = [['absent', 3], ['get', 1, 'v'], ['hget', 2, 'f', 'x'], ['hget', 2, 'none', null], ['hexists', 2, 'f', 1], ['hlen', 2, 2], ['hnum<=', 2, 'ms', 10], ['hnum>', 2, 'ms', 9], ['hnum<=', 2, 'none', -1]];
    expect(await run([s, h, t], guards, [['SET', 3, 'written', 'EX', '60'], ['HSET', 2, 'g', 'y']])).toEqual([1]);
    expect(await redis.get(t)).toBe('written');
    expect(await redis.hget(h, 'g')).toBe('y');
  });

  it.each<[string, Guard]>([
    ['absent', ['absent', 1]],
    ['get', ['get', 1, 'w']],
    ['hget', ['hget', 2, 'f', 'y']],
    ['hget null', ['hget', 2, 'f', null]],
    ['hexists', ['hexists', 2, 'f', 0]],
    ['hlen', ['hlen', 2, 3]],
    ['hnum<=', ['hnum<=', 2, 'ms', 9]],
    ['hnum>', ['hnum>', 2, 'ms', 10]],
  ])('writes nothing and names the guard that failed: %s', async (_name, failing) => {
    expect(await run([s, h, t], [['absent', 3], failing], [['SET', 3, 'written']])).toEqual([0, 2, failing[0] === 'absent' ? 'v' : null]);
    expect(await redis.exists(t)).toBe(0);
  });

  it('answers the value of a string key a failed `absent` guard found, none for another type', async () => {
    expect(await run([s, h], [['absent', 2]], [])).toEqual([0, 1, null]);
  });

  it('refuses a guard it does not know', async () => {
    await expect(run([s], [['nope', 1] as unknown as Guard], [])).rejects.toThrow(/unknown guard/);
  });
});
