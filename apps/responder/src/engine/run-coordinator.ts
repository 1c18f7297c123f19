import { Injectable, Logger } from '@nestjs/common';
import { type Incident, PermanentActionError, type RunHead, type RunStatus, type StepResultText, type StepState, type StepStatus, type StepStatusMap } from '@responder/domain';
import { type Runbook, type RunbookStep, resolveInputs } from '@responder/runbooks';
import { IncidentStore, RunStore, type StepMove } from '@responder/store';
import { type Planned, type RunDecision, decideRun, planReady } from './decider/step-decider';
import { runGraph } from './decider/run-graph';
import { RunContextLoader } from './run-context';
import { RunbookRegistry } from './runbook-registry';
import { StepQueue } from './step-queue';

/**
 * Applies the decider's moves through the store: creates runs, moves steps on (every move a
 * compare-and-set with its timeline entry), queues the jobs of the steps it queued and the
 * timeouts of those waiting for approval, and ends runs. Safe to call concurrently and repeatedly.
 */
@Injectable()
export class RunCoordinator {
  private readonly logger = new Logger('Engine');

  constructor(
    private readonly registry: RunbookRegistry,
    private readonly contexts: RunContextLoader,
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
    private readonly queue: StepQueue,
  ) {}

  /** Starts the runbooks whose triggers match; a runbook runs at most once per incident. */
  async planIncident(incidentId: string): Promise<string[]> {
    const [incident, runs] = await Promise.all([this.incidents.get(incidentId), this.runs.runsOf(incidentId)]);
    if (!incident || incident.status !== 'open') return [];
    const started: string[] = [];
    // Planned already: startRun would find so only after planning its first steps.
    for (const runbook of this.registry.unplannedRunbooks(incident, runs)) {
      const runId = await this.startRun(incident, runbook, 'alarm', {});
      if (runId) started.push(runId);
    }
    return started;
  }

  /** Creates the run (unless this incident already has one of this runbook) and starts its ready steps. */
  async startRun(incident: Incident, runbook: Runbook, trigger: string, overrides: Record<string, unknown>): Promise<string | null> {
    const inputs = resolveInputs(runbook, overrides);
    if (!inputs.ok) throw new PermanentActionError(inputs.error);
    const steps: Record<string, StepState> = {};
    const statuses: StepStatusMap = {};
    for (const step of runbook.steps) {
      steps[step.id] = { status: 'pending', action: step.action, mutating: step.mutating, attempts: 0, approvals: [] };
      statuses[step.id] = 'pending';
    }
    // The first steps are decided before the run exists (every step pending, the incident at hand),
    // so that the run and their moves are written in one call; the moves apply only if it is created.
    const decision = decideRun(runbook, statuses);
    const ready = decision.kind === 'ready' ? decision : { decisions: [], toRun: [] };
    const context = ready.toRun.length > 0 ? await this.contexts.forNewRun(incident, inputs.inputs, statuses, ready.toRun) : null;
    const planned = planReady(runbook, ready.decisions, context, statuses, this.registry);
    const run: RunHead = { id: RunStore.newRunId(), incidentId: incident.id, runbook: runbook.name, service: incident.service ?? '', status: 'running', inputsJson: JSON.stringify(inputs.inputs) };
    // If this incident has a run of this runbook already, this run id is never written.
    const { runId, created, moves } = await this.runs.createRun(
      { runId: run.id, incidentId: incident.id, runbook: runbook.name, service: incident.service, trigger, inputs: inputs.inputs, steps },
      planned.map((p) => p.move),
    );
    if (!created || !moves) return null;
    this.logger.log({ incidentId: incident.id, runId, runbook: runbook.name }, `run ${runId} of ${runbook.name} planned`);
    await this.afterMoves(run, planned, moves.applied);
    await this.advanceFrom(run, runbook, moves.statuses, moves.runStatus);
    return runId;
  }

  /** Moves a run on from its stored statuses (after an approval, a timeout, a job of a settled step). */
  async advance(runId: string): Promise<void> {
    const loaded = await this.runs.runStatuses(runId);
    if (!loaded) return;
    const runbook = this.registry.runbookOf(loaded.run);
    if (runbook) await this.advanceFrom(loaded.run, runbook, loaded.statuses, loaded.run.status);
  }

