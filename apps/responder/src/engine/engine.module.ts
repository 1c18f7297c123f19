import { Global, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { RunStore } from '@responder/store';
import type { AppConfig } from '../config/config';
import { APP_CONFIG, REDIS } from '../tokens';
import { ApprovalService } from './approval.service';
import { AutomationService } from './automation.service';
import { EngineController } from './engine.controller';
import { PlanListener } from './plan-listener';
import { RunEngine } from './run-engine.service';
import { StepQueue } from './step-queue';

@Global()
@Module({
  providers: [
    { provide: RunStore, inject: [REDIS, APP_CONFIG], useFactory: (redis: Redis, config: AppConfig) => new RunStore(redis, config.redis.prefix) },
    StepQueue,
    RunEngine,
    ApprovalService,
    AutomationService,
    PlanListener,
  ],
  controllers: [EngineController],
  exports: [RunStore, RunEngine, ApprovalService, AutomationService],
})
export class EngineModule {}
