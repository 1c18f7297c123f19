import type { AlarmEvent } from '@responder/domain';
import { IncidentStore, type RedisClient } from '@responder/store';
import { type StoreTarget, parsedAlarm } from './target';

/**
 * The store's tests, run by incident-store.spec.ts against one Redis and by
 * store-cluster.spec.ts against a Redis Cluster (prefix with a hash tag).
 */
export function incidentStoreSuite(target: () => StoreTarget): void {
  let redis: RedisClient;
  let prefix: string;
  let store: IncidentStore;
  beforeAll(() => {
    ({ redis, prefix } = target());
    store = new IncidentStore(redis, { prefix, dedupeTtlSeconds: 3600, unattachedMaxLen: 1000 });
  });

  const alarm = parsedAlarm;
  const ingest = (a: AlarmEvent, service: string | null) => store.ingest({ alarm: a, service, matchedBy: service ? 'name' : null, source: 'test' });

  describe('IncidentStore', () => {
    it('records an event delivered twice once: one incident, one timeline entry, the second deduplicated', async () => {
      const a = alarm({ alarmName: 'dup-5xx' });
      const first = await ingest(a, 'dup-svc');
      const second = await ingest(a, 'dup-svc');
      expect(first).toEqual({ incidentId: expect.stringMatching(/^inc_/), deduplicated: false, outcome: 'opened' });
      expect(second).toEqual({ incidentId: first.incidentId, deduplicated: true, outcome: 'duplicate', firstOutcome: 'opened' });
      const timeline = await store.timeline(first.incidentId!);
      expect(timeline.filter((e) => e.type === 'alarm.received')).toHaveLength(1);
      expect(timeline.map((e) => e.type)).toEqual(['alarm.received', 'incident.opened', 'alarm.attached']);
      expect((await store.list({ service: 'dup-svc', limit: 10, offset: 0 })).total).toBe(1);
    });

    it('tells a repeated delivery what the first one did, also for an event key stored before it did', async () => {
      const a = alarm({ alarmName: 'dup-again' });
      const first = await ingest(a, 'dup-again-svc');
      const refired = alarm({ alarmName: 'dup-again', at: new Date(Date.now() + 1000) });
      expect((await ingest(refired, 'dup-again-svc')).outcome).toBe('updated');
      expect(await ingest(refired, 'dup-again-svc')).toMatchObject({ incidentId: first.incidentId, outcome: 'duplicate', firstOutcome: 'updated' });
      // An event key written by the code before: the incident id alone.
      await redis.set(`${prefix}:event:${refired.eventId}`, first.incidentId!);
      const old = await ingest(refired, 'dup-again-svc');
      expect(old).toEqual({ incidentId: first.incidentId, deduplicated: true, outcome: 'duplicate' });
    });

    it('records the state reason and the alarm’s own timestamp, with UTC entry times', async () => {
      const at = new Date('2026-11-20T10:00:00.250Z');
      const r = await ingest(alarm({ alarmName: 'reason-5xx', at, reason: 'Threshold Crossed: 87 > 10' }), 'reason-svc');
      const [received] = await store.timeline(r.incidentId!);
      expect(received.type).toBe('alarm.received');
      expect(received.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(received.data).toMatchObject({ reason: 'Threshold Crossed: 87 > 10', stateChangedAt: '2026-11-20T10:00:00.250Z', state: 'ALARM' });
      const incident = await store.get(r.incidentId!);
      expect(incident).toMatchObject({ status: 'open', service: 'reason-svc', routed: true, onsetAt: '2026-11-20T10:00:00.250Z' });
    });

    it('yields exactly one open incident per service when 1,000 alarms for 3 services arrive concurrently', async () => {
      const services = ['storm-a', 'storm-b', 'storm-c'];
      const t0 = Date.now() - 60_000;
      const events = Array.from({ length: 1000 }, (_, i) => ({
        a: alarm({ alarmName: `${services[i % 3]}-alarm-${i % 7}`, at: new Date(t0 + i) }),
        service: services[i % 3],
      }));
      const results = await Promise.all(events.map((e) => ingest(e.a, e.service)));
      expect(results.every((r) => !r.deduplicated)).toBe(true);
      for (const service of services) {
        const open = await store.list({ service, status: 'open', limit: 100, offset: 0 });
        expect(open.total).toBe(1);
        const ids = new Set(results.filter((_, i) => events[i].service === service).map((r) => r.incidentId));
        expect([...ids]).toEqual([open.items[0].id]);
        expect(open.items[0].alarms).toHaveLength(7);
        const received = (await store.timeline(open.items[0].id)).filter((e) => e.type === 'alarm.received');
        expect(received.length).toBe(events.filter((e) => e.service === service).length);
      }
    });

    it('attaches a second alarm to the open incident and resolves only when every alarm is back to OK', async () => {
      const t = Date.now() - 10_000;
      const opened = await ingest(alarm({ alarmName: 'res-5xx', at: new Date(t) }), 'res-svc');
      const attached = await ingest(alarm({ alarmName: 'res-latency', at: new Date(t + 1) }), 'res-svc');
      expect(attached).toMatchObject({ incidentId: opened.incidentId, outcome: 'attached' });
      const firstOk = await ingest(alarm({ alarmName: 'res-5xx', state: 'OK', at: new Date(t + 2) }), 'res-svc');
      expect(firstOk.outcome).toBe('updated');
      expect((await store.get(opened.incidentId!))!.status).toBe('open');
      const lastOk = await ingest(alarm({ alarmName: 'res-latency', state: 'OK', at: new Date(t + 3) }), 'res-svc');
      expect(lastOk).toMatchObject({ incidentId: opened.incidentId, outcome: 'resolved' });
      const incident = await store.get(opened.incidentId!);
      expect(incident).toMatchObject({ status: 'resolved', resolvedAt: expect.any(String) });
      expect((await store.timeline(opened.incidentId!)).at(-1)!.type).toBe('incident.resolved');
      expect((await store.list({ service: 'res-svc', status: 'open', limit: 10, offset: 0 })).total).toBe(0);
      expect((await store.list({ service: 'res-svc', status: 'resolved', limit: 10, offset: 0 })).total).toBe(1);

      const again = await ingest(alarm({ alarmName: 'res-5xx', at: new Date(t + 4) }), 'res-svc');
      expect(again.outcome).toBe('opened');
      expect(again.incidentId).not.toBe(opened.incidentId);
    });

    it('does not let a late, older ALARM reopen an incident its newer OK resolved', async () => {
      const t = Date.now() - 10_000;
      const opened = await ingest(alarm({ alarmName: 'late-5xx', at: new Date(t) }), 'late-svc');
      await ingest(alarm({ alarmName: 'late-5xx', state: 'OK', at: new Date(t + 5000) }), 'late-svc');
      const late = await ingest(alarm({ alarmName: 'late-5xx', at: new Date(t + 1000) }), 'late-svc');
      expect(late).toMatchObject({ incidentId: null, outcome: 'stale' });
      expect((await store.list({ service: 'late-svc', status: 'open', limit: 10, offset: 0 })).total).toBe(0);
      expect((await store.get(opened.incidentId!))!.status).toBe('resolved');
    });

    it('keeps an OK that no open incident holds, attached to nothing', async () => {
      const r = await ingest(alarm({ alarmName: 'orphan-ok', state: 'OK', reason: 'orphan reason' }), 'orphan-svc');
      expect(r).toEqual({ incidentId: null, deduplicated: false, outcome: 'unattached' });
      const kept = await store.unattached(10);
      expect(kept.some((e) => e.data.reason === 'orphan reason')).toBe(true);
    });

    it('keeps an alarm no service claims as an unrouted incident, one per alarm', async () => {
      const r1 = await ingest(alarm({ alarmName: 'nobody-owns-me' }), null);
      const r2 = await ingest(alarm({ alarmName: 'nobody-owns-me' }), null);
      await new Promise((r) => setTimeout(r, 2)); // newest first is by opening time, to the millisecond
      const other = await ingest(alarm({ alarmName: 'nobody-owns-me-either' }), null);
      expect(r1.outcome).toBe('opened');
      expect(r2.incidentId).toBe(r1.incidentId);
      expect(other.incidentId).not.toBe(r1.incidentId);
      expect(await store.get(r1.incidentId!)).toMatchObject({ routed: false, service: null, status: 'open' });
      const unrouted = await store.list({ unrouted: true, limit: 10, offset: 0 });
      expect(unrouted.items.map((i) => i.id)).toEqual([other.incidentId, r1.incidentId]);
    });

    it('lists newest first and pages', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push((await ingest(alarm({ alarmName: `page-${i}` }), `page-svc-${i}`)).incidentId!);
        await new Promise((r) => setTimeout(r, 2));
      }
      const all = await store.list({ status: 'open', limit: 1000, offset: 0 });
      const order = all.items.map((i) => i.id).filter((id) => ids.includes(id));
      expect(order).toEqual([...ids].reverse());
      const page = await store.list({ limit: 2, offset: 1 });
      expect(page.items).toHaveLength(2);
    });
  });
}
