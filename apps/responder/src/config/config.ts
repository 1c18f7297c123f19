import { z } from 'zod';
import { formatPath } from '@responder/domain';

/**
 * The service's configuration, validated once at boot. Secrets have no
 * defaults; a variable needed only by a feature is required only when that feature is on; an error
 * names the variable and never its value.
 */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/**
 * What one process does, so replicas can be split: `api` takes HTTP (intake, API, Slack requests,
 * Socket Mode) and SQS but runs no step or Slack-delivery worker; `worker` runs the step workers and
 * the Slack reporter and delivery, and answers only /health, /ready and /metrics; `all` does both.
 */
export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];

const secret = (min: number) => z.string().min(min, `must be at least ${min} characters`);
const url = (protocols: RegExp, example: string) =>
  z.string().refine((s) => URL.canParse(s) && protocols.test(new URL(s).protocol), `must be a URL such as ${example}`);
const int = (min: number, max: number) =>
  z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

const schema = z
  .object({
    PORT: int(1, 65535).default(3000),
    HOST: z.string().default('0.0.0.0'),
    REDIS_URL: url(/^rediss?:$/, 'redis://127.0.0.1:6379').default('redis://127.0.0.1:6379'),
    // Redis Cluster needs a hash tag ({responder}): every key, BullMQ's (`<prefix>:bull`) too, in one slot.
    REDIS_PREFIX: z.string().regex(/^[A-Za-z0-9:{}_-]+$/, 'must be letters, digits, ":", "_", "-" or a {hash-tag}').default('responder'),
    REDIS_COMMAND_TIMEOUT_MS: int(50, 60_000).default(500),
    AWS_REGION: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1').optional(),
    SERVICE_CATALOG: z.string().optional(),
    RUNBOOKS_DIR: z.string().default('runbooks'),
    INGEST_API_KEY: secret(16).optional(),
    ALARM_ACCOUNTS: z
      .string()
      .regex(/^\d{12}(\s*,\s*\d{12})*$/, 'must be 12-digit AWS account ids separated by commas')
      .transform((s) => s.split(',').map((a) => a.trim()))
      .optional(),
    SQS_QUEUE_URL: url(/^https?:$/, 'https://sqs.us-east-1.amazonaws.com/123456789012/responder-alarms').optional(),
    SQS_WAIT_SECONDS: int(1, 20).default(20),
    SLACK_BOT_TOKEN: z.string().startsWith('xoxb-', 'must be a bot token (xoxb-…)').optional(),
    SLACK_SIGNING_SECRET: secret(16).optional(),
    SLACK_APP_TOKEN: z.string().startsWith('xapp-', 'must be an app-level token (xapp-…)').optional(),
    SLACK_CHANNEL: z.string().optional(),
    SLACK_API_URL: url(/^https?:$/, 'https://slack.com/api/').optional(),
    SLACK_TEAM_ID: z.string().regex(/^T[A-Z0-9]+$/, 'must be a Slack workspace (team) id such as T0123ABCD').optional(),
    SLACK_REMINDER_SECONDS: int(1, 24 * 3600).default(600),
    SLACK_STAKEHOLDER_UPDATE_MINUTES: int(5, 24 * 60).default(30),
    API_TOKEN: secret(16).optional(),
    OIDC_ISSUER: z.string().min(1).optional(),
    OIDC_AUDIENCE: z.string().min(1).optional(),
    OIDC_JWKS_URL: url(/^https?:$/, 'https://login.example.com/.well-known/jwks.json').optional(),
    OIDC_USER_CLAIM: z.string().min(1).default('email'),
    RESPONDER_MODE: z.enum(['live', 'dry-run'], 'must be live or dry-run').default('live'),
    RESPONDER_ROLE: z.enum(ROLES, `must be one of ${ROLES.join(', ')}`).default('all'),
    LOG_LEVEL: z.enum(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`).default('info'),
    DEDUPE_TTL_SECONDS: int(60, 7 * 24 * 3600).default(48 * 3600),
    INCIDENT_RETENTION_DAYS: int(1, 10 * 365).default(90),
    ENGINE_CONCURRENCY: int(1, 256).default(32),
    ENGINE_STALLED_MS: int(1000, 10 * 60_000).default(30_000),
    ENGINE_PLAN_SWEEP_SECONDS: int(1, 3600).default(30),
    SHUTDOWN_GRACE_MS: int(0, 10 * 60_000).default(25_000),
  })
  .superRefine((env, ctx) => {
    if (env.SLACK_BOT_TOKEN && !env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message: 'is required when SLACK_BOT_TOKEN is set without SLACK_APP_TOKEN (HTTP mode)' });
    }
    if ((env.SLACK_APP_TOKEN || env.SLACK_SIGNING_SECRET) && !env.SLACK_BOT_TOKEN) {
      ctx.addIssue({ code: 'custom', path: ['SLACK_BOT_TOKEN'], message: 'is required when SLACK_APP_TOKEN or SLACK_SIGNING_SECRET is set' });
    }
    const oidc = ['OIDC_ISSUER', 'OIDC_AUDIENCE', 'OIDC_JWKS_URL'] as const;
    if (oidc.some((k) => env[k] !== undefined)) {
      for (const k of oidc) if (env[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `is required with ${oidc.filter((o) => env[o] !== undefined).join(', ')} (OIDC needs all three)` });
    }
  });

export interface AppConfig {
  port: number;
  host: string;
  /** commandTimeoutMs: how long a command waits for Redis's answer before it fails (see redis/connection-options.ts). */
  redis: { url: string; prefix: string; commandTimeoutMs: number };
  awsRegion?: string;
  /** Path of the service catalog; `explicit` is false when it is the default path. */
  catalog: { path: string; explicit: boolean };
  runbooksDir: string;
  ingestApiKey?: string;
  /** The AWS accounts whose alarms are taken; undefined: any. */
  alarmAccounts?: string[];
  sqs?: { queueUrl: string; waitSeconds: number };
  slack?: {
    botToken: string;
    signingSecret?: string;
    appToken?: string;
    channel?: string;
    apiUrl?: string;
    /** Only requests from this workspace are served; others are acknowledged, logged and ignored. */
    teamId?: string;
    /** A pending approval re-pings its approvers once after this long. */
    reminderSeconds: number;
    /** The "next update within" promise of stakeholder updates. */
    stakeholderUpdateMinutes: number;
  };
  /** The shared bearer token: reads and automation; it cannot approve or reject. */
  apiToken?: string;
  /** OIDC JWTs from the team's identity provider as per-person credentials; `userClaim` names the catalog user. */
  oidc?: { issuer: string; audience: string; jwksUrl: string; userClaim: string };
  mode: 'live' | 'dry-run';
  role: Role;
  logLevel: (typeof LOG_LEVELS)[number];
  dedupeTtlSeconds: number;
  /** How long a resolved incident (its timeline, runs, Slack state) is kept before the sweep removes it. */
  incidentRetentionDays: number;
  /** Step jobs one process runs at once; how long a crashed worker's job stays claimed (BullMQ lockDuration). */
  /** planSweepMs: how often open incidents with nothing planned yet are looked for (RunEngine.sweepUnplanned). */
  engine: { concurrency: number; stalledMs: number; shutdownGraceMs: number; planSweepMs: number };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Validates the environment; throws ConfigError with one line naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): AppConfig {
  // An empty value (FOO= in a compose file) means "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${formatPath(i.path)} ${i.message.replace(/^Invalid input: /, '')}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = result.data;
  return {
    port: e.PORT,
    host: e.HOST,
    redis: { url: e.REDIS_URL, prefix: e.REDIS_PREFIX, commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS },
    awsRegion: e.AWS_REGION,
    catalog: { path: e.SERVICE_CATALOG ?? `${e.RUNBOOKS_DIR.replace(/\/$/, '')}/service-catalog.yaml`, explicit: e.SERVICE_CATALOG !== undefined },
    runbooksDir: e.RUNBOOKS_DIR,
    ingestApiKey: e.INGEST_API_KEY,
    alarmAccounts: e.ALARM_ACCOUNTS,
    sqs: e.SQS_QUEUE_URL ? { queueUrl: e.SQS_QUEUE_URL, waitSeconds: e.SQS_WAIT_SECONDS } : undefined,
    slack: e.SLACK_BOT_TOKEN
      ? {
          botToken: e.SLACK_BOT_TOKEN,
          signingSecret: e.SLACK_SIGNING_SECRET,
          appToken: e.SLACK_APP_TOKEN,
          channel: e.SLACK_CHANNEL,
          apiUrl: e.SLACK_API_URL,
          teamId: e.SLACK_TEAM_ID,
          reminderSeconds: e.SLACK_REMINDER_SECONDS,
          stakeholderUpdateMinutes: e.SLACK_STAKEHOLDER_UPDATE_MINUTES,
        }
      : undefined,
    apiToken: e.API_TOKEN,
    oidc: e.OIDC_ISSUER && e.OIDC_AUDIENCE && e.OIDC_JWKS_URL ? { issuer: e.OIDC_ISSUER, audience: e.OIDC_AUDIENCE, jwksUrl: e.OIDC_JWKS_URL, userClaim: e.OIDC_USER_CLAIM } : undefined,
    mode: e.RESPONDER_MODE,
    role: e.RESPONDER_ROLE,
    logLevel: e.LOG_LEVEL,
    dedupeTtlSeconds: e.DEDUPE_TTL_SECONDS,
    incidentRetentionDays: e.INCIDENT_RETENTION_DAYS,
    engine: { concurrency: e.ENGINE_CONCURRENCY, stalledMs: e.ENGINE_STALLED_MS, shutdownGraceMs: e.SHUTDOWN_GRACE_MS, planSweepMs: e.ENGINE_PLAN_SWEEP_SECONDS * 1000 },
  };
}

/** A Redis URL fit for a log line: the password replaced. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Whether this process takes requests (HTTP beyond health and metrics, Slack, SQS). */
export const servesRequests = (config: Pick<AppConfig, 'role'>): boolean => config.role !== 'worker';
/** Whether this process runs the step workers and delivers to Slack. */
export const runsWorkers = (config: Pick<AppConfig, 'role'>): boolean => config.role !== 'api';
