import { Global, Inject, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type Redis from 'ioredis';
import { SlackWeb } from '@responder/slack';
import { SlackMessageStore } from '@responder/store';
import { type AppConfig, runsWorkers } from '../config/config';
import { APPROVER_DIRECTORY, type ApproverDirectory } from '../engine';
import { APP_CONFIG, REDIS } from '../tokens';
import { ClickInbox } from './click-inbox';
import { IncidentViewLoader } from './incident-view.loader';
import { SlackBolt } from './slack-bolt';
import { SlackHandlersService } from './slack-handlers.service';
import { SlackOutbox } from './slack-outbox';
import { SlackReporter } from './slack-reporter.service';
import { SlackSync } from './slack-sync.service';

/** How long a Slack user group's members are remembered: a click should not wait on Slack. */
const USER_GROUP_CACHE_MS = 60_000;

/** Slack user group members for approver checks, cached briefly. */
function userGroupDirectory(web: SlackWeb): ApproverDirectory {
  const cache = new Map<string, { at: number; members: Promise<string[]> }>();
  return {
    userGroupMembers(groupId: string): Promise<string[]> {
      const hit = cache.get(groupId);
      if (hit && Date.now() - hit.at < USER_GROUP_CACHE_MS) return hit.members;
      const members = web.userGroupMembers(groupId);
      cache.set(groupId, { at: Date.now(), members });
      members.catch(() => cache.delete(groupId));
      return members;
    },
  };
}

/** Slack, when SLACK_BOT_TOKEN is set (AppModule imports this module only then). */
@Global()
@Module({
  providers: [
    { provide: SlackWeb, inject: [APP_CONFIG], useFactory: (config: AppConfig) => new SlackWeb({ token: config.slack!.botToken, apiUrl: config.slack!.apiUrl }) },
    { provide: APPROVER_DIRECTORY, inject: [SlackWeb], useFactory: userGroupDirectory },
    { provide: SlackMessageStore, inject: [REDIS, APP_CONFIG], useFactory: (redis: Redis, config: AppConfig) => new SlackMessageStore(redis, config.redis.prefix) },
    IncidentViewLoader,
    SlackOutbox,
    SlackSync,
    SlackReporter,
    ClickInbox,
    SlackHandlersService,
    SlackBolt,
  ],
  exports: [APPROVER_DIRECTORY, SlackBolt],
})
export class SlackModule implements OnApplicationBootstrap {
  constructor(
    private readonly outbox: SlackOutbox,
    private readonly sync: SlackSync,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (runsWorkers(this.config)) this.outbox.startWorker((job) => this.sync.process(job));
  }
}