  /**
   * A step's last move (its outcome) and the moves of the steps it makes ready, in one call. Those
   * are decided from the statuses read when the step started (`atStart`), as if its move applied,
   * with its result at hand; the store makes them only if that move applies and no other step's
   * status has changed since (RunStore.settleStep). When they applied as decided, usually nothing
   * is left to do; otherwise (another step moved meanwhile) the run moves on from the statuses the
   * call returns, as after any move. With `afterApplied` (a note: its entry goes between the step's success and what follows) nothing
   * is decided ahead.
   */
  async settleStep(run: RunHead, runbook: Runbook, last: StepMove, atStart: StepStatusMap, afterApplied?: () => Promise<void>): Promise<void> {
    const decidedFrom: StepStatusMap = { ...atStart, [last.stepId]: last.patch.status as StepStatus };
    const decision = run.status === 'running' && !afterApplied ? decideRun(runbook, decidedFrom) : null;
    const next = decision?.kind === 'ready' ? await this.planSteps(run, runbook, decision, decidedFrom, new Map([[last.stepId, resultOf(last)]])) : [];
    const result = await this.runs.settleStep(run.id, last, next.map((p) => p.move), decidedFrom);
    // A run Redis no longer has (it came back without its last writes): the outcome is dropped, said
    // so; retrying cannot bring the run back (the incident, if kept, is planned again by the sweep).
    if (result.runStatus === null) {
      this.logger.warn({ runId: run.id, incidentId: run.incidentId, step: last.stepId }, `run ${run.id} of incident ${run.incidentId} is no longer in the store (Redis lost its last writes?): the outcome of step ${last.stepId} is dropped`);
      return;
    }
    if (result.applied[0] && afterApplied) await afterApplied();
    await this.afterMoves(run, next, result.applied.slice(1));
    // No statuses: every move applied as decided. Then nothing is left to decide unless the decision
    // was the run's end or a cancel, or a step settled without running (its dependents may be ready).
    if (result.statuses === null && (decision?.kind === 'wait' || (decision?.kind === 'ready' && !next.some((p) => p.settles)))) return;
    const statuses = result.statuses ?? { ...decidedFrom, ...Object.fromEntries(next.map((p) => [p.step.id, p.move.patch.status as StepStatus])) };
    await this.advanceFrom(run, runbook, statuses, result.runStatus);
  }

  /**
   * Skips what cannot run, queues ready steps (or asks for approval), and finishes the run when
   * every step is settled, from statuses at hand (returned by the call that last moved a step).
   * They may be stale by the time a move is made: every move is a compare-and-set, and each call
   * returns the statuses after it, which the next pass uses.
   */
  private async advanceFrom(run: RunHead, runbook: Runbook, statuses: StepStatusMap, runStatus: RunStatus | null): Promise<void> {
    for (let pass = 0; pass < 1000; pass++) {
      if (runStatus !== 'running') return;
      const decision = decideRun(runbook, statuses);
      switch (decision.kind) {
        case 'wait':
          return;
        case 'cancel':
          // Once cancelled, the steps that waited for approval no longer keep the run from settling.
          ({ statuses, runStatus } = await this.runs.moveSteps(run.id, decision.moves));
          continue;
        case 'finish':
          if (await this.runs.finishRun(run.id, decision.status, decision.data)) {
            if (decision.status === 'aborted') this.logger.warn({ runId: run.id, incidentId: run.incidentId }, `run ${run.id} aborted by ${String(decision.data.abortedBy)}`);
            else this.logger.log({ runId: run.id, incidentId: run.incidentId }, `run ${run.id} ${decision.status}`);
          }
          return;
        case 'ready': {
          // Ready steps are moved together, in one call. Another pass is needed only when one settled
          // without running (skipped, or failed to plan): its dependents may be ready.
          const planned = await this.planSteps(run, runbook, decision, statuses);
          if (planned.length === 0) return;
          const result = await this.runs.moveSteps(run.id, planned.map((p) => p.move));
          await this.afterMoves(run, planned, result.applied);
          if (!planned.some((p) => p.settles)) return;
          ({ statuses, runStatus } = result);
        }
      }
    }
  }

  /** The moves of ready steps (the decider's), with the expression context they read. */
  private async planSteps(run: RunHead, runbook: Runbook, decision: ReadyDecision, statuses: StepStatusMap, atHand?: ReadonlyMap<string, StepResultText>): Promise<Planned[]> {
    const context = decision.toRun.length > 0 ? await this.contexts.forSteps(run, decision.toRun, statuses, atHand) : null;
    return planReady(runbook, decision.decisions, context, statuses, this.registry);
  }

  /** What follows the moves that applied: queued steps get their job, waiting ones their timeout. */
  private async afterMoves(run: RunHead, planned: Planned[], applied: boolean[]): Promise<void> {
    await Promise.all(
      planned.map(async (p, i) => {
        if (!applied[i]) return;
        if (p.then === 'enqueue') await this.queue.queueStep(run.id, p.step);
        if (p.then === 'timeout') await this.scheduleApprovalTimeout(run.id, p.step, p.move.patch.requestedAt as string | undefined);
      }),
    );
  }

  private async scheduleApprovalTimeout(runId: string, step: RunbookStep, requestedAt: string | undefined): Promise<void> {
    await this.queue.scheduleApprovalTimeout(runId, step.id, Date.parse(requestedAt ?? new Date().toISOString()) + step.timeoutMs);
  }

  /** After a crash: re-add the jobs of steps that were queued or running, and move every active run on. */
  async recover(): Promise<void> {
    for (const runId of await this.runs.activeRuns()) {
      const run = await this.runs.getRun(runId);
      if (!run) continue;
      const runbook = this.registry.runbook(run.runbook);
      const graph = runbook ? runGraph(runbook) : undefined;
      for (const [stepId, state] of Object.entries(run.steps)) {
        const step = graph?.byId.get(stepId);
        if (step && (state.status === 'queued' || state.status === 'running')) await this.queue.queueStep(run.id, step);
        if (step && state.status === 'awaiting_approval') await this.scheduleApprovalTimeout(run.id, step, state.requestedAt);
      }
      await this.advance(runId);
    }
  }
}

type ReadyDecision = Extract<RunDecision, { kind: 'ready' }>;

/** What a step's move records of its result, for the expressions of the steps decided with it. */
function resultOf(move: StepMove): StepResultText {
  const { outputJson, error, reason } = move.patch as StepResultText;
  return { outputJson, error, reason };
}
