import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { type AppConfig, runsWorkers } from '../../config/config';
import { type FailedJob, PermanentJobError, type QueuedJob } from '../../queue';
import { isRedisClientUnavailable } from '../../redis/redis-errors';
import { APP_CONFIG } from '../../tokens';
import { RunCoordinator } from '../run-coordinator';
import { ENGINE_JOB_NAMES, type EngineJob, StepQueue } from '../step-queue';
import { JOB_HANDLERS, type JobHandler } from './job-handler';

/** How long a job whose store went away waits before it runs again. */
const STORE_AWAY_RETRY_MS = 1000;

/**
 * The handlers by job name, checked against the queue's job names: a name without a handler, a
 * handler for no known name, or two handlers for one name is a wiring mistake, and the service
 * refuses to start (rather than fail the first such job in production).
 */
export function handlersByName(handlers: readonly JobHandler[], names: readonly string[]): Map<string, JobHandler> {
  const byName = new Map<string, JobHandler>();
  const problems: string[] = [];
  for (const handler of handlers) {
    if (!names.includes(handler.jobName)) problems.push(`a handler for "${handler.jobName}", which is not a job of the engine's queue (${names.join(', ')})`);
    else if (byName.has(handler.jobName)) problems.push(`two handlers for "${handler.jobName}"`);
    else byName.set(handler.jobName, handler);
  }
  for (const name of names) if (!byName.has(name)) problems.push(`no handler for "${name}" jobs`);
  if (problems.length > 0) throw new Error(`engine job handlers: ${problems.join('; ')} (register them in apps/responder/src/engine/jobs/index.ts)`);
  return byName;
}

/**
 * Routes each job of the engine's queue to its handler. On a replica that runs workers it starts the
 * worker once the app is wired, and recovers what a dead replica left (until Redis answers).
 */
@Injectable()
export class JobRouter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Engine');
  private readonly handlers: Map<string, JobHandler>;
  private readonly stopping = new AbortController();
  private recovery: Promise<void> = Promise.resolve();

  constructor(
    @Inject(JOB_HANDLERS) handlers: JobHandler[],
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queue: StepQueue,
    private readonly coordinator: RunCoordinator,
  ) {
    this.handlers = handlersByName(handlers, ENGINE_JOB_NAMES);
  }

  onApplicationBootstrap(): void {
    // An api-only replica queues work (plans, approvals) but never takes a job: the workers do, and
    // they recover what a dead replica left.
    if (!runsWorkers(this.config)) return;
    this.queue.startWorker(
      (job) => this.handle(job),
      (job, error) => this.givenUp(job, error),
    );
    this.recovery = this.recoverUntilDone();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.recovery;
  }

  /**
   * A job that failed because Redis went away under it (a store call found no connection, or lost
   * its answer) is put back and run again, not failed: its attempts are its step's, for its action's
   * errors. Failed, a step job with no retries left was given up on while the step's outcome was
   * already recorded and the rest of its run was not (the run's end, the next steps): nothing moved
   * that run on again. Run again, the job finds the step settled and moves the run on; a mutating
   * step finds its ledger and does not call twice.
   */
  async handle(job: QueuedJob<EngineJob>): Promise<unknown> {
    const handler = this.handlers.get(job.name);
    if (!handler) throw new PermanentJobError(`unknown job ${job.name}`);
    try {
      return await handler.handle(job);
    } catch (err) {
      if (!isRedisClientUnavailable(err)) throw err;
      this.logger.warn({ job: job.name, data: job.data }, `${job.name} job: Redis is unreachable (${(err as Error).message}): it runs again once Redis answers`);
      return job.holdFor(STORE_AWAY_RETRY_MS, 'Redis is unreachable');
    }
  }

  async givenUp(job: FailedJob<EngineJob>, error: Error): Promise<void> {
    if (job.givenUp) await this.handlers.get(job.name)?.givenUp?.(job, error);
  }

  /** Recovery needs Redis; when it is down at boot, try again until it answers (or we stop). */
  private async recoverUntilDone(): Promise<void> {
    for (let delay = 500; !this.stopping.signal.aborted; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.coordinator.recover();
        return;
      } catch (err) {
        this.logger.warn(`recovering runs failed, retrying in ${delay} ms: ${(err as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
      }
    }
  }
}
