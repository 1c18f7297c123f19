import type { RedisOptions } from 'ioredis';

/**
 * What every Redis connection of the service shares. ioredis waits `disconnectTimeout` (2 s by
 * default), on a timer that keeps the process alive, for the socket of a connection it disconnects
 * to close: with Redis unreachable that socket never does, and stopping took 2 s for nothing.
 */
export const CONNECTION_DEFAULTS: Readonly<RedisOptions> = { disconnectTimeout: 200 };
