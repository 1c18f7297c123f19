import { testRedis } from '../support/redis';
import { changeFeedSuite } from './store/change-feed.suite';

const { redis, prefix, cleanup } = testRedis('changes');
afterAll(cleanup);

changeFeedSuite(() => ({ redis, prefix }));
