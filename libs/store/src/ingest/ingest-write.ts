import { type Guard, KeyList, type Write } from '../checked-write';
import { type StoreKeys, UNROUTED_INDEX } from '../keys';
import { CHANGES_MAXLEN, isAlarmChange } from '../timeline-lua';
import type { IngestDecision, IngestFacts } from './dedupe';

export interface IngestWriteOptions {
  dedupeTtlSeconds: number;
  unattachedMaxLen: number;
}

/**
 * A decision (dedupe.ts) as a checked write (checked-write.ts): its expectations as guards, its
 * effects as Redis writes, every key declared. Pure: the keys come from `StoreKeys`.
 */
export function ingestWrite(
  keys: StoreKeys,
  eventId: string,
  facts: IngestFacts,
  decision: Exclude<IngestDecision, { outcome: 'duplicate' }>,
  options: IngestWriteOptions,
): { keys: string[]; guards: Guard[]; writes: Write[] } {
  const k = new KeyList();
  const { expect, effects } = decision;
  const serviceIndex = facts.service ?? UNROUTED_INDEX;
  const alarmKey = k.ref(keys.alarmState(facts.arn));
  const openKey = k.ref(keys.open(facts.groupKey));

  const guards: Guard[] = [['absent', k.ref(keys.event(eventId))]];
  guards.push(expect.openIncident === null ? ['absent', openKey] : ['get', openKey, expect.openIncident]);
  guards.push('atMost' in expect.lastApplied ? ['hnum<=', alarmKey, 'ms', expect.lastApplied.atMost] : ['hnum>', alarmKey, 'ms', expect.lastApplied.above]);
  if (expect.openIncident !== null) {
    const alarms = k.ref(keys.alarms(expect.openIncident));
    if (expect.attached !== undefined) guards.push(['hexists', alarms, facts.arn, expect.attached ? 1 : 0]);
    for (const [arn, json] of Object.entries(expect.alarmValues ?? {})) guards.push(['hget', alarms, arn, json]);
    if (expect.alarmCount !== undefined) guards.push(['hlen', alarms, expect.alarmCount]);
  }

  const writes: Write[] = [];
  const noted = new Set<string>();
  for (const effect of effects) {
    switch (effect.kind) {
      case 'alarm-state':
        writes.push(['HSET', alarmKey, 'ms', String(effect.ms), 'state', effect.state]);
        break;
      case 'open': {
        const { incident } = effect;
        const score = incident.openedAtMs;
        writes.push(['SET', openKey, incident.id], ['HSET', k.ref(keys.incident(incident.id)), ...Object.entries(incident).flat<[string, string][]>()]);
        for (const index of [keys.index({}), keys.index({ service: serviceIndex }), keys.index({ status: 'open' }), keys.index({ status: 'open', service: serviceIndex })]) {
          writes.push(['ZADD', k.ref(index), score, incident.id]);
        }
        break;
      }
      case 'timeline':
        writes.push(['XADD', k.ref(keys.timeline(effect.incidentId)), '*', 'type', effect.type, 'at', facts.nowIso, 'data', effect.data]);
        // The change feed hears of an incident once per call, with the first entry's type, and so
        // does the alarm feed when that type can start a runbook (timeline-lua.ts does the same).
        if (!noted.has(effect.incidentId)) {
          noted.add(effect.incidentId);
          for (const feed of isAlarmChange(effect.type) ? [keys.changes(), keys.alarmChanges()] : [keys.changes()]) {
            writes.push(['XADD', k.ref(feed), 'MAXLEN', '~', String(CHANGES_MAXLEN), '*', 'incident', effect.incidentId, 'type', effect.type]);
          }
        }
        break;
      case 'alarm':
        writes.push(['HSET', k.ref(keys.alarms(effect.incidentId)), facts.arn, effect.json]);
        break;
      case 'resolve': {
        const id = effect.incidentId;
        writes.push(['HSET', k.ref(keys.incident(id)), 'status', 'resolved', 'resolvedAt', facts.nowIso], ['DEL', openKey]);
        for (const index of [keys.index({ status: 'open' }), keys.index({ status: 'open', service: serviceIndex })]) writes.push(['ZREM', k.ref(index), id]);
        for (const index of [keys.index({ status: 'resolved' }), keys.index({ status: 'resolved', service: serviceIndex })]) {
          writes.push(['ZADD', k.ref(index), String(effect.openedAtMs), id]);
        }
        break;
      }
      case 'unattached':
        writes.push(['XADD', k.ref(keys.unattached()), 'MAXLEN', '~', String(options.unattachedMaxLen), '*', 'type', 'alarm.received', 'at', facts.nowIso, 'data', facts.received]);
        break;
      case 'event':
        writes.push(['SET', k.ref(keys.event(eventId)), effect.value, 'EX', String(options.dedupeTtlSeconds)]);
        break;
    }
  }
  return { keys: k.keys, guards, writes };
}
