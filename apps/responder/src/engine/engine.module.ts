import { Global, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { MitigationHistory, RunStore } from '@responder/store';
import type { AppConfig } from '../config/config';
import { APP_CONFIG, REDIS } from '../tokens';
import { ApprovalService } from './approvals/approval.service';
import { AutomationService } from './automation.service';
import { EngineController } from './engine.controller';
import { JobRouter, jobHandlerProviders } from './jobs';
import { PlanSweep } from './plan-sweep';
import { RunContextLoader } from './run-context';
import { RunCoordinator } from './run-coordinator';
import { PlanListener } from './plan-listener';
import { RunEngine } from './run-engine.service';
import { Replanner } from './replanner';
import { RunbookRegistry } from './runbook-registry';
import { StepExecutor } from './step-executor';
import { StepQueue } from './step-queue';

@Global()
@Module({
  providers: [
    { provide: RunStore, inject: [REDIS, APP_CONFIG], useFactory: (redis: Redis, config: AppConfig) => new RunStore(redis, config.redis.prefix) },
    { provide: MitigationHistory, inject: [REDIS, APP_CONFIG], useFactory: (redis: Redis, config: AppConfig) => new MitigationHistory(redis, config.redis.prefix) },
    StepQueue,
    RunbookRegistry,
    RunContextLoader,
    RunCoordinator,
    Replanner,
    StepExecutor,
    ...jobHandlerProviders,
    JobRouter,
    PlanSweep,
    RunEngine,
    ApprovalService,
    AutomationService,
    PlanListener,
  ],
  controllers: [EngineController],
  exports: [RunStore, RunEngine, ApprovalService, AutomationService],
})
export class EngineModule {}
