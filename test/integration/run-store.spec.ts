import { testRedis } from '../support/redis';
import { runStoreSuite } from './store/run-store.suite';

const { redis, prefix, cleanup } = testRedis('runs');
afterAll(cleanup);

runStoreSuite(() => ({ redis, prefix }));
