import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { type Change, IncidentStore } from '@responder/store';
import { type AppConfig, runsWorkers } from '../config/config';
import { ChangeFeedConsumer, type ChangeFeedReader, type FeedRestart } from '../redis/change-feed-consumer';
import { APP_CONFIG } from '../tokens';
import { SlackOutbox } from './slack-outbox';
import { SlackSync } from './slack-sync.service';

/** Open incidents read per page when re-syncing them all. */
const RESYNC_PAGE = 200;
/** The last changes read, remembered to name the incidents Redis lost when it goes back in time. */
const RECENT_CHANGES = 5000;

/**
 * Follows the change feed (every write to any incident's timeline, from any replica; consumer group
 * `slack`, read by ChangeFeedConsumer) and queues a Slack sync of each incident that changed. A
 * change is acknowledged only once its sync is queued: a crash in between hands it to another
 * replica, or to this one when it comes back.
 *
 * The group starts afresh when it is created (the first boot, Redis came back without it) and when
 * Redis went back in time (a failover to a replica that lagged: noticed after any connection close).
 * The changes made before are not read then, so every open incident is synced once: Slack's messages
 * are derived from the store, and a sync of an incident that Slack already shows changes nothing.
 * The incidents of the changes this process read that Redis no longer has are looked up: each one
 * that is gone is reported (a warning, and a note in its Slack thread when this process knows the
 * thread), instead of being left to look alive in Slack.
 */
@Injectable()
export class SlackReporter implements ChangeFeedReader, OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly group = 'slack';
  readonly remember = RECENT_CHANGES;
  private readonly logger = new Logger('SlackReporter');
  private readonly feed: ChangeFeedConsumer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly outbox: SlackOutbox,
    private readonly incidents: IncidentStore,
    private readonly slackSync: SlackSync,
  ) {
    this.feed = new ChangeFeedConsumer(config.redis, this, 'SlackReporter');
  }

  onApplicationBootstrap(): void {
    if (!runsWorkers(this.config)) return;
    this.feed.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.feed.stop();
  }

  /** One sync job per incident of the batch (each deduplicated per incident by the outbox), queued together. */
  async handle(changes: Change[]): Promise<void> {
    await Promise.all([...new Set(changes.map((c) => c.incidentId))].map((id) => this.outbox.sync(id)));
  }

  async restart({ created, lost }: FeedRestart): Promise<void> {
    await this.reportLost(lost);
    const count = await this.resyncOpenIncidents();
    if (count > 0) this.logger.log(`the change feed's consumer group ${created ? 'was created' : 'went back in time'}: re-synced ${count} open incident(s) to Slack`);
  }

  /**
   * The incidents of these changes that Redis no longer has: each one is named in a warning and,
   * when this process knows its Slack thread, told there (once: one job per incident).
   */
  private async reportLost(lost: Change[]): Promise<void> {
    for (const incidentId of new Set(lost.map((c) => c.incidentId))) {
      if (await this.incidents.get(incidentId)) continue;
      const thread = this.slackSync.threadOf(incidentId);
      this.logger.warn(
        { incidentId },
        `incident ${incidentId} is no longer in the store (Redis lost its last writes): its Slack messages are stale${thread ? ', saying so in its thread' : ''}`,
      );
      if (thread) await this.outbox.lost({ incidentId, ...thread });
    }
  }

  /** Queues a sync of every open incident (each sync is deduplicated per incident); returns how many. */
  private async resyncOpenIncidents(): Promise<number> {
    let count = 0;
    for (let offset = 0; ; offset += RESYNC_PAGE) {
      const { items } = await this.incidents.list({ status: 'open', limit: RESYNC_PAGE, offset });
      await Promise.all(items.map((incident) => this.outbox.sync(incident.id)));
      count += items.length;
      if (items.length < RESYNC_PAGE) return count;
    }
  }
}
