import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { TestRedisCluster, redisClusterAvailable } from '../support/redis-cluster';
import { apiTokenStoreSuite } from './store/api-token-store.suite';
import { changeFeedSuite } from './store/change-feed.suite';
import { incidentScriptsSuite } from './store/incident-scripts.suite';
import { incidentStoreSuite } from './store/incident-store.suite';
import { ingestRacesSuite } from './store/ingest-races.suite';
import { runStoreSuite } from './store/run-store.suite';
import type { StoreTarget } from './store/target';

/**
 * The store's suites on a Redis Cluster of three masters, through an ioredis Cluster client, each
 * under a prefix that is a hash tag (`{…}`), as a Cluster deployment must configure REDIS_PREFIX:
 * every script declares its keys, and they must share one slot.
 */
const available = redisClusterAvailable();
if (!available) {
  // eslint-disable-next-line no-console
  console.warn('store-cluster.spec.ts skipped: redis-server or redis-cli is not on the PATH, so no Redis Cluster can be started');
}

(available ? describe : describe.skip)('the store on a 3-node Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let client: Cluster;
  jest.setTimeout(60_000);

  beforeAll(async () => {
    cluster = await TestRedisCluster.start(3);
    client = cluster.client();
    await new Promise<void>((ready, fail) => {
      client.once('ready', ready);
      client.once('error', fail);
    });
    // Three masters, each with slots: the suites' hash tags land on different nodes.
    const nodes = ((await client.cluster('NODES')) as string).split('\n').filter((line) => / master /.test(` ${line} `.replace(/,/g, ' ')) && /\d+-\d+/.test(line));
    expect(nodes).toHaveLength(3);
  });

  afterAll(async () => {
    await client?.quit();
    await cluster?.stop();
  });

  const target = (name: string) => (): StoreTarget => ({ redis: client, prefix: `{cluster-${name}-${randomBytes(3).toString('hex')}}` });

  it('is a cluster: keys of different hash tags live in different slots', async () => {
    expect((await client.cluster('INFO'))).toMatch(/cluster_state:ok/);
    expect(await client.cluster('KEYSLOT', '{a}:x')).toBe(await client.cluster('KEYSLOT', '{a}:y'));
    expect(await client.cluster('KEYSLOT', '{a}:x')).not.toBe(await client.cluster('KEYSLOT', '{b}:x'));
  });

  it("puts BullMQ's keys (the queues' prefix is REDIS_PREFIX + ':bull') in the store's slot when the prefix is a hash tag", async () => {
    const prefix = '{responder}';
    const slot = await client.cluster('KEYSLOT', `${prefix}:incident:inc_1:timeline`);
    for (const key of [`${prefix}:bull:steps:wait`, `${prefix}:bull:slack:run_1-s`, `${prefix}:bull:clicks:meta`, `${prefix}:run:run_1:steps`]) {
      expect(await client.cluster('KEYSLOT', key)).toBe(slot);
    }
    // Without a hash tag the keys scatter over the slots: no script or MULTI could span them.
    expect(await client.cluster('KEYSLOT', 'responder:bull:steps:wait')).not.toBe(await client.cluster('KEYSLOT', 'responder:incident:inc_1'));
  });

  incidentStoreSuite(target('store'));
  ingestRacesSuite(target('races'));
  incidentScriptsSuite(target('scripts'));
  runStoreSuite(target('runs'));
  changeFeedSuite(target('changes'));
  apiTokenStoreSuite(target('tokens'));
});
