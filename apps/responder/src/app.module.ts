import { type DynamicModule, Module } from '@nestjs/common';
import type Redis from 'ioredis';
import { LoggerModule } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import type { AnyAction, Catalog, GoalChecker } from '@responder/domain';
import { awsGoalChecks } from '@responder/aws/actions';
import { BUILTIN_ACTIONS, type Runbook } from '@responder/runbooks';
import { ApiTokenStore, IncidentStore } from '@responder/store';
import type { AppConfig } from './config/config';
import { HealthController } from './health/health.controller';
import { OidcVerifier } from './http/oidc.verifier';
import { IncidentsModule } from './incidents/incidents.module';
import { NOTE_MAX_CHARS, NotesService } from './incidents/notes.service';
import { PostmortemService, postmortemBody } from './incidents/postmortem.service';
import { IntakeModule } from './intake';
import { loggerParams } from './logging';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { RedisModule } from './redis/redis.module';
import { ManualRunService } from './runbooks/manual-run.service';
import { RunbooksModule } from './runbooks/runbooks.module';
import { ACTIONS, APP_CONFIG, CATALOG, GOAL_CHECKER, REDIS, RUNBOOKS } from './tokens';
import { EngineModule } from './engine';
import { INCIDENT_ACTIONS, type IncidentActions } from './slack/incident-actions';
import { SlackModule } from './slack/slack.module';

export interface AppOptions {
  config: AppConfig;
  catalog: Catalog;
  /** Validated runbooks (main.ts loads them from RUNBOOKS_DIR). */
  runbooks?: Runbook[];
  /** Actions besides the built-in ones (the AWS actions; tests add their own). */
  actions?: AnyAction[];
  /** The goal checks of mutating steps; default: on AWS (libs/aws goal-checks.ts). */
  goalChecker?: GoalChecker;
  /** Where logs go (tests capture them); stdout when absent. */
  logDestination?: DestinationStream;
}

@Module({})
export class AppModule {
  /** Configuration and catalog are validated before Nest starts (main.ts) and handed in here. */
  static forRoot({ config, catalog, runbooks = [], actions = [], goalChecker, logDestination }: AppOptions): DynamicModule {
    const core: DynamicModule = {
      module: CoreModule,
      global: true,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CATALOG, useValue: catalog },
        { provide: RUNBOOKS, useValue: runbooks },
        { provide: ACTIONS, useValue: [...BUILTIN_ACTIONS, ...actions] },
        { provide: GOAL_CHECKER, useValue: goalChecker ?? awsGoalChecks({ region: config.awsRegion }) },
        MetricsService,
        {
          provide: IncidentStore,
          inject: [REDIS],
          useFactory: (redis: Redis) =>
            new IncidentStore(redis, { prefix: config.redis.prefix, dedupeTtlSeconds: config.dedupeTtlSeconds, unattachedMaxLen: 100_000 }),
        },
        { provide: ApiTokenStore, inject: [REDIS], useFactory: (redis: Redis) => new ApiTokenStore(redis, config.redis.prefix) },
        OidcVerifier,
        { provide: INCIDENT_ACTIONS, inject: [NotesService, PostmortemService, ManualRunService], useFactory: incidentActions },
      ],
      exports: [APP_CONFIG, CATALOG, RUNBOOKS, ACTIONS, GOAL_CHECKER, MetricsService, IncidentStore, ApiTokenStore, OidcVerifier, INCIDENT_ACTIONS],
    };
    return {
      module: AppModule,
      imports: [LoggerModule.forRoot(loggerParams(config, logDestination)), core, RedisModule, EngineModule, IntakeModule, IncidentsModule, RunbooksModule, ...(config.slack ? [SlackModule] : [])],
      controllers: [HealthController, MetricsController],
    };
  }
}

@Module({})
class CoreModule {}

/** Slack's `/incident note`, `postmortem` and `run`, bound to the services the HTTP API uses. */
function incidentActions(notes: NotesService, postmortems: PostmortemService, manualRuns: ManualRunService): IncidentActions {
  return {
    noteMaxChars: NOTE_MAX_CHARS,
    addNote: async (incidentId, { author, text }) => (await notes.add(incidentId, { author, text, source: 'slack' })) !== null,
    parsePostmortem: (input) => {
      const parsed = postmortemBody.safeParse(input);
      return parsed.success ? { ok: true, change: parsed.data } : { ok: false, messages: parsed.error.issues.map((i) => i.message) };
    },
    setPostmortem: (incidentId, change, by) => postmortems.set(incidentId, change, by, 'slack'),
    startRun: (request) => manualRuns.start(request),
  };
}
