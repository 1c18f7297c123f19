import { testRedis } from '../support/redis';
import { incidentScriptsSuite } from './store/incident-scripts.suite';

const { redis, prefix, cleanup } = testRedis('scripts');
afterAll(cleanup);

incidentScriptsSuite(() => ({ redis, prefix }));
