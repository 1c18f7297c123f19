import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a fixture event that tests change. */
export interface AlarmEventFixture {
  id: string;
  time: string;
  resources: string[];
  detail: {
    alarmName: string;
    previousState: { value: string };
    state: { value: string; reason: string; timestamp: string; reasonData?: string };
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export const FIXTURES = join(__dirname, '..', 'fixtures');

/** A real-shaped CloudWatch alarm state change event, from the metric-alarm fixture. */
export function alarmEvent(options: {
  alarmName: string;
  state?: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA';
  at?: Date;
  id?: string;
  reason?: string;
}): AlarmEventFixture {
  const event: AlarmEventFixture = JSON.parse(readFileSync(join(FIXTURES, 'ok', 'metric-alarm.json'), 'utf8'));
  const at = options.at ?? new Date();
  const state = options.state ?? 'ALARM';
  event.id = options.id ?? randomUUID();
  event.time = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  event.resources = [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${options.alarmName}`];
  event.detail.alarmName = options.alarmName;
  event.detail.previousState.value = state === 'ALARM' ? 'OK' : 'ALARM';
  event.detail.state.value = state;
  event.detail.state.reason = options.reason ?? `Threshold Crossed: test (${state})`;
  event.detail.state.timestamp = at.toISOString().replace('Z', '+0000');
  return event;
}
