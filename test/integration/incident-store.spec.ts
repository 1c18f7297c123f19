import { testRedis } from '../support/redis';
import { incidentStoreSuite } from './store/incident-store.suite';

const { redis, prefix, cleanup } = testRedis('store');
afterAll(cleanup);

incidentStoreSuite(() => ({ redis, prefix }));
