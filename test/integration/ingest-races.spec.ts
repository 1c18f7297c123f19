import { testRedis } from '../support/redis';
import { ingestRacesSuite } from './store/ingest-races.suite';

const { redis, prefix, cleanup } = testRedis('races');
afterAll(cleanup);

ingestRacesSuite(() => ({ redis, prefix }));
