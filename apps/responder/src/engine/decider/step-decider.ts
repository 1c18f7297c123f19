import { type Runbook, type RunbookStep, type StepDecision, readySteps, runState } from '@responder/runbooks';
import { type StepStatusMap } from '@responder/domain';
import type { StepMove } from '@responder/store';
import { type DeciderEnv, type Planned, prepareStep, skipMove, stepEvent } from './prepare-step';
import { runGraph } from './run-graph';

export type { DeciderEnv, Planned } from './prepare-step';

/** What a run needs next, from its runbook and every step's status. */
export type RunDecision =
  /** Nothing to do until a step in flight settles. */
  | { kind: 'wait' }
  /** A step failed and aborts the run: the steps that have not started are cancelled first. */
  | { kind: 'cancel'; moves: StepMove[] }
  /** Every step is settled: the run ends so. */
  | { kind: 'finish'; status: 'succeeded' | 'failed' | 'aborted'; data: Record<string, unknown> }
  /** Steps whose needs are settled: `toRun` need the expression context to be decided. */
  | { kind: 'ready'; decisions: StepDecision[]; toRun: RunbookStep[] };

/** The run's next move. Pure: no Redis, no clock but `at`. */
export function decideRun(runbook: Runbook, statuses: StepStatusMap, at: string = new Date().toISOString()): RunDecision {
  const state = runState(runbook, statuses);
  if (state.state === 'aborted') {
    const reason = `run aborted: ${state.abortedBy} failed`;
    const cancel = runbook.steps
      .filter((s) => statuses[s.id] === 'pending' || statuses[s.id] === 'awaiting_approval')
      .map((s): StepMove => ({ stepId: s.id, from: ['pending', 'awaiting_approval'], patch: { status: 'cancelled', reason, finishedAt: at }, event: stepEvent('step.cancelled', { reason }) }));
    if (cancel.length > 0) return { kind: 'cancel', moves: cancel };
    return state.settled ? { kind: 'finish', status: 'aborted', data: { abortedBy: state.abortedBy } } : { kind: 'wait' };
  }
  if (state.state === 'succeeded') return { kind: 'finish', status: 'succeeded', data: {} };
  if (state.state === 'completed_with_failures') return { kind: 'finish', status: 'failed', data: { failedSteps: state.failed } };
  const decisions = readySteps(runbook, statuses);
  if (decisions.length === 0) return { kind: 'wait' };
  return { kind: 'ready', decisions, toRun: decisions.filter((d) => d.decision === 'run').map((d) => d.step) };
}

/**
 * The moves of ready steps: skipped, failed to plan, queued or waiting for approval. A step to run
 * is left out when there is no context (its incident is gone). Pure.
 */
export function planReady(runbook: Runbook, decisions: StepDecision[], context: Record<string, unknown> | null, statuses: StepStatusMap, env: DeciderEnv, at: string = new Date().toISOString()): Planned[] {
  const planned: Planned[] = [];
  for (const decision of decisions) {
    if (decision.decision === 'skip') planned.push(skipMove(decision.step, decision.reason, at));
    else if (context) planned.push(prepareStep(decision.step, context, env));
  }
  return planned.map((p) => afterDryRun(runbook, p, statuses, env));
}

/**
 * A step skipped after a dry-run step it (transitively) needs says so: it was skipped because
 * that change was never made, not because production answered.
 */
function afterDryRun(runbook: Runbook, planned: Planned, statuses: StepStatusMap, env: DeciderEnv): Planned {
  if (planned.move.patch.status !== 'skipped' || env.mode !== 'dry-run') return planned;
  const dry = [...(runGraph(runbook).ancestors.get(planned.step.id) ?? [])].filter((id) => statuses[id] === 'dry-run');
  if (dry.length === 0) return planned;
  const reason = `dry run: ${dry.join(', ')} ${dry.length === 1 ? 'was' : 'were'} not really done (nothing changed in production), so this step has nothing to follow; ${String(planned.move.patch.reason)}`;
  return { ...planned, move: { ...planned.move, patch: { ...planned.move.patch, reason }, event: stepEvent('step.skipped', { reason }) } };
}
