import { Inject, Injectable, Logger, type OnApplicationBootstrap, type BeforeApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { type QueueMessage, SqsAdapter } from '@responder/aws';
import { problemsToText } from '@responder/domain';
import { type AppConfig, servesRequests } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { APP_CONFIG, REDIS } from '../tokens';
import { AlarmIntakeService, InvalidEventError } from './alarm-intake.service';

const MAX_BACKOFF_MS = 30_000;

/**
 * Long-polls the SQS queue an EventBridge rule targets (SQS_QUEUE_URL), for deployments with no
 * inbound traffic. A message is deleted only once its event is stored. A malformed one is logged
 * with its message id and left alone: it comes back after the queue's visibility timeout, and the
 * queue's redrive policy moves it to the dead-letter queue after maxReceiveCount receives.
 */
@Injectable()
export class SqsIntakeService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SqsIntake');
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private sqs: SqsAdapter | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly intake: AlarmIntakeService,
    private readonly metrics: MetricsService,
  ) {}

  get running(): boolean {
    return this.loop !== null;
  }

  onApplicationBootstrap(): void {
    if (!this.config.sqs || !servesRequests(this.config)) return;
    this.sqs = new SqsAdapter({ queueUrl: this.config.sqs.queueUrl, region: this.config.awsRegion });
    void this.warnWithoutRedrive(this.sqs);
    this.loop = this.run(this.sqs, this.config.sqs.waitSeconds);
    this.logger.log(`polling ${this.config.sqs.queueUrl}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.loop;
    this.loop = null;
    this.sqs?.close();
  }

  private async warnWithoutRedrive(sqs: SqsAdapter): Promise<void> {
    try {
      if (!(await sqs.redrivePolicy())) {
        this.logger.warn('the SQS queue has no redrive policy: a malformed message will come back every visibility timeout until it expires; give the queue a dead-letter queue');
      }
    } catch (err) {
      this.logger.warn(`could not read the SQS queue's attributes: ${(err as Error).message}`);
    }
  }

  private async run(sqs: SqsAdapter, waitSeconds: number): Promise<void> {
    const signal = this.abort.signal;
    let backoff = 0;
    while (!signal.aborted) {
      if (backoff > 0) await sleep(backoff, signal);
      if (signal.aborted) break;
      // Receiving while the store is down would only cycle messages through their visibility timeout.
      if (this.redis.status !== 'ready') {
        backoff = Math.min(Math.max(backoff * 2, 500), MAX_BACKOFF_MS);
        continue;
      }
      let messages: QueueMessage[];
      try {
        messages = await sqs.receive({ maxMessages: 10, waitSeconds, abortSignal: signal });
      } catch (err) {
        if (signal.aborted) break;
        backoff = Math.min(Math.max(backoff * 2, 1000), MAX_BACKOFF_MS);
        this.logger.warn(`receiving from SQS failed, retrying in ${backoff} ms: ${(err as Error).message}`);
        continue;
      }
      const failures = await Promise.all(messages.map((m) => this.handle(sqs, m)));
      backoff = failures.some((failed) => failed) ? Math.min(Math.max(backoff * 2, 1000), MAX_BACKOFF_MS) : 0;
    }
  }

  /** Returns true when the store failed (back off), false otherwise. */
  private async handle(sqs: SqsAdapter, message: QueueMessage): Promise<boolean> {
    let body: unknown;
    try {
      body = JSON.parse(message.body);
    } catch {
      this.metrics.eventsReceived.inc({ source: 'sqs' });
      this.metrics.eventsRejected.inc({ source: 'sqs', reason: 'malformed_json' });
      this.logger.warn({ messageId: message.messageId, receiveCount: message.receiveCount }, 'SQS message is not JSON: left for the dead-letter queue');
      return false;
    }
    try {
      await this.intake.receive(body, 'sqs');
    } catch (err) {
      if (err instanceof InvalidEventError) {
        this.logger.warn(
          { messageId: message.messageId, receiveCount: message.receiveCount, problems: err.problems },
          `SQS message is not a CloudWatch alarm event (${problemsToText(err.problems)}): left for the dead-letter queue`,
        );
        return false;
      }
      this.logger.error({ messageId: message.messageId }, `storing the event failed, the message stays on the queue: ${(err as Error).message}`);
      return true;
    }
    try {
      await sqs.delete(message.receiptHandle);
    } catch (err) {
      // Stored already: a second receive is recognised by its event id and changes nothing.
      this.logger.warn({ messageId: message.messageId }, `deleting the SQS message failed: ${(err as Error).message}`);
    }
    return false;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
