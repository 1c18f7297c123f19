import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { startApp } from '../support/app';
import { client } from '../support/engine';
import { FIXTURES } from '../support/events';
import { testRedis } from '../support/redis';
import { createTestActions } from '../support/test-actions';
import { RetentionSweeper } from '../../apps/responder/src/incidents/retention.sweeper';

const CATALOG = join(FIXTURES, 'catalog', 'engine.yaml');
const { redis, prefix, cleanup } = testRedis('retention');

const RUNBOOKS = [
  `
name: retained
triggers: { services: [par] }
steps:
  - { id: look, action: test.diagnose, with: { value: 1 } }
  - { id: change, action: test.mutate, needs: [look], with: { target: "\${{ incident.id }}" }, approval: none }
`,
];

let app: INestApplication;
let api: ReturnType<typeof client>;
beforeAll(async () => {
  ({ app } = await startApp(prefix, {}, { catalogFile: CATALOG, runbooks: RUNBOOKS, actions: createTestActions(redis, prefix) }));
  api = client(app);
});
afterAll(async () => {
  await app.close();
  await cleanup();
});

/**
 * Every key under the prefix that names the incident or its run; aside: the test actions' counters,
 * and cooldowns and locks, which belong to a resource and expire on their own.
 */
async function keysOf(...ids: string[]): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    const own = keys.filter((k) => !/^:(test|bull|cooldown|lock):/.test(k.slice(prefix.length)) && ids.some((id) => k.includes(id)));
    found.push(...own);
  } while (cursor !== '0');
  return found.sort();
}

const listed = async (query = '') => ((await api.get(`/incidents?limit=200${query}`).expect(200)).body as { items: Array<{ id: string }>; total: number });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('retention of resolved incidents', () => {
  it('removes incidents resolved longer ago than the retention, keys and index entries alike; keeps open and recently resolved ones', async () => {
    const open = await api.alarm('held-5xx'); // opened first, never resolved
    const longOpen = await api.alarm('dry-5xx'); // opened before the cutoff, resolved after it

    const old = await api.alarm('par-5xx');
    const run = await api.waitRun(old, ['succeeded']);
    await api.post(`/incidents/${old}/notes`, { author: 'alice@example.com', text: 'looked at it' }).expect(201);
    await redis.hset(`${prefix}:slack:${old}`, 'ts', '1732291480.000100');
    await redis.set(`${prefix}:slack:${old}:thread`, '1732291480.000200');
    await redis.set(`${prefix}:slack:${open}:thread`, 'kept');
    await api.alarm('par-5xx', 'OK', new Date(Date.now() + 1000));
    const before = await keysOf(old, run.id);
    // Everything the incident owns is there before the sweep: its hash, alarms, timeline, runs, the
    // run and its steps, the mutating step's ledger entry, Slack's state.
    expect(before).toEqual(
      expect.arrayContaining([
        `${prefix}:incident:${old}`,
        `${prefix}:incident:${old}:alarms`,
        `${prefix}:incident:${old}:runs`,
        `${prefix}:incident:${old}:timeline`,
        `${prefix}:ledger:${run.id}:change`,
        `${prefix}:run:${run.id}`,
        `${prefix}:run:${run.id}:steps`,
        `${prefix}:slack:${old}`,
        `${prefix}:slack:${old}:thread`,
      ]),
    );

    await sleep(1500);
    await api.alarm('dry-5xx', 'OK', new Date(Date.now() + 1000));
    const recent = await api.alarm('once-5xx');
    await api.alarm('once-5xx', 'OK', new Date(Date.now() + 1000));

    const removed = await app.get(RetentionSweeper).sweep({ retentionMs: 1000 });
    expect(removed).toEqual([old]);

    expect(await keysOf(old, run.id)).toEqual([]);
    expect(await redis.sismember(`${prefix}:runs:active`, run.id)).toBe(0);
    await api.get(`/incidents/${old}`).expect(404);
    await api.get(`/incidents/${old}/rca.md`).expect(404);
    const all = await listed();
    expect(all.items.map((i) => i.id).sort()).toEqual([open, longOpen, recent].sort());
    expect(all.total).toBe(3);
    expect((await listed('&service=par')).total).toBe(0);
    expect((await listed('&status=resolved')).items.map((i) => i.id).sort()).toEqual([longOpen, recent].sort());
    for (const id of [open, longOpen, recent]) expect(await redis.exists(`${prefix}:incident:${id}`, `${prefix}:incident:${id}:timeline`)).toBe(2);
    expect(await redis.get(`${prefix}:slack:${open}:thread`)).toBe('kept');

    // A late note finds nothing and writes nothing; a second sweep has nothing to do.
    await api.post(`/incidents/${old}/notes`, { author: 'bob@example.com', text: 'too late' }).expect(404);
    expect(await keysOf(old)).toEqual([]);
    expect(await app.get(RetentionSweeper).sweep({ retentionMs: 1000 })).toEqual([]);
  });

  it('keeps resolved incidents within INCIDENT_RETENTION_DAYS (the default 90 days)', async () => {
    const id = await api.alarm('cool-5xx');
    await api.alarm('cool-5xx', 'OK', new Date(Date.now() + 1000));
    const sweeper = app.get(RetentionSweeper);
    expect(await sweeper.sweep({ now: Date.now() + 89 * 24 * 3600_000 })).toEqual([]);
    expect(await sweeper.sweep({ now: Date.now() + 91 * 24 * 3600_000 })).toContain(id);
    await api.get(`/incidents/${id}`).expect(404);
  });
});
