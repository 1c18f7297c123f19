import { type GoalChecker, type GoalProgress, GoalMissedError, type RunHead, goalMetSummary, goalMissedSummary, judgeGoal, startGoal } from '@responder/domain';
import type { RunStore } from '@responder/store';
import type { Gate, GateOutcome, StepCall } from './gate';

/** What a goal's checks read besides the step, and where a success is remembered. */
export interface GoalLookup {
  checker: GoalChecker;
  /** The incident's alarm names and its service's target groups (catalog). */
  subjectOf(run: RunHead): Promise<{ service: string | null; alarms: string[]; targetGroups: string[] }>;
  /** Remembers that a mitigation "succeeded" (the repeat rule reads it). */
  recordSuccess(service: string, action: string, run: RunHead, stepId: string): Promise<void>;
}

/** A round of checks may take this long at most (then it counts as not met, and the next poll tries again). */
const CHECK_TIMEOUT_MS = 60_000;

/**
 * Verifies a mutating step's goal after its call, as part of the step. It wraps the ledger: the call
 * (or, on every later run, the ledger's record of it: never a second call) comes first, then one
 * round of the goal's checks. Not met yet: "again after a poll" with the progress as the step's
 * checkpoint (the job is delayed, no worker held, a crash resumes here). Met: the step succeeds
 * with `goal: met` (mitigation.goal_met). Missed at the deadline: mitigation.goal_missed naming what
 * failed, and the step fails with GoalMissedError (not retried). Also remembers each success of a
 * mitigation per service and action, for the repeat rule.
 */
export class GoalGate implements Gate {
  readonly name = 'goal';

  constructor(
    private readonly runs: Pick<RunStore, 'appendTimeline'>,
    private readonly lookup: GoalLookup,
  ) {}

  async pass(call: StepCall, next: () => Promise<GateOutcome>): Promise<GateOutcome> {
    const outcome = await next();
    if (outcome.kind !== 'done' || outcome.result.dryRun) return outcome;
    const { run, step } = call;
    const output = outcome.result.output;
    // An action that found nothing to do (already rolled back) changed nothing: nothing to verify or count.
    if (output.skipped === true) return outcome;
    const goal = step.goal;
    const subject = await this.lookup.subjectOf(run);
    if (!goal) {
      if (subject.service) await this.lookup.recordSuccess(subject.service, step.action, run, step.id);
      return outcome;
    }
    const now = Date.now();
    const progress = progressOf(call.state.checkpointJson) ?? startGoal(goal, now);
    const results = await this.lookup.checker.check(goal.checks, {
      params: JSON.parse(call.state.paramsJson ?? '{}') as Record<string, unknown>,
      output,
      alarms: subject.alarms,
      targetGroups: subject.targetGroups,
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
    const verdict = judgeGoal(goal, progress, results, Date.now());
    const base = { runId: run.id, step: step.id, action: step.action, checks: verdict.kind === 'again' ? verdict.progress.checks : verdict.checks };
    if (verdict.kind === 'again') return { kind: 'again', afterMs: verdict.afterMs, state: { goal: verdict.progress } };
    if (verdict.kind === 'met') {
      const summary = goalMetSummary(verdict.checks, verdict.results);
      await this.runs.appendTimeline(run.incidentId, 'mitigation.goal_met', { ...base, summary, results: verdict.results });
      if (subject.service) await this.lookup.recordSuccess(subject.service, step.action, run, step.id);
      return { kind: 'done', result: { ...outcome.result, summary: [outcome.result.summary, summary].filter(Boolean).join('; '), goal: 'met' } };
    }
    const summary = goalMissedSummary(goal, verdict.checks, verdict.failed);
    await this.runs.appendTimeline(run.incidentId, 'mitigation.goal_missed', { ...base, summary, failed: verdict.failed, results: verdict.results, callSummary: outcome.result.summary });
    throw new GoalMissedError(`${step.action}: the call was made (${outcome.result.summary ?? 'done'}) but its ${summary}`, verdict.failed);
  }
}

function progressOf(checkpointJson: string | undefined): GoalProgress | null {
  if (!checkpointJson) return null;
  const goal = (JSON.parse(checkpointJson) as { goal?: GoalProgress }).goal;
  return goal && typeof goal.deadline === 'number' ? goal : null;
}
