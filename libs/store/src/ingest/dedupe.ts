/**
 * Dedupe and the ingest decision: what one alarm state change does to the store, decided in plain
 * TypeScript from a snapshot of what the store holds (read in one call, `ingest-read.ts`).
 *
 * Nothing here talks to Redis. The decision comes with the facts it relied on (`expect`); the
 * store applies its effects with a script that first checks those facts still hold
 * (`checked-write.ts`), and on a conflict reads again and decides again. So two deliveries of one
 * event, or a storm of alarms for one service, still end as one stored event and one open
 * incident: only one of two decisions built on the same facts can apply.
 *
 * The cases, in order:
 * - duplicate: the event id was seen (its key holds `incidentId|outcome` of the first delivery;
 *   a key written before that was kept holds the incident id alone).
 * - stale: older than the state last applied for this alarm (EventBridge does not keep order):
 *   recorded on the open incident (alarm.received, alarm.stale) or, with none, on the unattached
 *   stream; never opens, attaches or resolves anything.
 * - ALARM: opens the group's incident when it has none (opened), joins it otherwise (attached for
 *   an alarm it did not hold yet, updated for one it did).
 * - OK / INSUFFICIENT_DATA for an alarm the open incident holds: updated; an OK that leaves every
 *   alarm of the incident at OK resolves it (resolved).
 * - OK / INSUFFICIENT_DATA that no open incident holds: kept on the unattached stream (unattached).
 */

export type IngestOutcome = 'opened' | 'attached' | 'updated' | 'resolved' | 'stale' | 'unattached' | 'duplicate';

const OUTCOMES: ReadonlySet<string> = new Set<IngestOutcome>(['opened', 'attached', 'updated', 'resolved', 'stale', 'unattached', 'duplicate']);

/** What the store holds for one event, read before deciding. */
export interface IngestSnapshot {
  /** The event key's value, or null for an event id never seen (within the dedupe TTL). */
  seen: string | null;
  /** The open incident of the event's group (a catalog service, or one unrouted alarm). */
  openIncident: string | null;
  /** The alarm's own state-change time (ms) last applied, or null when none was. */
  lastAppliedMs: number | null;
  /** The open incident's alarms as stored: ARN → JSON text ({} without an open incident). */
  alarms: Readonly<Record<string, string>>;
  /** When the open incident was opened (ms), for its resolution; null without one. */
  openedAtMs: number | null;
}

/** The event, with what the caller chose for it (the group, a new incident id, the time). */
export interface IngestFacts {
  /** `service`, or `unrouted:<arn>` for an alarm no service claims. */
  groupKey: string;
  service: string | null;
  arn: string;
  name: string;
  kind: string;
  state: string;
  stateChangedAt: string;
  stateChangedAtMs: number;
  reason: string;
  /** The alarm.received entry's data (JSON text), also what the unattached stream keeps. */
  received: string;
  /** The id the incident gets if this event opens one. */
  newIncidentId: string;
  nowIso: string;
  nowMs: number;
}

/** The fields of a new incident's hash. */
export interface NewIncident {
  id: string;
  status: 'open';
  service: string;
  routed: '1' | '0';
  title: string;
  openedAt: string;
  openedAtMs: string;
  onsetAt: string;
  groupKey: string;
}

/** One change to the store, in the order they are applied. */
export type IngestEffect =
  /** `alarm:ARN` ← the state and its time: later events older than it are stale. */
  | { kind: 'alarm-state'; ms: number; state: string }
  /** A new incident: its hash, the group's open pointer, the list indexes. */
  | { kind: 'open'; incident: NewIncident }
  | { kind: 'timeline'; incidentId: string; type: string; data: string }
  /** The incident's alarms hash: this alarm's latest state (JSON). */
  | { kind: 'alarm'; incidentId: string; json: string }
  /** Resolved: status and time, out of the open indexes into the resolved ones, the open pointer dropped. */
  | { kind: 'resolve'; incidentId: string; openedAtMs: number }
  /** An entry on the unattached stream (events no open incident held). */
  | { kind: 'unattached' }
  /** The event key: `incidentId|outcome`, remembered for the dedupe TTL. */
  | { kind: 'event'; value: string };

/**
 * The facts a decision relied on. The event id is always expected unseen. The rest is only what
 * this decision depends on, so that unrelated concurrent events (another alarm of the service
 * joining the same incident) do not make it retry.
 */
export interface IngestExpectation {
  /** The group's open incident (null: none). */
  openIncident: string | null;
  /** The last applied time of this alarm: still at most the event's (not stale), or still above it (stale). */
  lastApplied: { atMost: number } | { above: number };
  /** Whether the open incident's alarms hold this alarm. */
  attached?: boolean;
  /** Alarms of the open incident that must still hold exactly these values (ARN → JSON text). */
  alarmValues?: Readonly<Record<string, string>>;
  /** How many alarms the open incident must still hold (with alarmValues: exactly those). */
  alarmCount?: number;
}

export type IngestDecision =
  | { outcome: 'duplicate'; incidentId: string | null; firstOutcome: IngestOutcome | null }
  | { outcome: Exclude<IngestOutcome, 'duplicate'>; incidentId: string | null; effects: IngestEffect[]; expect: IngestExpectation };

/** The event key's value: `incidentId|outcome` ('' for no incident). */
export function eventRecord(incidentId: string | null, outcome: IngestOutcome): string {
  return `${incidentId ?? ''}|${outcome}`;
}

