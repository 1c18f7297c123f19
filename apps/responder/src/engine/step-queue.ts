import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { type Job, type JobsOptions, Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../tokens';
import { closeQueue } from '../redis/close-queue';
import { CONNECTION_DEFAULTS, timedConnection } from '../redis/connection-options';

/** Job data holds ids only; state lives in the store. */
export type EngineJob =
  | { name: 'plan'; data: { incidentId: string } }
  | { name: 'step'; data: { runId: string; stepId: string } }
  | { name: 'approval-timeout'; data: { runId: string; stepId: string } };

export const QUEUE_NAME = 'steps';
/** Finished jobs are kept an hour (BullMQ dedupes a re-added id meanwhile), failed ones a day. */
const RETENTION: JobsOptions = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } };

/**
 * The BullMQ queue of the runbook engine and its worker. Keys live under `${REDIS_PREFIX}:bull`.
 * The worker starts only once the engine gives it a processor (after the app is wired).
 */
@Injectable()
export class StepQueue implements BeforeApplicationShutdown {
  private readonly logger = new Logger('StepQueue');
  private readonly connection: Redis;
  readonly queue: Queue;
  private worker: Worker | null = null;
  private workerConnection: Redis | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    // Fail fast when Redis is down (the intake answers 503) instead of queueing in memory.
    this.connection = new Redis(config.redis.url, { ...timedConnection(config), maxRetriesPerRequest: null, enableOfflineQueue: false, lazyConnect: false });
    this.connection.on('error', () => undefined);
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection, prefix: `${config.redis.prefix}:bull`, defaultJobOptions: RETENTION });
    this.queue.on('error', (err) => this.logger.warn(`queue: ${err.message}`));
  }

  /** Deterministic job ids: a job added twice (two replicas, a retry, recovery at boot) runs once. */
  async add(job: EngineJob, jobId: string, options: JobsOptions = {}): Promise<void> {
    await this.queue.add(job.name, job.data, { jobId, ...options });
  }

  /**
   * Adds a job unless one of the same `key` is waiting (it will see what this one would): while
   * one runs, one more is kept to run after it, so nothing that changed meanwhile is missed.
   */
  async addCoalesced(job: EngineJob, key: string): Promise<void> {
    await this.queue.add(job.name, job.data, { deduplication: { id: key, keepLastIfActive: true } });
  }

  async remove(jobId: string): Promise<void> {
    try {
      await this.queue.remove(jobId);
    } catch {
      // locked by a worker: it will find the step already decided and do nothing
    }
  }

  startWorker(processor: (job: Job) => Promise<unknown>, onFailed: (job: Job, error: Error) => Promise<void>): void {
    if (this.worker) return;
    // No command timeout: BullMQ's blocking fetch runs on a duplicate of it (see timedConnection).
    const workerConnection = new Redis(this.config.redis.url, { ...CONNECTION_DEFAULTS, maxRetriesPerRequest: null });
    workerConnection.on('error', () => undefined);
    this.workerConnection = workerConnection;
    this.worker = new Worker(QUEUE_NAME, processor, {
      connection: workerConnection,
      prefix: `${this.config.redis.prefix}:bull`,
      concurrency: this.config.engine.concurrency,
      lockDuration: this.config.engine.stalledMs,
      stalledInterval: Math.max(1000, Math.floor(this.config.engine.stalledMs / 2)),
      // A job whose worker died is given back this many times before it is failed.
      maxStalledCount: 5,
    });
    this.worker.on('error', (err) => this.logger.warn(`worker: ${err.message}`));
    // Final failures the processor did not handle itself (a job stalled too often, Redis errors).
    this.worker.on('failed', (job, err) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) onFailed(job, err).catch((e: Error) => this.logger.error(`recording a failed job: ${e.message}`));
    });
  }

  /** SIGTERM: the worker finishes the jobs in flight (or hands them back when they overrun). */
  async beforeApplicationShutdown(): Promise<void> {
    // Bounded below the orchestrator's stop timeout (ECS: 30 s).
    await closeQueue({ queue: this.queue, worker: this.worker, connection: this.connection, workerConnection: this.workerConnection }, this.config.engine.shutdownGraceMs);
  }
}
