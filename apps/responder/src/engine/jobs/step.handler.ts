import { Injectable, Logger } from '@nestjs/common';
import { TERMINAL_STEP_STATUSES } from '@responder/domain';
import { RunStore } from '@responder/store';
import type { FailedJob, QueuedJob } from '../../queue';
import { stepEvent } from '../decider/prepare-step';
import { runGraph } from '../decider/run-graph';
import { RunCoordinator } from '../run-coordinator';
import { RunbookRegistry } from '../runbook-registry';
import { StepExecutor } from '../step-executor';
import type { JobHandler, JobOf } from './job-handler';

/** A job whose step is not queued yet looks again after this long at first, at most the max later. */
const UNQUEUED_RETRY_MS = 100;
const UNQUEUED_RETRY_MAX_MS = 30_000;

/** `step`: runs one step (StepExecutor), once its step is queued. */
@Injectable()
export class StepHandler implements JobHandler<'step'> {
  readonly jobName = 'step';
  private readonly logger = new Logger('Engine');

  constructor(
    private readonly registry: RunbookRegistry,
    private readonly coordinator: RunCoordinator,
    private readonly executor: StepExecutor,
    private readonly runs: RunStore,
  ) {}

  async handle(job: QueuedJob<JobOf<'step'>>): Promise<void> {
    const { runId, stepId } = job.data;
    // One call reads the run's head and the step, and starts a read-only step.
    const start = await this.runs.startStep(runId, stepId);
    // A run Redis no longer has (it came back without its last writes: a failover to a replica that
    // lagged, a restart without persistence): dropped with a warning, not retried, since nothing can
    // bring the run back. The incident, if Redis kept it, is planned again by the sweep.
    if (start.kind === 'missing') {
      this.logger.warn({ runId, step: stepId }, `run ${runId} is no longer in the store (Redis lost its last writes?): the job of step ${stepId} is dropped`);
      return;
    }
    if (start.kind === 'settled') {
      // Decided already: a job run again after its worker died between the step's last move and
      // what follows it moves the run on (a no-op when nothing is left).
      if (TERMINAL_STEP_STATUSES.has(start.status)) return this.coordinator.advance(runId);
      // Not queued yet (a job added before the move that queues its step). It waits, and is never
      // completed before its step is queued or decided: completed, its id would keep the step's
      // real job from being added.
      const delay = Math.min(UNQUEUED_RETRY_MAX_MS, Math.max(UNQUEUED_RETRY_MS, (Date.now() - job.addedAt) / 4));
      return job.holdFor(delay, 'the step is not queued yet');
    }
    const { run } = start;
    const runbook = this.registry.runbookOf(run);
    const step = runbook ? runGraph(runbook).byId.get(stepId) : undefined;
    // Thrown, so that BullMQ retries the job (on a replica that has the runbook, during a rolling
    // deploy) and, when it gives up, givenUp records the step as failed.
    if (!runbook || !step) throw new Error(`step ${stepId} of runbook ${run.runbook} is not loaded in this process`);
    await this.executor.run(job, run, runbook, step, start);
  }

  /** A step job that BullMQ gave up on without the step recording it (e.g. stalled too often). */
  async givenUp(job: Pick<FailedJob<JobOf<'step'>>, 'data'>, error: Error): Promise<void> {
    const { runId, stepId } = job.data;
    const message = `the job failed: ${error.message}`;
    const failed = await this.runs.transition(runId, stepId, ['queued', 'running'], { status: 'failed', error: message, finishedAt: new Date().toISOString() }, stepEvent('step.failed', { error: message }));
    if (failed) await this.coordinator.advance(runId);
  }
}
