import { ChangeFeed, RunStore } from '@responder/store';
import { testRedis } from '../support/redis';

describe('ChangeFeed', () => {
  const { redis, prefix, cleanup } = testRedis('changes');
  const feed = new ChangeFeed(redis, prefix);
  const runs = new RunStore(redis, prefix);

  afterAll(() => cleanup());

  it('notes every timeline entry, in order, and hands each to one consumer of a group', async () => {
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
