import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { type Change, type FeedName, RunStore, StoreKeys } from '@responder/store';
import { ChangeFeedConsumer, type ChangeFeedReader, type FeedRestart } from '../../apps/responder/src/redis/change-feed-consumer';
import { eventually } from '../support/engine';
import { testRedis } from '../support/redis';
import { OwnRedisServer } from '../support/redis-server';

/**
 * The one loop that reads a change feed (the engine's plan listener reads the alarm feed, the Slack
 * reporter every change, each with one), against the real Redis: what reaches its reader, what is
 * acknowledged, and how it starts the reader afresh when Redis lost the group or went back in time,
 * on either stream.
 */
const { redis, prefix, cleanup } = testRedis('feed-consumer');
const runs = new RunStore(redis, prefix);
const keys = new StoreKeys(prefix);
const feedKeys: Record<FeedName, string> = { all: keys.changes(), alarms: keys.alarmChanges() };
const consumers: ChangeFeedConsumer[] = [];

beforeAll(() => {
  Logger.overrideLogger(false);
});
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
});
afterAll(cleanup);

/** A reader that records what it is given; `leave` decides which changes it leaves unacknowledged. */
function reader(options: { stream?: FeedName; remember?: number; leave?: (c: Change) => boolean; url?: string } = {}) {
  const handled: Change[] = [];
  const restarts: FeedRestart[] = [];
  const r: ChangeFeedReader = {
    group: `g-${randomBytes(4).toString('hex')}`,
    stream: options.stream,
    remember: options.remember,
    handle: (changes) => {
      handled.push(...changes);
      return Promise.resolve(new Set(changes.filter((c) => options.leave?.(c)).map((c) => c.id)));
    },
    restart: (why) => {
      restarts.push(why);
      return Promise.resolve();
    },
  };
  const consumer = new ChangeFeedConsumer({ url: options.url ?? process.env.REDIS_URL!, prefix, commandTimeoutMs: 500 }, r, 'test');
  consumers.push(consumer);
  return { r, consumer, handled, restarts };
}

const pendingCount = async (group: string, stream: FeedName = 'all') => ((await redis.xpending(feedKeys[stream], group)) as [number])[0];
const incident = () => `inc_${randomBytes(6).toString('hex')}`;

it('reading the alarm feed, is given only the changes that can start a runbook, and acknowledges each', async () => {
  const { r, consumer, handled, restarts } = reader({ stream: 'alarms' });
  consumer.start();
  await eventually('the group created', () => Promise.resolve(restarts.length === 1 ? true : undefined), 5000);
  expect(restarts[0]).toEqual({ created: true, lost: [] });
  const id = incident();
  await runs.appendTimeline(id, 'note', {});
  await runs.appendTimeline(id, 'alarm.received', {});
  await runs.appendTimeline(id, 'step.succeeded', {});
  await runs.appendTimeline(id, 'incident.opened', {});
  await eventually('the alarm changes handled', () => Promise.resolve(handled.length === 2 ? true : undefined), 5000);
  await eventually('every change acknowledged', async () => ((await pendingCount(r.group, 'alarms')) === 0 ? true : undefined), 5000);
  expect(handled.map((c) => [c.incidentId, c.type])).toEqual([
    [id, 'alarm.received'],
    [id, 'incident.opened'],
  ]);
  // The note and the step move are not on the alarm feed at all: nothing woke the reader for them.
  const onFeed = (await redis.xrange(feedKeys.alarms, '-', '+')).filter(([, f]) => f[f.indexOf('incident') + 1] === id);
  expect(onFeed.map(([, f]) => f[f.indexOf('type') + 1])).toEqual(['alarm.received', 'incident.opened']);
});

it('reading every change, is given each of them, whatever its type', async () => {
  const { r, consumer, handled, restarts } = reader();
  consumer.start();
  await eventually('the group created', () => Promise.resolve(restarts.length === 1 ? true : undefined), 5000);
  const id = incident();
  await runs.appendTimeline(id, 'note', {});
  await runs.appendTimeline(id, 'alarm.received', {});
  await runs.appendTimeline(id, 'step.succeeded', {});
  await eventually('the changes handled', () => Promise.resolve(handled.length === 3 ? true : undefined), 5000);
  await eventually('every change acknowledged', async () => ((await pendingCount(r.group)) === 0 ? true : undefined), 5000);
  expect(handled.map((c) => c.type)).toEqual(['note', 'alarm.received', 'step.succeeded']);
});

