import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { SlackPermanentError, SlackRetryableError } from '@responder/slack';
import type { AppConfig } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { JobQueue, PermanentJobError, type QueuedJob, jobId } from '../queue';
import { APP_CONFIG } from '../tokens';

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
  readonly jobs: JobQueue<SlackJob>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.jobs = new JobQueue<SlackJob>({
      name: SLACK_QUEUE,
      redis: config.redis,
      timedAdds: true,
      jobDefaults: { attempts: ATTEMPTS, backoff: { type: 'capped' }, removeOnComplete: { age: 3600, count: 10_000 }, removeOnFail: { age: 7 * 24 * 3600 } },
      // As the engine's: a sync whose process died (or that Redis, restored from a replica, still
      // shows as running) holds the incident's later syncs behind it until this runs out.
      worker: { concurrency: 8, lockDurationMs: config.engine.stalledMs, backoff: (attemptsMade: number) => Math.min(1000 * 2 ** Math.max(0, attemptsMade - 1), MAX_BACKOFF_MS) },
      shutdownGraceMs: 10_000,
    });
  }

  /**
   * Brings the incident's Slack messages up to date. At most one sync of an incident runs at a
   * time, and a change made while one runs queues exactly one more (BullMQ keepLastIfActive), so
   * messages never race each other and the last state always reaches Slack.
   */
  async sync(incidentId: string): Promise<void> {
    await this.jobs.coalesce({ name: 'sync', data: { incidentId } }, `sync-${incidentId}`);
  }

  async remind(data: Extract<SlackJob, { name: 'remind' }>['data'], delayMs: number): Promise<void> {
    await this.jobs.schedule({ name: 'remind', data }, jobId('remind', data.runId, data.step, data.paramsHash), delayMs);
  }

  async ephemeral(data: Extract<SlackJob, { name: 'ephemeral' }>['data']): Promise<void> {
    await this.jobs.add({ name: 'ephemeral', data });
  }

  /** A note in the thread of an incident Redis lost (one per incident while the job is kept). */
  async lost(data: Extract<SlackJob, { name: 'lost' }>['data']): Promise<void> {
    await this.jobs.add({ name: 'lost', data }, { id: `lost-${data.incidentId}` });
  }

  startWorker(processor: (job: SlackJob) => Promise<void>): void {
    this.jobs.startWorker(
      (job) => this.run(job, processor),
      (job, err) => {
        if (job.givenUp) this.logger.error({ job: job.name, data: job.data as unknown }, `Slack ${job.name} given up: ${err.message}`);
      },
    );
  }

  /** Slack's Retry-After is honoured exactly; other transient errors back off; permanent ones stop. */
  private async run(job: QueuedJob<SlackJob>, processor: (job: SlackJob) => Promise<void>): Promise<void> {
    try {
      await processor({ name: job.name, data: job.data } as SlackJob);
      this.metrics.slackJobs.inc({ job: job.name, outcome: 'ok' });
    } catch (err) {
      const delayMs = err instanceof RetryLater ? err.delayMs : err instanceof SlackRetryableError ? err.retryAfterMs : undefined;
      const outcome = err instanceof SlackPermanentError ? 'refused' : err instanceof SlackRetryableError && err.retryAfterMs !== undefined ? 'rate_limited' : 'retry';
      this.metrics.slackJobs.inc({ job: job.name, outcome });
      if (delayMs !== undefined) {
        this.logger.warn(`Slack ${job.name}: ${(err as Error).message}; again in ${delayMs} ms`);
        return job.holdFor(delayMs, (err as Error).message);
      }
      if (err instanceof SlackPermanentError) throw new PermanentJobError(`Slack refused: ${err.message}`);
      this.logger.warn(`Slack ${job.name} failed (attempt ${job.attemptsMade + 1}): ${(err as Error).message}`);
      throw err;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.jobs.close();
  }
}
