export * from './incident.store';
export * from './keys';
export * from './redis-health';
export * from './run.store';
export * from './change-feed';
export * from './api-token.store';
export * from './redis-client';
export { decideIngest, parseEventRecord, eventRecord } from './ingest/dedupe';
export * from './slack-message.store';
