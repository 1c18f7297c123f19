import { Inject, Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import { type Action, type Catalog, type Incident, PermanentActionError } from '@responder/domain';
import {
  type Runbook,
  type RunbookStep,
  type StepContext,
  buildContext,
  checkWhen,
  policyGrants,
  paramsHash,
  readySteps,
  renderParams,
  resolveInputs,
  runState,
  triggerMatches,
} from '@responder/runbooks';
import { IncidentStore, RunStore, type RunRecord, type StepState, TERMINAL_STEP_STATUSES } from '@responder/store';
import type { AppConfig } from '../config/config';
import { ACTIONS, APP_CONFIG, CATALOG, RUNBOOKS } from '../tokens';
import { StepQueue } from './step-queue';

/** How often a mutating step held by the kill switch or a lock looks again. */
const HOLD_RETRY_MS = 1000;
const LOCK_MARGIN_MS = 60_000;

/**
 * The runbook engine: plans runs when incidents open, moves steps through their states (every move
 * a compare-and-set with its timeline entry), and runs step jobs from BullMQ. Mutating steps pass
 * the gates in order: approval, kill switch, dry-run, lock, cooldown, idempotency ledger.
 */
@Injectable()
export class RunEngine implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Engine');
  private readonly runbooks: Map<string, Runbook>;
  private readonly actions: Map<string, Action>;
  private readonly stopping = new AbortController();
  private recovery: Promise<void> = Promise.resolve();

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
    this.queue.startWorker(
      (job) => this.process(job),
      (job, error) => this.jobFailed(job, error),
    );
    this.recovery = this.recoverUntilDone();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.recovery;
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

  get hasRunbooks(): boolean {
    return this.runbooks.size > 0;
  }

  runbook(name: string): Runbook | undefined {
    return this.runbooks.get(name);
  }

  /** Called by the intake when an alarm opened an incident or attached to one. */
  async incidentChanged(incidentId: string, eventId: string): Promise<void> {
    if (!this.hasRunbooks) return;
    await this.queue.add({ name: 'plan', data: { incidentId } }, `plan-${incidentId}-${eventId.replace(/:/g, '_')}`);
  }

  /** After a crash: re-add the jobs of steps that were queued or running, and move every active run on. */
  private async recover(): Promise<void> {
    for (const runId of await this.runs.activeRuns()) {
      const run = await this.runs.getRun(runId);
      if (!run) continue;
      for (const [stepId, state] of Object.entries(run.steps)) {
        const step = this.runbooks.get(run.runbook)?.steps.find((s) => s.id === stepId);
        if (step && (state.status === 'queued' || state.status === 'running')) await this.enqueueStep(run.id, step);
        if (state.status === 'awaiting_approval') await this.scheduleApprovalTimeout(run, stepId);
      }
      await this.advance(runId);
    }
  }

  // --- planning -------------------------------------------------------------------------------

  /** Starts the runbooks whose triggers match; a runbook runs at most once per incident. */
  async planIncident(incidentId: string): Promise<string[]> {
    const incident = await this.incidents.get(incidentId);
    if (!incident || incident.status !== 'open') return [];
    const started: string[] = [];
    for (const runbook of this.runbooks.values()) {
      if (!triggerMatches(runbook, { service: incident.service, alarmNames: incident.alarms.map((a) => a.name) })) continue;
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
    for (const step of runbook.steps) {
      steps[step.id] = { status: 'pending', action: step.action, mutating: step.mutating, attempts: 0, approvals: [] };
    }
    const { runId, created } = await this.runs.createRun({ incidentId: incident.id, runbook: runbook.name, service: incident.service, trigger, inputs: inputs.inputs, steps });
    if (!created) return null;
    this.logger.log({ incidentId: incident.id, runId, runbook: runbook.name }, `run ${runId} of ${runbook.name} planned`);
    await this.advance(runId);
    return runId;
  }

  /**
   * Moves a run on: skips what cannot run, queues ready steps (or asks for approval), and finishes
   * the run when every step is settled. Safe to call concurrently and repeatedly: every move is a
   * compare-and-set, and a step's job id is deterministic.
   */
  async advance(runId: string): Promise<void> {
    for (let pass = 0; pass < 1000; pass++) {
      const loaded = await this.load(runId);
      if (!loaded) return;
      const { run, runbook } = loaded;
      if (run.status !== 'running') return;
      const statuses = Object.fromEntries(Object.entries(run.steps).map(([id, s]) => [id, s.status]));
      const state = runState(runbook, statuses);
      if (state.state === 'aborted') {
        await this.abort(run, runbook, state.abortedBy, state.settled);
        return;
      }
      if (state.state !== 'running') {
        const status = state.state === 'succeeded' ? 'succeeded' : 'failed';
        if (await this.runs.finishRun(runId, status, state.state === 'completed_with_failures' ? { failedSteps: state.failed } : {})) {
          this.logger.log({ runId, incidentId: run.incidentId }, `run ${runId} ${status}`);
        }
        return;
      }
      const ready = readySteps(runbook, statuses);
      if (ready.length === 0) return;
      const toRun = ready.filter((d) => d.decision === 'run').map((d) => d.step);
      const context = toRun.length > 0 ? await this.context(run, toRun) : null;
      // Ready steps are prepared together (ioredis pipelines the calls). Another pass is needed only
      // when one settled without running (skipped, or failed to plan): its dependents may be ready.
      const settled = await Promise.all(
        ready.map(async (decision) => {
          if (decision.decision === 'skip') {
            await this.runs.transition(runId, decision.step.id, ['pending'], { status: 'skipped', reason: decision.reason, finishedAt: now() }, stepEvent('step.skipped', { reason: decision.reason }));
            return true;
          }
          return context ? this.prepare(run, decision.step, context) : false;
        }),
      );
      if (!settled.some(Boolean)) return;
    }
  }

  /**
   * A step whose needs are settled: skipped by its `when`, queued, or waiting for approval.
   * Returns true when the step settled here (skipped, or failed to plan).
   */
  private async prepare(run: RunRecord, step: RunbookStep, context: Record<string, unknown>): Promise<boolean> {
    let params: Record<string, unknown>;
    let plan: { summary: string; resource?: string } | undefined;
    try {
      const when = checkWhen(step, context);
      if (!when.run) {
        await this.runs.transition(run.id, step.id, ['pending'], { status: 'skipped', reason: when.reason, finishedAt: now() }, stepEvent('step.skipped', { reason: when.reason }));
        return true;
      }
      params = renderParams(step, context);
      if (step.mutating) plan = this.action(step).plan(params);
    } catch (err) {
      const error = `could not plan: ${(err as Error).message}`;
      await this.runs.transition(run.id, step.id, ['pending'], { status: 'failed', error, finishedAt: now() }, stepEvent('step.failed', { error }));
      return true;
    }
    const base = { paramsJson: JSON.stringify(params), paramsHash: paramsHash(params), plan: plan?.summary, resource: plan?.resource };
    if (!step.mutating || step.approval.kind === 'none') {
      const approval = step.mutating ? 'not_required' : undefined;
      if (await this.runs.transition(run.id, step.id, ['pending'], { ...base, status: 'queued', approval, queuedAt: now() }, stepEvent('step.queued', { action: step.action, params, plan: plan?.summary }))) {
        await this.enqueueStep(run.id, step);
      }
      return false;
    }
    if (policyGrants(step, context)) {
      const policy = step.approval.kind === 'policy' ? step.approval.name : '';
      const granted = await this.runs.transition(
        run.id,
        step.id,
        ['pending'],
        { ...base, status: 'queued', approval: 'policy', approvedBy: `policy:${policy}`, queuedAt: now() },
        stepEvent('approval.granted', { by: `policy:${policy}`, policy, plan: plan?.summary, params, paramsHash: base.paramsHash }),
      );
      if (granted) await this.enqueueStep(run.id, step);
      return false;
    }
    const requested = await this.runs.transition(
      run.id,
      step.id,
      ['pending'],
      { ...base, status: 'awaiting_approval', approval: 'pending', approvals: [], approversNeeded: step.twoPerson ? 2 : 1, requestedAt: now() },
      stepEvent('approval.requested', { plan: plan?.summary, params, paramsHash: base.paramsHash, approvers: this.approverGroups(step, (context.service as { name?: string } | null)?.name ?? null), twoPerson: step.twoPerson }),
    );
    if (requested) await this.scheduleApprovalTimeout(run, step.id);
    return false;
  }

  private async abort(run: RunRecord, runbook: Runbook, abortedBy: string, settled: boolean): Promise<void> {
    for (const step of runbook.steps) {
      const status = run.steps[step.id]?.status;
      if (status === 'pending' || status === 'awaiting_approval') {
        const reason = `run aborted: ${abortedBy} failed`;
        await this.runs.transition(run.id, step.id, ['pending', 'awaiting_approval'], { status: 'cancelled', reason, finishedAt: now() }, stepEvent('step.cancelled', { reason }));
      }
    }
    if (settled && (await this.runs.finishRun(run.id, 'aborted', { abortedBy }))) {
      this.logger.warn({ runId: run.id, incidentId: run.incidentId }, `run ${run.id} aborted by ${abortedBy}`);
    }
  }

  // --- jobs -----------------------------------------------------------------------------------

  /** Adds a step's job (its retries from the runbook); the approval service uses it too. */
  async enqueueStep(runId: string, step: RunbookStep): Promise<void> {
    await this.queue.add({ name: 'step', data: { runId, stepId: step.id } }, jobId(runId, step.id), {
      attempts: step.retries.attempts,
      backoff: { type: step.retries.backoff, delay: step.retries.delayMs },
    });
  }

  private async scheduleApprovalTimeout(run: RunRecord, stepId: string): Promise<void> {
    const step = this.runbooks.get(run.runbook)?.steps.find((s) => s.id === stepId);
    if (!step) return;
    const requestedAt = Date.parse(run.steps[stepId]?.requestedAt ?? now());
    const delay = Math.max(0, requestedAt + step.timeoutMs - Date.now());
    await this.queue.add({ name: 'approval-timeout', data: { runId: run.id, stepId } }, `timeout-${jobId(run.id, stepId)}`, { delay });
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
    // Only this step's state: reading the whole run would cost in proportion to its size.
    const run = await this.runs.getRunStep(runId, stepId);
    const runbook = run ? this.runbooks.get(run.runbook) : undefined;
    if (!run || !runbook) return;
    const step = runbook.steps.find((s) => s.id === stepId);
    const state = run.steps[stepId];
    if (!step || !state || TERMINAL_STEP_STATUSES.has(state.status)) return; // already decided: a retried job does nothing
    if (state.status !== 'queued' && state.status !== 'running') return;

    const live = step.mutating && this.config.mode === 'live';
    const resource = state.resource ?? `${step.action}:${run.id}`;
    let lock: string | null = null;
    if (step.mutating) {
      // Held, not failed: the job looks again every second (the kill switch acts within one).
      const paused = await this.runs.paused();
      if (paused) return this.hold(job, run, step, state, `automation paused by ${paused.by}`);
      if (live) {
        lock = await this.runs.acquireLock(resource, `${run.id}/${step.id}`, step.timeoutMs + LOCK_MARGIN_MS);
        if (!lock) return this.hold(job, run, step, state, `waiting for the lock on ${resource}`);
      }
    }
    try {
      await this.execute(job, run, step, state, resource);
    } finally {
      if (lock) await this.runs.releaseLock(resource, lock);
    }
    await this.advance(runId);
  }

  /** Puts the job back for a second; records why once on the timeline. */
  private async hold(job: Job, run: RunRecord, step: RunbookStep, state: StepState, reason: string): Promise<never> {
    if (state.reason !== reason) {
      await this.runs.transition(run.id, step.id, ['queued', 'running'], { reason }, stepEvent('step.held', { reason }));
    }
    await job.moveToDelayed(Date.now() + HOLD_RETRY_MS, job.token);
    throw new DelayedError(reason);
  }

  private async execute(job: Job, run: RunRecord, step: RunbookStep, before: StepState, resource: string): Promise<void> {
    let state: StepState | null;
    if (before.status === 'queued') {
      state = await this.runs.transition(run.id, step.id, ['queued'], { status: 'running', reason: undefined, startedAt: now(), attempts: (before.attempts ?? 0) + 1 }, stepEvent('step.started', { action: step.action }));
    } else {
      state = await this.runs.transition(run.id, step.id, ['running'], { reason: undefined, attempts: (before.attempts ?? 0) + 1 }, stepEvent('step.resumed', { attempt: (before.attempts ?? 0) + 1 }));
    }
    if (!state) return;
    const action = this.action(step);
    const params = JSON.parse(state.paramsJson ?? '{}') as Record<string, unknown>;
    try {
      const result: StepResult | 'skipped' = step.mutating
        ? await this.runMutating(run, step, action, params, state, resource)
        : await this.withTimeout(step, (signal) => action.run(params, this.actionContext(run, step, signal)));
      if (result === 'skipped') return;
      const finished = await this.runs.transition(
        run.id,
        step.id,
        ['running'],
        { status: 'succeeded', outputJson: JSON.stringify(result.output), summary: result.summary, dryRun: result.dryRun, finishedAt: now() },
        stepEvent('step.succeeded', { action: step.action, summary: result.summary, output: result.output, dryRun: result.dryRun }),
      );
      if (finished && step.action === 'note') await this.runs.appendTimeline(run.incidentId, 'note', { by: 'responder', text: result.output.text, runId: run.id, step: step.id });
    } catch (err) {
      const final = err instanceof PermanentActionError || err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const message = (err as Error).message;
      if (!final) {
        await this.runs.appendTimeline(run.incidentId, 'step.retrying', { runId: run.id, step: step.id, attempt: job.attemptsMade + 1, error: message });
        throw err;
      }
      await this.runs.transition(run.id, step.id, ['running'], { status: 'failed', error: message, finishedAt: now() }, stepEvent('step.failed', { action: step.action, error: message }));
    }
  }

  /**
   * A mutating step (the lock held): dry-run, cooldown and the idempotency ledger, so that the
   * action is called at most once per ledger attempt, and a job resumed after a crash reconciles.
   */
  private async runMutating(
    run: RunRecord,
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
    if ((await this.runs.ledger(ledgerKey)).state === undefined) {
      const cooldown = await this.runs.cooldown(step.action, resource);
      if (cooldown) {
        const reason = `cooldown: ${step.action} ran on ${resource} at ${String(cooldown.data.at)}; ${cooldown.secondsLeft}s left`;
        await this.runs.transition(run.id, step.id, ['running'], { status: 'skipped', reason, finishedAt: now() }, stepEvent('step.skipped', { reason }));
        return 'skipped';
      }
    }
    const begin = await this.runs.ledgerBegin(ledgerKey);
    if (begin.kind === 'done') return JSON.parse(begin.resultJson) as { output: Record<string, unknown>; summary?: string };
    const result =
      begin.kind === 'call'
        ? await this.callOnce(run, step, action, params, ledgerKey, begin.attempt)
        : await this.reconcile(run, step, action, params, ledgerKey, begin.attempt);
    const incident = await this.incidents.get(run.incidentId);
    const cooldownMinutes = incident?.service ? (this.catalog.services[incident.service]?.limits.cooldownMinutes ?? 0) : 0;
    await this.runs.startCooldown(step.action, resource, cooldownMinutes * 60, { runId: run.id, step: step.id });
    return result;
  }

  private async callOnce(run: RunRecord, step: RunbookStep, action: Action, params: Record<string, unknown>, key: string, attempt: number) {
    let result;
    try {
      result = await this.withTimeout(step, (signal) => action.run(params, this.actionContext(run, step, signal, `${key}#${attempt}`)));
    } catch (err) {
      // Only an error that says the call did not take effect lets a retry call again; anything else
      // (a timeout, a dropped connection) may have changed production: the retry reconciles.
      if (err instanceof PermanentActionError || (err as { notApplied?: boolean }).notApplied === true) {
        await this.runs.ledgerFinish(key, { state: 'failed', error: (err as Error).message });
      }
      throw err;
    }
    await this.runs.ledgerFinish(key, { state: 'done', resultJson: JSON.stringify(result) });
    return result;
  }

  private async reconcile(run: RunRecord, step: RunbookStep, action: Action, params: Record<string, unknown>, key: string, attempt: number) {
    await this.runs.appendTimeline(run.incidentId, 'step.reconciling', { runId: run.id, step: step.id, reason: 'an earlier attempt called the action and did not record its outcome' });
    if (!action.reconcile) {
      throw new PermanentActionError(`${step.action} was called and its outcome is unknown (the attempt was interrupted); it cannot reconcile: check by hand`);
    }
    const reconcile = action.reconcile.bind(action);
    const result = await this.withTimeout(step, (signal) => reconcile(params, this.actionContext(run, step, signal, `${key}#${attempt}`)));
    await this.runs.ledgerFinish(key, { state: 'done', resultJson: JSON.stringify(result) });
    return result;
  }

  private async withTimeout<T>(step: RunbookStep, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new Error(`${step.action} did not finish within ${step.timeoutMs} ms`);
        controller.abort(error);
        reject(error);
      }, step.timeoutMs);
    });
    try {
      return await Promise.race([fn(controller.signal), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private actionContext(run: RunRecord, step: RunbookStep, signal: AbortSignal, idempotencyKey = `${run.id}:${step.id}`) {
    return { incidentId: run.incidentId, runId: run.id, stepId: step.id, idempotencyKey, signal, dryRun: this.config.mode === 'dry-run' };
  }

  // --- helpers --------------------------------------------------------------------------------

  private action(step: RunbookStep): Action {
    const action = this.actions.get(step.action);
    if (!action) throw new UnrecoverableError(`unknown action ${step.action}`);
    return action;
  }

  private async load(runId: string): Promise<{ run: RunRecord; runbook: Runbook } | null> {
    const run = await this.runs.getRun(runId);
    if (!run) return null;
    const runbook = this.runbooks.get(run.runbook);
    if (!runbook) {
      this.logger.error({ runId }, `run ${runId} names runbook ${run.runbook}, which is no longer loaded`);
      return null;
    }
    return { run, runbook };
  }

  /** The expression context of a run, from the store (never from process memory). */
  async context(run: RunRecord, forSteps?: RunbookStep[]): Promise<Record<string, unknown> | null> {
    // The incident (its alarms change as they attach) is read only when the steps at hand read it.
    const incident =
      forSteps && run.service !== undefined && !forSteps.some((s) => this.readsIncident(s))
        ? incidentStub(run.incidentId, run.service || null)
        : await this.incidents.get(run.incidentId);
    if (!incident) return null;
    const steps: Record<string, StepContext> = {};
    for (const [id, s] of Object.entries(run.steps)) steps[id] = lazyStepContext(s.status, s.outputJson);
    const service = incident.service ? (this.catalog.services[incident.service] ?? null) : null;
    return buildContext({ incident, service, inputs: JSON.parse(run.inputsJson) as Record<string, unknown>, steps, mode: this.config.mode, now: new Date() });
  }

  private readonly incidentReaders = new WeakMap<RunbookStep, boolean>();

  /** Whether a step's `when`, `with` or approval policy reads the incident or its alarms. */
  private readsIncident(step: RunbookStep): boolean {
    let reads = this.incidentReaders.get(step);
    if (reads === undefined) {
      const paths = [...(step.when?.references() ?? []), ...step.with.references(), ...(step.approval.kind === 'policy' ? step.approval.when.references() : [])];
      reads = paths.some((p) => p[0] === 'incident' || p[0] === 'alarm' || p[0] === 'alarms');
      this.incidentReaders.set(step, reads);
    }
    return reads;
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

export function jobId(runId: string, stepId: string): string {
  return `${runId}-${stepId}`;
}

type StepResult = { output: Record<string, unknown>; summary?: string; dryRun?: boolean };

/** A step's status and output for expressions; the output is parsed only if an expression reads it. */
function lazyStepContext(status: StepContext['status'], outputJson: string | undefined): StepContext {
  let parsed: Record<string, unknown> | undefined;
  const context = { status } as StepContext;
  Object.defineProperty(context, 'output', {
    enumerable: true,
    get: () => (parsed ??= outputJson ? (JSON.parse(outputJson) as Record<string, unknown>) : undefined),
  });
  return context;
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
