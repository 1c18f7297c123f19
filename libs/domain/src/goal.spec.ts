import { type Goal, type GoalCheckResult, goalMissedSummary, judgeGoal, repeatedMitigation, startGoal } from './goal';

const goal: Goal = { withinMs: 300_000, pollMs: 15_000, checks: ['alarms-ok', 'targets-healthy'] };
const ok = (check: GoalCheckResult['check']): GoalCheckResult => ({ check, met: true, detail: `${check} ok` });
const bad = (check: GoalCheckResult['check'], detail: string): GoalCheckResult => ({ check, met: false, detail });

describe('judging a goal', () => {
  const t0 = Date.parse('2026-01-01T10:00:00Z');
  const start = startGoal(goal, t0);

  it('is met as soon as every check is', () => {
    expect(judgeGoal(goal, start, [ok('alarms-ok'), ok('targets-healthy')], t0)).toEqual({ kind: 'met', checks: 1, results: [ok('alarms-ok'), ok('targets-healthy')] });
  });

  it('checks again after a poll (never past the deadline) while a check fails, counting the checks', () => {
    const failing = [ok('targets-healthy'), bad('alarms-ok', 'checkout-5xx is ALARM')];
    expect(judgeGoal(goal, start, failing, t0 + 1000)).toEqual({ kind: 'again', afterMs: 15_000, progress: { startedAt: t0, deadline: t0 + 300_000, checks: 1 } });
    expect(judgeGoal(goal, { ...start, checks: 19 }, failing, t0 + 295_000)).toEqual({ kind: 'again', afterMs: 5000, progress: { startedAt: t0, deadline: t0 + 300_000, checks: 20 } });
  });

  it('is missed once the deadline has passed, naming what failed', () => {
    const failing = [ok('targets-healthy'), bad('alarms-ok', 'checkout-5xx is ALARM')];
    const verdict = judgeGoal(goal, { ...start, checks: 20 }, failing, t0 + 300_000);
    expect(verdict).toMatchObject({ kind: 'missed', checks: 21, failed: [bad('alarms-ok', 'checkout-5xx is ALARM')] });
    expect(goalMissedSummary(goal, 21, [bad('alarms-ok', 'checkout-5xx is ALARM')])).toBe('goal not met within 5 min (21 checks): checkout-5xx is ALARM');
  });
});

describe('the repeat rule', () => {
  const now = Date.parse('2026-01-02T10:00:00Z');
  const h = 3600_000;

  it('asks a person when the mitigation succeeded in two other incidents within a day, saying why', () => {
    const why = repeatedMitigation('deploy.rollback', 'checkout', 'inc_3', [{ at: now - 5 * h, incidentId: 'inc_1' }, { at: now - h, incidentId: 'inc_2' }], now);
    expect(why).toBe(
      'deploy.rollback on checkout already "succeeded" 2 times in the last 24 h (2026-01-02T05:00:00.000Z, 2026-01-02T09:00:00.000Z) and the alarm came back each time: a person decides whether to run it again',
    );
  });

  it('does not ask after one success, after successes older than a day, or for the same incident', () => {
    expect(repeatedMitigation('deploy.rollback', 'checkout', 'inc_3', [{ at: now - h, incidentId: 'inc_2' }], now)).toBeNull();
    expect(repeatedMitigation('deploy.rollback', 'checkout', 'inc_3', [{ at: now - 25 * h, incidentId: 'inc_1' }, { at: now - h, incidentId: 'inc_2' }], now)).toBeNull();
    expect(repeatedMitigation('deploy.rollback', 'checkout', 'inc_2', [{ at: now - 2 * h, incidentId: 'inc_2' }, { at: now - h, incidentId: 'inc_2' }], now)).toBeNull();
    expect(repeatedMitigation('deploy.rollback', 'checkout', 'inc_3', [{ at: now - 2 * h, incidentId: 'inc_2' }, { at: now - h, incidentId: 'inc_2' }], now)).toBeNull();
  });
});
