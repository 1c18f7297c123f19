import { Injectable, Logger } from '@nestjs/common';
import { type AnyAction, type PlanCheck, type RunHead, type StepStatus } from '@responder/domain';
import type { RunbookStep } from '@responder/runbooks';
import { RunStore, type StepMove } from '@responder/store';
import { stepEvent } from './decider/prepare-step';
import { runGraph } from './decider/run-graph';
import { RunCoordinator } from './run-coordinator';
import { RunbookRegistry } from './runbook-registry';
import { StepQueue } from './step-queue';

/** A step's plan is made again at most this many times; then the step fails with the last reason. */
export const MAX_REPLANS = 3;
/** How long a pre-check may take when the step's own timeout is longer. */
const PRECHECK_TIMEOUT_MS = 30_000;
/** The statuses of the evidence steps that run again for a new plan. */
const RERUN_FROM: StepStatus[] = ['succeeded', 'failed', 'skipped'];

/**
 * Plans that follow the evidence. Before a mutating step's call (the plan pre-check gate), and when
 * a later alarm reaches an incident whose mutating step awaits approval (the plan job), its
 * action's `precheck` re-reads what the plan was made on. When that no longer holds, the plan is
 * stale: in one compare-and-set, the step goes back to `pending` (its approvals dropped,
 * `replans` + 1, `approval.stale` on the timeline with the reason) and the read-only steps it
 * depends on (its ancestors) go back to `pending` too; the decider then runs that evidence again
 * and plans the step anew, asking for approval again (or letting a policy grant it). After
 * MAX_REPLANS the step fails with the reason instead: a world that keeps changing needs a person.
 */
@Injectable()
export class Replanner {
  private readonly logger = new Logger('Replan');

  constructor(
    private readonly registry: RunbookRegistry,
    private readonly coordinator: RunCoordinator,
    private readonly runs: RunStore,
    private readonly queue: StepQueue,
  ) {}

  /** Asks the step's action whether its plan still holds; null when the action has no pre-check. */
  async check(action: AnyAction, step: RunbookStep, paramsJson: string | undefined): Promise<PlanCheck | null> {
    if (!action.precheck) return null;
    const params = JSON.parse(paramsJson ?? '{}') as Record<string, unknown>;
    return action.precheck(params, { signal: AbortSignal.timeout(Math.min(step.timeoutMs, PRECHECK_TIMEOUT_MS)) });
  }

  /** The plan holds: said on the timeline, so that the RCA shows it was checked before the call. */
  async checked(run: RunHead, step: RunbookStep, what: string, trigger: 'call' | 'alarm'): Promise<void> {
    await this.runs.appendTimeline(run.incidentId, 'plan.checked', { runId: run.id, step: step.id, action: step.action, checked: what, trigger });
  }

  /**
   * The plan of `stepId` is stale: re-plans it (see the class) if it is still in one of `from`.
   * Returns false when the step had moved on meanwhile (nothing done).
   */
  async stale(run: RunHead, stepId: string, reason: string, from: StepStatus[], trigger: 'call' | 'alarm'): Promise<boolean> {
    const record = await this.runs.getRun(run.id);
    const state = record?.steps[stepId];
    const runbook = record ? this.registry.runbookOf(record) : undefined;
    if (!record || !state || !runbook || !from.includes(state.status)) return false;
    const graph = runGraph(runbook);
    const step = graph.byId.get(stepId)!;
    const replans = (state.replans ?? 0) + 1;
    const staleData = { action: step.action, reason, plan: state.plan, paramsHash: state.paramsHash, replans, trigger };
    if (replans > MAX_REPLANS) {
      const error = `the plan was found stale ${MAX_REPLANS} times; not planned again (a person should look): ${reason}`;
      const failed = await this.runs.moveSteps(run.id, [
        { stepId, from, patch: { status: 'failed', error, replanReason: reason, finishedAt: now() }, event: stepEvent('approval.stale', { ...staleData, replanned: false }) },
        { stepId, from: ['failed'], patch: {}, event: stepEvent('step.failed', { action: step.action, error }), after: 0 },
      ]);
      if (!failed.applied[0]) return false;
      await this.queue.cancelApprovalTimeout(run.id, stepId); // a failed step needs none
      this.logger.warn({ incidentId: run.incidentId, runId: run.id, step: stepId }, `step ${stepId}: ${error}`);
      await this.coordinator.advance(run.id);
      return true;
    }
    // The evidence the plan was made from: the read-only steps the runbook sequences before it.
    const evidence = [...(graph.ancestors.get(stepId) ?? [])].filter((id) => !graph.byId.get(id)?.mutating && RERUN_FROM.includes(record.steps[id]?.status));
    // Their finished jobs are forgotten first, so that the same job ids can be added again.
    await Promise.all(evidence.map((id) => this.queue.forgetStep(run.id, id)));
    const moves: StepMove[] = [
      {
        stepId,
        from,
        patch: { status: 'pending', replans, replanReason: reason, approval: undefined, approvals: [], approvedBy: undefined, requestedAt: undefined, queuedAt: undefined, startedAt: undefined, reason: undefined },
        event: stepEvent('approval.stale', { ...staleData, replanned: true, rerun: evidence }),
      },
      ...evidence.map(
        (id): StepMove => ({
          stepId: id,
          from: RERUN_FROM,
          patch: { status: 'pending', outputJson: undefined, summary: undefined, error: undefined, reason: undefined, queuedAt: undefined, startedAt: undefined, finishedAt: undefined },
          event: stepEvent('step.rerun', { reason: `evidence for a new plan of ${stepId}: ${reason}` }),
          after: 0,
        }),
      ),
    ];
    // Before the move: its timeout job, if left behind (a crash right after the move), would time out
    // the new request at the old one's time (same job id). A step that moved meanwhile needs none.
    await this.queue.cancelApprovalTimeout(run.id, stepId);
    const result = await this.runs.moveSteps(run.id, moves);
    if (!result.applied[0]) return false;
    this.logger.log({ incidentId: run.incidentId, runId: run.id, step: stepId, replans }, `the plan of ${stepId} is stale (${reason}): planned again after ${evidence.join(', ') || 'no evidence step'}`);
    await this.coordinator.advance(run.id);
    return true;
  }

  /**
   * A later alarm reached the incident: every mutating step of its running runs that awaits
   * approval has its plan checked again, and re-planned when stale. Returns the steps re-planned.
   */
  async recheckAwaiting(incidentId: string): Promise<string[]> {
    const replanned: string[] = [];
    for (const run of await this.runs.runsOfIncident(incidentId)) {
      if (run.status !== 'running') continue;
      const runbook = this.registry.runbookOf(run);
      if (!runbook) continue;
      for (const [stepId, state] of Object.entries(run.steps)) {
        const step = runGraph(runbook).byId.get(stepId);
        if (!step || state.status !== 'awaiting_approval') continue;
        let check: PlanCheck | null;
        try {
          check = await this.check(this.registry.action(step), step, state.paramsJson);
        } catch (err) {
          // The pre-check before the call still guards it; a failed read here must not fail the plan job.
          this.logger.warn({ incidentId, runId: run.id, step: stepId }, `could not check the plan of ${stepId} again on a new alarm: ${(err as Error).message}`);
          continue;
        }
        if (!check) continue;
        if (check.holds) await this.checked(run, step, check.checked, 'alarm');
        else if (await this.stale(run, stepId, check.reason, ['awaiting_approval'], 'alarm')) replanned.push(`${run.id}/${stepId}`);
      }
    }
    return replanned;
  }
}

function now(): string {
  return new Date().toISOString();
}
