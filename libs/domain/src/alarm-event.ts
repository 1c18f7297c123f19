import { z } from 'zod';
import { type Parsed, toProblems } from './validation';

/**
 * The EventBridge event CloudWatch emits when an alarm changes state
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html).
 * Metric alarms carry `configuration.metrics` with `metricStat`; metric-math alarms carry metrics
 * with an `expression`; composite alarms carry `configuration.alarmRule` and no metrics.
 */
export const ALARM_DETAIL_TYPE = 'CloudWatch Alarm State Change';
export const ALARM_SOURCE = 'aws.cloudwatch';
export const ALARM_STATES = ['ALARM', 'OK', 'INSUFFICIENT_DATA'] as const;
export type AlarmStateValue = (typeof ALARM_STATES)[number];
export type AlarmKind = 'metric' | 'metric-math' | 'composite';

/** CloudWatch writes "2019-10-02T17:04:40.989+0000"; EventBridge's `time` is "2019-10-02T17:04:40Z". */
const timestamp = z
  .string({ error: 'expected a timestamp string' })
  .refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'expected an ISO 8601 timestamp such as "2019-10-02T17:04:40.989+0000"',
  });

/**
 * Bounded by CloudWatch's own limits (StateReason 1023, StateReasonData 4000, AlarmDescription 1024,
 * AlarmName 255): a longer value is not from CloudWatch, and would otherwise be stored and shown.
 */
const text = (max: number) => z.string().max(max, `expected at most ${max} characters`);

/**
 * CloudWatch alarm names are 1-255 printable characters. Anything else cannot come from CloudWatch,
 * and a control character or a bidirectional override would garble (or disguise) the name in logs,
 * Slack and the RCA: refused, naming the first offending code point.
 */
export const ALARM_NAME_MAX = 255;
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u;
const alarmName = z
  .string({ error: 'expected the alarm name as a string' })
  .min(1, 'expected a non-empty alarm name')
  .max(ALARM_NAME_MAX, `expected at most ${ALARM_NAME_MAX} characters (CloudWatch's limit)`)
  .superRefine((name, ctx) => {
    const bad = UNPRINTABLE.exec(name);
    if (!bad) return;
    const codePoint = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    ctx.addIssue({ code: 'custom', message: `expected printable characters only, found ${codePoint} at position ${bad.index}` });
  });

const state = z.object({
  value: z.enum(ALARM_STATES),
  reason: text(1023),
  reasonData: text(4000).optional(),
  timestamp,
  actionsSuppressedBy: z.string().optional(),
  actionsSuppressedReason: z.string().optional(),
});

const metric = z
  .object({
    id: z.string(),
    metricStat: z
      .object({
        metric: z.object({
          namespace: z.string(),
          name: z.string(),
          dimensions: z.record(z.string(), z.string()).optional(),
        }),
        period: z.number(),
        stat: z.string(),
        unit: z.string().optional(),
      })
      .optional(),
    expression: z.string().optional(),
    label: z.string().optional(),
    returnData: z.boolean().optional(),
  })
  .refine((m) => m.metricStat !== undefined || m.expression !== undefined, {
    message: 'expected a metric with "metricStat" or "expression"',
  });

const configuration = z.object({
  description: text(1024).optional(),
  metrics: z.array(metric).optional(),
  alarmRule: z.string().optional(),
  actionsSuppressor: z.string().optional(),
});

const eventSchema = z.object({
  version: z.string(),
  id: text(256).min(1, 'expected a non-empty event id'),
  'detail-type': z.literal(ALARM_DETAIL_TYPE),
  source: z.literal(ALARM_SOURCE),
  account: z.string().regex(/^\d{12}$/, 'expected a 12-digit AWS account id'),
  time: timestamp,
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'expected an AWS region such as "us-east-1"'),
  resources: z.array(z.string()),
  detail: z.object({
    alarmName,
    state,
    previousState: state.optional(),
    configuration: configuration.optional(),
    alarmTags: z.record(z.string(), z.string()).optional(),
  }),
});

/** An alarm state change, as Responder keeps it: flat, with parsed times (epoch ms). */
export interface AlarmEvent {
  eventId: string;
  account: string;
  region: string;
  eventTime: string;
  alarmName: string;
  alarmArn: string;
  kind: AlarmKind;
  state: AlarmStateValue;
  previousState?: AlarmStateValue;
  reason: string;
  /** The alarm's own state-change time (not the event's delivery time). */
  stateChangedAt: string;
  stateChangedAtMs: number;
  description?: string;
  /** Metric ids and expressions / namespaces, for the timeline and later diagnostics. */
  metrics: string[];
  alarmRule?: string;
}

function arnOf(resources: string[], region: string, account: string, alarmName: string): string {
  const fromResources = resources.find((r) => /^arn:aws[a-z-]*:cloudwatch:[^:]+:\d{12}:alarm:/.test(r));
  return fromResources ?? `arn:aws:cloudwatch:${region}:${account}:alarm:${alarmName}`;
}

/** Validates an EventBridge event and reduces it to an AlarmEvent, or says precisely what is wrong. */
export function parseAlarmEvent(body: unknown): Parsed<AlarmEvent> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    const got = Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body;
    return { ok: false, problems: [{ path: '(body)', message: `expected one EventBridge event (a JSON object), got ${got}` }] };
  }
  // Name the wrong detail-type or source alone: the rest of the errors would be noise for another event type.
  const head = body as Record<string, unknown>;
  for (const [field, expected] of [
    ['detail-type', ALARM_DETAIL_TYPE],
    ['source', ALARM_SOURCE],
  ] as const) {
    if (head[field] !== undefined && head[field] !== expected) {
      return {
        ok: false,
        problems: [{ path: field, message: `expected "${expected}", got ${JSON.stringify(head[field])?.slice(0, 80)}` }],
      };
    }
  }
  const result = eventSchema.safeParse(body, { reportInput: true });
  if (!result.success) return { ok: false, problems: toProblems(result.error) };
  const e = result.data;
  const config = e.detail.configuration;
  const kind: AlarmKind = config?.alarmRule
    ? 'composite'
    : config?.metrics?.some((m) => m.expression !== undefined)
      ? 'metric-math'
      : 'metric';
  const metrics = (config?.metrics ?? []).map((m) =>
    m.expression !== undefined
      ? `${m.id} = ${m.expression}`
      : `${m.id}: ${m.metricStat!.metric.namespace} ${m.metricStat!.metric.name} ${m.metricStat!.stat}/${m.metricStat!.period}s`,
  );
  const changedAtMs = Date.parse(e.detail.state.timestamp);
  return {
    ok: true,
    value: {
      eventId: e.id,
      account: e.account,
      region: e.region,
      eventTime: new Date(Date.parse(e.time)).toISOString(),
      alarmName: e.detail.alarmName,
      alarmArn: arnOf(e.resources, e.region, e.account, e.detail.alarmName),
      kind,
      state: e.detail.state.value,
      previousState: e.detail.previousState?.value,
      reason: e.detail.state.reason,
      stateChangedAt: new Date(changedAtMs).toISOString(),
      stateChangedAtMs: changedAtMs,
      description: config?.description,
      metrics,
      alarmRule: config?.alarmRule,
    },
  };
}
