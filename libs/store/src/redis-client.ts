import type { Cluster, Redis } from 'ioredis';

/**
 * What the store classes run on: one Redis, or a Redis Cluster. On a Cluster every key the store
 * uses must hash to one slot, so the prefix must carry a hash tag (`{responder}`): every script
 * declares its keys, and several keys are read in one MULTI or pipeline.
 */
export type RedisClient = Redis | Cluster;

/** The connections to scan for keys: each master of a Cluster (SCAN sees one node), or the one Redis. */
export function scanTargets(redis: RedisClient): Redis[] {
  return redis.isCluster ? (redis as Cluster).nodes('master') : [redis as Redis];
}
