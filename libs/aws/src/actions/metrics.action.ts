import { type Action, type ActionContext, type ActionResult, PermanentActionError } from '@responder/domain';
import type { CloudWatchAdapter, MetricPoint, MetricQuery } from '../cloudwatch.adapter';
import { metricGraphLink } from '../console-links';

/**
 * `cloudwatch.metrics`: the metrics around an alarm, from well before its onset to now, each with
 * its baseline (before the onset), its current value, its peak, and when it started to move.
 *
 * `with: { onset, baseline_minutes?, load_balancer?, target_groups?, cluster?, service?, alarm_metrics? }`:
 * - `onset`: ISO time, e.g. `${{ incident.onsetAt }}`; `baseline_minutes` (5-1440, default 60) before it is the baseline.
 * - `load_balancer`: the ALB's ARN or its `app/<name>/<id>`: `HTTPCode_ELB_5XX_Count` (Sum).
 * - `target_groups`: target group ARNs (need `load_balancer`, as AWS's per-group dimension set is
 *   TargetGroup + LoadBalancer): `HTTPCode_Target_5XX_Count` (Sum), `TargetResponseTime` (Average),
 *   `RequestCount` (Sum).
 * - `cluster` + `service`: ECS `CPUUtilization` and `MemoryUtilization` (Average).
 * - `alarm_metrics`: `[{ namespace, name, dimensions, stat?, period? }]`, e.g. the alarm's own metric.
 * One GetMetricData request for all of them, at one period chosen so that no series has 1,440 points
 * or more (`choosePeriod`); an alarm metric keeps its own period when that is longer.
 *
 * "Started moving" (`analyzeSeries`): the first point at or after the onset that departs from the
 * baseline mean by more than 3 σ of the baseline points (σ floored at 5 % of the mean, so that a flat
 * baseline does not flag noise), or exceeds twice the baseline. A single point is enough: the action
 * reports, people judge. ALB counts are only published when non-zero, so their missing periods
 * count as 0, except the last PUBLISH_LAG_MS (not published yet); other metrics' gaps are left out.
 */

export const CLOUDWATCH_METRICS_ID = 'cloudwatch.metrics';

/** The periods tried, shortest first (CloudWatch keeps 1-minute data for 15 days). */
export const PERIODS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400] as const;
/** Points per series must stay below this. */
export const MAX_POINTS = 1440;
/** "current" is the mean of the points in the last five minutes of data. */
export const CURRENT_WINDOW_MS = 5 * 60_000;
/** ECS CPU at or above this percentage is `cpuHigh`. */
export const CPU_HIGH_PERCENT = 80;

/** Fields added after the first release are optional: outputs stored by older runs lack them. */
export interface MetricAnalysis {
  /** Mean of the points before the series started moving (else before the onset); null without any. */
  baseline: number | null;
  baselineStdDev: number | null;
  /** ISO: the end of the baseline (where the series started moving, else the onset); null without a baseline. */
  baselineUntil?: string | null;
  /** Mean of the points in the last five minutes of data; null without any point. */
  current: number | null;
  /** The highest point from the first movement (or the onset, if earlier) on, and when. */
  peak: number | null;
  peakAt: string | null;
  /** current / baseline; null when the baseline is 0 or unknown. */
  changeRatio: number | null;
  /** The first point that left the baseline for good, possibly before the onset (`changePoint`). */
  startedMovingAt: string | null;
  /** Which way it moved then; null when it did not. */
  direction?: 'up' | 'down' | null;
  points: number;
}

export interface MetricReport extends MetricAnalysis {
  id: string;
  label: string;
  query: { namespace: string; name: string; dimensions: Record<string, string>; stat: string; period: number };
  /** CloudWatch's status for the series: Complete, PartialData, Forbidden, InternalError. */
  status: string;
  /** The console's graph of exactly this query over the window; null when the region is unknown. */
  link?: string | null;
}

