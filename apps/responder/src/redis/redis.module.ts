import { Global, Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { redisDurabilityWarnings } from '@responder/store';
import { type AppConfig, redactUrl } from '../config/config';
import { APP_CONFIG, REDIS } from '../tokens';
import { timedConnection } from './connection-options';

/**
 * One Redis connection for the store. No offline queue: when Redis is down a command fails at once
 * and the intake answers 503 (EventBridge retries), instead of piling requests up in memory; when
 * it hangs, the command timeout does the same.
 */
@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new Redis(config.redis.url, {
          ...timedConnection(config),
          lazyConnect: true,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: 5000,
          retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
        }),
    },
  ],
  exports: [REDIS],
})
export class RedisModule implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    this.redis.on('ready', () => void this.checkDurability());
    this.redis.on('error', (err: Error) => this.logger.warn(`Redis: ${err.message}`));
    try {
      await this.redis.connect();
    } catch (err) {
      // Keep starting: /ready says "not ready" and ioredis reconnects in the background.
      this.logger.error(`Redis does not answer at ${redactUrl(this.config.redis.url)}: ${(err as Error).message}`);
    }
  }

  private async checkDurability(): Promise<void> {
    try {
      for (const warning of await redisDurabilityWarnings(this.redis)) this.logger.warn(warning);
    } catch (err) {
      this.logger.warn(`could not read Redis INFO to check persistence: ${(err as Error).message}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit();
    else this.redis.disconnect();
  }
}
