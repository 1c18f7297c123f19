import { type IngestDecision, type IngestEffect, type IngestFacts, type IngestSnapshot, decideIngest, eventRecord, parseEventRecord } from './dedupe';

const ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-5xx';
const OTHER = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-latency';
const THIRD = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-errors';

function facts(over: Partial<IngestFacts> = {}): IngestFacts {
  return {
    groupKey: 'checkout',
    service: 'checkout',
    arn: ARN,
    name: 'checkout-5xx',
    kind: 'metric',
    state: 'ALARM',
    stateChangedAt: '2026-12-07T10:00:00.000Z',
    stateChangedAtMs: Date.parse('2026-12-07T10:00:00.000Z'),
    reason: 'Threshold Crossed',
    received: '{"eventId":"e1"}',
    newIncidentId: 'inc_NEW',
    nowIso: '2026-12-07T10:00:05.000Z',
    nowMs: Date.parse('2026-12-07T10:00:05.000Z'),
    ...over,
  };
}

const empty: IngestSnapshot = { seen: null, openIncident: null, lastAppliedMs: null, alarms: {}, openedAtMs: null };
const stored = (arn: string, state: string) => JSON.stringify({ name: arn.split(':').at(-1), arn, state });
const withIncident = (alarms: Record<string, string>, over: Partial<IngestSnapshot> = {}): IngestSnapshot => ({
  ...empty,
  openIncident: 'inc_OPEN',
  alarms,
  openedAtMs: Date.parse('2026-12-07T09:00:00.000Z'),
  ...over,
});

type Applied = Exclude<IngestDecision, { outcome: 'duplicate' }>;
function applied(decision: IngestDecision): Applied {
  if (decision.outcome === 'duplicate') throw new Error('expected a decision to apply');
  return decision;
}
const timelineTypes = (effects: IngestEffect[]) => effects.flatMap((e) => (e.kind === 'timeline' ? [`${e.incidentId} ${e.type}`] : []));
const kinds = (effects: IngestEffect[]) => effects.map((e) => e.kind);

describe('dedupe: the event key', () => {
  it('records the incident and the outcome of the first delivery, and reads them back', () => {
    expect(eventRecord('inc_1', 'opened')).toBe('inc_1|opened');
    expect(eventRecord(null, 'unattached')).toBe('|unattached');
    expect(parseEventRecord('inc_1|attached')).toEqual({ incidentId: 'inc_1', firstOutcome: 'attached' });
    expect(parseEventRecord('|stale')).toEqual({ incidentId: null, firstOutcome: 'stale' });
  });

  it('reads a key written before the outcome was kept (the incident id alone) with no first outcome', () => {
    expect(parseEventRecord('inc_1')).toEqual({ incidentId: 'inc_1', firstOutcome: null });
    expect(parseEventRecord('inc_1|something-else')).toEqual({ incidentId: 'inc_1', firstOutcome: null });
  });
});