export interface MetricsOutput {
  window: { start: string; onset: string; end: string; period: number };
  metrics: MetricReport[];
  /** ECS CPU's current value is at least CPU_HIGH_PERCENT. */
  cpuHigh: boolean;
  /** A 5xx count is up (`errorsUp`): at least one a minute, twice the baseline and beyond 3 σ. */
  errorsUp: boolean;
  /** Ids of the metrics that started moving. */
  moved: string[];
  /**
   * ISO: when the impact started (`impactStart`): the alarm metric's first movement, else the
   * earliest rise of a 5xx count or the response time; never later than the onset (the alarm had
   * fired by then). Null when none of them moved.
   */
  impactStartedAt?: string | null;
  /** The id of the metric impactStartedAt comes from; null with it. */
  impactMetric?: string | null;
}

interface MetricSpec extends MetricQuery {
  /** Missing periods are 0 (ALB counts are published only when non-zero). */
  zeroWhenMissing: boolean;
  kind: 'elb5xx' | 'target5xx' | 'latency' | 'requests' | 'cpu' | 'memory' | 'alarm';
}

export interface MetricsParams {
  onset: Date;
  baselineMinutes: number;
  loadBalancer: string | null;
  targetGroups: string[];
  cluster: string | null;
  service: string | null;
  alarmMetrics: { namespace: string; name: string; dimensions: Record<string, string>; stat: string; period: number | null }[];
}

const LB_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer\/((?:app|net|gwy)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+)$/;
const LB_NAME = /^(?:app|net|gwy)\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;
const TG_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:(targetgroup\/([A-Za-z0-9-]{1,32})\/[0-9a-f]+)$/;

export function cloudwatchMetricsAction(adapter: CloudWatchAdapter, options: { now?: () => Date } = {}): Action {
  const now = options.now ?? (() => new Date());
  return {
    id: CLOUDWATCH_METRICS_ID,
    mutating: false,
    description:
      'CloudWatch metrics around the onset: ALB 5xx, target 5xx, response time and requests, ECS CPU and memory, the alarm metric; baseline vs current and when each started to move (with: { onset, load_balancer, target_groups, cluster, service, alarm_metrics }).',
    iam: ['cloudwatch:GetMetricData'],
    plan: (params) => {
      const specs = metricSpecs(metricsParams(params), 60);
      return { summary: `read ${specs.length} CloudWatch metrics: ${specs.map((s) => s.label).join(', ')}` };
    },
    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = metricsParams(params);
      const end = now();
      const period = choosePeriod(p.onset.getTime() - p.baselineMinutes * 60_000, end.getTime());
      // Aligned to the period, so that CloudWatch's timestamps fall on the same grid as the zero fill.
      const start = new Date(Math.floor((p.onset.getTime() - p.baselineMinutes * 60_000) / (period * 1000)) * period * 1000);
      if (start.getTime() >= end.getTime()) throw new PermanentActionError(`${CLOUDWATCH_METRICS_ID}: the onset ${p.onset.toISOString()} is in the future`);
      const specs = metricSpecs(p, period);
      const series = await adapter.metricData(specs, { start, end }, { abortSignal: ctx.signal });
      const output = metricsReport(
        specs.map((spec, i) => ({ spec, points: series[i].points, status: series[i].status })),
        { start: start.getTime(), onset: p.onset.getTime(), end: end.getTime(), period },
        await adapter.region(),
      );
      return { output: output as unknown as Record<string, unknown>, summary: metricsSummary(output) };
    },
  };
}

