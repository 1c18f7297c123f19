import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand, type MetricDataQuery, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { clientRegion } from './region';
import { toActionError } from './errors';

/** Attempts per call, the first included (the SDK's retry of throttling, 5xx and network errors). */
export const CLOUDWATCH_MAX_ATTEMPTS = 5;

/** GetMetricData's limit of queries per request. */
export const MAX_METRIC_QUERIES = 500;

/** Pages read at most: each page carries up to 100,800 points, far beyond what one action asks for. */
const MAX_PAGES = 20;

/** One metric, one statistic, one period: exactly what the RCA shows as "the query". */
export interface MetricQuery {
  /** GetMetricData's query id: `^[a-z][a-zA-Z0-9_]*$`. */
  id: string;
  label: string;
  namespace: string;
  name: string;
  dimensions: Record<string, string>;
  /** Sum, Average, Maximum, p99, ... */
  stat: string;
  /** Seconds, a multiple of 60. */
  period: number;
}

export interface MetricPoint {
  /** Epoch milliseconds. */
  t: number;
  v: number;
}

export interface MetricSeries {
  id: string;
  /** Oldest first. */
  points: MetricPoint[];
  /** CloudWatch's status: Complete, PartialData (the page limit was reached), InternalError, Forbidden. */
  status: string;
}

/** An alarm's current state, as DescribeAlarms reports it (metric and composite alarms alike). */
export interface AlarmState {
  name: string;
  /** OK, ALARM or INSUFFICIENT_DATA. */
  state: string;
  /** CloudWatch's StateReason for the last change. */
  reason: string | null;
  /** ISO time of the last state change (StateUpdatedTimestamp). */
  updatedAt: string | null;
}

/** DescribeAlarms takes at most 100 names per request. */
const MAX_ALARM_NAMES = 100;

export interface CloudWatchCallOptions {
  abortSignal?: AbortSignal;
}

export interface CloudWatchAdapterOptions {
  /** Default: the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** A ready client (tests, shared configuration). The adapter owns it from then on: `close()` destroys it. */
  client?: CloudWatchClient;
}

/**
 * CloudWatch metrics, read only; no SDK type leaves this file. Credentials and endpoint as for every
 * adapter here (AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_CLOUDWATCH apply). Errors through `toActionError`:
 * AccessDenied names `cloudwatch:GetMetricData`; other refusals are permanent; throttling and 5xx that
 * outlast the SDK's attempts are plain errors for the step to retry.
 */
export class CloudWatchAdapter {
  private readonly client: CloudWatchClient;

  constructor(options: CloudWatchAdapterOptions = {}) {
    this.client = options.client ?? new CloudWatchClient({ region: options.region, maxAttempts: CLOUDWATCH_MAX_ATTEMPTS });
  }

  /**
   * The series of every query over [start, end), in the order asked for: one GetMetricData request,
   * read page by page (NextToken) until done or MAX_PAGES. A query CloudWatch has no data for gives
   * an empty series.
   */
  async metricData(queries: readonly MetricQuery[], window: { start: Date; end: Date }, options: CloudWatchCallOptions = {}): Promise<MetricSeries[]> {
    if (queries.length === 0) return [];
    if (queries.length > MAX_METRIC_QUERIES) throw new Error(`GetMetricData takes at most ${MAX_METRIC_QUERIES} queries, got ${queries.length}`);
    const request: MetricDataQuery[] = queries.map((q) => ({
      Id: q.id,
      Label: q.label,
      ReturnData: true,
      MetricStat: {
        Metric: { Namespace: q.namespace, MetricName: q.name, Dimensions: Object.entries(q.dimensions).map(([Name, Value]) => ({ Name, Value })) },
        Period: q.period,
        Stat: q.stat,
      },
    }));
    const byId = new Map<string, MetricSeries>(queries.map((q) => [q.id, { id: q.id, points: [], status: 'Complete' }]));
    let nextToken: string | undefined;
    let pages = 0;
    try {
      do {
        const out = await this.client.send(
          new GetMetricDataCommand({ MetricDataQueries: request, StartTime: window.start, EndTime: window.end, ScanBy: 'TimestampAscending', NextToken: nextToken }),
          { abortSignal: options.abortSignal },
        );
        for (const result of out.MetricDataResults ?? []) addPage(byId, result);
        nextToken = out.NextToken;
        pages++;
      } while (nextToken && pages < MAX_PAGES);
    } catch (error) {
      throw toActionError(error, { iamAction: 'cloudwatch:GetMetricData', resource: `metrics ${queries.map((q) => `${q.namespace}/${q.name}`).join(', ')}` });
    }
    const series = queries.map((q) => byId.get(q.id)!);
    for (const s of series) {
      s.points.sort((a, b) => a.t - b.t);
      if (nextToken) s.status = 'PartialData';
    }
    return series;
  }

  /**
   * The current state of the named alarms (metric and composite), in the order asked for, duplicates
   * dropped; an alarm that does not exist is left out (DescribeAlarms does not fail for it). Requests
   * of at most 100 names, each read page by page (NextToken). An empty list returns [] without a call.
   */
  async alarmStates(names: readonly string[], options: CloudWatchCallOptions = {}): Promise<AlarmState[]> {
    const unique = [...new Set(names)];
    const byName = new Map<string, AlarmState>();
    try {
      for (let i = 0; i < unique.length; i += MAX_ALARM_NAMES) {
        const batch = unique.slice(i, i + MAX_ALARM_NAMES);
        let nextToken: string | undefined;
        do {
          const out = await this.client.send(
            new DescribeAlarmsCommand({ AlarmNames: batch, AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: nextToken }),
            { abortSignal: options.abortSignal },
          );
          for (const a of [...(out.MetricAlarms ?? []), ...(out.CompositeAlarms ?? [])]) {
            if (!a.AlarmName) continue;
            byName.set(a.AlarmName, {
              name: a.AlarmName,
              state: a.StateValue ?? 'INSUFFICIENT_DATA',
              reason: a.StateReason ?? null,
              updatedAt: a.StateUpdatedTimestamp?.toISOString() ?? null,
            });
          }
          nextToken = out.NextToken;
        } while (nextToken);
      }
    } catch (error) {
      throw toActionError(error, { iamAction: 'cloudwatch:DescribeAlarms', resource: `alarms ${unique.join(', ')}` });
    }
    return unique.flatMap((n) => byName.get(n) ?? []);
  }

  /** The client's region (for console links), or null when none resolves. */
  region(): Promise<string | null> {
    return clientRegion(this.client);
  }

  close(): void {
    this.client.destroy();
  }
}

function addPage(byId: Map<string, MetricSeries>, result: MetricDataResult): void {
  const series = result.Id ? byId.get(result.Id) : undefined;
  if (!series) return;
  const timestamps = result.Timestamps ?? [];
  const values = result.Values ?? [];
  for (let i = 0; i < Math.min(timestamps.length, values.length); i++) series.points.push({ t: timestamps[i].getTime(), v: values[i] });
  // AWS marks every page but the last PartialData: the last page's status stands, unless an earlier one was an error.
  if (series.status === 'Complete' || series.status === 'PartialData') series.status = result.StatusCode ?? 'Complete';
}
