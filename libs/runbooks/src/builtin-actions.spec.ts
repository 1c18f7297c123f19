import { type ActionContext, PermanentActionError } from '@responder/domain';
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
    it('waits the seconds it is given', async () => {
      const started = Date.now();
      const result = await waitAction.run({ seconds: 0.05 }, ctx());
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
      expect(result.output.waitedMs).toBeGreaterThanOrEqual(45);
      expect(waitAction.plan({ seconds: 30 })).toEqual({ summary: 'wait 30s' });
    });

    it('stops as soon as the step is aborted', async () => {
      const controller = new AbortController();
      const started = Date.now();
      const waiting = waitAction.run({ seconds: 60 }, ctx(controller.signal));
      setTimeout(() => controller.abort(new Error('shutting down')), 20);
      await expect(waiting).rejects.toThrow('shutting down');
      expect(Date.now() - started).toBeLessThan(1000);
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