/** `with`, checked. Throws PermanentActionError naming what is wrong. */
export function metricsParams(params: Record<string, unknown>): MetricsParams {
  const fail = (message: string): never => {
    throw new PermanentActionError(`${CLOUDWATCH_METRICS_ID}: ${message}`);
  };
  const onset = typeof params.onset === 'string' ? new Date(params.onset) : null;
  if (!onset || Number.isNaN(onset.getTime())) fail(`"onset" must be an ISO time, got ${JSON.stringify(params.onset) ?? 'nothing'}`);
  const baselineMinutes = params.baseline_minutes ?? 60;
  if (typeof baselineMinutes !== 'number' || !Number.isInteger(baselineMinutes) || baselineMinutes < 5 || baselineMinutes > 1440) {
    fail(`"baseline_minutes" must be a whole number from 5 to 1440, got ${JSON.stringify(baselineMinutes)}`);
  }

  let loadBalancer: string | null = null;
  if (params.load_balancer !== undefined && params.load_balancer !== null) {
    const lb = params.load_balancer;
    loadBalancer = typeof lb === 'string' ? (LB_ARN.exec(lb)?.[1] ?? (LB_NAME.test(lb) ? lb : null)) : null;
    if (!loadBalancer) fail(`"load_balancer" must be a load balancer ARN or "app/<name>/<id>", got ${JSON.stringify(lb)}`);
  }
  const tgs = params.target_groups ?? [];
  if (!Array.isArray(tgs)) fail(`"target_groups" must be a list of target group ARNs, got ${JSON.stringify(tgs)}`);
  const targetGroups = [...new Set(tgs as unknown[])].map((v) => {
    if (typeof v !== 'string' || !TG_ARN.test(v)) return fail(`"target_groups": not a target group ARN: ${JSON.stringify(v) ?? String(v)}`);
    return v;
  });
  if (targetGroups.length > 0 && !loadBalancer) fail('"target_groups" needs "load_balancer": CloudWatch publishes target group metrics per TargetGroup and LoadBalancer');

  const cluster = optionalString(params.cluster, 'cluster', fail);
  const service = optionalString(params.service, 'service', fail);
  if ((cluster === null) !== (service === null)) fail('"cluster" and "service" go together');

  const rawAlarm = params.alarm_metrics ?? [];
  if (!Array.isArray(rawAlarm)) fail(`"alarm_metrics" must be a list, got ${JSON.stringify(rawAlarm)}`);
  const alarmMetrics = (rawAlarm as unknown[]).map((m, i) => alarmMetric(m, i, fail));

  if (!loadBalancer && !cluster && alarmMetrics.length === 0) fail('nothing to read: give "load_balancer", "cluster" and "service", or "alarm_metrics"');
  return { onset: onset!, baselineMinutes: baselineMinutes as number, loadBalancer, targetGroups, cluster, service, alarmMetrics };
}

function optionalString(value: unknown, name: string, fail: (m: string) => never): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0) return fail(`"${name}" must be a non-empty string, got ${JSON.stringify(value)}`);
  return value;
}

function alarmMetric(m: unknown, i: number, fail: (m: string) => never): MetricsParams['alarmMetrics'][number] {
  const where = `"alarm_metrics[${i}]"`;
  if (typeof m !== 'object' || m === null) return fail(`${where} must be { namespace, name, dimensions, stat, period }`);
  const { namespace, name, dimensions, stat, period } = m as Record<string, unknown>;
  if (typeof namespace !== 'string' || !namespace || typeof name !== 'string' || !name) return fail(`${where} needs "namespace" and "name"`);
  if (stat !== undefined && (typeof stat !== 'string' || !stat)) return fail(`${where}.stat must be a statistic such as "Average" or "p99"`);
  if (period !== undefined && (typeof period !== 'number' || !Number.isInteger(period) || period < 60 || period % 60 !== 0)) {
    return fail(`${where}.period must be a multiple of 60 seconds, got ${JSON.stringify(period)}`);
  }
  // As the alarm shows them: a map, or CloudWatch's own [{ Name, Value }] (any case).
  const dims: Record<string, string> = {};
  if (Array.isArray(dimensions)) {
    for (const d of dimensions as unknown[]) {
      const rec = (typeof d === 'object' && d !== null ? d : {}) as Record<string, unknown>;
      const key = rec.Name ?? rec.name;
      const value = rec.Value ?? rec.value;
      if (typeof key !== 'string' || typeof value !== 'string') return fail(`${where}.dimensions: each must be { name, value }`);
      dims[key] = value;
    }
  } else if (typeof dimensions === 'object' && dimensions !== null) {
    for (const [key, value] of Object.entries(dimensions)) {
      if (typeof value !== 'string') return fail(`${where}.dimensions.${key} must be a string`);
      dims[key] = value;
    }
  } else if (dimensions !== undefined) {
    return fail(`${where}.dimensions must be a map or a list of { name, value }`);
  }
  return { namespace, name, dimensions: dims, stat: stat ?? 'Average', period: period ?? null };
}

