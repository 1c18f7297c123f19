import { Logger } from '@nestjs/common';
import { DelayedError, type Job, type JobsOptions, Queue, UnrecoverableError, Worker } from 'bullmq';
import Redis from 'ioredis';
import { CONNECTION_DEFAULTS, timedConnection } from '../redis/connection-options';
import { closeQueue } from './close-queue';

/** A job as its queue's users see it: a name and data that holds ids only. */
export interface JobSpec<Name extends string = string, Data = unknown> {
  name: Name;
  data: Data;
}

/** Thrown by a handler for an error no retry can fix: the job fails at once. */
export class PermanentJobError extends UnrecoverableError {}

/** A job being handled. */
export interface QueuedJob<J extends JobSpec = JobSpec> {
  readonly id: string | undefined;
  readonly name: J['name'];
  readonly data: J['data'];
  /** Attempts made before this one. */
  readonly attemptsMade: number;
  /** Attempts allowed (1 unless the job was added with retries). */
  readonly attempts: number;
  /** Run again after its worker died or an attempt failed: it may find its own work done. */
  readonly replayed: boolean;
  /** When it was first added (ms since the epoch). */
  readonly addedAt: number;
  /** Puts the job back for `ms` (not an attempt); never returns: the handler ends there. */
  holdFor(ms: number, reason: string): Promise<never>;
}

/** A job BullMQ has failed. `givenUp`: no attempt is left (or its error was permanent). */
export interface FailedJob<J extends JobSpec = JobSpec> {
  readonly name: J['name'];
  readonly data: J['data'];
  readonly givenUp: boolean;
}

export interface QueueSettings {
  /** The BullMQ queue name; keys live under `${REDIS_PREFIX}:bull:<name>`. */
  name: string;
  redis: { url: string; prefix: string; commandTimeoutMs: number };
  /**
   * Whether adding a job fails after REDIS_COMMAND_TIMEOUT_MS when Redis hangs (the intake answers
   * 503 rather than wait). Without it, an add waits for Redis (a stored click must not be refused
   * when it was in fact stored).
   */
  timedAdds: boolean;
  /** Options every job gets: retention, attempts and backoff. */
  jobDefaults: JobsOptions;
  worker: { concurrency: number; lockDurationMs?: number; maxStalledCount?: number; backoff?: (attemptsMade: number) => number };
  /** On shutdown, how long jobs in flight may take to finish before they are handed back. */
  shutdownGraceMs: number;
}

/** How a job is added: its deterministic id (see jobId) and retries. */
export interface AddOptions {
  id?: string;
  retries?: { attempts: number; backoff: 'fixed' | 'exponential'; delayMs: number };
}

/**
 * The one BullMQ adapter: a queue, its worker and their connections, clean shutdown, and delays
 * said in domain words (holdFor, schedule, cancel, coalesce). Nothing else in the service imports
 * bullmq (eslint.config.mjs enforces it).
 */
export class JobQueue<J extends JobSpec> {
  private readonly logger: Logger;
  private readonly connection: Redis;
  private readonly queue: Queue;
  private worker: Worker | null = null;
  private workerConnection: Redis | null = null;

  constructor(private readonly settings: QueueSettings) {
    this.logger = new Logger(`Queue:${settings.name}`);
    const { redis } = settings;
    const base = settings.timedAdds ? timedConnection({ redis }) : CONNECTION_DEFAULTS;
    // No offline queue: with Redis down an add fails at once (the intake answers 503, Slack is told
    // the click was not taken) instead of queueing in memory.
    this.connection = new Redis(redis.url, { ...base, maxRetriesPerRequest: null, enableOfflineQueue: false });
    this.connection.on('error', () => undefined);
    this.queue = new Queue(settings.name, { connection: this.connection, prefix: this.prefix, defaultJobOptions: settings.jobDefaults });
    this.queue.on('error', (err) => this.logger.warn(`queue: ${err.message}`));
  }

  /** Where BullMQ keeps this queue (for tests and benchmarks that look at it with BullMQ itself). */
  get name(): string {
    return this.settings.name;
  }

  get prefix(): string {
    return `${this.settings.redis.prefix}:bull`;
  }

