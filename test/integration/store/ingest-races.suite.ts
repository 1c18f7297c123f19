import type { AlarmEvent } from '@responder/domain';
import { IncidentStore, type RedisClient } from '@responder/store';
import { type StoreTarget, parsedAlarm } from './target';

/**
 * Ingest under concurrency: the decision is made outside Redis (dedupe.ts) and applied only if
 * what it read still holds, so these are the races a checked write must win. Run against one
 * Redis (ingest-races.spec.ts) and a Redis Cluster (store-cluster.spec.ts).
 */
export function ingestRacesSuite(target: () => StoreTarget): void {
  let redis: RedisClient;
  let prefix: string;
  let store: IncidentStore;
  beforeAll(() => {
    ({ redis, prefix } = target());
    store = new IncidentStore(redis, { prefix, dedupeTtlSeconds: 3600, unattachedMaxLen: 1000 });
  });

  const alarm = parsedAlarm;
  const ingest = (a: AlarmEvent, service: string | null) => store.ingest({ alarm: a, service, matchedBy: service ? 'name' : null, source: 'test' });
  const received = async (id: string) => (await store.timeline(id)).filter((e) => e.type === 'alarm.received').length;

  describe('ingest races', () => {
    it('stores an event delivered 30 times at once once: one accepted, 29 deduplicated', async () => {
      const a = alarm({ alarmName: 'race-dup' });
      const results = await Promise.all(Array.from({ length: 30 }, () => ingest(a, 'race-dup-svc')));
      expect(results.filter((r) => !r.deduplicated)).toHaveLength(1);
      const id = results.find((r) => !r.deduplicated)!.incidentId!;
      expect(results.every((r) => r.incidentId === id)).toBe(true);
      expect(await received(id)).toBe(1);
    });

    it('resolves once when every alarm of an incident goes back to OK at the same moment (a recovery storm)', async () => {
      const t = Date.now() - 60_000;
      const names = Array.from({ length: 5 }, (_, i) => `race-rec-${i}`);
      const opened = await ingest(alarm({ alarmName: names[0], at: new Date(t) }), 'race-rec-svc');
      for (const name of names.slice(1)) await ingest(alarm({ alarmName: name, at: new Date(t) }), 'race-rec-svc');
      const oks = Array.from({ length: 100 }, (_, i) => alarm({ alarmName: names[i % 5], state: 'OK', at: new Date(t + 1000 + i) }));
      const results = await Promise.all(oks.map((a) => ingest(a, 'race-rec-svc')));
      expect(results.filter((r) => r.outcome === 'resolved')).toHaveLength(1);
      expect((await store.get(opened.incidentId!))!.status).toBe('resolved');
      // Every OK is stored once: on the incident before it resolved, on the unattached stream after.
      const onIncident = results.filter((r) => r.incidentId === opened.incidentId).length;
      expect(await received(opened.incidentId!)).toBe(5 + onIncident);
      // The others: unattached, or stale (an OK older than one applied; a stale one that came while
      // the incident was open is on the incident, counted above).
      expect(results.filter((r) => r.incidentId !== opened.incidentId && r.outcome !== 'unattached' && r.outcome !== 'stale')).toEqual([]);
      expect((await store.list({ service: 'race-rec-svc', status: 'open', limit: 10, offset: 0 })).total).toBe(0);
    });

    it('never leaves an incident open when its last two alarms go back to OK together', async () => {
      for (let round = 0; round < 15; round++) {
        const t = Date.now() - 60_000;
        const service = `race-pair-${round}`;
        const first = await ingest(alarm({ alarmName: `${service}-a`, at: new Date(t) }), service);
        await ingest(alarm({ alarmName: `${service}-b`, at: new Date(t) }), service);
        const [a, b] = await Promise.all([
          ingest(alarm({ alarmName: `${service}-a`, state: 'OK', at: new Date(t + 1) }), service),
          ingest(alarm({ alarmName: `${service}-b`, state: 'OK', at: new Date(t + 1) }), service),
        ]);
        expect([a.outcome, b.outcome].sort()).toEqual(['resolved', 'updated']);
        expect((await store.get(first.incidentId!))!.status).toBe('resolved');
      }
    });

    it('keeps the incident open when an alarm fires again while another goes back to OK', async () => {
      for (let round = 0; round < 15; round++) {
        const t = Date.now() - 60_000;
        const service = `race-flap-${round}`;
        const first = await ingest(alarm({ alarmName: `${service}-a`, at: new Date(t) }), service);
        await ingest(alarm({ alarmName: `${service}-b`, at: new Date(t) }), service);
        await ingest(alarm({ alarmName: `${service}-a`, state: 'OK', at: new Date(t + 1) }), service);
        // b back to OK (would resolve) races a firing again (keeps it open): whichever applies
        // second sees the first, so the incident ends open with a firing, or resolved and a reopened.
        const [ok, fired] = await Promise.all([
          ingest(alarm({ alarmName: `${service}-b`, state: 'OK', at: new Date(t + 2) }), service),
          ingest(alarm({ alarmName: `${service}-a`, at: new Date(t + 3) }), service),
        ]);
        const open = await store.list({ service, status: 'open', limit: 10, offset: 0 });
        expect(open.total).toBe(1);
        expect(open.items[0].alarms.find((x) => x.name === `${service}-a`)!.state).toBe('ALARM');
        if (ok.outcome === 'resolved') expect(fired).toMatchObject({ outcome: 'opened' });
        else expect([ok.outcome, fired.outcome, fired.incidentId]).toEqual(['updated', 'updated', first.incidentId]);
      }
    });

    it("treats what a replica remembers of a service as a guess: another replica's changes win", async () => {
      const other = new IncidentStore(redis, { prefix, dedupeTtlSeconds: 3600, unattachedMaxLen: 1000 });
      const viaOther = (a: AlarmEvent) => other.ingest({ alarm: a, service: 'race-guess-svc', matchedBy: 'name', source: 'test' });
      const t = Date.now() - 60_000;
      const first = await ingest(alarm({ alarmName: 'race-guess', at: new Date(t) }), 'race-guess-svc');
      // The other replica resolves it and opens the next one: this one still remembers the first.
      expect(await viaOther(alarm({ alarmName: 'race-guess', state: 'OK', at: new Date(t + 1) }))).toMatchObject({ outcome: 'resolved' });
      const second = await viaOther(alarm({ alarmName: 'race-guess-2', at: new Date(t + 2) }));
      expect(second.outcome).toBe('opened');
      expect(await ingest(alarm({ alarmName: 'race-guess', at: new Date(t + 3) }), 'race-guess-svc')).toMatchObject({ incidentId: second.incidentId, outcome: 'attached' });
      // An older state of an alarm it remembers is still found stale, and a repeat still a duplicate.
      const old = alarm({ alarmName: 'race-guess', state: 'OK', at: new Date(t + 1) });
      expect(await ingest(old, 'race-guess-svc')).toMatchObject({ outcome: 'stale', incidentId: second.incidentId });
      expect(await ingest(old, 'race-guess-svc')).toMatchObject({ outcome: 'duplicate', firstOutcome: 'stale', incidentId: second.incidentId });
      expect((await store.get(first.incidentId!))!.status).toBe('resolved');
    });

    it('applies the newer of two states of one alarm delivered at once, whatever their order, and records the older as stale', async () => {
      const t = Date.now() - 60_000;
      const opened = await ingest(alarm({ alarmName: 'race-order', at: new Date(t) }), 'race-order-svc');
      await ingest(alarm({ alarmName: 'race-order-2', at: new Date(t) }), 'race-order-svc');
      const [older, newer] = await Promise.all([
        ingest(alarm({ alarmName: 'race-order', state: 'OK', at: new Date(t + 1) }), 'race-order-svc'),
        ingest(alarm({ alarmName: 'race-order', at: new Date(t + 2) }), 'race-order-svc'),
      ]);
      expect(newer.outcome).toBe('updated');
      expect(['updated', 'stale']).toContain(older.outcome);
      const incident = await store.get(opened.incidentId!);
      expect(incident!.alarms.find((x) => x.name === 'race-order')!.state).toBe('ALARM');
      expect(await redis.hget(`${prefix}:alarm:${incident!.alarms.find((x) => x.name === 'race-order')!.arn}`, 'ms')).toBe(String(t + 2));
    });
  });
}