/** The shortest period in PERIODS that keeps [startMs, endMs) below MAX_POINTS points. Pure. */
export function choosePeriod(startMs: number, endMs: number): number {
  const seconds = Math.max(0, (endMs - startMs) / 1000);
  return PERIODS.find((p) => Math.ceil(seconds / p) + 1 < MAX_POINTS) ?? PERIODS[PERIODS.length - 1];
}

/** The queries for `with`, at `period`. Pure. */
export function metricSpecs(p: MetricsParams, period: number): MetricSpec[] {
  const specs: MetricSpec[] = [];
  const alb = 'AWS/ApplicationELB';
  if (p.loadBalancer) {
    const lbName = p.loadBalancer.split('/')[1];
    specs.push(spec('elb_5xx', `${lbName} ELB 5xx`, alb, 'HTTPCode_ELB_5XX_Count', { LoadBalancer: p.loadBalancer }, 'Sum', period, 'elb5xx', true));
    p.targetGroups.forEach((arn, i) => {
      const [, dimension, name] = TG_ARN.exec(arn)!;
      const dims = { TargetGroup: dimension, LoadBalancer: p.loadBalancer! };
      specs.push(spec(`tg${i}_5xx`, `${name} target 5xx`, alb, 'HTTPCode_Target_5XX_Count', dims, 'Sum', period, 'target5xx', true));
      specs.push(spec(`tg${i}_latency`, `${name} response time (s)`, alb, 'TargetResponseTime', dims, 'Average', period, 'latency', false));
      specs.push(spec(`tg${i}_requests`, `${name} requests`, alb, 'RequestCount', dims, 'Sum', period, 'requests', true));
    });
  }
  if (p.cluster && p.service) {
    const dims = { ClusterName: p.cluster, ServiceName: p.service };
    specs.push(spec('ecs_cpu', `${p.service} CPU %`, 'AWS/ECS', 'CPUUtilization', dims, 'Average', period, 'cpu', false));
    specs.push(spec('ecs_memory', `${p.service} memory %`, 'AWS/ECS', 'MemoryUtilization', dims, 'Average', period, 'memory', false));
  }
  p.alarmMetrics.forEach((m, i) => {
    specs.push(spec(`alarm${i}`, `${m.namespace} ${m.name} ${m.stat}`, m.namespace, m.name, m.dimensions, m.stat, Math.max(period, m.period ?? 0), 'alarm', false));
  });
  return specs;
}

function spec(
  id: string,
  label: string,
  namespace: string,
  name: string,
  dimensions: Record<string, string>,
  stat: string,
  period: number,
  kind: MetricSpec['kind'],
  zeroWhenMissing: boolean,
): MetricSpec {
  return { id, label, namespace, name, dimensions, stat, period, kind, zeroWhenMissing };
}

/**
 * CloudWatch publishes a minute's ALB counts a minute or two after it ends: a period this recent
 * without a point is "not yet", not 0.
 */
export const PUBLISH_LAG_MS = 2 * 60_000;

/**
 * Fills the complete periods of [start, end) a series has no point for with 0 (for counts CloudWatch
 * publishes only when non-zero). Pass `end` minus PUBLISH_LAG_MS for data read up to now. Pure.
 */
export function fillMissingWithZero(points: readonly MetricPoint[], window: { start: number; end: number; period: number }): MetricPoint[] {
  const byT = new Map(points.map((p) => [p.t, p.v]));
  const step = window.period * 1000;
  for (let t = window.start; t + step <= window.end; t += step) if (!byT.has(t)) byT.set(t, 0);
  return [...byT].map(([t, v]) => ({ t, v })).sort((a, b) => a.t - b.t);
}

/** Points a baseline needs before a departure from it can count. */
export const MIN_BASELINE_POINTS = 3;
/** A departure counts when at least this share of the points from it to the onset (at least SUSTAIN_POINTS of them) depart too. */
export const SUSTAIN_SHARE = 2 / 3;
export const SUSTAIN_POINTS = 3;