/** Reads an event key: `incidentId|outcome`, or the incident id alone (a key from before the outcome was kept). */
export function parseEventRecord(value: string): { incidentId: string | null; firstOutcome: IngestOutcome | null } {
  const bar = value.indexOf('|');
  const id = bar < 0 ? value : value.slice(0, bar);
  const outcome = bar < 0 ? '' : value.slice(bar + 1);
  return { incidentId: id === '' ? null : id, firstOutcome: OUTCOMES.has(outcome) ? (outcome as IngestOutcome) : null };
}

/** The state an alarm JSON (as the alarms hash holds it) records. */
function stateOf(json: string): string | undefined {
  return (JSON.parse(json) as { state?: string }).state;
}

export function decideIngest(snapshot: IngestSnapshot, facts: IngestFacts): IngestDecision {
  if (snapshot.seen !== null) return { outcome: 'duplicate', ...parseEventRecord(snapshot.seen) };

  const open = snapshot.openIncident;
  const lastMs = snapshot.lastAppliedMs ?? -1;
  const stateMs = facts.stateChangedAtMs;
  const received = (incidentId: string): IngestEffect => ({ kind: 'timeline', incidentId, type: 'alarm.received', data: facts.received });
  const done = (outcome: Exclude<IngestOutcome, 'duplicate'>, incidentId: string | null, effects: IngestEffect[], expect: IngestExpectation): IngestDecision => ({
    outcome,
    incidentId,
    effects: [...effects, { kind: 'event', value: eventRecord(incidentId, outcome) }],
    expect,
  });

  if (stateMs < lastMs) {
    const stale: IngestEffect[] = open
      ? [received(open), { kind: 'timeline', incidentId: open, type: 'alarm.stale', data: JSON.stringify({ alarm: facts.name, state: facts.state, stateChangedAt: facts.stateChangedAt }) }]
      : [{ kind: 'unattached' }];
    return done('stale', open, stale, { openIncident: open, lastApplied: { above: stateMs } });
  }

  const alarmState: IngestEffect = { kind: 'alarm-state', ms: stateMs, state: facts.state };
  const alarmJson = JSON.stringify({ name: facts.name, arn: facts.arn, kind: facts.kind, state: facts.state, reason: facts.reason, stateChangedAt: facts.stateChangedAt });
  const notStale = { atMost: stateMs };

  if (facts.state === 'ALARM') {
    if (!open) {
      const id = facts.newIncidentId;
      const routed = facts.service ? '1' : '0';
      const incident: NewIncident = {
        id,
        status: 'open',
        service: facts.service ?? '',
        routed,
        title: facts.name,
        openedAt: facts.nowIso,
        openedAtMs: String(facts.nowMs),
        onsetAt: facts.stateChangedAt,
        groupKey: facts.groupKey,
      };
      return done(
        'opened',
        id,
        [
          alarmState,
          { kind: 'open', incident },
          received(id),
          { kind: 'timeline', incidentId: id, type: 'incident.opened', data: JSON.stringify({ service: facts.service ?? '', routed: routed === '1', alarm: facts.name }) },
          { kind: 'alarm', incidentId: id, json: alarmJson },
          { kind: 'timeline', incidentId: id, type: 'alarm.attached', data: JSON.stringify({ alarm: facts.name, arn: facts.arn }) },
        ],
        { openIncident: null, lastApplied: notStale },
      );
    }
    const attached = facts.arn in snapshot.alarms;
    const effects: IngestEffect[] = [alarmState, received(open), { kind: 'alarm', incidentId: open, json: alarmJson }];
    if (!attached) effects.push({ kind: 'timeline', incidentId: open, type: 'alarm.attached', data: JSON.stringify({ alarm: facts.name, arn: facts.arn }) });
    return done(attached ? 'updated' : 'attached', open, effects, { openIncident: open, lastApplied: notStale, attached });
  }

  // OK or INSUFFICIENT_DATA
  if (!open || !(facts.arn in snapshot.alarms)) {
    // For an alarm no open incident holds: kept, attached to nothing.
    return done('unattached', null, [alarmState, { kind: 'unattached' }], { openIncident: open, lastApplied: notStale, ...(open ? { attached: false } : {}) });
  }
  const effects: IngestEffect[] = [alarmState, received(open), { kind: 'alarm', incidentId: open, json: alarmJson }];
  const expect: IngestExpectation = { openIncident: open, lastApplied: notStale, attached: true };
  if (facts.state !== 'OK') return done('updated', open, effects, expect);

  const others = Object.entries(snapshot.alarms).filter(([arn]) => arn !== facts.arn);
  const stillFiring = others.find(([, json]) => stateOf(json) !== 'OK');
  if (stillFiring) {
    // One alarm not at OK is enough to keep the incident open, as long as it stays so.
    return done('updated', open, effects, { ...expect, alarmValues: Object.fromEntries([stillFiring]) });
  }
  const openedAtMs = snapshot.openedAtMs ?? facts.nowMs;
  effects.push(
    { kind: 'resolve', incidentId: open, openedAtMs },
    { kind: 'timeline', incidentId: open, type: 'incident.resolved', data: JSON.stringify({ lastAlarm: facts.name, openForMs: facts.nowMs - openedAtMs }) },
  );
  return done('resolved', open, effects, { ...expect, alarmValues: Object.fromEntries(others), alarmCount: others.length + 1 });
}
