import { nextStep, stepCall } from '../../../../../test/support/step-call';
import { LockGate } from './lock.gate';

const store = (token: string | null) => ({ acquireLock: jest.fn(() => Promise.resolve(token)), releaseLock: jest.fn(() => Promise.resolve()) });

describe('the lock gate', () => {
  it('holds the step while another holds its resource', async () => {
    const runs = store(null);
    const next = nextStep();
    expect(await new LockGate(runs, 'live').pass(stepCall(), next)).toEqual({ kind: 'held', reason: 'waiting for the lock on test:x' });
    expect(runs.acquireLock).toHaveBeenCalledWith('test:x', 'run_1/fix', 65_000);
    expect(next).not.toHaveBeenCalled();
  });

  it('releases the lock once the step is done, and when it fails', async () => {
    const runs = store('t1');
    expect(await new LockGate(runs, 'live').pass(stepCall(), nextStep())).toMatchObject({ kind: 'done' });
    await expect(new LockGate(runs, 'live').pass(stepCall(), nextStep(undefined, new Error('boom')))).rejects.toThrow('boom');
    expect(runs.releaseLock.mock.calls).toEqual([
      ['test:x', 't1'],
      ['test:x', 't1'],
    ]);
  });

  it('takes no lock in dry-run: nothing changes', async () => {
    const runs = store(null);
    expect(await new LockGate(runs, 'dry-run').pass(stepCall(), nextStep())).toMatchObject({ kind: 'done' });
    expect(runs.acquireLock).not.toHaveBeenCalled();
  });
});