  /** Adds a job; with an id, a job added twice (or again while it is kept after completion) runs once. */
  async add(job: J, options: AddOptions = {}): Promise<void> {
    await this.queue.add(job.name, job.data, this.jobOptions(options));
  }

  /** Adds a job that runs after `delayMs` (an id makes it cancellable). */
  async schedule(job: J, id: string, delayMs: number): Promise<void> {
    await this.queue.add(job.name, job.data, { jobId: id, delay: Math.max(0, delayMs) });
  }

  /** Cancels a job that has not started; one already running finds its work decided and does nothing. */
  async cancel(id: string): Promise<void> {
    try {
      await this.queue.remove(id);
    } catch {
      // locked by a worker: see above
    }
  }

  /**
   * Adds a job unless one of the same `key` is waiting (it will see what this one would): while
   * one runs, one more is kept to run after it, so nothing that changed meanwhile is missed.
   */
  async coalesce(job: J, key: string): Promise<void> {
    await this.queue.add(job.name, job.data, { deduplication: { id: key, keepLastIfActive: true } });
  }

  /**
   * Starts the worker (once). An error thrown by the handler is a failed attempt (retried as the
   * job says); PermanentJobError fails the job at once; `onFailed` hears of every failure.
   */
  startWorker(handler: (job: QueuedJob<J>) => Promise<unknown>, onFailed?: (job: FailedJob<J>, error: Error) => Promise<void> | void): void {
    if (this.worker) return;
    const { worker: options, redis } = this.settings;
    // No command timeout: BullMQ's blocking fetch runs on a duplicate of it (see timedConnection).
    const workerConnection = new Redis(redis.url, { ...CONNECTION_DEFAULTS, maxRetriesPerRequest: null });
    workerConnection.on('error', () => undefined);
    this.workerConnection = workerConnection;
    const lockDuration = options.lockDurationMs;
    this.worker = new Worker(this.settings.name, (job: Job, token?: string) => handler(queuedJob<J>(job, token)), {
      connection: workerConnection,
      prefix: this.prefix,
      concurrency: options.concurrency,
      ...(lockDuration !== undefined ? { lockDuration, stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)) } : {}),
      // A job whose worker died is given back this many times before it is failed.
      ...(options.maxStalledCount !== undefined ? { maxStalledCount: options.maxStalledCount } : {}),
      ...(options.backoff ? { settings: { backoffStrategy: options.backoff } } : {}),
    });
    this.worker.on('error', (err) => this.logger.warn(`worker: ${err.message}`));
    this.worker.on('failed', (job, err) => {
      if (!job || !onFailed) return;
      const givenUp = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
      Promise.resolve(onFailed({ name: job.name, data: job.data as J['data'], givenUp }, err)).catch((e: Error) => this.logger.error(`handling a failed job: ${e.message}`));
    });
  }

  /** SIGTERM: the worker finishes the jobs in flight (or hands them back when they overrun). */
  async close(): Promise<void> {
    await closeQueue({ queue: this.queue, worker: this.worker, connection: this.connection, workerConnection: this.workerConnection }, this.settings.shutdownGraceMs);
  }

  private jobOptions({ id, retries }: AddOptions): JobsOptions {
    // A job without retries leaves BullMQ's defaults (one attempt) out: less to store and parse.
    const retry = retries && retries.attempts > 1 ? { attempts: retries.attempts, backoff: { type: retries.backoff, delay: retries.delayMs } } : {};
    return { ...(id !== undefined ? { jobId: id } : {}), ...retry };
  }
}

function queuedJob<J extends JobSpec>(job: Job, token: string | undefined): QueuedJob<J> {
  return {
    id: job.id,
    name: job.name,
    data: job.data as J['data'],
    attemptsMade: job.attemptsMade,
    attempts: job.opts.attempts ?? 1,
    replayed: job.attemptsMade > 0 || job.stalledCounter > 0,
    addedAt: job.timestamp,
    async holdFor(ms: number, reason: string): Promise<never> {
      await job.moveToDelayed(Date.now() + ms, token);
      throw new DelayedError(reason);
    },
  };
}