describe.each<FeedName>(['all', 'alarms'])('on the %s feed', (stream) => {
  // Changes of two types that are both on this feed.
  const alarm = 'alarm.received';
  const other = stream === 'all' ? 'note' : 'alarm.attached';

  it('reads a change its reader left unacknowledged again after a pause, without waiting for the claim of a dead consumer', async () => {
    let tries = 0;
    const { r, consumer, handled, restarts } = reader({ stream, leave: () => ++tries < 3 });
    consumer.start();
    await eventually('the group created', () => Promise.resolve(restarts.length === 1 ? true : undefined), 5000);
    const id = incident();
    await runs.appendTimeline(id, alarm, {});
    // Well under the 30 s after which a dead consumer's changes are claimed.
    await eventually('the change handled three times', () => Promise.resolve(handled.length >= 3 ? true : undefined), 10_000);
    expect(new Set(handled.map((c) => c.id)).size).toBe(1);
    await eventually('then acknowledged', async () => ((await pendingCount(r.group, stream)) === 0 ? true : undefined), 5000);
  });

  it('recreates a group Redis lost and starts its reader afresh with the changes it had read', async () => {
    const { r, consumer, handled, restarts } = reader({ stream, remember: 100 });
    consumer.start();
    await eventually('the group created', () => Promise.resolve(restarts.length === 1 ? true : undefined), 5000);
    const [a, b] = [incident(), incident()];
    await runs.appendTimeline(a, alarm, {});
    await runs.appendTimeline(b, alarm, {});
    await eventually('both handled', () => Promise.resolve(handled.length === 2 ? true : undefined), 5000);
    await redis.xgroup('DESTROY', feedKeys[stream], r.group);
    await eventually('the reader restarted', () => Promise.resolve(restarts.length === 2 ? true : undefined), 10_000);
    expect(restarts[1]).toEqual({ created: true, lost: handled });
    // It goes on reading from the new group.
    await runs.appendTimeline(a, other, {});
    await eventually('a new change handled', () => Promise.resolve(handled.length === 3 ? true : undefined), 5000);
  });

  it('after its connection closed, notices Redis went back in time (the group behind what it read) although no read failed, and starts its reader afresh with the changes lost', async () => {
    const { r, consumer, handled, restarts } = reader({ stream, remember: 100 });
    consumer.start();
    await eventually('the group created', () => Promise.resolve(restarts.length === 1 ? true : undefined), 5000);
    const [kept, lost1, lost2] = [incident(), incident(), incident()];
    await runs.appendTimeline(kept, alarm, {});
    await runs.appendTimeline(lost1, alarm, {});
    await runs.appendTimeline(lost2, other, {});
    await eventually('all handled', () => Promise.resolve(handled.length === 3 ? true : undefined), 5000);
    const [keptChange, ...lostChanges] = handled;
    // What a failover to a replica that lagged looks like: the last changes gone, the group's last
    // delivered change back at the first one; then the connection drops and comes back.
    await redis.xdel(feedKeys[stream], ...lostChanges.map((c) => c.id));
    await redis.xgroup('SETID', feedKeys[stream], r.group, keptChange.id);
    await killConnection(`responder:feed:${r.group}`);
    await eventually('the reader restarted', () => Promise.resolve(restarts.length === 2 ? true : undefined), 10_000);
    expect(restarts[1]).toEqual({ created: false, lost: lostChanges });
    expect(lostChanges.map((c) => c.incidentId)).toEqual([lost1, lost2]);
    // It goes on reading: a new change is handled once.
    await runs.appendTimeline(kept, other, {});
    await eventually('a new change handled', () => Promise.resolve(handled.length === 4 ? true : undefined), 5000);
    expect(restarts).toHaveLength(2);
  });

  it('looks again when Redis came back without its last writes but did not answer its first look', async () => {
    const server = await OwnRedisServer.start();
    const own = new Redis(server.url, { maxRetriesPerRequest: 20 });
    own.on('error', () => undefined);
    try {
      const ownRuns = new RunStore(own, prefix);
      const { r, consumer, handled, restarts } = reader({ stream, remember: 100, url: server.url });
      consumer.start();
      await eventually('the group created', () => Promise.resolve(restarts.length === 1 ? true : undefined), 5000);
      const lost = incident();
      await ownRuns.appendTimeline(incident(), alarm, {});
      await ownRuns.appendTimeline(lost, alarm, {});
      await eventually('both changes handled', () => Promise.resolve(handled.length === 2 ? true : undefined), 5000);
      // Redis lost the last change (as in the test above), closes the consumer's connection once, and
      // hangs for a while: the consumer reconnects, its first looks at the group fail, and nothing
      // closes its connection again.
      await own.xdel(feedKeys[stream], handled[1].id);
      await own.xgroup('SETID', feedKeys[stream], r.group, handled[0].id);
      await killConnection(`responder:feed:${r.group}`, own);
      // (Shorter than the connection's command timeout, which would close it again after the handshake.)
      server.pause();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      server.resume();
      await eventually('the reader restarted', () => Promise.resolve(restarts.length === 2 ? true : undefined), 15_000);
      expect(restarts[1]).toEqual({ created: false, lost: [handled[1]] });
      expect(handled[1].incidentId).toBe(lost);
    } finally {
      await Promise.all(consumers.splice(0).map((c) => c.stop()));
      own.disconnect();
      await server.destroy();
    }
  }, 40_000);
});

/** Closes the server side of every connection of that name (as a Redis restart or failover would). */
async function killConnection(name: string, on: Redis = redis): Promise<void> {
  const ids = ((await on.client('LIST')) as string).split('\n').filter((line) => line.includes(` name=${name} `)).map((line) => /id=(\d+)/.exec(line)![1]);
  expect(ids.length).toBeGreaterThan(0);
  for (const id of ids) await on.client('KILL', 'ID', id);
}
