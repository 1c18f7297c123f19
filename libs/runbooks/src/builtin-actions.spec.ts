import { type ActionContext, PermanentActionError } from '@responder/domain';
import { resultOf, runToEnd } from '../../../test/support/run-action';
import { BUILTIN_ACTIONS, knownActions, noteAction, waitAction } from './builtin-actions';

const ctx = (signal = new AbortController().signal): ActionContext => ({
  incidentId: 'inc_1',
  runId: 'run_1',
  stepId: 'pause',
  idempotencyKey: 'inc_1-run_1-pause',
  signal,
  dryRun: false,
});

describe('built-in actions', () => {
  it('are read-only, and known by id with whatever is added to them', () => {
    expect(BUILTIN_ACTIONS.map((a) => [a.id, a.mutating])).toEqual([
      ['wait', false],
      ['note', false],
      ['diagnose', false],
    ]);
    const known = knownActions([{ id: 'ecs.scale-up', mutating: true, description: 'scale up' }]);
    expect([...known.keys()]).toEqual(['wait', 'note', 'diagnose', 'ecs.scale-up']);
    expect(known.get('ecs.scale-up')?.mutating).toBe(true);
    expect(() => knownActions([{ id: 'wait', mutating: false, description: 'again' }])).toThrow('action id "wait" is registered twice');
  });

  describe('wait', () => {
    it('waits the seconds it is given without sleeping: "again at the deadline", then its result', async () => {
      const before = Date.now();
      const first = await waitAction.run({ seconds: 30 }, ctx());
      expect(first).toEqual({ again: { afterMs: expect.any(Number), state: { startedAt: expect.any(Number), until: expect.any(Number) } } });
      const { afterMs, state } = (first as { again: { afterMs: number; state: { startedAt: number; until: number } } }).again;
      expect(state.until - state.startedAt).toBe(30_000);
      expect(state.startedAt).toBeGreaterThanOrEqual(before);
      expect(afterMs).toBeLessThanOrEqual(30_000);
      expect(waitAction.plan({ seconds: 30 })).toEqual({ summary: 'wait 30s' });

      const { result, agains } = await runToEnd(waitAction, { seconds: 0.05 }, ctx());
      expect(agains.length).toBeGreaterThanOrEqual(1);
      expect(result.output.waitedMs).toBeGreaterThanOrEqual(45);
      await expect(waitAction.run({ seconds: 0 }, ctx())).resolves.toMatchObject({ output: { waitedMs: 0 } });
    });

    it('resumes from its checkpoint: keeps the deadline it set (whatever the seconds say now), and ends once it has passed', async () => {
      const startedAt = Date.now() - 20_000;
      const again = await waitAction.run({ seconds: 30 }, { ...ctx(), checkpoint: { startedAt, until: startedAt + 30_000 } });
      expect(again).toEqual({ again: { afterMs: expect.any(Number), state: { startedAt, until: startedAt + 30_000 } } });
      expect((again as { again: { afterMs: number } }).again.afterMs).toBeLessThanOrEqual(10_000);
      expect((again as { again: { afterMs: number } }).again.afterMs).toBeGreaterThan(9000);
      const done = resultOf(await waitAction.run({ seconds: 30 }, { ...ctx(), checkpoint: { startedAt: startedAt - 15_000, until: startedAt + 15_000 } }));
      expect(done.output.waitedMs).toBeGreaterThanOrEqual(35_000);
      expect(done.summary).toMatch(/^waited 3\ds$/);
    });

    it('does not go on once the step is aborted', async () => {
      const controller = new AbortController();
      controller.abort(new Error('shutting down'));
      await expect(waitAction.run({ seconds: 60 }, ctx(controller.signal))).rejects.toThrow('shutting down');
    });

    it('refuses a bad number of seconds as a permanent error', async () => {
      await expect(waitAction.run({ seconds: 'ten' }, ctx())).rejects.toBeInstanceOf(PermanentActionError);
      await expect(waitAction.run({ seconds: -1 }, ctx())).rejects.toThrow('wait: "seconds" must be a number from 0 to 3600, got -1');
      await expect(waitAction.run({}, ctx())).rejects.toThrow('got nothing');
    });
  });

  describe('note', () => {
    it('returns its text for the timeline', async () => {
      await expect(noteAction.run({ text: 'rolled back checkout' }, ctx())).resolves.toEqual({ output: { text: 'rolled back checkout' }, summary: 'rolled back checkout' });
      expect(noteAction.plan({ text: 'x' })).toEqual({ summary: 'note: x' });
    });

    it('refuses an empty or missing text', async () => {
      await expect(noteAction.run({ text: ' ' }, ctx())).rejects.toBeInstanceOf(PermanentActionError);
      await expect(noteAction.run({}, ctx())).rejects.toThrow('note: "text" must be a non-empty string');
    });
  });
});
