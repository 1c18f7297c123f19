/**
 * ioredis's own words for a Redis it cannot reach or that did not answer in time (no offline queue,
 * the connection closed under the command, the command timeout). Only a Redis client says these: an
 * error thrown by an AWS call never does.
 */
const CLIENT_UNAVAILABLE = /enableOfflineQueue|Stream isn't writeable|Command timed out|Connection is closed|Command aborted due to connection close|max retries per request/i;
/** Socket errors, which a Redis connection shares with any other. */
const SOCKET_ERRORS = /ECONNREFUSED|ETIMEDOUT|EPIPE|ECONNRESET/;

/** An error of a Redis client that could not reach Redis (the store, a queue's producer). */
export function isRedisClientUnavailable(error: unknown): boolean {
  return CLIENT_UNAVAILABLE.test(error instanceof Error ? error.message : String(error));
}

/** isRedisClientUnavailable, or a socket error: for code that talks to nothing but Redis (the HTTP handlers' store). */
export function isRedisUnavailable(message: string): boolean {
  return CLIENT_UNAVAILABLE.test(message) || SOCKET_ERRORS.test(message);
}
