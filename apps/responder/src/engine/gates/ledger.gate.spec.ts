import type { LedgerBegin } from '@responder/store';
import { nextStep, stepCall } from '../../../../../test/support/step-call';
import type { GateOutcome } from './gate';
import { LedgerGate } from './ledger.gate';

function setup(begin: LedgerBegin, calling = true) {
  const runs = {
    ledgerBegin: jest.fn(() => Promise.resolve(begin)),
    ledgerCalling: jest.fn(() => Promise.resolve(calling)),
    ledgerFinish: jest.fn(() => Promise.resolve()),
    appendTimeline: jest.fn(() => Promise.resolve()),
  };
  return { runs, gate: new LedgerGate(runs) };
}

describe('the ledger gate', () => {
  it('records "calling" right before the call, then its outcome, under a key per attempt', async () => {
    const { runs, gate } = setup({ kind: 'call', attempt: 1 });
    const call = stepCall();
    const next = jest.fn(async (): Promise<GateOutcome> => {
      await call.invocation.beforeCall!();
      return { kind: 'done', result: { output: { ok: true } } };
    });
    expect(await gate.pass(call, next)).toEqual({ kind: 'done', result: { output: { ok: true } } });
    expect(call.invocation.idempotencyKey).toBe('run_1:fix#1');
    expect(runs.ledgerCalling).toHaveBeenCalledWith('run_1:fix', 1);
    expect(runs.ledgerFinish).toHaveBeenCalledWith('run_1:fix', { state: 'done', resultJson: '{"output":{"ok":true}}' });
  });

  it('returns the recorded outcome of a call already made, without calling again', async () => {
    const { gate } = setup({ kind: 'done', resultJson: '{"output":{"scaled":8}}' });
    const next = nextStep();
    expect(await gate.pass(stepCall(), next)).toEqual({ kind: 'done', result: { output: { scaled: 8 } } });
    expect(next).not.toHaveBeenCalled();
  });

  it('asks the action to reconcile when an attempt started its call and did not record the outcome', async () => {
    const { runs, gate } = setup({ kind: 'reconcile', attempt: 2 });
    const call = stepCall({}, { reconcile: () => Promise.resolve({ output: {} }) });
    await gate.pass(call, nextStep());
    expect(call.invocation).toMatchObject({ reconcile: true, idempotencyKey: 'run_1:fix#2' });
    expect(runs.appendTimeline).toHaveBeenCalledWith('inc_1', 'step.reconciling', expect.objectContaining({ step: 'fix' }));
  });

  it('fails for good when the call may have been made and the action cannot reconcile', async () => {
    const { gate } = setup({ kind: 'reconcile', attempt: 2 });
    await expect(gate.pass(stepCall(), nextStep())).rejects.toThrow('test.mutate may have been called');
  });

  it('lets a retry call again only when the call never started', async () => {
    const before = setup({ kind: 'call', attempt: 1 });
    await expect(before.gate.pass(stepCall(), nextStep(undefined, new Error('throttled')))).rejects.toThrow('throttled');
    expect(before.runs.ledgerFinish).toHaveBeenCalledWith('run_1:fix', { state: 'failed', error: 'throttled' });

    const during = setup({ kind: 'call', attempt: 1 });
    const call = stepCall();
    const next = jest.fn(async (): Promise<GateOutcome> => {
      await call.invocation.beforeCall!();
      throw new Error('socket hang up');
    });
    await expect(during.gate.pass(call, next)).rejects.toThrow('socket hang up');
    expect(during.runs.ledgerFinish).not.toHaveBeenCalled(); // the retry reconciles
  });
});
