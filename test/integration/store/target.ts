import { type AlarmEvent, parseAlarmEvent } from '@responder/domain';
import type { RedisClient } from '@responder/store';
import { alarmEvent } from '../../support/events';

/** Where a store suite runs: a client (one Redis or a Cluster) and a key prefix of its own. */
export interface StoreTarget {
  redis: RedisClient;
  prefix: string;
}

/** An EventBridge alarm event as the intake hands it to the store: built (support/events) and parsed. */
export function parsedAlarm(options: Parameters<typeof alarmEvent>[0]): AlarmEvent {
  const parsed = parseAlarmEvent(alarmEvent(options));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}
