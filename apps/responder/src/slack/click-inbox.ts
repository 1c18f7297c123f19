import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { ApprovalClick } from '@responder/slack';
import type { AppConfig } from '../config/config';
import { JobQueue, jobId } from '../queue';
import { APP_CONFIG } from '../tokens';

export const CLICK_QUEUE = 'clicks';

/** A click as it waits in the inbox; `replayed` is set when its job is run again after a crash. */
export type InboxClick = ApprovalClick & { replayed?: boolean };

type ClickJob = { name: ApprovalClick['verb']; data: ApprovalClick };

/**
 * Approve / Reject clicks, written to Redis before Slack is acknowledged: a click Slack showed as
 * accepted is never lost to a crash. The job (data: ids and the clicking user; job id from the
 * click's own id, so a second delivery of one click is one job) is processed once; if the process
 * dies while processing it, BullMQ hands it to a worker again after ENGINE_STALLED_MS, and the
 * approval service's checks (same approver, step already decided) make that second pass a no-op.
 */
@Injectable()
export class ClickInbox implements BeforeApplicationShutdown {
  private readonly logger = new Logger('ClickInbox');
  readonly jobs: JobQueue<ClickJob>;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.jobs = new JobQueue<ClickJob>({
      name: CLICK_QUEUE,
      redis: config.redis,
      // An add waits for Redis: with it down the click is not acknowledged, and Slack tells the user so.
      timedAdds: false,
      jobDefaults: { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } },
      worker: { concurrency: 8, lockDurationMs: config.engine.stalledMs, maxStalledCount: 5 },
      shutdownGraceMs: 10_000,
    });
  }

  /** Resolves once the click is stored in Redis (BullMQ's add is one atomic script). */
  async add(click: ApprovalClick, clickId: string): Promise<void> {
    await this.jobs.add({ name: click.verb, data: click }, { id: jobId('click', clickId) });
  }

  startWorker(processor: (click: InboxClick) => Promise<void>): void {
    this.jobs.startWorker(
      // A job run again (its worker died, or it failed) may find its own approval already applied.
      (job) => processor({ ...job.data, replayed: job.replayed }),
      (job, err) => {
        if (job.givenUp) this.logger.error({ click: job.data as unknown }, `a Slack click could not be processed: ${err.message}`);
      },
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }
}