/**
 * Where a series first left its baseline (`changePoint`): the first point, after at least
 * MIN_BASELINE_POINTS points, that departs from the mean and σ of ALL the points before it, and
 * whose departure holds: at least SUSTAIN_SHARE of the points from it through the onset (and at
 * least the next SUSTAIN_POINTS) depart from that same baseline. A baseline is therefore never
 * taken from a window that already holds the incident: 5xx errors rising 20 minutes before the
 * alarm are found 20 minutes before it, and a brief blip long before the onset is not. Returns the
 * index, or -1. Pure.
 */
export function changePoint(points: readonly MetricPoint[], onsetMs: number): number {
  const n = points.length;
  // Prefix sums: the baseline of every candidate in O(1).
  const sum = [0];
  const sumSq = [0];
  for (const p of points) {
    sum.push(sum.at(-1)! + p.v);
    sumSq.push(sumSq.at(-1)! + p.v * p.v);
  }
  let onsetIndex = points.findIndex((p) => p.t >= onsetMs);
  if (onsetIndex === -1) onsetIndex = n;
  for (let k = MIN_BASELINE_POINTS; k < n; k++) {
    const baseline = sum[k] / k;
    const stdDev = Math.sqrt(Math.max(0, sumSq[k] / k - baseline * baseline));
    if (!departs(points[k].v, baseline, stdDev)) continue;
    const last = Math.min(n - 1, Math.max(onsetIndex, k + SUSTAIN_POINTS - 1));
    let departing = 0;
    for (let i = k; i <= last; i++) if (departs(points[i].v, baseline, stdDev)) departing++;
    if (departing >= Math.ceil(SUSTAIN_SHARE * (last - k + 1))) return k;
  }
  return -1;
}

/**
 * Baseline, current, peak and the first departure of one series (oldest first). The baseline is
 * the points before the change point (`changePoint`), or before the onset when the series never
 * left it; the peak is the highest point from the earlier of the two. Pure.
 */
export function analyzeSeries(points: readonly MetricPoint[], onsetMs: number): MetricAnalysis {
  const k = changePoint(points, onsetMs);
  const baselineEndMs = k >= 0 ? points[k].t : onsetMs;
  const before = points.filter((p) => p.t < baselineEndMs).map((p) => p.v);
  const after = points.filter((p) => p.t >= Math.min(baselineEndMs, onsetMs));
  const baseline = before.length > 0 ? mean(before) : null;
  const baselineStdDev = baseline === null ? null : Math.sqrt(mean(before.map((v) => (v - baseline) ** 2)));
  const last = points.at(-1);
  const current = last ? mean(points.filter((p) => p.t > last.t - CURRENT_WINDOW_MS).map((p) => p.v)) : null;
  const peakPoint = after.reduce<MetricPoint | null>((best, p) => (best === null || p.v > best.v ? p : best), null);
  return {
    baseline: round(baseline),
    baselineStdDev: round(baselineStdDev),
    baselineUntil: baseline === null ? null : new Date(baselineEndMs).toISOString(),
    current: round(current),
    peak: round(peakPoint?.v ?? null),
    peakAt: peakPoint ? new Date(peakPoint.t).toISOString() : null,
    changeRatio: baseline !== null && baseline !== 0 && current !== null ? round(current / baseline) : null,
    startedMovingAt: k >= 0 ? new Date(points[k].t).toISOString() : null,
    direction: k < 0 || baseline === null ? null : points[k].v >= baseline ? 'up' : 'down',
    points: points.length,
  };
}

/** The rule for "started moving": more than 3 σ from the baseline (σ floored at 5 % of it), or above twice the baseline. */
export function departs(value: number, baseline: number, stdDev: number): boolean {
  const sigma = Math.max(stdDev, 0.05 * Math.abs(baseline));
  return Math.abs(value - baseline) > 3 * sigma || value > 2 * baseline;
}

