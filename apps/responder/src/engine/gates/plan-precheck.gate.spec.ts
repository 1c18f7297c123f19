import type { PlanCheck } from '@responder/domain';
import { nextStep, stepCall } from '../../../../../test/support/step-call';
import { PlanPrecheckGate, type PlanRecheck } from './plan-precheck.gate';

function setup(answer: PlanCheck | null, ledgerState?: string) {
  const ledger: Record<string, string> = ledgerState === undefined ? {} : { state: ledgerState };
  const runs = { ledger: jest.fn(() => Promise.resolve(ledger)) };
  const recheck = {
    check: jest.fn(() => Promise.resolve(answer)),
    checked: jest.fn(() => Promise.resolve()),
    stale: jest.fn(() => Promise.resolve(true)),
  } satisfies PlanRecheck;
  return { recheck, gate: new PlanPrecheckGate(runs, recheck) };
}

const precheck = () => Promise.resolve({ holds: true, checked: 'x' } as PlanCheck);

describe('the plan pre-check gate', () => {
  it('re-plans instead of calling when the world the plan was made on changed', async () => {
    const { gate, recheck } = setup({ holds: false, reason: 'prod/ledger now runs :3, not the plan’s :2' });
    const next = nextStep();
    expect(await gate.pass(stepCall({}, { precheck }), next)).toEqual({ kind: 'gone' });
    expect(next).not.toHaveBeenCalled();
    expect(recheck.stale).toHaveBeenCalledWith(expect.objectContaining({ id: 'run_1' }), 'fix', 'prod/ledger now runs :3, not the plan’s :2', ['running'], 'call');
    expect(recheck.checked).not.toHaveBeenCalled();
  });

  it('says the plan was checked, then calls, when it still holds', async () => {
    const { gate, recheck } = setup({ holds: true, checked: 'prod/ledger still runs :2' });
    const next = nextStep();
    expect(await gate.pass(stepCall({}, { precheck }), next)).toMatchObject({ kind: 'done' });
    expect(next).toHaveBeenCalledTimes(1);
    expect(recheck.checked).toHaveBeenCalledWith(expect.objectContaining({ id: 'run_1' }), expect.objectContaining({ id: 'fix' }), 'prod/ledger still runs :2', 'call');
    expect(recheck.stale).not.toHaveBeenCalled();
  });

  it('does not check a step resumed after its call may have been made: the ledger reconciles it', async () => {
    const { gate, recheck } = setup({ holds: false, reason: 'changed by our own call' }, 'calling');
    expect(await gate.pass(stepCall({}, { precheck }), nextStep())).toMatchObject({ kind: 'done' });
    expect(recheck.check).not.toHaveBeenCalled();
  });

  it('lets an action without a pre-check through untouched', async () => {
    const { gate, recheck } = setup({ holds: false, reason: 'never asked' });
    expect(await gate.pass(stepCall(), nextStep())).toMatchObject({ kind: 'done' });
    expect(recheck.check).not.toHaveBeenCalled();
  });
});
