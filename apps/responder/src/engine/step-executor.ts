import { Inject, Injectable } from '@nestjs/common';
import { GoalMissedError, type GoalChecker, PermanentActionError, type RunHead, type StepState, type StepStatusMap, type Pause, isAgain } from '@responder/domain';
import type { Runbook, RunbookStep } from '@responder/runbooks';
import { IncidentStore, MitigationHistory, RunStore, type StepMove } from '@responder/store';
import type { AppConfig } from '../config/config';
import { PermanentJobError, type QueuedJob } from '../queue';
import { APP_CONFIG, GOAL_CHECKER } from '../tokens';
import { invokeAction } from './action-invoker';
import { stepEvent } from './decider/prepare-step';
import { runGraph } from './decider/run-graph';
import { type Gate, type GateOutcome, type StepCall, type StepResult, mutatingGates, paramsOf, runGates } from './gates';
import { RunCoordinator } from './run-coordinator';
import { RunbookRegistry } from './runbook-registry';
import { Replanner } from './replanner';

/** How often a mutating step held by a gate (the kill switch, a lock) looks again. */
const HOLD_RETRY_MS = 1000;

/**
 * A started read-only step, or a mutating step read with the kill switch (its gates come first);
 * with every step's status when it was read, from which what follows the step is decided.
 */
export type StepToRun = { kind: 'started'; state: StepState; statuses: StepStatusMap } | { kind: 'gated'; state: StepState; paused: Pause | null; statuses: StepStatusMap };

/**
 * Runs one step's job: a read-only step's action at once (it is running already); a mutating
 * step's through the gates (gates/index.ts). Then records the outcome (one compare-and-set with its
 * timeline entry) with the moves that follow it, through the coordinator (RunCoordinator.settleStep). An action's error is retried by BullMQ as
 * the step's `retries` say, and is the step's failure on the last attempt.
 */
@Injectable()
export class StepExecutor {
  private readonly gates: Gate[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: RunbookRegistry,
    private readonly coordinator: RunCoordinator,
    private readonly runs: RunStore,
    private readonly incidents: IncidentStore,
    replanner: Replanner,
    private readonly history: MitigationHistory,
    @Inject(GOAL_CHECKER) checker: GoalChecker,
  ) {
    this.gates = mutatingGates({
      runs,
      mode: config.mode,
      recheck: replanner,
      cooldowns: {
        serviceOf: async (run) => run.service || (await this.incidents.get(run.incidentId))?.service || null,
        cooldownMinutes: (service) => this.registry.cooldownMinutes(service),
        ancestors: (run, stepId) => {
          const runbook = this.registry.runbook(run.runbook);
          return runbook ? [...(runGraph(runbook).ancestors.get(stepId) ?? [])] : [];
        },
      },
      goals: {
        checker,
        subjectOf: async (run) => {
          const incident = await this.incidents.get(run.incidentId);
          const service = run.service || incident?.service || null;
          return { service, alarms: (incident?.alarms ?? []).map((a) => a.name), targetGroups: this.registry.service(service)?.loadBalancer?.targetGroups ?? [] };
        },
        recordSuccess: (service, action, run, stepId) => this.history.record(service, action, { at: Date.now(), incidentId: run.incidentId, runId: run.id, stepId }),
      },
    });
  }

  async run(job: QueuedJob, run: RunHead, runbook: Runbook, step: RunbookStep, start: StepToRun): Promise<void> {
    const call: StepCall = {
      run,
      step,
      action: this.registry.action(step),
      state: start.state,
      paused: start.kind === 'gated' ? start.paused : null,
      resource: start.state.resource ?? `${step.action}:${run.id}`,
      started: start.kind === 'started',
      invocation: { idempotencyKey: `${run.id}:${step.id}`, ...resumeFrom(start.state, step.timeoutMs) },
    };
    let outcome: GateOutcome;
    try {
      outcome = start.kind === 'started' ? await this.callAction(call) : await runGates(this.gates, call, (c) => this.callAction(c));
    } catch (err) {
      // Before its start (the kill switch, the lock: Redis), an error is the job's: BullMQ retries it.
      if (!call.started) throw err;
      return this.failed(job, call, runbook, start.statuses, err);
    }
    // Outside the try: a failure to record the outcome (Redis) is the job's, not the action's:
    // BullMQ retries the job (a mutating step then finds its ledger done), and the job's handler
    // records the step failed when BullMQ gives up.
    switch (outcome.kind) {
      case 'done':
        return this.succeeded(call, runbook, start.statuses, outcome.result);
      case 'skipped':
        await this.runs.transition(run.id, step.id, ['queued', 'running'], { status: 'skipped', reason: outcome.reason, finishedAt: now() }, stepEvent('step.skipped', { reason: outcome.reason }));
        return this.coordinator.advance(run.id);
      case 'gone':
        return this.coordinator.advance(run.id);
      case 'held':
        return this.hold(job, call, outcome.reason);
      case 'again':
        return this.again(job, call, outcome);
    }
  }

