import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import Redis from 'ioredis';
import { type Change, ChangeFeed } from '@responder/store';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../tokens';
import { SlackOutbox } from './slack-outbox';
import { CONNECTION_DEFAULTS } from '../redis/connection-options';

const GROUP = 'slack';
/** A change read by a replica that died unacknowledged is taken over after this long. */
const CLAIM_IDLE_MS = 30_000;

/**
 * Follows the change feed (every write to any incident's timeline, from any replica) and queues a
 * Slack sync of each incident that changed. A change is acknowledged only once its sync is queued:
 * a crash in between hands it to another replica, or to this one when it comes back.
 */
@Injectable()
export class SlackReporter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SlackReporter');
  private readonly consumer = `${hostname()}-${process.pid}`;
  private readonly stopping = new AbortController();
  /** Its own connection: XREADGROUP BLOCK holds a connection while it waits. */
  private readonly redis: Redis;
  private readonly feed: ChangeFeed;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly outbox: SlackOutbox,
  ) {
    this.redis = new Redis(config.redis.url, { ...CONNECTION_DEFAULTS, maxRetriesPerRequest: null, lazyConnect: true });
    this.redis.on('error', () => undefined);
    this.feed = new ChangeFeed(this.redis, config.redis.prefix);
  }

  onApplicationBootstrap(): void {
    this.loop = this.follow();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    // The blocking read returns within its block time; disconnecting ends it at once.
    this.redis.disconnect();
    await this.loop;
  }

  private async follow(): Promise<void> {
    let grouped = false;
    let lastClaim = 0;
    for (let delay = 250; !this.stopping.signal.aborted; ) {
      try {
        if (this.redis.status === 'wait') await this.redis.connect();
        if (!grouped) {
          await this.feed.ensureGroup(GROUP);
          grouped = true;
        }
        let claimed: Change[] = [];
        if (Date.now() - lastClaim > CLAIM_IDLE_MS / 2) {
          claimed = await this.feed.claimStale(GROUP, this.consumer, CLAIM_IDLE_MS);
          lastClaim = Date.now();
        }
        const changes = [...claimed, ...(await this.feed.read(GROUP, this.consumer, { blockMs: 1000, count: 200 }))];
        for (const incidentId of new Set(changes.map((c) => c.incidentId))) await this.outbox.sync(incidentId);
        await this.feed.ack(GROUP, changes.map((c) => c.id));
        delay = 250;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        this.logger.warn(`reading the change feed: ${(err as Error).message}; again in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }
}