describe('decideIngest', () => {
  it('duplicate: an event id seen before changes nothing and says what the first delivery did', () => {
    expect(decideIngest({ ...withIncident({}), seen: 'inc_OPEN|opened' }, facts())).toEqual({ outcome: 'duplicate', incidentId: 'inc_OPEN', firstOutcome: 'opened' });
    expect(decideIngest({ ...empty, seen: '|unattached' }, facts({ state: 'OK' }))).toEqual({ outcome: 'duplicate', incidentId: null, firstOutcome: 'unattached' });
    expect(decideIngest({ ...empty, seen: 'inc_OLD' }, facts())).toEqual({ outcome: 'duplicate', incidentId: 'inc_OLD', firstOutcome: null });
  });

  it('opened: an ALARM for a group with no open incident opens one, with its alarm attached', () => {
    const d = applied(decideIngest(empty, facts()));
    expect(d).toMatchObject({ outcome: 'opened', incidentId: 'inc_NEW' });
    expect(kinds(d.effects)).toEqual(['alarm-state', 'open', 'timeline', 'timeline', 'alarm', 'timeline', 'event']);
    expect(timelineTypes(d.effects)).toEqual(['inc_NEW alarm.received', 'inc_NEW incident.opened', 'inc_NEW alarm.attached']);
    expect(d.effects).toContainEqual({
      kind: 'open',
      incident: {
        id: 'inc_NEW',
        status: 'open',
        service: 'checkout',
        routed: '1',
        title: 'checkout-5xx',
        openedAt: '2026-12-07T10:00:05.000Z',
        openedAtMs: String(Date.parse('2026-12-07T10:00:05.000Z')),
        onsetAt: '2026-12-07T10:00:00.000Z',
        groupKey: 'checkout',
      },
    });
    expect(d.effects.at(-1)).toEqual({ kind: 'event', value: 'inc_NEW|opened' });
    // Two events that both saw no incident cannot both open one: the second finds it there.
    expect(d.expect).toEqual({ openIncident: null, lastApplied: { atMost: facts().stateChangedAtMs } });
  });

  it('opened: an alarm no service claims opens an unrouted incident', () => {
    const d = applied(decideIngest(empty, facts({ service: null, groupKey: `unrouted:${ARN}` })));
    const open = d.effects.find((e) => e.kind === 'open');
    expect(open).toMatchObject({ incident: { service: '', routed: '0', groupKey: `unrouted:${ARN}` } });
    const opened = d.effects.find((e) => e.kind === 'timeline' && e.type === 'incident.opened');
    expect(JSON.parse((opened as { data: string }).data)).toEqual({ service: '', routed: false, alarm: 'checkout-5xx' });
  });

  it('attached: an ALARM joins the open incident, which did not hold it yet', () => {
    const d = applied(decideIngest(withIncident({ [OTHER]: stored(OTHER, 'ALARM') }), facts()));
    expect(d).toMatchObject({ outcome: 'attached', incidentId: 'inc_OPEN' });
    expect(timelineTypes(d.effects)).toEqual(['inc_OPEN alarm.received', 'inc_OPEN alarm.attached']);
    expect(d.expect).toEqual({ openIncident: 'inc_OPEN', lastApplied: { atMost: facts().stateChangedAtMs }, attached: false });
    expect(d.effects.at(-1)).toEqual({ kind: 'event', value: 'inc_OPEN|attached' });
  });

  it('updated: an ALARM again for an alarm the incident holds records it, nothing attached', () => {
    const d = applied(decideIngest(withIncident({ [ARN]: stored(ARN, 'ALARM') }, { lastAppliedMs: facts().stateChangedAtMs - 1 }), facts()));
    expect(d).toMatchObject({ outcome: 'updated', incidentId: 'inc_OPEN' });
    expect(timelineTypes(d.effects)).toEqual(['inc_OPEN alarm.received']);
    expect(d.effects).toContainEqual({ kind: 'alarm', incidentId: 'inc_OPEN', json: expect.stringContaining('"state":"ALARM"') });
    expect(d.expect.attached).toBe(true);
  });

  it('an event at the same time as the last applied one is not stale', () => {
    const d = decideIngest(withIncident({ [ARN]: stored(ARN, 'ALARM') }, { lastAppliedMs: facts().stateChangedAtMs }), facts());
    expect(d.outcome).toBe('updated');
  });

  it('stale: older than the last applied state, recorded on the open incident and changing nothing', () => {
    const snapshot = withIncident({ [ARN]: stored(ARN, 'OK'), [OTHER]: stored(OTHER, 'ALARM') }, { lastAppliedMs: facts().stateChangedAtMs + 1000 });
    const d = applied(decideIngest(snapshot, facts()));
    expect(d).toMatchObject({ outcome: 'stale', incidentId: 'inc_OPEN' });
    expect(kinds(d.effects)).toEqual(['timeline', 'timeline', 'event']);
    expect(timelineTypes(d.effects)).toEqual(['inc_OPEN alarm.received', 'inc_OPEN alarm.stale']);
    const staleEntry = d.effects.find((e) => e.kind === 'timeline' && e.type === 'alarm.stale') as { data: string };
    expect(JSON.parse(staleEntry.data)).toEqual({ alarm: 'checkout-5xx', state: 'ALARM', stateChangedAt: '2026-12-07T10:00:00.000Z' });
    expect(d.expect).toEqual({ openIncident: 'inc_OPEN', lastApplied: { above: facts().stateChangedAtMs } });
  });

  it('stale: with no open incident, kept on the unattached stream, never opening one', () => {
    const d = applied(decideIngest({ ...empty, lastAppliedMs: facts().stateChangedAtMs + 1 }, facts()));
    expect(d).toMatchObject({ outcome: 'stale', incidentId: null });
    expect(kinds(d.effects)).toEqual(['unattached', 'event']);
    expect(d.effects.at(-1)).toEqual({ kind: 'event', value: '|stale' });
  });

  it('updated: an OK for one alarm while another still fires keeps the incident open, relying on that one', () => {
    const firing = stored(OTHER, 'ALARM');
    const d = applied(decideIngest(withIncident({ [ARN]: stored(ARN, 'ALARM'), [OTHER]: firing, [THIRD]: stored(THIRD, 'OK') }), facts({ state: 'OK' })));
    expect(d).toMatchObject({ outcome: 'updated', incidentId: 'inc_OPEN' });
    expect(kinds(d.effects)).toEqual(['alarm-state', 'timeline', 'alarm', 'event']);
    // If that alarm goes back to OK meanwhile, this OK must be decided again (it may resolve).
    expect(d.expect).toEqual({ openIncident: 'inc_OPEN', lastApplied: { atMost: facts().stateChangedAtMs }, attached: true, alarmValues: { [OTHER]: firing } });
  });

  it('resolved: the OK that leaves every alarm of the incident at OK resolves it', () => {
    const others = { [OTHER]: stored(OTHER, 'OK'), [THIRD]: stored(THIRD, 'OK') };
    const d = applied(decideIngest(withIncident({ [ARN]: stored(ARN, 'ALARM'), ...others }), facts({ state: 'OK' })));
    expect(d).toMatchObject({ outcome: 'resolved', incidentId: 'inc_OPEN' });
    expect(kinds(d.effects)).toEqual(['alarm-state', 'timeline', 'alarm', 'resolve', 'timeline', 'event']);
    expect(timelineTypes(d.effects)).toEqual(['inc_OPEN alarm.received', 'inc_OPEN incident.resolved']);
    const openedAtMs = Date.parse('2026-12-07T09:00:00.000Z');
    expect(d.effects).toContainEqual({ kind: 'resolve', incidentId: 'inc_OPEN', openedAtMs });
    const resolvedEntry = d.effects.find((e) => e.kind === 'timeline' && e.type === 'incident.resolved') as { data: string };
    expect(JSON.parse(resolvedEntry.data)).toEqual({ lastAlarm: 'checkout-5xx', openForMs: facts().nowMs - openedAtMs });
    // Every other alarm must still be as read, and no alarm added meanwhile.
    expect(d.expect).toMatchObject({ alarmValues: others, alarmCount: 3, attached: true });
  });

  it('resolved: an incident with one alarm resolves on its OK', () => {
    const d = decideIngest(withIncident({ [ARN]: stored(ARN, 'ALARM') }), facts({ state: 'OK' }));
    expect(d).toMatchObject({ outcome: 'resolved', expect: { alarmValues: {}, alarmCount: 1 } });
  });

  it('updated: INSUFFICIENT_DATA for a held alarm is recorded, never resolves', () => {
    const d = applied(decideIngest(withIncident({ [ARN]: stored(ARN, 'ALARM') }), facts({ state: 'INSUFFICIENT_DATA' })));
    expect(d).toMatchObject({ outcome: 'updated', incidentId: 'inc_OPEN' });
    expect(kinds(d.effects)).not.toContain('resolve');
    expect(d.expect.alarmValues).toBeUndefined();
  });

  it('unattached: an OK with no open incident is kept, attached to nothing, its state still applied', () => {
    const d = applied(decideIngest(empty, facts({ state: 'OK' })));
    expect(d).toMatchObject({ outcome: 'unattached', incidentId: null });
    expect(d.effects).toEqual([{ kind: 'alarm-state', ms: facts().stateChangedAtMs, state: 'OK' }, { kind: 'unattached' }, { kind: 'event', value: '|unattached' }]);
    expect(d.expect).toEqual({ openIncident: null, lastApplied: { atMost: facts().stateChangedAtMs } });
  });

  it('unattached: an OK for an alarm the open incident does not hold', () => {
    const d = applied(decideIngest(withIncident({ [OTHER]: stored(OTHER, 'ALARM') }), facts({ state: 'OK' })));
    expect(d).toMatchObject({ outcome: 'unattached', incidentId: null });
    expect(d.expect).toEqual({ openIncident: 'inc_OPEN', lastApplied: { atMost: facts().stateChangedAtMs }, attached: false });
  });

  it('storm: events decided on the same empty snapshot all expect no incident, so only one can open it', () => {
    const decisions = ['a', 'b', 'c'].map((n) => applied(decideIngest(empty, facts({ arn: `${ARN}-${n}`, name: n, newIncidentId: `inc_${n}` }))));
    expect(decisions.map((d) => d.outcome)).toEqual(['opened', 'opened', 'opened']);
    expect(decisions.every((d) => d.expect.openIncident === null)).toBe(true);
    // Decided again on the incident the first opened, the others join it.
    const after = withIncident({ [`${ARN}-a`]: stored(`${ARN}-a`, 'ALARM') }, { openIncident: 'inc_a' });
    expect(['b', 'c'].map((n) => decideIngest(after, facts({ arn: `${ARN}-${n}`, name: n })).outcome)).toEqual(['attached', 'attached']);
  });
});
