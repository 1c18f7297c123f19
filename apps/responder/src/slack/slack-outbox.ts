import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { DelayedError, type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import Redis from 'ioredis';
import { SlackPermanentError, SlackRetryableError } from '@responder/slack';
import type { AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { APP_CONFIG } from '../tokens';
import { CONNECTION_DEFAULTS, timedConnection } from '../redis/connection-options';
import { closeQueue } from '../redis/close-queue';

/**
 * Outbound Slack work, on its own BullMQ queue so that a slow or failing Slack never holds up a
 * run. Job data holds ids (and, for an ephemeral answer, its short text); what to post is read
 * from the store when the job runs, so a retried job posts the state of now.
 */
export type SlackJob =
  | { name: 'sync'; data: { incidentId: string } }
  | { name: 'remind'; data: { incidentId: string; runId: string; step: string; paramsHash: string } }
  | { name: 'ephemeral'; data: { channel: string; user: string; text: string } }
  | { name: 'lost'; data: { incidentId: string; channel: string; threadTs: string } };

export const SLACK_QUEUE = 'slack';
/** Retried for days with a capped backoff: a Slack outage delays messages and loses none. */
const ATTEMPTS = 2000;
const MAX_BACKOFF_MS = 5 * 60_000;
const DEFAULTS: JobsOptions = {
  attempts: ATTEMPTS,
  backoff: { type: 'capped' },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Thrown by a processor that must wait (e.g. the thread it replies to is not posted yet). */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    message: string,
  ) {
    super(message);
  }
}

@Injectable()
export class SlackOutbox implements BeforeApplicationShutdown {
  private readonly logger = new Logger('SlackOutbox');
  private readonly connection: Redis;
  readonly queue: Queue;
  private worker: Worker | null = null;
  private workerConnection: Redis | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.connection = new Redis(config.redis.url, { ...timedConnection(config), maxRetriesPerRequest: null, enableOfflineQueue: false });
    this.connection.on('error', () => undefined);
    this.queue = new Queue(SLACK_QUEUE, { connection: this.connection, prefix: `${config.redis.prefix}:bull`, defaultJobOptions: DEFAULTS });
    this.queue.on('error', (err) => this.logger.warn(`queue: ${err.message}`));
  }

  /**
   * Brings the incident's Slack messages up to date. At most one sync of an incident runs at a
   * time, and a change made while one runs queues exactly one more (BullMQ keepLastIfActive), so
   * messages never race each other and the last state always reaches Slack.
   */
  async sync(incidentId: string): Promise<void> {
    await this.queue.add('sync', { incidentId }, { deduplication: { id: `sync-${incidentId}`, keepLastIfActive: true } });
  }

  async remind(data: Extract<SlackJob, { name: 'remind' }>['data'], delayMs: number): Promise<void> {
    await this.queue.add('remind', data, { jobId: `remind-${data.runId}-${data.step}-${data.paramsHash}`, delay: delayMs });
  }

  async ephemeral(data: Extract<SlackJob, { name: 'ephemeral' }>['data']): Promise<void> {
    await this.queue.add('ephemeral', data);
  }

  /** A note in the thread of an incident Redis lost (one per incident while the job is kept). */
  async lost(data: Extract<SlackJob, { name: 'lost' }>['data']): Promise<void> {
    await this.queue.add('lost', data, { jobId: `lost-${data.incidentId}` });
  }

  startWorker(processor: (job: SlackJob) => Promise<void>): void {
    if (this.worker) return;
    // No command timeout: BullMQ's blocking fetch runs on a duplicate of it (see timedConnection).
    const workerConnection = new Redis(this.config.redis.url, { ...CONNECTION_DEFAULTS, maxRetriesPerRequest: null });
    workerConnection.on('error', () => undefined);
    this.workerConnection = workerConnection;
    this.worker = new Worker(SLACK_QUEUE, (job: Job, token?: string) => this.run(job, token, processor), {
      connection: workerConnection,
      prefix: `${this.config.redis.prefix}:bull`,
      concurrency: 8,
      // As the engine's: a sync whose process died (or that Redis, restored from a replica, still
      // shows as running) holds the incident's later syncs behind it until this runs out.
      lockDuration: this.config.engine.stalledMs,
      stalledInterval: Math.max(1000, Math.floor(this.config.engine.stalledMs / 2)),
      settings: { backoffStrategy: (attemptsMade: number) => Math.min(1000 * 2 ** Math.max(0, attemptsMade - 1), MAX_BACKOFF_MS) },
    });
    this.worker.on('error', (err) => this.logger.warn(`worker: ${err.message}`));
    this.worker.on('failed', (job, err) => {
      if (err instanceof UnrecoverableError || (job && job.attemptsMade >= (job.opts.attempts ?? 1))) {
        this.logger.error({ job: job?.name, data: job?.data as unknown }, `Slack ${job?.name ?? 'job'} given up: ${err.message}`);
      }
    });
  }

  /** Slack's Retry-After is honoured exactly; other transient errors back off; permanent ones stop. */
  private async run(job: Job, token: string | undefined, processor: (job: SlackJob) => Promise<void>): Promise<void> {
    try {
      await processor({ name: job.name, data: job.data as unknown } as SlackJob);
      this.metrics.slackJobs.inc({ job: job.name, outcome: 'ok' });
    } catch (err) {
      const delayMs = err instanceof RetryLater ? err.delayMs : err instanceof SlackRetryableError ? err.retryAfterMs : undefined;
      const outcome = err instanceof SlackPermanentError ? 'refused' : err instanceof SlackRetryableError && err.retryAfterMs !== undefined ? 'rate_limited' : 'retry';
      this.metrics.slackJobs.inc({ job: job.name, outcome });
      if (delayMs !== undefined) {
        this.logger.warn(`Slack ${job.name}: ${(err as Error).message}; again in ${delayMs} ms`);
        await job.moveToDelayed(Date.now() + delayMs, token);
        throw new DelayedError();
      }
      if (err instanceof SlackPermanentError) throw new UnrecoverableError(`Slack refused: ${err.message}`);
      this.logger.warn(`Slack ${job.name} failed (attempt ${job.attemptsMade + 1}): ${(err as Error).message}`);
      throw err;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await closeQueue({ queue: this.queue, worker: this.worker, connection: this.connection, workerConnection: this.workerConnection }, 10_000);
  }
}
