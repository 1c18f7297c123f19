import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import Redis from 'ioredis';
import { type Change, ChangeFeed, IncidentStore, compareChangeIds } from '@responder/store';
import { type AppConfig, runsWorkers } from '../config/config';
import { APP_CONFIG } from '../tokens';
import { SlackOutbox } from './slack-outbox';
import { SlackSync } from './slack-sync.service';
import { CONNECTION_DEFAULTS } from '../redis/connection-options';

const GROUP = 'slack';
/** A change read by a replica that died unacknowledged is taken over after this long. */
const CLAIM_IDLE_MS = 30_000;
/** How long one read of the feed waits for changes. */
const BLOCK_MS = 1000;
/** Open incidents read per page when re-syncing them all. */
const RESYNC_PAGE = 200;
/** The last changes read, remembered to name the incidents Redis lost when it goes back in time. */
const RECENT_CHANGES = 5000;

/**
 * Follows the change feed (every write to any incident's timeline, from any replica) and queues a
 * Slack sync of each incident that changed. A change is acknowledged only once its sync is queued:
 * a crash in between hands it to another replica, or to this one when it comes back.
 *
 * The consumer group is created when missing: at the first boot, and whenever Redis comes back
 * without it (restarted without persistence, a failover to a replica that lagged, a flush), when
 * reads fail with NOGROUP. A new group starts at the changes made from then on, so each time it is
 * created every open incident is synced once: Slack's messages are derived from the store, and a
 * sync of an incident that Slack already shows changes nothing.
 *
 * Redis can also come back with the group but without its last writes (a failover to a replica
 * that lagged): after a connection error, the group's last delivered change is compared with the
 * last one this process read. Behind it, every open incident is re-synced, and the incidents of
 * the changes Redis no longer has are looked up: each one that is gone is reported (a warning, and
 * a note in its Slack thread when this process knows the thread), instead of being left to look
 * alive in Slack. The same report follows a group lost with everything else.
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
  /** The changes this process read last (id, incident), oldest first, at most RECENT_CHANGES. */
  private readonly recent: Change[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: SlackOutbox,
    private readonly incidents: IncidentStore,
    private readonly slackSync: SlackSync,
  ) {
    // The command timeout covers the blocking read's own wait: a Redis that stops answering fails
    // the read (and the loop retries) instead of holding it for good.
    this.redis = new Redis(config.redis.url, { ...CONNECTION_DEFAULTS, commandTimeout: BLOCK_MS + config.redis.commandTimeoutMs, maxRetriesPerRequest: null, lazyConnect: true });
    this.redis.on('error', () => undefined);
    this.feed = new ChangeFeed(this.redis, config.redis.prefix);
  }

  onApplicationBootstrap(): void {
    if (!runsWorkers(this.config)) return;
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
    let resync = false;
    let lastClaim = 0;
    /** Set by a failed read: Redis may have come back with less than it had. */
    let recheck = false;
    /** Changes from this id on (exclusive) were lost with Redis; '0' for all. */
    let lostAfter: string | null = null;
    for (let delay = 250; !this.stopping.signal.aborted; ) {
      try {
        if (this.redis.status === 'wait') await this.redis.connect();
        if (recheck && grouped && this.recent.length > 0) {
          const delivered = await this.feed.lastDelivered(GROUP);
          const last = this.recent[this.recent.length - 1].id;
          if (delivered !== null && compareChangeIds(delivered, last) < 0) {
            this.logger.warn(`the change feed went back in time (Redis has ${delivered}, this process read up to ${last}): Redis lost its last writes (a failover to a replica that lagged?): re-syncing every open incident`);
            lostAfter = delivered;
            resync = true;
          }
        }
        recheck = false;
        if (!grouped) {
          // The group first, then the re-sync: a change made in between is read from the group.
          const created = await this.feed.ensureGroup(GROUP);
          if (created && this.recent.length > 0) lostAfter = '0';
          resync = created || resync;
          grouped = true;
        }
        if (lostAfter !== null) {
          await this.reportLost(lostAfter);
          lostAfter = null;
        }
        if (resync) {
          const count = await this.resyncOpenIncidents();
          resync = false;
          if (count > 0) this.logger.log(`the change feed's consumer group was created: re-synced ${count} open incident(s) to Slack`);
        }
        let claimed: Change[] = [];
        if (Date.now() - lastClaim > CLAIM_IDLE_MS / 2) {
          claimed = await this.feed.claimStale(GROUP, this.consumer, CLAIM_IDLE_MS);
          lastClaim = Date.now();
        }
        const changes = [...claimed, ...(await this.feed.read(GROUP, this.consumer, { blockMs: BLOCK_MS, count: 200 }))];
        this.remember(changes);
        for (const incidentId of new Set(changes.map((c) => c.incidentId))) await this.outbox.sync(incidentId);
        await this.feed.ack(GROUP, changes.map((c) => c.id));
        delay = 250;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        const message = (err as Error).message;
        if (/NOGROUP/.test(message)) {
          // Redis lost the group (and likely more): recreate it at once and re-sync.
          this.logger.warn(`the change feed's consumer group '${GROUP}' is gone (Redis restarted empty or was flushed?): recreating it and re-syncing every open incident`);
          grouped = false;
          continue;
        }
        recheck = true;
        this.logger.warn(`reading the change feed: ${message}; again in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  private remember(changes: Change[]): void {
    for (const change of changes) {
      const last = this.recent[this.recent.length - 1];
      if (!last || compareChangeIds(last.id, change.id) < 0) this.recent.push(change);
    }
    if (this.recent.length > RECENT_CHANGES) this.recent.splice(0, this.recent.length - RECENT_CHANGES);
  }

  /**
   * The incidents of the changes read after `after` that Redis no longer has: each one is named in
   * a warning and, when this process knows its Slack thread, told there (once). The changes are
   * then forgotten: the feed starts again from what Redis has.
   */
  private async reportLost(after: string): Promise<void> {
    const ids = [...new Set(this.recent.filter((c) => compareChangeIds(c.id, after) > 0).map((c) => c.incidentId))];
    for (const incidentId of ids) {
      if (await this.incidents.get(incidentId)) continue;
      const thread = this.slackSync.threadOf(incidentId);
      this.logger.warn(
        { incidentId },
        `incident ${incidentId} is no longer in the store (Redis lost its last writes): its Slack messages are stale${thread ? ', saying so in its thread' : ''}`,
      );
      if (thread) await this.outbox.lost({ incidentId, ...thread });
    }
    // Only once all were looked up: an error on the way tries again (the note is one job per incident).
    this.recent.length = 0;
  }

  /** Queues a sync of every open incident (each sync is deduplicated per incident); returns how many. */
  private async resyncOpenIncidents(): Promise<number> {
    let count = 0;
    for (let offset = 0; ; offset += RESYNC_PAGE) {
      const { items } = await this.incidents.list({ status: 'open', limit: RESYNC_PAGE, offset });
      for (const incident of items) await this.outbox.sync(incident.id);
      count += items.length;
      if (items.length < RESYNC_PAGE) return count;
    }
  }
}
