import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { type Action, type ActionContext, type ActionPlan, type Catalog, type CatalogService, type Incident, PermanentActionError, autonomyOf } from '@responder/domain';
import {
  type Runbook,
  type RunbookStep,
  type StepContext,
  type StepDecision,
  buildContext,
  checkWhen,
  policyGrants,
  paramsHash,
  readySteps,
  renderParams,
  resolveInputs,
  runState,
  stepReads,
  triggerMatches,
} from '@responder/runbooks';
import {
  type FinishResult,
  IncidentStore,
  type Pause,
  RunStore,
  type RunHead,
  type RunRecord,
  type RunStatus,
  type StepMove,
  type StepResultText,
  type StepStart,
  type StepState,
  type StepStatusMap,
  TERMINAL_STEP_STATUSES,
} from '@responder/store';
import { type AppConfig, runsWorkers } from '../config/config';
import { ACTIONS, APP_CONFIG, CATALOG, RUNBOOKS } from '../tokens';
import { LazySignal } from './lazy-signal';
import { StepQueue } from './step-queue';

/** How often a mutating step held by the kill switch or a lock looks again. */
const HOLD_RETRY_MS = 1000;
/** A job whose step is not queued yet looks again after this long at first, at most the max later. */
const UNQUEUED_RETRY_MS = 100;
const UNQUEUED_RETRY_MAX_MS = 30_000;
const LOCK_MARGIN_MS = 60_000;
/** Hints kept for jobs another replica may take (each is small; the oldest go first). */
const MAX_HINTS = 10_000;
/** The newest open incidents looked at by one sweep for incidents with nothing planned. */
const PLAN_SWEEP_LIMIT = 500;

/** A step's move decided by the engine, and what follows once it applied. */
interface Planned {
  step: RunbookStep;
  move: StepMove;
  /** enqueue: the step is queued, add its job; timeout: it waits for approval, schedule its timeout. */
  then?: 'enqueue' | 'timeout';
  /** The step settled without running (skipped, failed to plan): its dependents may be ready. */
  settles: boolean;
  /** Its job was added already, with the move (see sendWithJobs). */
  added?: boolean;
}

/** A step job's last move (succeeded or failed) and the dependents queued with it. */
interface Finished {
  speculated: Planned[];
  /** statuses is null when the moves queued every dependent: nothing is left to decide. */
  result: FinishResult;
  /** The same call finished the run (the step was its last). */
  endedRun?: boolean;
}

/**
 * What this process wrote when it queued a read-only step, for its job if this process takes it:
 * the job then starts the action without waiting for the step's state to be read (see runHinted).
 * `run` and `paramsJson` are fixed once the step is queued. `queued` says whether this process's
 * move queued the step: undefined while that call is in flight (the job is added with it, see
 * sendWithJobs, and does not wait for its answer), false when it did not apply.
 */
interface Hint {
  run: RunHead;
  paramsJson: string;
  queued: boolean | undefined;
}

/** The step graph of a loaded runbook, computed once. */
interface Graph {
  byId: Map<string, RunbookStep>;
  dependents: Map<string, RunbookStep[]>;
  /** Steps whose failure the run continues past (on_failure: continue). */
  continueOnFailure: string[];
  /** Every step each step needs, directly or through its needs: the steps the runbook sequences before it. */
  ancestors: Map<string, Set<string>>;
}

/**
 * The runbook engine: plans runs when incidents open, moves steps through their states (every move
 * a compare-and-set with its timeline entry), and runs step jobs from BullMQ. Mutating steps pass
 * the gates in order: approval, kill switch, dry-run, lock, cooldown, idempotency ledger.
 *
 * Round trips on the path of a run: a step job starts with one call (read the run's head and the
 * step, and move a read-only step to running); it ends with one call (its success or failure, and
 * the queueing of each dependent that this step's result alone makes ready), which returns every
 * step's status, from which the rest of the run is decided without reading the run again.
 */
