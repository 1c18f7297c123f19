import { ChangeFeed, IncidentStore, type RedisClient, RunStore } from '@responder/store';
import { type StoreTarget, parsedAlarm } from './target';

/**
 * The store's tests, run by incident-store.spec.ts against one Redis and by
 * store-cluster.spec.ts against a Redis Cluster (prefix with a hash tag).
 */
export function changeFeedSuite(target: () => StoreTarget): void {
  describe('ChangeFeed', () => {
    let redis: RedisClient;
    let prefix: string;
    let feed: ChangeFeed;
    let runs: RunStore;
    beforeAll(() => {
      ({ redis, prefix } = target());
      feed = new ChangeFeed(redis, prefix);
      runs = new RunStore(redis, prefix);
    });

    it('notes the timeline entries of each call, in order, and hands each to one consumer of a group', async () => {
      await feed.ensureGroup('slack');
      await feed.ensureGroup('slack'); // a second replica: no error
      await runs.appendTimeline('inc_A', 'note', { text: 'one' });
      const { runId } = await runs.createRun({ incidentId: 'inc_B', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { s: { status: 'pending', action: 'note', mutating: false } } });
      await runs.transition(runId, 's', ['pending'], { status: 'queued' }, { type: 'step.queued', data: {} });

      const first = await feed.read('slack', 'c1', { blockMs: 100, count: 10 });
      expect(first.map((c) => [c.incidentId, c.type])).toEqual([
        ['inc_A', 'note'],
        ['inc_B', 'run.planned'],
        ['inc_B', 'step.queued'],
      ]);
      expect(await feed.read('slack', 'c2', { blockMs: 50, count: 10 })).toEqual([]);
    });

    it('notes an incident once for a call that writes several of its entries', async () => {
      await feed.ensureGroup('once');
      const { runId } = await runs.createRun({ incidentId: 'inc_D', runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { a: { status: 'queued', action: 'note', mutating: false }, b: { status: 'pending', action: 'note', mutating: false } } });
      expect(await runs.startStep(runId, 'a')).toMatchObject({ kind: 'started' });
      const settled = await runs.settleStep(
        runId,
        { stepId: 'a', from: ['running'], patch: { status: 'succeeded' }, event: { type: 'step.succeeded', data: {} } },
        [{ stepId: 'b', from: ['pending'], patch: { status: 'queued' }, event: { type: 'step.queued', data: {} } }],
        { a: 'succeeded', b: 'pending' },
      );
      expect(settled.applied).toEqual([true, true]);
      const read = await feed.read('once', 'c1', { blockMs: 100, count: 10 });
      // one change per call: run.planned, step.started, then one for step.succeeded + step.queued (2 timeline entries)
      expect(read.map((c) => [c.incidentId, c.type])).toEqual([
        ['inc_D', 'run.planned'],
        ['inc_D', 'step.started'],
        ['inc_D', 'step.succeeded'],
      ]);
      expect((await redis.xrange(`${prefix}:incident:inc_D:timeline`, '-', '+')).map(([, f]) => f[1])).toEqual(['run.planned', 'step.started', 'step.succeeded', 'step.queued']);
    });

    it("gives a consumer back its own changes read and not acknowledged (a read whose answer was lost)", async () => {
      await feed.ensureGroup('lost');
      await runs.appendTimeline('inc_L', 'note', {});
      await runs.appendTimeline('inc_M', 'note', {});
      expect(await feed.read('lost', 'c1', { blockMs: 100, count: 10 })).toHaveLength(2);
      // The answer never reached the reader: its new reads are empty, its pending ones are not.
      expect(await feed.read('lost', 'c1', { blockMs: 50, count: 10 })).toEqual([]);
      const pending = await feed.readPending('lost', 'c1', 10);
      expect(pending.map((c) => c.incidentId)).toEqual(['inc_L', 'inc_M']);
      expect(await feed.readPending('lost', 'c2', 10)).toEqual([]);
      await feed.ack('lost', [pending[0].id]);
      expect((await feed.readPending('lost', 'c1', 10)).map((c) => c.incidentId)).toEqual(['inc_M']);
    });

    it('acknowledges a batch and reads the next in one call', async () => {
      await feed.ensureGroup('batch');
      await runs.appendTimeline('inc_P', 'note', {});
      const first = await feed.ackAndRead('batch', 'c1', [], { blockMs: 100, count: 10 });
      expect(first.map((c) => c.incidentId)).toEqual(['inc_P']);
      await runs.appendTimeline('inc_Q', 'note', {});
      const second = await feed.ackAndRead('batch', 'c1', first.map((c) => c.id), { blockMs: 100, count: 10 });
      expect(second.map((c) => c.incidentId)).toEqual(['inc_Q']);
      // The first batch is acknowledged, the second is not yet.
      expect((await feed.readPending('batch', 'c1', 10)).map((c) => c.incidentId)).toEqual(['inc_Q']);
      await expect(feed.ackAndRead('nogroup', 'c1', ['0-1'], { blockMs: 100, count: 10 })).rejects.toThrow(/NOGROUP/);
    });

    it('notes the changes that can start a runbook on the alarm feed too, whichever write makes them, and no other', async () => {
      const alarms = new ChangeFeed(redis, prefix, 'alarms');
      const incidents = new IncidentStore(redis, { prefix, dedupeTtlSeconds: 3600, unattachedMaxLen: 1000 });
      await feed.ensureGroup('both');
      await alarms.ensureGroup('both');
      // The intake's write (a checked write), a manual run's opening and the other scripts, a MULTI.
      const byAlarm = (await incidents.ingest({ alarm: parsedAlarm({ alarmName: 'feed-5xx' }), service: 'feed-svc', matchedBy: 'name', source: 'test' })).incidentId!;
      const { incidentId: byHand } = await incidents.openManual({ service: 'feed-manual', title: 't', by: 'U1', runbook: 'rb' });
      await incidents.appendIfExists(byHand, 'note', { text: 'n' });
      await incidents.appendIfExists(byHand, 'alarm.attached', {});
      await incidents.setPostmortem(byHand, { by: 'U1', source: 'api', status: 'review' });
      const { runId } = await runs.createRun({ incidentId: byAlarm, runbook: 'rb', trigger: 'alarm', inputs: {}, steps: { s: { status: 'pending', action: 'note', mutating: false } } });
      await runs.transition(runId, 's', ['pending'], { status: 'queued' }, { type: 'step.queued', data: {} });
      await runs.appendTimeline(byAlarm, 'step.retrying', {});
      await runs.appendTimeline(byAlarm, 'alarm.received', {});

      const ours = (changes: { incidentId: string; type: string }[]) => changes.filter((c) => c.incidentId === byAlarm || c.incidentId === byHand).map((c) => [c.incidentId, c.type]);
      expect(ours(await feed.read('both', 'c1', { blockMs: 100, count: 100 }))).toEqual([
        [byAlarm, 'alarm.received'],
        [byHand, 'incident.opened'],
        [byHand, 'note'],
        [byHand, 'alarm.attached'],
        [byHand, 'postmortem.updated'],
        [byAlarm, 'run.planned'],
        [byAlarm, 'step.queued'],
        [byAlarm, 'step.retrying'],
        [byAlarm, 'alarm.received'],
      ]);
      expect(ours(await alarms.read('both', 'c1', { blockMs: 100, count: 100 }))).toEqual([
        [byAlarm, 'alarm.received'],
        [byHand, 'incident.opened'],
        [byHand, 'alarm.attached'],
        [byAlarm, 'alarm.received'],
      ]);
    });

    it('gives the changes a crashed consumer never acknowledged to another', async () => {
      await feed.ensureGroup('crash');
      await runs.appendTimeline('inc_C', 'note', {});
      const read = await feed.read('crash', 'dead', { blockMs: 100, count: 10 });
      expect(read).toHaveLength(1);
      // "dead" never acks; after the idle time another consumer claims it.
      await new Promise((r) => setTimeout(r, 30));
      const claimed = await feed.claimStale('crash', 'alive', 20);
      expect(claimed.map((c) => c.incidentId)).toEqual(['inc_C']);
      await feed.ack('crash', claimed.map((c) => c.id));
      expect(await feed.claimStale('crash', 'other', 0)).toEqual([]);
    });
  });
}
