import type { FailedJob, QueuedJob } from '../../queue';
import type { EngineJob, EngineJobName } from '../step-queue';

export type JobOf<N extends EngineJobName> = Extract<EngineJob, { name: N }>;

/** What one job name of the engine's queue does. One handler per name, one file each. */
export interface JobHandler<N extends EngineJobName = EngineJobName> {
  readonly jobName: N;
  handle(job: QueuedJob<JobOf<N>>): Promise<unknown>;
  /** BullMQ gave up on a job of this name (its last attempt failed, or it stalled too often). */
  givenUp?(job: FailedJob<JobOf<N>>, error: Error): Promise<void>;
}

/** The injection token of the handlers' list (jobs/index.ts). */
export const JOB_HANDLERS = Symbol('JOB_HANDLERS');