@Injectable()
export class RunEngine implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Engine');
  private readonly runbooks: Map<string, Runbook>;
  private readonly actions: Map<string, Action>;
  private readonly graphs = new WeakMap<Runbook, Graph>();
  private readonly hints = new Map<string, Hint>();
  private readonly stopping = new AbortController();
  private recovery: Promise<void> = Promise.resolve();
  private readonly sweepHolder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(RUNBOOKS) runbooks: Runbook[],
    @Inject(ACTIONS) actions: Action[],
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
    private readonly queue: StepQueue,
  ) {
    this.runbooks = new Map(runbooks.map((r) => [r.name, r]));
    this.actions = new Map(actions.map((a) => [a.id, a]));
  }

  onApplicationBootstrap(): void {
    // An api-only replica queues work (plans, approvals) but never takes a job: the workers do, and
    // they recover what a dead replica left.
    if (runsWorkers(this.config)) {
      this.queue.startWorker(
        (job) => this.process(job),
        (job, error) => this.jobFailed(job, error),
      );
      this.recovery = this.recoverUntilDone();
    }
    this.scheduleSweep(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    clearTimeout(this.sweepTimer);
    await Promise.all([this.recovery, this.sweeping]);
  }

  /**
   * The plan of an incident is queued after the incident is stored, in another call: if that call
   * fails (Redis restarted in between), the intake still answers 202 (the event is stored), and
   * this sweep, at boot and every ENGINE_PLAN_SWEEP_SECONDS, finds it. One replica per period.
   */
  private scheduleSweep(delayMs: number): void {
    if (this.stopping.signal.aborted || !this.hasRunbooks) return;
    this.sweepTimer = setTimeout(() => {
      this.sweeping = this.sweepTick().finally(() => this.scheduleSweep(this.config.engine.planSweepMs));
    }, delayMs);
    this.sweepTimer.unref();
  }

  private async sweepTick(): Promise<void> {
    try {
      if (!(await this.incidents.claimPlanSweep(this.sweepHolder, Math.max(500, this.config.engine.planSweepMs - 500)))) return;
      await this.sweepUnplanned();
    } catch (err) {
      // Redis down or busy: the next period tries again.
      this.logger.warn(`looking for unplanned incidents failed: ${(err as Error).message}`);
    }
  }

  /** Queues the plan of each open incident (the newest PLAN_SWEEP_LIMIT) that a runbook matches and has no run of; returns their ids. */
  async sweepUnplanned(): Promise<string[]> {
    const { items } = await this.incidents.list({ status: 'open', limit: PLAN_SWEEP_LIMIT, offset: 0 });
    const runs = await this.runs.runsOfMany(items.map((i) => i.id));
    const unplanned = items.filter((incident, i) => this.unplannedRunbooks(incident, runs[i]).length > 0).map((i) => i.id);
    for (const incidentId of unplanned) await this.incidentChanged(incidentId);
    if (unplanned.length > 0) this.logger.warn({ incidents: unplanned }, `${unplanned.length} open incident(s) had no run planned yet: planning them now`);
    return unplanned;
  }

  /** The runbooks whose triggers match the incident and that have no run of it yet. */
  private unplannedRunbooks(incident: Incident, runs: Record<string, string>): Runbook[] {
    const alarmNames = incident.alarms.map((a) => a.name);
    return [...this.runbooks.values()].filter((runbook) => !Object.hasOwn(runs, runbook.name) && triggerMatches(runbook, { service: incident.service, alarmNames }));
  }

  /** Recovery needs Redis; when it is down at boot, try again until it answers (or we stop). */
  private async recoverUntilDone(): Promise<void> {
    for (let delay = 500; !this.stopping.signal.aborted; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.recover();
        return;
      } catch (err) {
        this.logger.warn(`recovering runs failed, retrying in ${delay} ms: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }

  /** `live`, or `dry-run`: mutating steps are planned and reported (status dry-run), never called. */
  get mode(): AppConfig['mode'] {
    return this.config.mode;
  }

  get hasRunbooks(): boolean {
    return this.runbooks.size > 0;
  }

  runbook(name: string): Runbook | undefined {
    return this.runbooks.get(name);
  }

  /**
   * Called by the intake when an alarm opened an incident or attached to one (or arrived again).
   * An alarm storm on one incident asks for one plan at a time, not one per alarm (addCoalesced):
   * a plan reads the incident as it is when it runs.
   */
  async incidentChanged(incidentId: string): Promise<void> {
    if (!this.hasRunbooks) return;
    await this.queue.addCoalesced({ name: 'plan', data: { incidentId } }, `plan-${incidentId}`);
  }

  /** After a crash: re-add the jobs of steps that were queued or running, and move every active run on. */
  private async recover(): Promise<void> {
    for (const runId of await this.runs.activeRuns()) {
      const run = await this.runs.getRun(runId);
      if (!run) continue;
      const graph = this.graphOf(run.runbook);
      for (const [stepId, state] of Object.entries(run.steps)) {
        const step = graph?.byId.get(stepId);
        if (step && (state.status === 'queued' || state.status === 'running')) await this.enqueueStep(run.id, step);
        if (step && state.status === 'awaiting_approval') await this.scheduleApprovalTimeout(run.id, step, state.requestedAt);
      }
      await this.advance(runId);
    }
  }

  // --- planning -------------------------------------------------------------------------------

  /** Starts the runbooks whose triggers match; a runbook runs at most once per incident. */
  async planIncident(incidentId: string): Promise<string[]> {
    const [incident, runs] = await Promise.all([this.incidents.get(incidentId), this.runs.runsOf(incidentId)]);
    if (!incident || incident.status !== 'open') return [];
    const started: string[] = [];
    // Planned already: startRun would find so only after planning its first steps.
    for (const runbook of this.unplannedRunbooks(incident, runs)) {
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
    const ready = readySteps(runbook, statuses);
    const context = ready.some((d) => d.decision === 'run') ? this.contextOf(incident, inputs.inputs, statuses, new Map()) : null;
    const planned = this.plan(ready, context);
    const run: RunHead = { id: RunStore.newRunId(), incidentId: incident.id, runbook: runbook.name, service: incident.service ?? '', status: 'running', inputsJson: JSON.stringify(inputs.inputs) };
    // The first steps' jobs go right behind the run (see sendWithJobs). If this incident has a run
    // of this runbook already, this run id is never written: its jobs find no run and end.
    const { runId, created, moves } = await this.sendWithJobs(
      run,
      planned.flatMap((p, i) => (p.then === 'enqueue' ? [{ planned: p, index: i }] : [])),
      () => this.runs.createRun({ runId: run.id, incidentId: incident.id, runbook: runbook.name, service: incident.service, trigger, inputs: inputs.inputs, steps }, planned.map((p) => p.move)),
      (answer) => answer.moves ?? null,
    );
    if (!created || !moves) return null;
    this.logger.log({ incidentId: incident.id, runId, runbook: runbook.name }, `run ${runId} of ${runbook.name} planned`);
    await this.afterMoves(run, planned, moves.applied);
    await this.advanceFrom(run, runbook, moves.statuses, moves.runStatus);
    return runId;
  }

  /**
   * Moves a run on: skips what cannot run, queues ready steps (or asks for approval), and finishes
   * the run when every step is settled. Safe to call concurrently and repeatedly: every move is a
   * compare-and-set, and a step's job id is deterministic.
   */
  async advance(runId: string): Promise<void> {
    const loaded = await this.runs.runStatuses(runId);
    if (!loaded) return;
    const runbook = this.runbookOf(loaded.run);
    if (runbook) await this.advanceFrom(loaded.run, runbook, loaded.statuses, loaded.run.status);
  }

  /**
   * `advance` from statuses at hand (returned by the call that last moved a step). They may be
   * stale by the time a move is made: every move is a compare-and-set, and each call returns the
   * statuses after it, which the next pass uses.
   */
  private async advanceFrom(run: RunHead, runbook: Runbook, statuses: StepStatusMap, runStatus: RunStatus | null): Promise<void> {
    for (let pass = 0; pass < 1000; pass++) {
      if (runStatus !== 'running') return;
      const state = runState(runbook, statuses);
      if (state.state === 'aborted') {
        const reason = `run aborted: ${state.abortedBy} failed`;
        const cancel = runbook.steps
          .filter((s) => statuses[s.id] === 'pending' || statuses[s.id] === 'awaiting_approval')
          .map((s): StepMove => ({ stepId: s.id, from: ['pending', 'awaiting_approval'], patch: { status: 'cancelled', reason, finishedAt: now() }, event: stepEvent('step.cancelled', { reason }) }));
        if (cancel.length > 0) {
          // Once cancelled, the steps that waited for approval no longer keep the run from settling.
          ({ statuses, runStatus } = await this.runs.moveSteps(run.id, cancel));
          continue;
        }
        if (state.settled && (await this.runs.finishRun(run.id, 'aborted', { abortedBy: state.abortedBy }))) {
          this.logger.warn({ runId: run.id, incidentId: run.incidentId }, `run ${run.id} aborted by ${state.abortedBy}`);
        }
        return;
      }
      if (state.state !== 'running') {
        const status = state.state === 'succeeded' ? 'succeeded' : 'failed';
        if (await this.runs.finishRun(run.id, status, state.state === 'completed_with_failures' ? { failedSteps: state.failed } : {})) {
          this.logger.log({ runId: run.id, incidentId: run.incidentId }, `run ${run.id} ${status}`);
        }
        return;
      }
      const ready = readySteps(runbook, statuses);
      if (ready.length === 0) return;
      const toRun = ready.filter((d) => d.decision === 'run').map((d) => d.step);
      const context = toRun.length > 0 ? await this.contextFor(run, toRun, statuses) : null;
      // Ready steps are moved together, in one call. Another pass is needed only when one settled
      // without running (skipped, or failed to plan): its dependents may be ready.
      const planned = this.plan(ready, context).map((p) => this.afterDryRun(runbook, p, statuses));
      if (planned.length === 0) return;
      const result = await this.runs.moveSteps(run.id, planned.map((p) => p.move));
      await this.afterMoves(run, planned, result.applied);
      if (!planned.some((p) => p.settles)) return;
      ({ statuses, runStatus } = result);
    }
  }

  /**
   * A step skipped after a dry-run step it (transitively) needs says so: it was skipped because
   * that change was never made, not because production answered.
   */
  private afterDryRun(runbook: Runbook, planned: Planned, statuses: StepStatusMap): Planned {
    if (planned.move.patch.status !== 'skipped' || this.config.mode !== 'dry-run') return planned;
    const dry = [...(this.graph(runbook).ancestors.get(planned.step.id) ?? [])].filter((id) => statuses[id] === 'dry-run');
    if (dry.length === 0) return planned;
    const reason = `dry run: ${dry.join(', ')} ${dry.length === 1 ? 'was' : 'were'} not really done (nothing changed in production), so this step has nothing to follow; ${String(planned.move.patch.reason)}`;
    return { ...planned, move: { ...planned.move, patch: { ...planned.move.patch, reason }, event: stepEvent('step.skipped', { reason }) } };
  }

  /** The moves of ready steps; a step to run is left out when there is no context (its incident is gone). */
  private plan(ready: StepDecision[], context: Record<string, unknown> | null): Planned[] {
    const planned: Planned[] = [];
    for (const decision of ready) {
      if (decision.decision === 'skip') {
        const { reason } = decision;
        planned.push({ step: decision.step, settles: true, move: { stepId: decision.step.id, from: ['pending'], patch: { status: 'skipped', reason, finishedAt: now() }, event: stepEvent('step.skipped', { reason }) } });
      } else if (context) {
        planned.push(this.prepare(decision.step, context));
      }
    }
    return planned;
  }

  /**
   * A step whose needs are settled: skipped by its `when`, failed to plan, queued, or waiting for
   * approval. `at` is when (the context's `now`, when it has one).
   */
  private prepare(step: RunbookStep, context: Record<string, unknown>, at = typeof context.now === 'string' ? context.now : now()): Planned {
    const from: StepMove['from'] = ['pending'];
    const skip = (reason: string): Planned => ({ step, settles: true, move: { stepId: step.id, from, patch: { status: 'skipped', reason, finishedAt: at }, event: stepEvent('step.skipped', { reason }) } });
    // The catalog's word on a mutating action comes before the runbook's: a denied or `off` action
    // is never proposed, whatever its `when` or approval say.
    const autonomy = step.mutating ? autonomyOf(context.service as CatalogService | null, step.action) : null;
    if (autonomy?.denied) return skip(autonomy.why);
    if (autonomy?.level === 'off') return skip(`${autonomy.why}: never proposed`);
    let params: Record<string, unknown>;
    let plan: ActionPlan | undefined;
    try {
      const when = checkWhen(step, context);
      if (!when.run) return skip(when.reason);
      params = renderParams(step, context);
      if (step.mutating) plan = this.action(step).plan(params);
    } catch (err) {
      const error = `could not plan: ${(err as Error).message}`;
      return { step, settles: true, move: { stepId: step.id, from, patch: { status: 'failed', error, finishedAt: at }, event: stepEvent('step.failed', { error }) } };
    }
    // A call that would change nothing is not put to people to approve.
    if (plan?.nothingToDo) return skip(`nothing to do: ${plan.nothingToDo}`);
    const { json, hash } = paramsText(step, params);
    const base = { paramsJson: json, paramsHash: hash, plan: plan?.summary, resource: plan?.resource };
    const level = autonomy?.level ?? 'auto';
    if (!step.mutating || (step.approval.kind === 'none' && level === 'auto')) {
      const approval = step.mutating ? 'not_required' : undefined;
      return {
        step,
        settles: false,
        then: 'enqueue',
        move: { stepId: step.id, from, patch: { ...base, status: 'queued', approval, queuedAt: at }, event: stepEvent('step.queued', { action: step.action, params, plan: plan?.summary }) },
      };
    }
    if (level === 'auto' && policyGrants(step, context)) {
      const policy = step.approval.kind === 'policy' ? step.approval.name : '';
      return {
        step,
        settles: false,
        then: 'enqueue',
        move: {
          stepId: step.id,
          from,
          patch: { ...base, status: 'queued', approval: 'policy', approvedBy: `policy:${policy}`, queuedAt: at },
          event: stepEvent('approval.granted', { by: `policy:${policy}`, policy, plan: plan?.summary, params, paramsHash: base.paramsHash }),
        },
      };
    }
    // Why people are asked, for the plan shown in the API and Slack.
    const why =
      level === 'ask'
        ? `${autonomy!.why}: a person approves`
        : step.approval.kind === 'policy'
          ? `policy ${step.approval.name} does not hold${step.approval.description ? ` (${step.approval.description})` : ''}`
          : 'the runbook requires approval';
    return {
      step,
      settles: false,
      then: 'timeout',
      move: {
        stepId: step.id,
        from,
        patch: { ...base, status: 'awaiting_approval', approval: 'pending', approvalWhy: why, approvals: [], approversNeeded: step.twoPerson ? 2 : 1, requestedAt: at },
        event: stepEvent('approval.requested', {
          plan: plan?.summary,
          params,
          paramsHash: base.paramsHash,
          why,
          approvers: this.approverGroups(step, (context.service as { name?: string } | null)?.name ?? null),
          twoPerson: step.twoPerson,
        }),
      },
    };
  }

  /** What follows the moves that applied: queued steps get their job, waiting ones their timeout. */
  private async afterMoves(run: RunHead, planned: Planned[], applied: boolean[]): Promise<void> {
    const follow: Promise<void>[] = [];
    planned.forEach((p, i) => {
      if (!applied[i]) return;
      if (p.added) return;
      if (p.then === 'enqueue' && !p.step.mutating) this.hint(jobId(run.id, p.step.id), { run, paramsJson: p.move.patch.paramsJson as string, queued: true });
      if (p.then === 'enqueue') follow.push(this.enqueueStep(run.id, p.step));
      if (p.then === 'timeout') follow.push(this.scheduleApprovalTimeout(run.id, p.step, p.move.patch.requestedAt as string | undefined));
    });
    await Promise.all(follow);
  }

  // --- jobs -----------------------------------------------------------------------------------

  /** Adds a step's job (its retries from the runbook); the approval service uses it too. */
  async enqueueStep(runId: string, step: RunbookStep): Promise<void> {
    // A step without retries leaves BullMQ's defaults (one attempt) out of its job: less to store and parse.
    const retries = step.retries.attempts > 1 ? { attempts: step.retries.attempts, backoff: { type: step.retries.backoff, delay: step.retries.delayMs } } : undefined;
    await this.queue.add({ name: 'step', data: { runId, stepId: step.id } }, jobId(runId, step.id), retries);
  }

  private async scheduleApprovalTimeout(runId: string, step: RunbookStep, requestedAt: string | undefined): Promise<void> {
    const delay = Math.max(0, Date.parse(requestedAt ?? now()) + step.timeoutMs - Date.now());
    await this.queue.add({ name: 'approval-timeout', data: { runId, stepId: step.id } }, `timeout-${jobId(runId, step.id)}`, { delay });
  }

  /** The one BullMQ processor. */
  async process(job: Job): Promise<unknown> {
    switch (job.name) {
      case 'plan':
        return this.planIncident((job.data as { incidentId: string }).incidentId);
      case 'approval-timeout':
        return this.approvalTimedOut(job.data as { runId: string; stepId: string });
      case 'step':
        return this.runStepJob(job);
      default:
        throw new UnrecoverableError(`unknown job ${job.name}`);
    }
  }

  /** A step job that BullMQ gave up on without the processor recording it (e.g. stalled too often). */
  async jobFailed(job: Pick<Job, 'name' | 'data'>, error: Error): Promise<void> {
    if (job.name !== 'step') return;
    const { runId, stepId } = job.data as { runId: string; stepId: string };
    const message = `the job failed: ${error.message}`;
    const failed = await this.runs.transition(runId, stepId, ['queued', 'running'], { status: 'failed', error: message, finishedAt: now() }, stepEvent('step.failed', { error: message }));
    if (failed) await this.advance(runId);
  }

  private async approvalTimedOut({ runId, stepId }: { runId: string; stepId: string }): Promise<void> {
    const timedOut = await this.runs.transition(
      runId,
      stepId,
      ['awaiting_approval'],
      { status: 'timed_out', approval: 'timed_out', finishedAt: now() },
      stepEvent('approval.timed_out', { reason: 'no decision before the step timeout' }),
    );
    if (timedOut) await this.advance(runId);
  }

  private async runStepJob(job: Job): Promise<void> {
    const { runId, stepId } = job.data as { runId: string; stepId: string };
    const hint = job.id === undefined ? undefined : this.hints.get(job.id);
    if (hint && job.id !== undefined) {
      this.hints.delete(job.id);
      if (hint.queued !== false && (await this.runHinted(job, hint, stepId))) return;
    }
    // One call reads the run's head and the step, and starts a read-only step.
    const start = await this.runs.startStep(runId, stepId);
    // Dropped, not retried: nothing can bring the run back.
    if (start.kind === 'missing') return this.vanished(runId, undefined, stepId);
    if (start.kind === 'settled') {
      // Decided already: a job run again after its worker died between the step's last move and
      // what follows it moves the run on (a no-op when nothing is left).
      if (TERMINAL_STEP_STATUSES.has(start.status)) return this.advance(runId);
      // Not queued yet: a job added with the move that queues its step (sendWithJobs) can get here
      // first. It waits, and is never completed before its step is queued or decided: completed,
      // its id would keep the step's real job from being added.
      return this.waitForQueue(job);
    }
    const { run } = start;
    const runbook = this.runbookOf(run);
    const step = runbook ? this.graph(runbook).byId.get(stepId) : undefined;
    // Thrown, so that BullMQ retries the job (on a replica that has the runbook, during a rolling
    // deploy) and, when it gives up, jobFailed records the step as failed.
    if (!runbook || !step) throw new Error(`step ${stepId} of runbook ${run.runbook} is not loaded in this process`);
    const finished =
      start.kind === 'started'
        ? await this.execute(job, run, runbook, step, start.state.paramsJson, null, '')
        : await this.runGated(job, run, runbook, step, start.state, start.paused);
    await this.follow(run, runbook, finished);
  }

  /**
   * A read-only step this process queued, run without first waiting for its state to be read (the
   * parameters are the ones this process wrote). The start (queued → running, step.started) goes
   * out as soon as this turn of the event loop ends, the action running meanwhile; an action done
   * by then (no I/O) has its start, its success and its next steps in one call, the moves made only
   * if the start applied. Otherwise the success is sent after the start on the same connection, so
   * Redis applies it after the start (it moves from running): the timeline reads started, then
   * succeeded. A step whose start does not apply (decided meanwhile, or not the read-only step the
   * hint says) gets neither: the action is aborted, its result dropped, and the job goes the
   * ordinary way (returns false).
   *
   * Nor does the job wait for the answer of the call that queued its step (unless it is known not
   * to have applied): that call went out on the same connection before the job was added, so Redis
   * applies the start after it, and the start applies only if the step was queued. A read-only
   * action can so begin for a step whose queueing is then refused (the run was decided meanwhile):
   * it is aborted, and nothing of it is recorded. (Should ioredis have to reload that call's
   * script, the start can reach Redis first: it does not apply, and the job goes the ordinary way.)
   */
  private async runHinted(job: Job, hint: Hint, stepId: string): Promise<boolean> {
    const { run } = hint;
    const runbook = this.runbooks.get(run.runbook);
    const step = runbook ? this.graph(runbook).byId.get(stepId) : undefined;
    if (!runbook || !step || step.mutating) return false;
    const action = this.action(step);
    const params = JSON.parse(hint.paramsJson) as Record<string, unknown>;
    const startedAt = now();
    let start: Promise<StepStart> | null = null;
    let settle: (started: boolean) => void = () => undefined;
    let fail: (err: unknown) => void = () => undefined;
    const started = new Promise<boolean>((resolve, reject) => ((settle = resolve), (fail = reject)));
    started.catch(() => undefined); // awaited below where it matters; a failed start is thrown from there
    const sendStart = (): Promise<StepStart> => {
      if (!start) {
        start = this.runs.startStep(run.id, step.id, startedAt);
        start.then((s) => settle(s.kind === 'started'), fail);
      }
      return start;
    };
    const deferred = setImmediate(() => void sendStart());

    let result: StepResult;
    try {
      result = await this.withTimeout(step, (signal) => action.run(params, this.actionContext(run, step, signal)), started);
    } catch (err) {
      clearImmediate(deferred);
      if ((await sendStart()).kind !== 'started') return false;
      await this.follow(run, runbook, await this.failed(job, run, runbook, step, err));
      return true;
    }
    clearImmediate(deferred);
    const { move, speculated } = this.succeeded(run, runbook, step, result);
    const graph = this.graph(runbook);
    let finished: Finished;
    if (!start) {
      const moves = [move, ...speculated.map((p) => p.move)];
      const options = { statusesUnlessAllApplied: this.allDependents(graph, step, speculated), finishRun: isSink(graph, step) };
      const both = await this.sendFinish(run, speculated, () => this.runs.startAndFinishStep(run.id, step.id, startedAt, moves, graph.continueOnFailure, options), (b) => b.finish);
      settle(both.started);
      if (!both.started) return false;
      finished = { speculated, result: both.finish, endedRun: options.finishRun && endedRun(both.finish) };
    } else {
      const finishing = this.finish(run, runbook, move, speculated);
      const ok = await started.catch(async (err: unknown) => {
        await finishing.catch(() => undefined); // not left unawaited when the start failed
        throw err;
      });
      if (!ok) {
        await finishing; // cannot have applied: the step is not running
        return false;
      }
      finished = await finishing;
      // The start can reach Redis after the success when ioredis had to reload its script
      // (NOSCRIPT after a Redis restart or SCRIPT FLUSH): the success is then sent again, after it.
      if (!finished.result.applied[0]) finished = await this.finish(run, runbook, move, speculated);
    }
    await this.noted(run, step, result, finished);
    await this.follow(run, runbook, finished);
    return true;
  }

  /** After a step job's last move: the dependents' jobs, then the rest of the run. */
  private async follow(run: RunHead, runbook: Runbook, finished: Finished | null): Promise<void> {
    if (!finished) return this.advance(run.id);
    const { speculated, result } = finished;
    if (!result.applied[0] && !(await this.runs.runStatuses(run.id))) return this.vanished(run.id, run.incidentId);
    if (finished.endedRun) this.logger.log({ runId: run.id, incidentId: run.incidentId }, `run ${run.id} succeeded`);
    await this.afterMoves(run, speculated, result.applied.slice(1));
    // No statuses: this step succeeded and every step waiting for it is queued; what else is ready
    // did not become so through this step, and the run goes on (a queued step is not settled).
    if (result.statuses) await this.advanceFrom(run, runbook, result.statuses, result.runStatus);
  }

  /**
   * A step's job, or its result, for a run Redis no longer has (it came back without its last
   * writes: a failover to a replica that lagged, a restart without persistence): dropped with a
   * warning. The incident, if Redis kept it, is planned again by the sweep.
   */
  private vanished(runId: string, incidentId?: string, stepId?: string): void {
    this.logger.warn(
      { runId, incidentId, step: stepId },
      `run ${runId}${incidentId ? ` of incident ${incidentId}` : ''} is no longer in the store (Redis lost its last writes?): ${stepId ? `the job of step ${stepId}` : "a step's result"} is dropped`,
    );
  }

  /** Remembers a hint for a job, forgetting the oldest beyond MAX_HINTS (jobs other replicas took). */
  private hint(id: string, hint: Hint): void {
    this.hints.set(id, hint);
    if (this.hints.size > MAX_HINTS) this.hints.delete(this.hints.keys().next().value!);
  }

  /** A mutating step: the kill switch and the lock first, then its start. */
  private async runGated(job: Job, run: RunHead, runbook: Runbook, step: RunbookStep, before: StepState, paused: Pause | null): Promise<Finished | null> {
    // Held, not failed: the job looks again every second (the kill switch acts within one).
    if (paused) return this.hold(job, run, step, before, `automation paused by ${paused.by}`);
    const resource = before.resource ?? `${step.action}:${run.id}`;
    let lock: string | null = null;
    if (this.config.mode === 'live') {
      lock = await this.runs.acquireLock(resource, `${run.id}/${step.id}`, step.timeoutMs + LOCK_MARGIN_MS);
      if (!lock) return this.hold(job, run, step, before, `waiting for the lock on ${resource}`);
    }
    try {
      const attempts = (before.attempts ?? 0) + 1;
      const state =
        before.status === 'queued'
          ? await this.runs.transition(run.id, step.id, ['queued'], { status: 'running', reason: undefined, startedAt: now(), attempts }, stepEvent('step.started', { action: step.action }))
          : await this.runs.transition(run.id, step.id, ['running'], { reason: undefined, attempts }, stepEvent('step.resumed', { attempt: attempts }));
      if (!state) return null;
      return await this.execute(job, run, runbook, step, state.paramsJson, state, resource);
    } finally {
      // Released before the dependents' jobs are added: the next step may want the same resource.
      if (lock) await this.runs.releaseLock(resource, lock);
    }
  }

  /** Puts back the job of a step that is not queued yet, looking again sooner while it is young. */
  private async waitForQueue(job: Job): Promise<never> {
    const delay = Math.min(UNQUEUED_RETRY_MAX_MS, Math.max(UNQUEUED_RETRY_MS, (Date.now() - job.timestamp) / 4));
    await job.moveToDelayed(Date.now() + delay, job.token);
    throw new DelayedError('the step is not queued yet');
  }

  /** Puts the job back for a second; records why once on the timeline. */
  private async hold(job: Job, run: RunHead, step: RunbookStep, state: StepState, reason: string): Promise<never> {
    if (state.reason !== reason) {
      await this.runs.transition(run.id, step.id, ['queued', 'running'], { reason }, stepEvent('step.held', { reason }));
    }
    await job.moveToDelayed(Date.now() + HOLD_RETRY_MS, job.token);
    throw new DelayedError(reason);
  }

  /**
   * Runs a step that is running and records its outcome; returns its last move, or null when the
   * cooldown skipped it. `mutatingState` is the state a mutating step was started with.
   */
  private async execute(
    job: Job,
    run: RunHead,
    runbook: Runbook,
    step: RunbookStep,
    paramsJson: string | undefined,
    mutatingState: StepState | null,
    resource: string,
  ): Promise<Finished | null> {
    const action = this.action(step);
    const params = JSON.parse(paramsJson ?? '{}') as Record<string, unknown>;
    let result: StepResult | 'skipped';
    try {
      result =
        step.mutating && mutatingState
          ? await this.runMutating(run, step, action, params, mutatingState, resource)
          : await this.withTimeout(step, (signal) => action.run(params, this.actionContext(run, step, signal)));
    } catch (err) {
      return this.failed(job, run, runbook, step, err);
    }
    if (result === 'skipped') return null;
    // Outside the try: a failure to record the outcome (Redis) is the job's, not the action's:
    // BullMQ retries the job (a mutating step then finds its ledger done), and jobFailed records
    // the step failed when it gives up.
    const { move, speculated } = this.succeeded(run, runbook, step, result);
    const finished = await this.finish(run, runbook, move, speculated);
    await this.noted(run, step, result, finished);
    return finished;
  }

  /** A step's success, and the dependents to queue with it. */
  private succeeded(run: RunHead, runbook: Runbook, step: RunbookStep, result: StepResult): { move: StepMove; speculated: Planned[] } {
    const outputJson = JSON.stringify(result.output);
    const at = now();
    if (result.dryRun) {
      // Its own status, not a success: nothing changed, and what needs a real change must not follow
      // (its dependents are decided by advanceFrom, which says so when it skips them).
      const move: StepMove = {
        stepId: step.id,
        from: ['running'],
        patch: { status: 'dry-run', outputJson, summary: result.summary, dryRun: true, finishedAt: at },
        event: stepEvent('step.dry-run', { action: step.action, summary: result.summary, output: result.output }),
      };
      return { move, speculated: [] };
    }
    const move: StepMove = {
      stepId: step.id,
      from: ['running'],
      patch: { status: 'succeeded', outputJson, summary: result.summary, finishedAt: at },
      event: stepEvent('step.succeeded', { action: step.action, summary: result.summary, output: result.output }),
    };
    // A note goes on the timeline right after its step's success, before what follows it.
    return { move, speculated: step.action === 'note' ? [] : this.speculate(run, runbook, step, outputJson, at) };
  }

  private async noted(run: RunHead, step: RunbookStep, result: StepResult, finished: Finished): Promise<void> {
    if (finished.result.applied[0] && step.action === 'note') {
      await this.runs.appendTimeline(run.incidentId, 'note', { by: 'responder', text: result.output.text, runId: run.id, step: step.id });
    }
  }

  /** An action failed: thrown back to BullMQ for a retry, or the step's failure when it was the last try. */
  private async failed(job: Job, run: RunHead, runbook: Runbook, step: RunbookStep, err: unknown): Promise<Finished> {
    const final = err instanceof PermanentActionError || err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const message = (err as Error).message;
    if (!final) {
      await this.runs.appendTimeline(run.incidentId, 'step.retrying', { runId: run.id, step: step.id, attempt: job.attemptsMade + 1, error: message });
      throw err;
    }
    const failed: StepMove = { stepId: step.id, from: ['running'], patch: { status: 'failed', error: message, finishedAt: now() }, event: stepEvent('step.failed', { action: step.action, error: message }) };
    return this.finish(run, runbook, failed, []);
  }

  /** A step's last move, with the dependents it makes ready queued in the same call (if it applies). */
  private async finish(run: RunHead, runbook: Runbook, last: StepMove, speculated: Planned[]): Promise<Finished> {
    const graph = this.graph(runbook);
    const moves = [last, ...speculated.map((p) => p.move)];
    const step = graph.byId.get(last.stepId);
    // The success of a step no other waits for may be the run's last: the same call ends the run.
    const endsRun = step !== undefined && (last.patch.status === 'succeeded' || last.patch.status === 'dry-run') && isSink(graph, step);
    const send = (): Promise<FinishResult> => {
      if (step && this.allDependents(graph, step, speculated)) return this.runs.finishStep(run.id, moves, graph.continueOnFailure);
      if (endsRun) return this.runs.moveStepsAndFinishRun(run.id, moves, graph.continueOnFailure);
      return this.runs.moveSteps(run.id, moves, graph.continueOnFailure);
    };
    const result = await this.sendFinish(run, speculated, send, (r) => r);
    return { speculated, result, endedRun: endsRun && endedRun(result) };
  }

  /** sendWithJobs for a step's last moves: early jobs for the dependents that wait for this step alone. */
  private sendFinish<T>(run: RunHead, speculated: Planned[], send: () => Promise<T>, moved: (answer: T) => FinishResult): Promise<T> {
    // Move 0 is the step's own; a dependent that waits for several steps is queued by the last of
    // them to finish and gets its job after the answer (afterMoves): added early, it would wait.
    const early = speculated.flatMap((p, i) => (p.step.needs.length === 1 ? [{ planned: p, index: i + 1 }] : []));
    return this.sendWithJobs(run, early, send, moved);
  }

  /**
   * Sends moves that queue steps and, right behind them, the jobs of those that are read-only,
   * without waiting for the answer: the job adds overlap the moves' round trip. (A mutating step's
   * job is added after the answer, as before: a step finishing may still hold the lock it wants.)
   * Such a job can run before its step is queued, or when the move did not apply (the step was
   * decided otherwise); it then waits for its step (runStepJob, waitForQueue) and is never
   * completed while the step is pending, so the job the step really gets is never refused as a
   * duplicate of it. Taken by this process, its start goes on the connection the moves went on,
   * after them. `index` is each step's move in the call.
   */
  private async sendWithJobs<T>(run: RunHead, candidates: Array<{ planned: Planned; index: number }>, send: () => Promise<T>, moved: (answer: T) => { applied: boolean[] } | null): Promise<T> {
    const sent = send();
    const early = candidates.filter(({ planned }) => !planned.step.mutating);
    if (early.length === 0) return sent;
    const adds = early.map(({ planned: p, index }) => {
      p.added = true;
      const hint: Hint = { run, paramsJson: p.move.patch.paramsJson as string, queued: undefined };
      sent.then(
        (answer) => (hint.queued = moved(answer)?.applied[index] === true),
        () => (hint.queued = false),
      );
      this.hint(jobId(run.id, p.step.id), hint);
      return this.enqueueStep(run.id, p.step);
    });
    try {
      return await sent;
    } finally {
      await Promise.all(adds);
    }
  }

  /** Whether every dependent of the step is queued with its success: then its statuses are not needed. */
  private allDependents(graph: Graph, step: RunbookStep, speculated: Planned[]): boolean {
    return speculated.length > 0 && speculated.length === (graph.dependents.get(step.id)?.length ?? 0);
  }

  /**
   * The dependents of a step that has just succeeded which are ready if every step they need has
   * succeeded, decided now with what is at hand (this step's output, the run's inputs), so that
   * they are queued in the same call as the success. A dependent qualifies when its expressions
   * read no other step's output, no status but of its needs, and not the incident; and when it
   * would be queued (not skipped, not waiting for approval). The script checks the rest, in the
   * same atomic step: the success applied, the dependent is pending, each of its needs has
   * succeeded, the run is running and no failure aborts it. Any other dependent is left to
   * advanceFrom, with the statuses that call returns.
   */
  private speculate(run: RunHead, runbook: Runbook, finished: RunbookStep, outputJson: string, at: string): Planned[] {
    if (run.service === undefined) return []; // a run from before `service` was stored: its context needs the incident
    const dependents = (this.graph(runbook).dependents.get(finished.id) ?? []).filter((d) => decidableAfter(d, finished.id));
    if (dependents.length === 0) return [];
    const { inputs, incident } = runBasics(run);
    const service = run.service ? (this.catalog.services[run.service] ?? null) : null;
    const planned: Planned[] = [];
    for (const dependent of dependents) {
      const steps: Record<string, StepContext> = {};
      for (const need of dependent.needs) steps[need] = { status: 'succeeded' };
      steps[finished.id] = lazyStepContext('succeeded', outputJson);
      const context = buildContext({ incident, service, inputs, steps, mode: this.config.mode, now: at });
      const p = this.prepare(dependent, context, at);
      if (p.then === 'enqueue') planned.push({ ...p, move: { ...p.move, after: 0, needsSucceeded: dependent.needs } });
    }
    return planned;
  }

  /**
   * A mutating step (the lock held): dry-run, cooldown and the idempotency ledger, so that the
   * action is called at most once per ledger attempt, and a job resumed after a crash reconciles.
   */
  private async runMutating(
    run: RunHead,
    step: RunbookStep,
    action: Action,
    params: Record<string, unknown>,
    state: StepState,
    resource: string,
  ): Promise<StepResult | 'skipped'> {
    if (this.config.mode === 'dry-run') {
      return { output: { dryRun: true, wouldCall: state.plan, params }, summary: `dry run: would ${state.plan ?? step.action}`, dryRun: true };
    }
    const ledgerKey = `${run.id}:${step.id}`;
    const holder = `${run.id}/${step.id}`;
    const service = run.service || (await this.incidents.get(run.incidentId))?.service || null;
    // One cooldown per service, whatever the action and resource (an unrouted incident has no
    // catalog limits: its scope is the resource, with no cooldown).
    const scope = service ? `service:${service}` : resource;
    const cooldownMinutes = service ? (this.catalog.services[service]?.limits.cooldownMinutes ?? 0) : 0;
    const cooldownData = { action: step.action, resource, runId: run.id, step: step.id, incidentId: run.incidentId };
    const ledgerState = (await this.runs.ledger(ledgerKey)).state;
    // A step resumed after it called (calling, done) reconciles whatever the cooldown says; one
    // that only recorded its intent never called, so it claims again like a first attempt.
    if (ledgerState === undefined || ledgerState === 'failed' || ledgerState === 'intent') {
      const exempt = [...(this.graphOf(run.runbook)?.ancestors.get(step.id) ?? [])].map((id) => `${run.id}/${id}`);
      const held = await this.runs.claimCooldown(scope, holder, exempt, cooldownMinutes * 60, cooldownData);
      if (held) {
        const d = held.data;
        const what = d.runId === run.id ? `step ${String(d.step)} of this run` : `step ${String(d.step)} of incident ${String(d.incidentId)}`;
        const reason = `cooldown: ${String(d.action)} (${what}) changed service ${service} at ${d.at}; ${held.secondsLeft}s left of ${cooldownMinutes} min before another mutating action on it`;
        await this.runs.transition(run.id, step.id, ['running'], { status: 'skipped', reason, finishedAt: now() }, stepEvent('step.skipped', { reason }));
        return 'skipped';
      }
    }
    const begin = await this.runs.ledgerBegin(ledgerKey);
    if (begin.kind === 'done') return JSON.parse(begin.resultJson) as { output: Record<string, unknown>; summary?: string };
    if (begin.kind === 'uncalled') {
      await this.runs.appendTimeline(run.incidentId, 'step.not_called', {
        runId: run.id,
        step: step.id,
        reason: 'an earlier attempt stopped before it called the action: the call was not made; calling it now',
      });
    }
    let result;
    try {
      result =
        begin.kind === 'reconcile'
          ? await this.reconcile(run, step, action, params, ledgerKey, begin.attempt)
          : await this.callOnce(run, step, action, params, ledgerKey, begin.attempt);
    } catch (err) {
      // A call that did not take effect changed nothing to wait after.
      if (err instanceof PermanentActionError || (err as { notApplied?: boolean }).notApplied === true) await this.runs.releaseCooldown(scope, holder);
      throw err;
    }
    await this.runs.restartCooldown(scope, holder, cooldownMinutes * 60, cooldownData);
    return result;
  }

  /**
   * One attempt of a mutating call. The ledger moves from intent to calling right before the
   * request that changes production (the action says when, with ctx.calling, if it announces its
   * call; else right before run), so a crash before that point is known to have called nothing.
   */
  private async callOnce(run: RunHead, step: RunbookStep, action: Action, params: Record<string, unknown>, key: string, attempt: number) {
    let called = false;
    let abandoned = false;
    const calling = async () => {
      if (called) return;
      const marked = await this.runs.ledgerCalling(key, attempt);
      // Given up meanwhile (timeout): the attempt is recorded as failed, so it must not call now.
      if (!marked || abandoned) throw new Error(`${step.action}: attempt ${attempt} was given up before its call`);
      called = true;
    };
    let result;
    try {
      result = await this.withTimeout(step, async (signal) => {
        if (!action.announcesCall) await calling();
        return action.run(params, this.actionContext(run, step, signal, `${key}#${attempt}`, calling));
      });
    } catch (err) {
      abandoned = true;
      // Only an error that says the call did not take effect (or one before the call started) lets
      // a retry call again; anything else (a timeout, a dropped connection) may have changed
      // production: the retry reconciles.
      if (!called || err instanceof PermanentActionError || (err as { notApplied?: boolean }).notApplied === true) {
        await this.runs.ledgerFinish(key, { state: 'failed', error: (err as Error).message });
      }
      throw err;
    }
    await this.runs.ledgerFinish(key, { state: 'done', resultJson: JSON.stringify(result) });
    return result;
  }

  private async reconcile(run: RunHead, step: RunbookStep, action: Action, params: Record<string, unknown>, key: string, attempt: number) {
    await this.runs.appendTimeline(run.incidentId, 'step.reconciling', {
      runId: run.id,
      step: step.id,
      reason: 'the call may have been made: an earlier attempt started it and did not record its outcome',
    });
    if (!action.reconcile) {
      throw new PermanentActionError(`${step.action} may have been called (an earlier attempt started the call and was interrupted): its outcome is unknown and it cannot reconcile: check by hand`);
    }
    const reconcile = action.reconcile.bind(action);
    const result = await this.withTimeout(step, (signal) => reconcile(params, this.actionContext(run, step, signal, `${key}#${attempt}`)));
    await this.runs.ledgerFinish(key, { state: 'done', resultJson: JSON.stringify(result) });
    return result;
  }

  /** Runs an action within the step's timeout; aborts it also when `started` says the step did not start. */
  private async withTimeout<T>(step: RunbookStep, fn: (signal: LazySignal) => Promise<T>, started: Promise<boolean> | null = null): Promise<T> {
    const signal = new LazySignal();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`${step.action} did not finish within ${step.timeoutMs} ms`);
        signal.abort(error);
        reject(error);
      }, step.timeoutMs);
      started?.then(
        (ok) => {
          if (ok) return;
          const error = new Error(`step ${step.id} was decided meanwhile`);
          signal.abort(error);
          reject(error);
        },
        () => undefined, // a failed start is the caller's to handle
      );
    });
    try {
      return await Promise.race([fn(signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private actionContext(run: RunHead, step: RunbookStep, signal: LazySignal, idempotencyKey = `${run.id}:${step.id}`, calling?: () => Promise<void>): ActionContext {
    const dryRun = this.config.mode === 'dry-run';
    return {
      calling,
      incidentId: run.incidentId,
      runId: run.id,
      stepId: step.id,
      idempotencyKey,
      dryRun,
      // Made when the action first reads it: most diagnostics finish without aborting anything.
      get signal() {
        return signal.signal;
      },
    };
  }

  // --- helpers --------------------------------------------------------------------------------

  private action(step: RunbookStep): Action {
    const action = this.actions.get(step.action);
    if (!action) throw new UnrecoverableError(`unknown action ${step.action}`);
    return action;
  }

  private runbookOf(run: RunHead): Runbook | undefined {
    const runbook = this.runbooks.get(run.runbook);
    if (!runbook) this.logger.error({ runId: run.id }, `run ${run.id} names runbook ${run.runbook}, which is no longer loaded`);
    return runbook;
  }

  private graphOf(name: string): Graph | undefined {
    const runbook = this.runbooks.get(name);
    return runbook ? this.graph(runbook) : undefined;
  }

  private graph(runbook: Runbook): Graph {
    let graph = this.graphs.get(runbook);
    if (!graph) {
      const dependents = new Map<string, RunbookStep[]>();
      for (const step of runbook.steps) for (const need of step.needs) dependents.set(need, [...(dependents.get(need) ?? []), step]);
      graph = {
        byId: new Map(runbook.steps.map((s) => [s.id, s])),
        dependents,
        continueOnFailure: runbook.steps.filter((s) => s.onFailure === 'continue').map((s) => s.id),
        ancestors: ancestorsOf(runbook),
      };
      this.graphs.set(runbook, graph);
    }
    return graph;
  }

  /**
   * The expression context for these steps, from the store (never from process memory): the
   * statuses at hand, and only what their expressions read besides (outputs, the incident).
   */
  private async contextFor(run: RunHead, forSteps: RunbookStep[], statuses: StepStatusMap): Promise<Record<string, unknown> | null> {
    let outputs: Set<string> | 'all' = new Set();
    let readsIncident = run.service === undefined; // a run from before `service` was stored
    for (const step of forSteps) {
      const reads = stepReads(step);
      readsIncident ||= reads.incident;
      if (reads.outputs === 'all') outputs = 'all';
      else if (outputs !== 'all') for (const id of reads.outputs) outputs.add(id);
    }
    // The incident (its alarms change as they attach) is read only when the steps at hand read it.
    const [incident, outputJson] = await Promise.all([
      readsIncident ? this.incidents.get(run.incidentId) : incidentStub(run.incidentId, run.service || null),
      this.runs.stepOutputs(run.id, outputs === 'all' ? 'all' : [...outputs]),
    ]);
    if (!incident) return null;
    return this.contextOf(incident, JSON.parse(run.inputsJson) as Record<string, unknown>, statuses, outputJson);
  }

  private contextOf(incident: Incident, inputs: Record<string, unknown>, statuses: StepStatusMap, results: Map<string, StepResultText | undefined>): Record<string, unknown> {
    const steps: Record<string, StepContext> = {};
    for (const [id, status] of Object.entries(statuses)) steps[id] = results.has(id) ? lazyStepContext(status, results.get(id)?.outputJson, results.get(id)) : { status };
    const service = incident.service ? (this.catalog.services[incident.service] ?? null) : null;
    return buildContext({ incident, service, inputs, steps, mode: this.config.mode, now: new Date() });
  }

  /** The expression context of a run, from the whole run as stored (the approval service's checks). */
  async context(run: RunRecord, forSteps?: RunbookStep[]): Promise<Record<string, unknown> | null> {
    const readsIncident = !forSteps || run.service === undefined || forSteps.some((s) => stepReads(s).incident);
    const incident = readsIncident ? await this.incidents.get(run.incidentId) : incidentStub(run.incidentId, run.service || null);
    if (!incident) return null;
    const statuses: StepStatusMap = {};
    const outputs = new Map<string, StepResultText | undefined>();
    for (const [id, s] of Object.entries(run.steps)) {
      statuses[id] = s.status;
      outputs.set(id, { outputJson: s.outputJson, error: s.error, reason: s.reason });
    }
    return this.contextOf(incident, JSON.parse(run.inputsJson) as Record<string, unknown>, statuses, outputs);
  }

  /** What a mutating step will do with these parameters, in one line. */
  planOf(step: RunbookStep, params: Record<string, unknown>): string {
    return this.action(step).plan(params).summary;
  }

  /** Who may approve a step: its `approvers`, or the service's. */
  approverGroups(step: RunbookStep, service: string | null): string[] {
    return step.approvers ?? (service ? (this.catalog.services[service]?.approvers ?? []) : []);
  }
}

function ancestorsOf(runbook: Runbook): Map<string, Set<string>> {
  const byId = new Map(runbook.steps.map((s) => [s.id, s]));
  const out = new Map<string, Set<string>>();
  for (const step of runbook.steps) {
    const seen = new Set<string>();
    const todo = [...step.needs];
    for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
      if (seen.has(id)) continue;
      seen.add(id);
      todo.push(...(byId.get(id)?.needs ?? []));
    }
    out.set(step.id, seen);
  }
  return out;
}

/** A step no other step needs. */
function isSink(graph: Graph, step: RunbookStep): boolean {
  return (graph.dependents.get(step.id)?.length ?? 0) === 0;
}

/** Whether a step's last move, sent with the run's end, applied and ended the run. */
function endedRun(result: FinishResult): boolean {
  return result.applied[0] === true && result.runStatus === 'succeeded';
}

export function jobId(runId: string, stepId: string): string {
  return `${runId}-${stepId}`;
}

type StepResult = { output: Record<string, unknown>; summary?: string; dryRun?: boolean };

const constantParams = new WeakMap<RunbookStep, { json: string; hash: string }>();

/** The parameters' JSON and hash; computed once for a step whose `with` reads nothing (they never change). */
function paramsText(step: RunbookStep, params: Record<string, unknown>): { json: string; hash: string } {
  const cached = constantParams.get(step);
  if (cached) return cached;
  const text = { json: JSON.stringify(params), hash: paramsHash(params) };
  if (step.with.references().length === 0) constantParams.set(step, text);
  return text;
}

const decidable = new WeakMap<RunbookStep, Map<string, boolean>>();

/**
 * Whether a dependent can be decided as soon as `finished` succeeds, assuming its other needs have
 * succeeded (which the script checks): it reads the output of no step but `finished`, the status
 * of no step but its needs, and not the incident.
 */
function decidableAfter(dependent: RunbookStep, finished: string): boolean {
  let byFinished = decidable.get(dependent);
  if (!byFinished) decidable.set(dependent, (byFinished = new Map<string, boolean>()));
  let ok = byFinished.get(finished);
  if (ok === undefined) {
    const reads = stepReads(dependent);
    ok =
      !reads.incident &&
      reads.outputs !== 'all' &&
      [...reads.outputs].every((id) => id === finished) &&
      reads.statuses !== 'all' &&
      [...reads.statuses].every((id) => id === finished || dependent.needs.includes(id));
    byFinished.set(finished, ok);
  }
  return ok;
}

/**
 * A step's status and output for expressions (and its error or skip reason, when it has one); the
 * output is parsed only if an expression reads it.
 */
function lazyStepContext(status: StepContext['status'], outputJson: string | undefined, why?: { error?: string; reason?: string }): StepContext {
  let parsed: Record<string, unknown> | undefined;
  const context = { status } as StepContext;
  if (why?.error !== undefined) context.error = why.error;
  if (why?.reason !== undefined) context.reason = why.reason;
  Object.defineProperty(context, 'output', {
    enumerable: true,
    get: () => (parsed ??= outputJson ? (JSON.parse(outputJson) as Record<string, unknown>) : undefined),
  });
  return context;
}

const basics = new WeakMap<RunHead, { inputs: Record<string, unknown>; incident: Incident }>();

/**
 * A run's parsed inputs and incident stand-in, made once per RunHead object: a run's steps that
 * this process chains (runHinted) share the one it was read as.
 */
function runBasics(run: RunHead): { inputs: Record<string, unknown>; incident: Incident } {
  let found = basics.get(run);
  if (!found) basics.set(run, (found = { inputs: deepFreeze(JSON.parse(run.inputsJson) as Record<string, unknown>), incident: incidentStub(run.incidentId, run.service || null) }));
  return found;
}

/** Shared between steps, so frozen: a plan() that changed its parameters would throw, not leak. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Stands in for the incident when no step at hand reads it: only its id and service are used. */
function incidentStub(id: string, service: string | null): Incident {
  return { id, status: 'open', service, routed: service !== null, title: '', openedAt: '', resolvedAt: null, onsetAt: '', alarms: [] };
}

function now(): string {
  return new Date().toISOString();
}

function stepEvent(type: string, data: Record<string, unknown>): { type: string; data: Record<string, unknown> } {
  return { type, data };
}
