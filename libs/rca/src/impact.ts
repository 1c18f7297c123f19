// The failed-request estimate of the Impact section, from the 5xx series the metrics step kept.

/**
 * How many requests failed during the impact window, from the 5xx counts the metrics step kept
 * (`metrics[].series`: per-period Sums averaged in buckets of consecutive periods, at most 30).
 * `counted` is what the kept series hold from the impact start to their last point; `extrapolated`
 * covers the rest of the window (to recovery, or to the draft's time while it is open) at the last
 * rate the step measured (`current`, per period), when the series end before it. `estimate` is
 * their sum, rounded; null only when there is no 5xx count to add up (`reason` says why).
 */
export interface RcaFailedRequests {
  estimate: number | null;
  counted: number | null;
  extrapolated: number | null;
  /** The metrics added up (labels): the load balancer's own 5xx and each target group's (they are disjoint). */
  metrics: string[];
  /** The impact window measured: from the impact start to the end of the kept series. */
  from: string | null;
  countedUntil: string | null;
  /** The end of the impact window (recovery, or the draft's time while open). */
  until: string | null;
  /** Failed requests a minute at the last measured rate (used for the extrapolation). */
  lastRatePerMinute: number | null;
  /** How it was estimated, or why it could not be, in words. */
  method: string;
}

interface KeptMetric {
  id?: unknown;
  label?: unknown;
  query?: { namespace?: unknown; name?: unknown; dimensions?: unknown; stat?: unknown; period?: unknown };
  series?: unknown;
  points?: unknown;
  current?: unknown;
}

/** A series' total between two moments, from its averaged buckets (a partly covered bucket counts in proportion). */
function sumBetween(series: Array<[number, number]>, periodMs: number, points: number | null, from: number, to: number): { sum: number; end: number } {
  const size = series.length > 1 ? Math.max(1, Math.round((series[1][0] - series[0][0]) / periodMs)) : 1;
  let sum = 0;
  let end = from;
  series.forEach(([t, mean], i) => {
    // The last bucket holds what is left of the points (fewer than the others when they do not divide evenly).
    const count = i < series.length - 1 || points === null ? size : Math.min(size, Math.max(1, points - size * (series.length - 1)));
    const bucketEnd = t + count * periodMs;
    end = Math.max(end, bucketEnd);
    const overlap = Math.min(bucketEnd, to) - Math.max(t, from);
    if (overlap > 0) sum += mean * count * (overlap / (count * periodMs));
  });
  return { sum, end };
}

/**
 * The estimate from the metrics step's output (`metrics[]`), for the window [start, end]. Pure.
 * Only Sum statistics of ALB 5xx counts (`HTTPCode_ELB_5XX_Count`, `HTTPCode_Target_5XX_Count`)
 * are added up, each query once (the alarm's own metric may repeat one of them).
 */
export function failedRequests(metrics: KeptMetric[] | null, start: number | undefined, end: number, endLabel: 'recovery' | 'now'): RcaFailedRequests {
  const none = (method: string): RcaFailedRequests => ({
    estimate: null,
    counted: null,
    extrapolated: null,
    metrics: [],
    from: start !== undefined ? iso(start) : null,
    countedUntil: null,
    until: iso(end),
    lastRatePerMinute: null,
    method,
  });
  if (metrics === null) return none('not estimated: no metrics step succeeded, so no 5xx count was kept');
  if (start === undefined) return none('not estimated: the impact start is unknown');
  const seen = new Set<string>();
  const counts = metrics.filter((m) => {
    const q = m.query;
    if (!q || typeof q.name !== 'string' || !/^HTTPCode_(ELB|Target)_5XX_Count$/.test(q.name) || q.stat !== 'Sum') return false;
    const key = JSON.stringify([q.namespace, q.name, q.dimensions]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (!counts.length) return none('not estimated: the diagnostics kept no load balancer 5xx count (HTTPCode_ELB_5XX_Count or HTTPCode_Target_5XX_Count, Sum)');
  const usable = counts.filter((m) => validSeries(m.series) && typeof m.query?.period === 'number');
  if (!usable.length) return none('not estimated: the 5xx counts were read, but their series were not kept (a run older than the series)');
  let counted = 0;
  let countedUntil = start;
  let ratePerMinute = 0;
  for (const m of usable) {
    const periodMs = (m.query!.period as number) * 1000;
    const { sum, end: seriesEnd } = sumBetween(m.series as Array<[number, number]>, periodMs, typeof m.points === 'number' ? m.points : null, start, end);
    counted += sum;
    countedUntil = Math.max(countedUntil, Math.min(seriesEnd, end));
    if (typeof m.current === 'number' && Number.isFinite(m.current)) ratePerMinute += m.current / (periodMs / 60_000);
  }
  const labels = usable.map((m) => (typeof m.label === 'string' ? m.label : typeof m.id === 'string' ? m.id : 'a 5xx count'));
  const rest = Math.max(0, end - countedUntil);
  const extrapolated = rest >= 60_000 && ratePerMinute > 0 ? ratePerMinute * (rest / 60_000) : 0;
  const total = Math.round(counted + extrapolated);
  const period = usable[0].query!.period as number;
  const method =
    `5xx responses counted by ${labels.join(' and ')}, a Sum every ${period % 60 === 0 ? minutes(period * 1000) : `${period} s`}, from the impact start (${clockOf(start)} UTC) to ${clockOf(countedUntil)} UTC, where the series the diagnostics kept end` +
    (extrapolated > 0
      ? `, plus ${Math.round(extrapolated)} for the ${minutes(rest)} from then to ${endLabel === 'recovery' ? 'recovery' : 'this draft'} at the last measured rate (${round(ratePerMinute)} a minute): an upper bound if the mitigation took effect before ${endLabel === 'recovery' ? 'recovery' : 'now'}`
      : '');
  return {
    estimate: total,
    counted: Math.round(counted),
    extrapolated: extrapolated > 0 ? Math.round(extrapolated) : 0,
    metrics: labels,
    from: iso(start),
    countedUntil: iso(countedUntil),
    until: iso(end),
    lastRatePerMinute: round(ratePerMinute),
    method,
  };
}

function validSeries(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0 && v.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => typeof x === 'number' && Number.isFinite(x)));
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function clockOf(t: number): string {
  return new Date(t).toISOString().slice(11, 16);
}

function minutes(msValue: number): string {
  const m = Math.round(msValue / 60_000);
  return m === 1 ? 'minute' : `${m} minutes`;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