  private async callAction(call: StepCall): Promise<GateOutcome> {
    const result = await invokeAction(call.run, call.step, call.action, paramsOf(call), call.invocation, this.config.mode === 'dry-run');
    if (!isAgain(result)) return { kind: 'done', result };
    // A mutating call is recorded once by the ledger: "call me again" would make it twice.
    if (call.action.mutating) throw new PermanentActionError(`${call.step.action} is mutating: it cannot ask to be called again`);
    return { kind: 'again', afterMs: Math.max(0, result.again.afterMs), state: result.again.state };
  }

  /** A step's success (or, in dry-run, its own status: nothing changed, and what needs a real change must not follow). */
  private async succeeded({ run, step }: StepCall, runbook: Runbook, atStart: StepStatusMap, result: StepResult): Promise<void> {
    const outputJson = JSON.stringify(result.output);
    const status = result.dryRun ? 'dry-run' : 'succeeded';
    const move: StepMove = {
      stepId: step.id,
      from: ['running'],
      patch: { status, outputJson, summary: result.summary, ...(result.dryRun ? { dryRun: true } : {}), ...(result.goal ? { goal: result.goal } : {}), checkpointJson: undefined, finishedAt: now() },
      event: stepEvent(`step.${status}`, { action: step.action, summary: result.summary, output: result.output }),
    };
    // A note goes on the timeline right after its step's success, before what follows it.
    const noted = step.action === 'note' ? () => this.runs.appendTimeline(run.incidentId, 'note', { by: 'responder', text: result.output.text, runId: run.id, step: step.id }) : undefined;
    await this.coordinator.settleStep(run, runbook, move, atStart, noted);
  }

  /** An action failed: thrown back to BullMQ for a retry, or the step's failure when it was the last try. */
  private async failed(job: QueuedJob, { run, step }: StepCall, runbook: Runbook, atStart: StepStatusMap, err: unknown): Promise<void> {
    const missed = err instanceof GoalMissedError;
    const final = missed || err instanceof PermanentActionError || err instanceof PermanentJobError || job.attemptsMade + 1 >= job.attempts;
    const message = (err as Error).message;
    if (!final) {
      await this.runs.appendTimeline(run.incidentId, 'step.retrying', { runId: run.id, step: step.id, attempt: job.attemptsMade + 1, error: message });
      throw err;
    }
    const failed: StepMove = { stepId: step.id, from: ['running'], patch: { status: 'failed', error: message, ...(missed ? { goal: 'missed' } : {}), checkpointJson: undefined, finishedAt: now() }, event: stepEvent('step.failed', { action: step.action, error: message }) };
    await this.coordinator.settleStep(run, runbook, failed, atStart);
  }

  /** Puts the job back for a second; records why once on the timeline. */
  private async hold(job: QueuedJob, { run, step, state }: StepCall, reason: string): Promise<never> {
    if (state.reason !== reason) {
      await this.runs.transition(run.id, step.id, ['queued', 'running'], { reason }, stepEvent('step.held', { reason }));
    }
    return job.holdFor(HOLD_RETRY_MS, reason);
  }

  /**
   * "Not yet": keeps the action's state on the step (a compare-and-set: the step must still be
   * running) and puts the job back for `afterMs`, freeing the worker. The next run of the job
   * resumes from that state. A step moved meanwhile (failed by BullMQ giving up, say) is left as
   * it is and the run moves on.
   */
  private async again(job: QueuedJob, { run, step, action, state: before }: StepCall, { afterMs, state }: { afterMs: number; state: Record<string, unknown> }): Promise<void> {
    const kept = await this.runs.transition(run.id, step.id, ['running'], { checkpointJson: JSON.stringify(state) });
    if (!kept) return this.coordinator.advance(run.id);
    // A mutating step verifying its goal is bounded by the goal's own deadline (its call is done).
    const delay = action.mutating ? afterMs : resumeAfterMs(afterMs, before.startedAt, step.timeoutMs);
    return job.holdFor(delay, `${step.action} resumes from its checkpoint`);
  }
}

/**
 * When a step put back by its action runs again: when the action asked, or when its timeout ends
 * if that is sooner (the step then fails at its timeout, not after the action's delay).
 */
export function resumeAfterMs(afterMs: number, startedAt: string | undefined, timeoutMs: number, at = Date.now()): number {
  const started = startedAt ? Date.parse(startedAt) : NaN;
  const left = Number.isFinite(started) ? started + timeoutMs - at : timeoutMs;
  return Math.max(0, Math.min(afterMs, left));
}

/**
 * What a step resumed from a checkpoint is called with: that state, and what is left of the step's
 * timeout, which counts from the step's start across the runs of its job. Nothing for a step
 * starting afresh (the whole timeout).
 */
export function resumeFrom(state: Pick<StepState, 'checkpointJson' | 'startedAt'>, timeoutMs: number, at = Date.now()): { checkpoint?: Record<string, unknown>; timeoutMs?: number } {
  if (!state.checkpointJson) return {};
  const checkpoint = JSON.parse(state.checkpointJson) as Record<string, unknown>;
  const started = state.startedAt ? Date.parse(state.startedAt) : NaN;
  return Number.isFinite(started) ? { checkpoint, timeoutMs: started + timeoutMs - at } : { checkpoint };
}

function now(): string {
  return new Date().toISOString();
}
