import { StoreKeys } from '../keys';
import { decideIngest, type IngestFacts, type IngestSnapshot } from './dedupe';
import { ingestWrite } from './ingest-write';

const keys = new StoreKeys('{rsp}');
const ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:a';
const facts: IngestFacts = {
  groupKey: 'checkout',
  service: 'checkout',
  arn: ARN,
  name: 'a',
  kind: 'metric',
  state: 'ALARM',
  stateChangedAt: '2026-12-07T10:00:00.000Z',
  stateChangedAtMs: 1000,
  reason: 'r',
  received: '{}',
  newIncidentId: 'inc_N',
  nowIso: '2026-12-07T10:00:05.000Z',
  nowMs: 5000,
};
const empty: IngestSnapshot = { seen: null, openIncident: null, lastAppliedMs: null, alarms: {}, openedAtMs: null };
const options = { dedupeTtlSeconds: 3600, unattachedMaxLen: 50 };

function write(snapshot: IngestSnapshot, f: IngestFacts = facts) {
  const decision = decideIngest(snapshot, f);
  if (decision.outcome === 'duplicate') throw new Error('duplicate');
  return ingestWrite(keys, 'evt-1', f, decision, options);
}

describe('ingestWrite', () => {
  it('declares every key it guards or writes, each once, all under the prefix (one Cluster slot with a hash tag)', () => {
    const w = write(empty);
    expect(new Set(w.keys).size).toBe(w.keys.length);
    expect(w.keys.every((k) => k.startsWith('{rsp}:'))).toBe(true);
    const used = [...w.guards.map((g) => g[1]), ...w.writes.map((x) => x[1])];
    expect(Math.min(...used)).toBe(1);
    expect(Math.max(...used)).toBe(w.keys.length);
  });

  it('opening: guards the event id unseen, no open incident, the alarm not newer; writes the incident, its indexes and the event key', () => {
    const w = write(empty);
    const key = (i: number) => w.keys[i - 1];
    expect(w.guards.map((g) => [g[0], key(g[1]), ...g.slice(2)])).toEqual([
      ['absent', '{rsp}:event:evt-1'],
      ['absent', '{rsp}:open:checkout'],
      ['hnum<=', `{rsp}:alarm:${ARN}`, 'ms', 1000],
    ]);
    const written = w.writes.map((x) => `${x[0]} ${key(x[1])}`);
    expect(written).toEqual([
      `HSET {rsp}:alarm:${ARN}`,
      'SET {rsp}:open:checkout',
      'HSET {rsp}:incident:inc_N',
      'ZADD {rsp}:incidents',
      'ZADD {rsp}:incidents:service:checkout',
      'ZADD {rsp}:incidents:status:open',
      'ZADD {rsp}:incidents:service:checkout:status:open',
      'XADD {rsp}:incident:inc_N:timeline',
      // The change feed hears of the incident once, with the first entry's type; so does the
      // alarm feed, since that type can start a runbook.
      'XADD {rsp}:changes',
      'XADD {rsp}:changes:alarms',
      'XADD {rsp}:incident:inc_N:timeline',
      'HSET {rsp}:incident:inc_N:alarms',
      'XADD {rsp}:incident:inc_N:timeline',
      'SET {rsp}:event:evt-1',
    ]);
    const noticeOn = (feed: string) => w.writes.filter((x) => key(x[1]) === feed).map((x) => x.slice(2));
    expect(noticeOn('{rsp}:changes')).toEqual([['MAXLEN', '~', '100000', '*', 'incident', 'inc_N', 'type', 'alarm.received']]);
    expect(noticeOn('{rsp}:changes:alarms')).toEqual(noticeOn('{rsp}:changes'));
    expect(w.writes.at(-1)).toEqual(['SET', w.keys.indexOf('{rsp}:event:evt-1') + 1, 'inc_N|opened', 'EX', '3600']);
  });

  it('resolving: guards the other alarms as read and their number; moves the incident from the open indexes to the resolved ones', () => {
    const other = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:b';
    const okJson = JSON.stringify({ state: 'OK' });
    const w = write(
      { ...empty, openIncident: 'inc_O', openedAtMs: 100, alarms: { [ARN]: JSON.stringify({ state: 'ALARM' }), [other]: okJson } },
      { ...facts, state: 'OK', service: null, groupKey: `unrouted:${ARN}` },
    );
    const key = (i: number) => w.keys[i - 1];
    expect(w.guards.map((g) => [g[0], key(g[1]), ...g.slice(2)])).toEqual([
      ['absent', '{rsp}:event:evt-1'],
      ['get', `{rsp}:open:unrouted:${ARN}`, 'inc_O'],
      ['hnum<=', `{rsp}:alarm:${ARN}`, 'ms', 1000],
      ['hexists', '{rsp}:incident:inc_O:alarms', ARN, 1],
      ['hget', '{rsp}:incident:inc_O:alarms', other, okJson],
      ['hlen', '{rsp}:incident:inc_O:alarms', 2],
    ]);
    const written = w.writes.map((x) => `${x[0]} ${key(x[1])}`);
    expect(written).toEqual(
      expect.arrayContaining([
        'DEL {rsp}:open:unrouted:' + ARN,
        'ZREM {rsp}:incidents:status:open',
        'ZREM {rsp}:incidents:service:(unrouted):status:open',
        'ZADD {rsp}:incidents:status:resolved',
        'ZADD {rsp}:incidents:service:(unrouted):status:resolved',
      ]),
    );
    expect(w.writes.find((x) => x[0] === 'ZADD')).toEqual(['ZADD', expect.any(Number), '100', 'inc_O']);
  });

  it('unattached: writes the capped stream, no incident key', () => {
    const w = write(empty, { ...facts, state: 'OK' });
    expect(w.keys).toEqual([`{rsp}:alarm:${ARN}`, '{rsp}:open:checkout', '{rsp}:event:evt-1', '{rsp}:unattached']);
    expect(w.writes.find((x) => x[0] === 'XADD')).toEqual(['XADD', 4, 'MAXLEN', '~', '50', '*', 'type', 'alarm.received', 'at', facts.nowIso, 'data', '{}']);
  });
});
