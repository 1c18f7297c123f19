import { nextStep, stepCall } from '../../../../../test/support/step-call';
import { StartGate } from './start.gate';

describe('the start gate', () => {
  it('moves a queued step to running, counting the attempt, and marks the call started', async () => {
    const running = { ...stepCall().state, status: 'running' as const, attempts: 1 };
    const transition = jest.fn(() => Promise.resolve(running));
    const call = stepCall();
    expect(await new StartGate({ transition }).pass(call, nextStep())).toMatchObject({ kind: 'done' });
    expect(transition).toHaveBeenCalledWith('run_1', 'fix', ['queued'], expect.objectContaining({ status: 'running', attempts: 1 }), { type: 'step.started', data: { action: 'test.mutate' } });
    expect(call).toMatchObject({ started: true, state: running });
  });

  it('resumes a step left running by a dead worker (step.resumed)', async () => {
    const transition = jest.fn(() => Promise.resolve(stepCall().state));
    const call = stepCall({ state: { ...stepCall().state, status: 'running', attempts: 1 } });
    await new StartGate({ transition }).pass(call, nextStep());
    expect(transition).toHaveBeenCalledWith('run_1', 'fix', ['running'], { reason: undefined, attempts: 2 }, { type: 'step.resumed', data: { attempt: 2 } });
  });

  it('carries on a step put back with a checkpoint: not a new attempt, nothing on the timeline', async () => {
    const transition = jest.fn(() => Promise.resolve(stepCall().state));
    const next = nextStep();
    const call = stepCall({ state: { ...stepCall().state, status: 'running', attempts: 1, checkpointJson: '{"goal":{"checks":1}}' } });
    expect(await new StartGate({ transition }).pass(call, next)).toMatchObject({ kind: 'done' });
    expect(transition).not.toHaveBeenCalled();
    expect(next).toHaveBeenCalled();
    expect(call.started).toBe(true);
  });

  it('clears the reason a step put back with a checkpoint was held for, still without a timeline entry', async () => {
    const cleared = { ...stepCall().state, status: 'running' as const, checkpointJson: '{}' };
    const transition = jest.fn(() => Promise.resolve(cleared));
    const call = stepCall({ state: { ...stepCall().state, status: 'running', checkpointJson: '{}', reason: 'automation paused by alice' } });
    expect(await new StartGate({ transition }).pass(call, nextStep())).toMatchObject({ kind: 'done' });
    expect(transition).toHaveBeenCalledWith('run_1', 'fix', ['running'], { reason: undefined });
    expect(call.state).toBe(cleared);
  });

  it('goes no further when the step was decided meanwhile', async () => {
    const next = nextStep();
    const call = stepCall();
    expect(await new StartGate({ transition: () => Promise.resolve(null) }).pass(call, next)).toEqual({ kind: 'gone' });
    expect(next).not.toHaveBeenCalled();
    expect(call.started).toBe(false);
  });
});
