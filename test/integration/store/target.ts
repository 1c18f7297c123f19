import type { RedisClient } from '@responder/store';

/** Where a store suite runs: a client (one Redis or a Cluster) and a key prefix of its own. */
export interface StoreTarget {
  redis: RedisClient;
  prefix: string;
}
