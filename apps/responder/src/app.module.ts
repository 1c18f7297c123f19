import { type DynamicModule, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { Catalog } from '@responder/domain';
import { IncidentStore } from '@responder/store';
import type { AppConfig } from './config/config';
import { HealthController } from './health/health.controller';
import { IncidentsController } from './incidents/incidents.controller';
import { IntakeModule } from './intake/intake.module';
import { loggerParams } from './logging';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { RedisModule } from './redis/redis.module';
import { APP_CONFIG, CATALOG, REDIS } from './tokens';

export interface AppOptions {
  config: AppConfig;
  catalog: Catalog;
  /** Where logs go (tests capture them); stdout when absent. */
  logDestination?: DestinationStream;
}

@Module({})
export class AppModule {
  /** Configuration and catalog are validated before Nest starts (main.ts) and handed in here. */
  static forRoot({ config, catalog, logDestination }: AppOptions): DynamicModule {
    const core: DynamicModule = {
      module: CoreModule,
      global: true,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CATALOG, useValue: catalog },
        MetricsService,
        {
          provide: IncidentStore,
          inject: [REDIS],
          useFactory: (redis: Redis) =>
            new IncidentStore(redis, { prefix: config.redis.prefix, dedupeTtlSeconds: config.dedupeTtlSeconds, unattachedMaxLen: 100_000 }),
        },
      ],
      exports: [APP_CONFIG, CATALOG, MetricsService, IncidentStore],
    };
    return {
      module: AppModule,
      imports: [LoggerModule.forRoot(loggerParams(config, logDestination)), core, RedisModule, IntakeModule],
      controllers: [HealthController, MetricsController, IncidentsController],
    };
  }
}

@Module({})
class CoreModule {}
