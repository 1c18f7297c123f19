import { type Action, type ActionContext, type ActionResult, PermanentActionError } from '@responder/domain';
import type { CloudWatchAdapter, MetricQuery, MetricSeries } from '../cloudwatch.adapter';
import { rdsClusterLink } from '../console-links';
import type { AuroraCluster, AuroraMember, RdsAdapter, RdsEvent } from '../rds.adapter';

export const AURORA_HEALTH_ID = 'aurora.health';

/** Events are read from this long before `since`: a failover that began just before the alarm matters. */
export const EVENTS_LOOKBACK_MS = 30 * 60_000;
/** Metrics cover the last 10 minutes, one point a minute. */
export const METRICS_WINDOW_MS = 10 * 60_000;
/** A reader this far behind (AuroraReplicaLag, ms) makes the cluster degraded: Aurora replicas are normally under 100 ms. */
export const REPLICA_LAG_DEGRADED_MS = 1000;

export type AuroraVerdict = 'healthy' | 'degraded' | 'writer-down';

export interface AuroraMemberHealth extends AuroraMember {
  /** Max DatabaseConnections over the window; null without data. */
  connections: number | null;
  /** Max AuroraReplicaLag (ms) over the window, readers only; null without data. */
  replicaLagMs: number | null;
}

export interface AuroraHealthOutput extends Record<string, unknown> {
  cluster: string;
  /** The cluster in the RDS console; null when the region is unknown (absent from older outputs). */
  link?: string | null;
  status: string;
  engine: string | null;
  writer: { instanceId: string; status: string; availabilityZone: string | null } | null;
  readers: Array<{ instanceId: string; status: string; availabilityZone: string | null; promotionTier: number | null; replicaLagMs: number | null }>;
  members: AuroraMemberHealth[];
  events: RdsEvent[];
  failoverInProgress: boolean;
  healthiestReader: string | null;
  verdict: AuroraVerdict;
  reasons: string[];
  metricsWindow: { start: string; end: string };
}

export interface AuroraHealthParams {
  cluster: string;
  /** Events from `since − 30 min`; default now. */
  since: Date | null;
}

export function auroraClusterParam(actionId: string, params: Record<string, unknown>): string {
  const cluster = params.cluster;
  if (typeof cluster !== 'string' || cluster.trim() === '') {
    throw new PermanentActionError(`${actionId}: "cluster" must be a non-empty string, got ${JSON.stringify(cluster) ?? 'nothing'}`);
  }
  return cluster.trim();
}

export function auroraHealthParams(params: Record<string, unknown>): AuroraHealthParams {
  const cluster = auroraClusterParam(AURORA_HEALTH_ID, params);
  const since = params.since;
  if (since === undefined || since === null || since === '') return { cluster, since: null };
  const parsed = typeof since === 'string' ? new Date(since) : null;
  if (!parsed || Number.isNaN(parsed.getTime())) throw new PermanentActionError(`${AURORA_HEALTH_ID}: "since" must be an ISO time, got ${JSON.stringify(since)}`);
  return { cluster, since: parsed };
}

type FailoverEventKind = 'started' | 'completed' | 'other';

/** RDS words its cluster failover events "Started cross AZ failover to DB instance: x", "Completed failover to DB instance: x", "…has begun", "…has finished". */
export function failoverEventKind(message: string): FailoverEventKind {
  if (/\b(completed|finished|failed)\b/i.test(message)) return 'completed';
  if (/\b(start(ed|ing)?|begun|began|in progress|restarted)\b/i.test(message)) return 'started';
  return 'other';
}

/** Cluster status 'failing-over', or a failover event that started with no completed one after it. */
export function isFailoverInProgress(status: string, events: readonly RdsEvent[]): boolean {
  if (status === 'failing-over') return true;
  let open = false;
  for (const e of [...events].sort((a, b) => (a.at ?? '').localeCompare(b.at ?? ''))) {
    const kind = failoverEventKind(e.message);
    if (kind === 'started') open = true;
    else if (kind === 'completed') open = false;
  }
  return open;
}

/** The available reader with the best (lowest) promotion tier, then the lowest replica lag (no data last); null when none. */
export function healthiestReader(members: readonly AuroraMemberHealth[]): string | null {
  const candidates = members
    .filter((m) => m.role === 'reader' && m.status === 'available')
    .sort(
      (a, b) =>
        (a.promotionTier ?? 16) - (b.promotionTier ?? 16) ||
        (a.replicaLagMs ?? Number.POSITIVE_INFINITY) - (b.replicaLagMs ?? Number.POSITIVE_INFINITY) ||
        a.instanceId.localeCompare(b.instanceId),
    );
  return candidates[0]?.instanceId ?? null;
}

/** The verdict and the reasons for it, from the cluster, its members' health and whether a failover runs. */
export function auroraVerdict(cluster: { status: string }, members: readonly AuroraMemberHealth[], failoverInProgress: boolean): { verdict: AuroraVerdict; reasons: string[] } {
  const reasons: string[] = [];
  const writer = members.find((m) => m.role === 'writer');
  let writerDown = false;
  if (!writer) {
    writerDown = true;
    reasons.push('the cluster has no writer');
  } else if (writer.status !== 'available') {
    writerDown = true;
    reasons.push(`the writer ${writer.instanceId} is ${writer.status}`);
  }
  if (cluster.status !== 'available') reasons.push(`the cluster is ${cluster.status}`);
  if (failoverInProgress && cluster.status !== 'failing-over') reasons.push('a failover is under way');
  for (const m of members) {
    if (m.role !== 'reader') continue;
    if (m.status !== 'available') reasons.push(`the reader ${m.instanceId} is ${m.status}`);
    else if (m.replicaLagMs !== null && m.replicaLagMs >= REPLICA_LAG_DEGRADED_MS) reasons.push(`the reader ${m.instanceId} lags ${Math.round(m.replicaLagMs)} ms behind the writer`);
  }
  return { verdict: writerDown ? 'writer-down' : reasons.length > 0 ? 'degraded' : 'healthy', reasons };
}

