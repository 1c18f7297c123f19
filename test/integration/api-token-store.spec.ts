import { testRedis } from '../support/redis';
import { apiTokenStoreSuite } from './store/api-token-store.suite';

const { redis, prefix, cleanup } = testRedis('tokens');
afterAll(cleanup);

apiTokenStoreSuite(() => ({ redis, prefix }));
