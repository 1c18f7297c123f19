import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { type Job, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import type { ApprovalClick } from '@responder/slack';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../tokens';
import { CONNECTION_DEFAULTS } from '../redis/connection-options';
import { closeQueue } from '../redis/close-queue';

export const CLICK_QUEUE = 'clicks';

/** A click as it waits in the inbox; `replayed` is set when its job is run again after a crash. */
export type InboxClick = ApprovalClick & { replayed?: boolean };

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
  private readonly connection: Redis;
  private readonly queue: Queue;
  private worker: Worker | null = null;
  private workerConnection: Redis | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // No offline queue: with Redis down the click is not acknowledged, and Slack tells the user so.
    this.connection = new Redis(config.redis.url, { ...CONNECTION_DEFAULTS, maxRetriesPerRequest: null, enableOfflineQueue: false });
    this.connection.on('error', () => undefined);
    this.queue = new Queue(CLICK_QUEUE, {
      connection: this.connection,
      prefix: `${config.redis.prefix}:bull`,
      defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: { age: 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } },
    });
    this.queue.on('error', (err) => this.logger.warn(`queue: ${err.message}`));
  }

  /** Resolves once the click is stored in Redis (BullMQ's add is one atomic script). */
  async add(click: ApprovalClick, clickId: string): Promise<void> {
    await this.queue.add(click.verb, click, { jobId: `click-${clickId.replace(/:/g, '_')}` });
  }

  startWorker(processor: (click: InboxClick) => Promise<void>): void {
    if (this.worker) return;
    const workerConnection = new Redis(this.config.redis.url, { ...CONNECTION_DEFAULTS, maxRetriesPerRequest: null });
    workerConnection.on('error', () => undefined);
    this.workerConnection = workerConnection;
    this.worker = new Worker(
      CLICK_QUEUE,
      async (job: Job) => {
        // A job run again (its worker died, or it failed) may find its own approval already applied.
        const replayed = job.attemptsMade > 0 || job.stalledCounter > 0;
        await processor({ ...(job.data as ApprovalClick), replayed });
      },
      {
        connection: workerConnection,
        prefix: `${this.config.redis.prefix}:bull`,
        concurrency: 8,
        lockDuration: this.config.engine.stalledMs,
        stalledInterval: Math.max(1000, Math.floor(this.config.engine.stalledMs / 2)),
        maxStalledCount: 5,
      },
    );
    this.worker.on('error', (err) => this.logger.warn(`worker: ${err.message}`));
    this.worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) this.logger.error({ click: job.data as unknown }, `a Slack click could not be processed: ${err.message}`);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await closeQueue({ queue: this.queue, worker: this.worker, connection: this.connection, workerConnection: this.workerConnection }, 10_000);
  }
}
