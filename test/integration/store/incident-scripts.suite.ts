import type { AlarmEvent } from '@responder/domain';
import { IncidentStore, type RedisClient, RunStore } from '@responder/store';
import { type StoreTarget, parsedAlarm } from './target';

/** The incident scripts besides ingest (incident-scripts.ts), against one Redis and a Redis Cluster. */
export function incidentScriptsSuite(target: () => StoreTarget): void {
  let redis: RedisClient;
  let prefix: string;
  let store: IncidentStore;
  let runs: RunStore;
  beforeAll(() => {
    ({ redis, prefix } = target());
    store = new IncidentStore(redis, { prefix, dedupeTtlSeconds: 3600, unattachedMaxLen: 1000 });
    runs = new RunStore(redis, prefix);
  });

  const alarm = parsedAlarm;
  const ingest = (a: AlarmEvent, service: string) => store.ingest({ alarm: a, service, matchedBy: 'name', source: 'test' });

  describe('incident scripts', () => {
    it('openManual opens one incident for a service whoever asks at once, and an alarm of the service joins it', async () => {
      const results = await Promise.all(Array.from({ length: 5 }, () => store.openManual({ service: 'man-svc', title: 'Manual', by: 'alice', runbook: 'rb' })));
      expect(results.filter((r) => r.opened)).toHaveLength(1);
      const id = results[0].incidentId;
      expect(results.every((r) => r.incidentId === id)).toBe(true);
      expect(await store.get(id)).toMatchObject({ status: 'open', service: 'man-svc', routed: true, title: 'Manual' });
      expect((await store.list({ service: 'man-svc', status: 'open', limit: 10, offset: 0 })).items.map((i) => i.id)).toEqual([id]);
      expect((await store.timeline(id)).map((e) => e.type)).toEqual(['incident.opened']);
      expect(await ingest(alarm({ alarmName: 'man-5xx' }), 'man-svc')).toMatchObject({ incidentId: id, outcome: 'attached' });
    });

    it('appendIfExists writes to an incident that exists, and nothing for one that does not', async () => {
      const { incidentId } = await ingest(alarm({ alarmName: 'note-5xx' }), 'note-svc');
      const entry = await store.appendIfExists(incidentId!, 'note', { text: 'looked' });
      expect(entry).toMatchObject({ type: 'note', data: { text: 'looked' } });
      expect((await store.timeline(incidentId!)).at(-1)).toMatchObject({ id: entry!.id, type: 'note' });
      expect(await store.appendIfExists('inc_NOPE', 'note', { text: 'x' })).toBeNull();
      expect(await redis.exists(`${prefix}:incident:inc_NOPE:timeline`)).toBe(0);
    });

    it('purgeResolvedBefore removes a resolved incident whole (its runs, ledger, Slack state) and keeps the others', async () => {
      const t = Date.now() - 60_000;
      const gone = await ingest(alarm({ alarmName: 'purge-5xx', at: new Date(t) }), 'purge-svc');
      const { runId } = await runs.createRun({ incidentId: gone.incidentId!, runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: { status: 'queued', action: 'x', mutating: true } } });
      await runs.ledgerBegin(`${runId}:a`);
      await redis.hset(`${prefix}:slack:${gone.incidentId}`, 'ts', '1.1');
      await redis.set(`${prefix}:slack:${gone.incidentId}:thread`, '1.2');
      await ingest(alarm({ alarmName: 'purge-5xx', state: 'OK', at: new Date(t + 1) }), 'purge-svc');
      const kept = await ingest(alarm({ alarmName: 'purge-open' }), 'purge-open-svc');

      expect(await store.purgeResolvedBefore(new Date(Date.now() + 1000))).toEqual([gone.incidentId]);
      const left = await Promise.all(
        [
          `incident:${gone.incidentId}`,
          `incident:${gone.incidentId}:alarms`,
          `incident:${gone.incidentId}:timeline`,
          `incident:${gone.incidentId}:runs`,
          `run:${runId}`,
          `run:${runId}:steps`,
          `run:${runId}:status`,
          `ledger:${runId}:a`,
          `slack:${gone.incidentId}`,
          `slack:${gone.incidentId}:thread`,
        ].map((k) => redis.exists(`${prefix}:${k}`)),
      );
      expect(left).toEqual(left.map(() => 0));
      expect(await redis.sismember(`${prefix}:runs:active`, runId)).toBe(0);
      expect((await store.list({ service: 'purge-svc', limit: 10, offset: 0 })).total).toBe(0);
      expect(await store.get(kept.incidentId!)).toMatchObject({ status: 'open' });
      expect(await store.purgeResolvedBefore(new Date(Date.now() + 1000))).toEqual([]);
    });

    it('takes a sweep for one holder at a time', async () => {
      expect(await store.claimRetentionSweep('a', 10_000)).toBe(true);
      expect(await store.claimRetentionSweep('b', 10_000)).toBe(false);
      expect(await store.claimPlanSweep('b', 10_000)).toBe(true);
    });
  });
}