function maxOf(series: MetricSeries | undefined): number | null {
  if (!series || series.points.length === 0) return null;
  return Math.max(...series.points.map((p) => p.v));
}

/** DatabaseConnections for every member and AuroraReplicaLag for readers (the writer does not publish it), Maximum per minute. */
export function auroraMetricQueries(members: readonly AuroraMember[]): MetricQuery[] {
  return members.flatMap((m, i) => {
    const dimensions = { DBInstanceIdentifier: m.instanceId };
    const connections: MetricQuery = { id: `conn${i}`, label: `${m.instanceId} DatabaseConnections`, namespace: 'AWS/RDS', name: 'DatabaseConnections', dimensions, stat: 'Maximum', period: 60 };
    if (m.role !== 'reader') return [connections];
    return [connections, { id: `lag${i}`, label: `${m.instanceId} AuroraReplicaLag`, namespace: 'AWS/RDS', name: 'AuroraReplicaLag', dimensions, stat: 'Maximum', period: 60 }];
  });
}

/** Pure: the output from what was read. */
export function auroraHealthReport(cluster: AuroraCluster, events: readonly RdsEvent[], series: readonly MetricSeries[], window: { start: Date; end: Date }): AuroraHealthOutput {
  const byId = new Map(series.map((s) => [s.id, s]));
  const members: AuroraMemberHealth[] = cluster.members.map((m, i) => ({
    ...m,
    connections: maxOf(byId.get(`conn${i}`)),
    replicaLagMs: m.role === 'reader' ? maxOf(byId.get(`lag${i}`)) : null,
  }));
  const failoverInProgress = isFailoverInProgress(cluster.status, events);
  const { verdict, reasons } = auroraVerdict(cluster, members, failoverInProgress);
  const writer = members.find((m) => m.role === 'writer');
  return {
    cluster: cluster.cluster,
    status: cluster.status,
    engine: cluster.engine,
    writer: writer ? { instanceId: writer.instanceId, status: writer.status, availabilityZone: writer.availabilityZone } : null,
    readers: members
      .filter((m) => m.role === 'reader')
      .map((m) => ({ instanceId: m.instanceId, status: m.status, availabilityZone: m.availabilityZone, promotionTier: m.promotionTier, replicaLagMs: m.replicaLagMs })),
    members,
    events: [...events],
    failoverInProgress,
    healthiestReader: healthiestReader(members),
    verdict,
    reasons,
    metricsWindow: { start: window.start.toISOString(), end: window.end.toISOString() },
  };
}

export function auroraHealthSummary(o: AuroraHealthOutput): string {
  const writer = o.writer ? `writer ${o.writer.instanceId} ${o.writer.status}` : 'no writer';
  const readers = `${o.readers.filter((r) => r.status === 'available').length} of ${o.readers.length} readers available`;
  const detail = o.reasons.length > 0 ? `: ${o.reasons.join('; ')}` : '';
  return `Aurora ${o.cluster} ${o.verdict} (${o.status}, ${writer}, ${readers}${o.failoverInProgress ? ', failover under way' : ''})${detail}`;
}

/** Reads the cluster, its failover events and its metrics; shared with `aurora.failover`. */
export async function readAuroraHealth(
  rds: RdsAdapter,
  cloudwatch: CloudWatchAdapter,
  p: AuroraHealthParams,
  signal: AbortSignal,
  now = new Date(),
): Promise<AuroraHealthOutput> {
  const since = p.since ?? now;
  const window = { start: new Date(now.getTime() - METRICS_WINDOW_MS), end: now };
  const [cluster, events] = await Promise.all([
    rds.describeCluster(p.cluster, { abortSignal: signal }),
    rds.failoverEvents(p.cluster, new Date(since.getTime() - EVENTS_LOOKBACK_MS), { abortSignal: signal }),
  ]);
  const series = await cloudwatch.metricData(auroraMetricQueries(cluster.members), window, { abortSignal: signal });
  return { ...auroraHealthReport(cluster, events, series, window), link: rdsClusterLink(await rds.region(), p.cluster) };
}

/**
 * Diagnostic (issue 4, action 8), read only: the cluster's status, writer and readers, recent
 * failover events, connections and replica lag per instance, and a verdict with its reasons.
 */
export function auroraHealthAction(rds: RdsAdapter, cloudwatch: CloudWatchAdapter): Action {
  return {
    id: AURORA_HEALTH_ID,
    mutating: false,
    description: 'Aurora cluster health: writer, readers, failover events, connections and replica lag; verdict healthy, degraded or writer-down (with: { cluster, since? }).',
    iam: ['rds:DescribeDBClusters', 'rds:DescribeDBInstances', 'rds:DescribeEvents', 'cloudwatch:GetMetricData'],
    plan(params) {
      return { summary: `read Aurora cluster ${auroraHealthParams(params).cluster}` };
    },
    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const output = await readAuroraHealth(rds, cloudwatch, auroraHealthParams(params), ctx.signal);
      return { output, summary: auroraHealthSummary(output) };
    },
  };
}
