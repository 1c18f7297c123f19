import type { RedisOptions } from 'ioredis';

/**
 * What every Redis connection of the service shares. ioredis waits `disconnectTimeout` (2 s by
 * default), on a timer that keeps the process alive, for the socket of a connection it disconnects
 * to close: with Redis unreachable that socket never does, and stopping took 2 s for nothing.
 */
export const CONNECTION_DEFAULTS: Readonly<RedisOptions> = { disconnectTimeout: 200 };

/**
 * For connections that never block (the store, the queues' producers): a Redis that stops
 * answering (paused, a failover in progress, a network that drops packets without resetting the
 * connection) fails each command after REDIS_COMMAND_TIMEOUT_MS instead of holding the caller,
 * so the intake answers 503 and /ready says not ready well inside EventBridge's 5 s. The
 * connections of BullMQ workers get none: BullMQ duplicates them for its blocking BZPOPMIN, which
 * waits for seconds by design and which ioredis's commandTimeout would abort in a loop.
 */
export function timedConnection(config: { redis: { commandTimeoutMs: number } }): Readonly<RedisOptions> {
  return { ...CONNECTION_DEFAULTS, commandTimeout: config.redis.commandTimeoutMs };
}
