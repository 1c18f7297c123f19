import type { AlarmEvent } from '@responder/domain';
import type { Guard, Write } from '../checked-write';
import type { StoreKeys } from '../keys';
import type { RedisClient } from '../redis-client';
import { type IngestDecision, type IngestFacts, type IngestOutcome, type IngestSnapshot, decideIngest } from './dedupe';
import { type IngestWriteOptions, ingestWrite } from './ingest-write';

/**
 * Ingest as read → decide → checked write: the snapshot in one round trip (two when the group's
 * open incident is not the one this process saw last), the decision in dedupe.ts, the write
 * applied only if what it relied on still holds. A conflict means another event changed those
 * facts first: read and decide again. Each conflict is another event's progress, so retries end;
 * MAX_ATTEMPTS only bounds a pathological storm, and its error makes the intake answer 503 (the
 * sender redelivers), never a half-stored event.
 */
export const MAX_INGEST_ATTEMPTS = 25;

export type CheckedWrite = (keys: string[], guards: Guard[], writes: Write[]) => Promise<boolean>;

export interface IngestResult {
  incidentId: string | null;
  deduplicated: boolean;
  outcome: IngestOutcome;
  /** For a repeated delivery: what the first delivery did (unknown for one stored before this was kept). */
  firstOutcome?: IngestOutcome;
}

/** The open incident each group had when this process last looked: read with the rest, on a guess. */
const OPEN_GUESS_MAX = 10_000;

export class Ingest {
  private readonly openGuess = new Map<string, string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    private readonly options: IngestWriteOptions,
    private readonly write: CheckedWrite,
  ) {}

  async run(alarm: AlarmEvent, facts: IngestFacts): Promise<IngestResult> {
    for (let attempt = 1; ; attempt++) {
      const snapshot = await this.read(alarm.eventId, facts);
      const decision = decideIngest(snapshot, facts);
      if (decision.outcome === 'duplicate') return duplicate(decision);
      const { keys, guards, writes } = ingestWrite(this.keys, alarm.eventId, facts, decision, this.options);
      if (await this.write(keys, guards, writes)) {
        this.remember(facts.groupKey, decision.outcome === 'resolved' ? null : (decision.incidentId ?? snapshot.openIncident));
        return { incidentId: decision.incidentId, deduplicated: false, outcome: decision.outcome };
      }
      if (attempt >= MAX_INGEST_ATTEMPTS) {
        throw new Error(`ingest of event ${alarm.eventId}: the incident kept changing during ${attempt} attempts; retry the delivery`);
      }
    }
  }

  /**
   * The event key, the group's open incident, the alarm's last applied time and, for the open
   * incident, its alarms and opening time. The incident's keys are read with the rest for the id
   * this process saw last; only when the group has another open incident are they read again.
   */
  private async read(eventId: string, facts: IngestFacts): Promise<IngestSnapshot> {
    const guess = this.openGuess.get(facts.groupKey);
    const first = this.redis.pipeline().get(this.keys.event(eventId)).get(this.keys.open(facts.groupKey)).hget(this.keys.alarmState(facts.arn), 'ms');
    if (guess) first.hgetall(this.keys.alarms(guess)).hget(this.keys.incident(guess), 'openedAtMs');
    const replies = results(await first.exec());
    const [seen, open, ms] = replies as [string | null, string | null, string | null];
    const snapshot: IngestSnapshot = { seen, openIncident: open, lastAppliedMs: ms === null ? null : Number(ms), alarms: {}, openedAtMs: null };
    if (seen !== null || open === null) {
      this.remember(facts.groupKey, open);
      return snapshot;
    }
    let alarms: Record<string, string>;
    let openedAtMs: string | null;
    if (open === guess) {
      [alarms, openedAtMs] = replies.slice(3) as [Record<string, string>, string | null];
    } else {
      this.remember(facts.groupKey, open);
      [alarms, openedAtMs] = results(await this.redis.pipeline().hgetall(this.keys.alarms(open)).hget(this.keys.incident(open), 'openedAtMs').exec()) as [
        Record<string, string>,
        string | null,
      ];
    }
    return { ...snapshot, alarms, openedAtMs: openedAtMs === null ? null : Number(openedAtMs) };
  }

  private remember(groupKey: string, incidentId: string | null): void {
    if (incidentId === null) {
      this.openGuess.delete(groupKey);
      return;
    }
    if (this.openGuess.size >= OPEN_GUESS_MAX && !this.openGuess.has(groupKey)) this.openGuess.clear();
    this.openGuess.set(groupKey, incidentId);
  }
}

function duplicate(decision: Extract<IngestDecision, { outcome: 'duplicate' }>): IngestResult {
  return {
    incidentId: decision.incidentId,
    deduplicated: true,
    outcome: 'duplicate',
    ...(decision.firstOutcome ? { firstOutcome: decision.firstOutcome } : {}),
  };
}

function results(replies: [Error | null, unknown][] | null): unknown[] {
  return (replies ?? []).map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** The facts of an alarm event as `decideIngest` takes them. */
export function ingestFacts(
  alarm: AlarmEvent,
  input: { service: string | null; matchedBy: string | null; source: string },
  now: number,
  newIncidentId: string,
): IngestFacts {
  const { service, matchedBy, source } = input;
  const received = JSON.stringify({
    eventId: alarm.eventId,
    source,
    alarm: alarm.alarmName,
    arn: alarm.alarmArn,
    kind: alarm.kind,
    state: alarm.state,
    previousState: alarm.previousState ?? null,
    reason: alarm.reason,
    stateChangedAt: alarm.stateChangedAt,
    service,
    matchedBy,
    metrics: alarm.metrics,
    ...(alarm.alarmRule ? { alarmRule: alarm.alarmRule } : {}),
  });
  return {
    groupKey: service ?? `unrouted:${alarm.alarmArn}`,
    service,
    arn: alarm.alarmArn,
    name: alarm.alarmName,
    kind: alarm.kind,
    state: alarm.state,
    stateChangedAt: alarm.stateChangedAt,
    stateChangedAtMs: alarm.stateChangedAtMs,
    reason: alarm.reason,
    received,
    newIncidentId,
    nowIso: new Date(now).toISOString(),
    nowMs: now,
  };
}
