import type { AlarmEvent } from '@responder/domain';
import type { CheckedWriteResult, Guard, Write } from '../checked-write';
import type { StoreKeys } from '../keys';
import type { RedisClient } from '../redis-client';
import { type IngestDecision, type IngestFacts, type IngestOutcome, type IngestSnapshot, decideIngest, parseEventRecord } from './dedupe';
import { type IngestWriteOptions, ingestWrite } from './ingest-write';

/**
 * Ingest as read → decide → checked write: the decision in dedupe.ts, the write applied only if
 * what the decision relied on still holds. A conflict means another event changed those facts
 * first: read and decide again. Each conflict is another event's progress, so retries end;
 * MAX_INGEST_ATTEMPTS only bounds a pathological storm, and its error makes the intake answer 503
 * (the sender redelivers), never a half-stored event.
 *
 * The read is skipped when this process has seen the event's group before: the decision is made
 * on what it saw (the group's open incident and its alarms, the event taken as new and not stale)
 * and the checked write verifies all of that, so a wrong guess costs one more round trip, never
 * a wrong write. One round trip for an event of a known group, as many as a storm needs otherwise.
 */
export const MAX_INGEST_ATTEMPTS = 25;

export type CheckedWrite = (keys: string[], guards: Guard[], writes: Write[]) => Promise<CheckedWriteResult>;

export interface IngestResult {
  incidentId: string | null;
  deduplicated: boolean;
  outcome: IngestOutcome;
  /** For a repeated delivery: what the first delivery did (unknown for one stored before this was kept). */
  firstOutcome?: IngestOutcome;
}

/** What this process last saw of a group: its open incident (or none) and that incident's alarms. */
interface GroupView {
  incidentId: string | null;
  alarms: Record<string, string>;
  openedAtMs: number | null;
}

/** Groups remembered (services and unrouted alarms); past it, the memory starts over. */
const GROUPS_MAX = 10_000;

export class Ingest {
  private readonly groups = new Map<string, GroupView>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: StoreKeys,
    private readonly options: IngestWriteOptions,
    private readonly write: CheckedWrite,
  ) {}

  async run(alarm: AlarmEvent, facts: IngestFacts): Promise<IngestResult> {
    const seen = this.groups.get(facts.groupKey);
    if (seen) {
      const guessed: IngestSnapshot = { seen: null, openIncident: seen.incidentId, lastAppliedMs: null, alarms: seen.alarms, openedAtMs: seen.openedAtMs };
      const result = await this.attempt(alarm.eventId, facts, guessed);
      if (result) return result;
    }
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(alarm.eventId, facts, await this.read(alarm.eventId, facts));
      if (result) return result;
      if (attempt >= MAX_INGEST_ATTEMPTS) {
        throw new Error(`ingest of event ${alarm.eventId}: the incident kept changing during ${attempt} attempts; retry the delivery`);
      }
    }
  }

  /** Decides on a snapshot and writes: the result, or null when the snapshot was out of date. */
  private async attempt(eventId: string, facts: IngestFacts, snapshot: IngestSnapshot): Promise<IngestResult | null> {
    const decision = decideIngest(snapshot, facts);
    if (decision.outcome === 'duplicate') return duplicate(decision);
    const { keys, guards, writes } = ingestWrite(this.keys, eventId, facts, decision, this.options);
    const result = await this.write(keys, guards, writes);
    if (!result.applied) {
      // The first guard is the event key's: seen, its value says what the first delivery did.
      if (result.guard === 1 && result.value !== null) return duplicate({ outcome: 'duplicate', ...parseEventRecord(result.value) });
      return null;
    }
    this.learn(facts, snapshot, decision);
    return { incidentId: decision.incidentId, deduplicated: false, outcome: decision.outcome };
  }

  /** What the group looks like after a write that applied (the next event of the group decides on it). */
  private learn(facts: IngestFacts, snapshot: IngestSnapshot, decision: Exclude<IngestDecision, { outcome: 'duplicate' }>): void {
    let view = this.groups.get(facts.groupKey);
    if (!view || view.incidentId !== snapshot.openIncident || view.alarms !== snapshot.alarms) {
      view = { incidentId: snapshot.openIncident, alarms: { ...snapshot.alarms }, openedAtMs: snapshot.openedAtMs };
    }
    for (const effect of decision.effects) {
      if (effect.kind === 'open') view = { incidentId: effect.incident.id, alarms: {}, openedAtMs: Number(effect.incident.openedAtMs) };
      else if (effect.kind === 'alarm') view.alarms[facts.arn] = effect.json;
      else if (effect.kind === 'resolve') view = { incidentId: null, alarms: {}, openedAtMs: null };
    }
    this.remember(facts.groupKey, view);
  }

  /**
   * The event key, the group's open incident, the alarm's last applied time and, for the open
   * incident, its alarms and opening time. The incident's keys are read with the rest for the id
   * this process saw last; only when the group has another open incident are they read again.
   */
  private async read(eventId: string, facts: IngestFacts): Promise<IngestSnapshot> {
    const guess = this.groups.get(facts.groupKey)?.incidentId ?? null;
    const first = this.redis.pipeline().get(this.keys.event(eventId)).get(this.keys.open(facts.groupKey)).hget(this.keys.alarmState(facts.arn), 'ms');
    if (guess) first.hgetall(this.keys.alarms(guess)).hget(this.keys.incident(guess), 'openedAtMs');
    const replies = results(await first.exec());
    const [seen, open, ms] = replies as [string | null, string | null, string | null];
    const snapshot: IngestSnapshot = { seen, openIncident: open, lastAppliedMs: ms === null ? null : Number(ms), alarms: {}, openedAtMs: null };
    if (seen !== null || open === null) return snapshot;
    let alarms: Record<string, string>;
    let openedAtMs: string | null;
    if (open === guess) {
      [alarms, openedAtMs] = replies.slice(3) as [Record<string, string>, string | null];
    } else {
      [alarms, openedAtMs] = results(await this.redis.pipeline().hgetall(this.keys.alarms(open)).hget(this.keys.incident(open), 'openedAtMs').exec()) as [
        Record<string, string>,
        string | null,
      ];
    }
    return { ...snapshot, alarms, openedAtMs: openedAtMs === null ? null : Number(openedAtMs) };
  }

  private remember(groupKey: string, view: GroupView): void {
    if (this.groups.size >= GROUPS_MAX && !this.groups.has(groupKey)) this.groups.clear();
    this.groups.set(groupKey, view);
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
