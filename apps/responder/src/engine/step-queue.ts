import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { RunbookStep } from '@responder/runbooks';
import { RunStore } from '@responder/store';
import type { AppConfig } from '../config/config';
import { type FailedJob, JobQueue, type QueuedJob, jobId } from '../queue';
import { APP_CONFIG } from '../tokens';

/** Job data holds ids only; state lives in the store. */
export type EngineJob =
  | { name: 'plan'; data: { incidentId: string } }
  | { name: 'step'; data: { runId: string; stepId: string } }
  | { name: 'approval-timeout'; data: { runId: string; stepId: string } };

export type EngineJobName = EngineJob['name'];
/** Every job name of the engine's queue: each has exactly one handler (engine/jobs, checked at boot). */
export const ENGINE_JOB_NAMES: readonly EngineJobName[] = ['plan', 'step', 'approval-timeout'];

export const QUEUE_NAME = 'steps';

/**
 * A step's job id: `<runId>-<stepId>`; for a mutating step whose plan was made again (replans > 0),
 * `<runId>-<stepId>-r<n>`: its earlier job, kept a while after it completed, would swallow the add.
 */
export const stepJobId = (runId: string, stepId: string, replans = 0): string => (replans > 0 ? jobId(runId, stepId, `r${replans}`) : jobId(runId, stepId));

/**
 * The runbook engine's queue, in the engine's words: plan an incident, queue a step, schedule or
 * cancel an approval's timeout. Every id is deterministic, so a job asked for twice (two replicas,
 * a retry, recovery at boot) runs once.
 */
@Injectable()
export class StepQueue implements BeforeApplicationShutdown {
  readonly jobs: JobQueue<EngineJob>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly runs: RunStore,
  ) {
    this.jobs = new JobQueue<EngineJob>({
      name: QUEUE_NAME,
      redis: config.redis,
      timedAdds: true,
      // Finished jobs are kept an hour (BullMQ dedupes a re-added id meanwhile), failed ones a day.
      jobDefaults: { removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } },
      worker: { concurrency: config.engine.concurrency, lockDurationMs: config.engine.stalledMs, maxStalledCount: 5 },
      // Bounded below the orchestrator's stop timeout (ECS: 30 s).
      shutdownGraceMs: config.engine.shutdownGraceMs,
    });
  }

  /** Plans an incident; an alarm storm on one incident asks for one plan at a time, not one per alarm. */
  async plan(incidentId: string): Promise<void> {
    await this.jobs.coalesce({ name: 'plan', data: { incidentId } }, `plan-${incidentId}`);
  }

  /**
   * Queues a step's job, with the retries its runbook gives it. A mutating step's id carries how
   * many times its plan was made again (read here, one small read beside an AWS call).
   */
  async queueStep(runId: string, step: Pick<RunbookStep, 'id' | 'retries'> & { mutating?: boolean }): Promise<void> {
    const { attempts, backoff, delayMs } = step.retries;
    const replans = step.mutating ? ((await this.runs.getRunStep(runId, step.id))?.steps[step.id]?.replans ?? 0) : 0;
    await this.jobs.add({ name: 'step', data: { runId, stepId: step.id } }, { id: stepJobId(runId, step.id, replans), retries: { attempts, backoff, delayMs } });
  }

  /** Forgets a finished step's job, so that the step can be queued again (its evidence gathered again for a new plan). */
  async forgetStep(runId: string, stepId: string): Promise<void> {
    await this.jobs.cancel(stepJobId(runId, stepId));
  }

  /** The step is timed out at `at` unless decided before. */
  async scheduleApprovalTimeout(runId: string, stepId: string, at: number): Promise<void> {
    await this.jobs.schedule({ name: 'approval-timeout', data: { runId, stepId } }, jobId('timeout', runId, stepId), at - Date.now());
  }

  async cancelApprovalTimeout(runId: string, stepId: string): Promise<void> {
    await this.jobs.cancel(jobId('timeout', runId, stepId));
  }

  startWorker(handler: (job: QueuedJob<EngineJob>) => Promise<unknown>, onFailed: (job: FailedJob<EngineJob>, error: Error) => Promise<void>): void {
    this.jobs.startWorker(handler, onFailed);
  }

  /** SIGTERM: the worker finishes the jobs in flight (or hands them back when they overrun). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }
}