/** The output for fetched series. Pure. */
export function metricsReport(
  series: readonly { spec: MetricSpec; points: readonly MetricPoint[]; status: string }[],
  window: { start: number; onset: number; end: number; period: number },
  region: string | null = null,
): MetricsOutput {
  const linkWindow = { start: iso(window.start), end: iso(window.end) };
  const kinds: MetricSpec['kind'][] = [];
  const metrics: MetricReport[] = [];
  let cpuHigh = false;
  let errorsUp = false;
  for (const { spec: s, points, status } of series) {
    const filled = s.zeroWhenMissing ? fillMissingWithZero(points, { start: window.start, end: window.end - PUBLISH_LAG_MS, period: s.period }) : points;
    const analysis = analyzeSeries(filled, window.onset);
    const query = { namespace: s.namespace, name: s.name, dimensions: s.dimensions, stat: s.stat, period: s.period };
    metrics.push({ id: s.id, label: s.label, query, status, ...analysis, link: metricGraphLink(region, query, linkWindow) });
    kinds.push(s.kind);
    if (s.kind === 'cpu' && analysis.current !== null && analysis.current >= CPU_HIGH_PERCENT) cpuHigh = true;
    if ((s.kind === 'elb5xx' || s.kind === 'target5xx') && isErrorsUp(analysis, s.period)) errorsUp = true;
  }
  return {
    window: { start: iso(window.start), onset: iso(window.onset), end: iso(window.end), period: window.period },
    metrics,
    cpuHigh,
    errorsUp,
    moved: metrics.filter((m) => m.startedMovingAt !== null).map((m) => m.id),
    ...impactStart(
      metrics.map((m, i) => ({ ...m, kind: kinds[i] })),
      window.onset,
    ),
  };
}

/**
 * When the impact started: the alarm metrics' earliest movement (either way: an alarm may watch a
 * drop); without one, the earliest RISE of a 5xx count or the response time (fewer errors is not
 * an impact). Clamped to the onset. Pure.
 */
export function impactStart(
  metrics: readonly (Pick<MetricReport, 'id' | 'startedMovingAt' | 'direction'> & { kind: MetricSpec['kind'] })[],
  onsetMs: number,
): { impactStartedAt: string | null; impactMetric: string | null } {
  const earliest = (candidates: typeof metrics) =>
    candidates.filter((m) => m.startedMovingAt !== null).sort((a, b) => a.startedMovingAt!.localeCompare(b.startedMovingAt!))[0];
  const chosen =
    earliest(metrics.filter((m) => m.kind === 'alarm')) ??
    earliest(metrics.filter((m) => (m.kind === 'elb5xx' || m.kind === 'target5xx' || m.kind === 'latency') && m.direction === 'up'));
  if (!chosen) return { impactStartedAt: null, impactMetric: null };
  return { impactStartedAt: iso(Math.min(Date.parse(chosen.startedMovingAt!), onsetMs)), impactMetric: chosen.id };
}

/** A 5xx count is "up" when its current value is at least one a minute, twice the baseline, and beyond 3 σ of it. */
export function isErrorsUp(a: Pick<MetricAnalysis, 'baseline' | 'baselineStdDev' | 'current'>, period: number): boolean {
  if (a.current === null) return false;
  const baseline = a.baseline ?? 0;
  return a.current / (period / 60) >= 1 && a.current >= 2 * baseline && a.current > baseline + 3 * (a.baselineStdDev ?? 0);
}

/** e.g. `errors up, CPU high: prod-alb ELB 5xx 0 → 42 from 10:03Z; checkout CPU % 35 → 91 from 10:04Z; 5 of 7 metrics steady`. Pure. */
export function metricsSummary(output: MetricsOutput): string {
  const flags = [output.errorsUp ? 'errors up' : null, output.cpuHigh ? 'CPU high' : null].filter(Boolean).join(', ');
  const moved = output.metrics.filter((m) => m.startedMovingAt !== null);
  const steady = output.metrics.length - moved.length;
  const body =
    moved.length === 0
      ? `no metric moved from its baseline (${output.metrics.length} metrics, period ${output.window.period} s)`
      : [
          ...moved.map((m) => `${m.label} ${fmt(m.baseline)} → ${fmt(m.current)} from ${m.startedMovingAt!.slice(11, 16)}Z`),
          ...(steady > 0 ? [`${steady} of ${output.metrics.length} metrics steady`] : []),
        ].join('; ');
  return flags ? `${flags}: ${body}` : body;
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}

function fmt(value: number | null): string {
  if (value === null) return '?';
  return Math.abs(value) >= 10 ? String(Math.round(value)) : String(Math.round(value * 100) / 100);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
