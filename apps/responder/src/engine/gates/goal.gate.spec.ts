import { type Goal, type GoalCheckResult, GoalMissedError } from '@responder/domain';
import { nextStep, stepCall } from '../../../../../test/support/step-call';
import { GoalGate, type GoalLookup } from './goal.gate';

const GOAL: Goal = { withinMs: 60_000, pollMs: 5000, checks: ['alarms-ok'] };

function setup(results: GoalCheckResult[][], goal: Goal | null = GOAL) {
  const appendTimeline = jest.fn((_incident: string, _type: string, _data: Record<string, unknown>) => Promise.resolve());
  const check = jest.fn(() => Promise.resolve(results.shift() ?? []));
  const recordSuccess = jest.fn(() => Promise.resolve());
  const lookup: GoalLookup = { checker: { check }, subjectOf: () => Promise.resolve({ service: 'web', alarms: ['web-5xx'], targetGroups: [] }), recordSuccess };
  const gate = new GoalGate({ appendTimeline }, lookup);
  const base = stepCall();
  const call = (checkpointJson?: string) => stepCall({ step: { ...base.step, goal }, state: { ...base.state, status: 'running', checkpointJson } });
  return { gate, call, appendTimeline, check, recordSuccess };
}

const alarm = (met: boolean): GoalCheckResult => ({ check: 'alarms-ok', met, detail: met ? '1 alarm OK' : 'web-5xx is ALARM' });

describe('the goal gate', () => {
  it('after the call, checks the goal; not met yet: "again" after a poll with its progress, nothing recorded', async () => {
    const { gate, call, appendTimeline, check, recordSuccess } = setup([[alarm(false)]]);
    const next = nextStep({ kind: 'done', result: { output: { to: 'b' }, summary: 'rolled back' } });
    const outcome = await gate.pass(call(), next);
    expect(next).toHaveBeenCalledTimes(1);
    expect(check).toHaveBeenCalledWith(['alarms-ok'], expect.objectContaining({ params: { target: 'x' }, output: { to: 'b' }, alarms: ['web-5xx'] }));
    expect(outcome).toEqual({ kind: 'again', afterMs: 5000, state: { goal: { startedAt: expect.any(Number), deadline: expect.any(Number), checks: 1 } } });
    expect(appendTimeline).not.toHaveBeenCalled();
    expect(recordSuccess).not.toHaveBeenCalled();
  });

  it('resumed from its checkpoint (the ledger gives the recorded call): met, the step succeeds with goal met and the success is remembered', async () => {
    const { gate, call, appendTimeline, recordSuccess } = setup([[alarm(true)]]);
    const now = Date.now();
    const outcome = await gate.pass(call(JSON.stringify({ goal: { startedAt: now - 10_000, deadline: now + 50_000, checks: 2 } })), nextStep({ kind: 'done', result: { output: {}, summary: 'rolled back' } }));
    expect(outcome).toEqual({ kind: 'done', result: { output: {}, summary: 'rolled back; goal met after 3 checks: 1 alarm OK', goal: 'met' } });
    expect(appendTimeline).toHaveBeenCalledWith('inc_1', 'mitigation.goal_met', expect.objectContaining({ step: 'fix', checks: 3 }));
    expect(recordSuccess).toHaveBeenCalledWith('web', 'test.mutate', expect.objectContaining({ id: 'run_1' }), 'fix');
  });

  it('missed at the deadline: mitigation.goal_missed naming what failed, and a GoalMissedError (not retried)', async () => {
    const { gate, call, appendTimeline, recordSuccess } = setup([[alarm(false)]]);
    const now = Date.now();
    const error = await gate.pass(call(JSON.stringify({ goal: { startedAt: now - 60_000, deadline: now - 1, checks: 12 } })), nextStep()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GoalMissedError);
    expect((error as Error).message).toMatch(/goal not met within 1 min \(13 checks\): web-5xx is ALARM/);
    expect(appendTimeline).toHaveBeenCalledWith('inc_1', 'mitigation.goal_missed', expect.objectContaining({ failed: [alarm(false)] }));
    expect(recordSuccess).not.toHaveBeenCalled();
  });

  it('passes through what is not a call: held, skipped, a dry run, nothing to do; without a goal only remembers the success', async () => {
    const { gate, call, check, recordSuccess } = setup([]);
    expect(await gate.pass(call(), nextStep({ kind: 'held', reason: 'x' }))).toEqual({ kind: 'held', reason: 'x' });
    expect(await gate.pass(call(), nextStep({ kind: 'done', result: { output: {}, dryRun: true } }))).toMatchObject({ kind: 'done' });
    expect(await gate.pass(call(), nextStep({ kind: 'done', result: { output: { skipped: true } } }))).toMatchObject({ kind: 'done' });
    expect(check).not.toHaveBeenCalled();
    expect(recordSuccess).not.toHaveBeenCalled();
    const none = setup([], null);
    expect(await none.gate.pass(none.call(), nextStep())).toEqual({ kind: 'done', result: { output: { ok: true } } });
    expect(none.check).not.toHaveBeenCalled();
    expect(none.recordSuccess).toHaveBeenCalledTimes(1);
  });
});
