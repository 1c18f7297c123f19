import type { DiagnosisInput, StepEvidence } from './model';

/**
 * The diagnostics' outputs read into typed facts. Every field may be missing (an older run, a
 * failed step, a service without Aurora): readers never throw, they return null or [] instead.
 * Step ids are production-down's: alb, ecs, metrics, logs, deploy, aurora, changes.
 */

export interface MetricFact {
  id: string;
  label: string;
  baseline: number | null;
  current: number | null;
  peak: number | null;
  startedMovingAt: string | null;
  link?: string;
}

export interface SignatureFact {
  signature: string;
  /** One line as it was logged (redacted): the signature folds hosts and ports away, the sample keeps them. */
  sample?: string;
  count: number;
  firstSeen: string | null;
  lastSeen: string | null;
  severity: string | null;
  link?: string;
}

export interface DeploymentFact {
  /** When it landed: completion, else start. */
  at: string | null;
  id: string | null;
  taskDefinition: string | null;
  previousTaskDefinition: string | null;
  correlated: boolean;
  inProgress: boolean;
  minutesBeforeOnset: number | null;
  link?: string;
}

export interface StoppedGroupFact {
  reason: string;
  stopCode: string | null;
  count: number;
  oom: boolean;
  taskDefinition: string | null;
  lastStoppedAt: string | null;
  link?: string;
}

export interface ChangeFact {
  at: string;
  who: string;
  eventName: string;
  resourceType: string;
  resourceName: string;
  summary: string;
  byAutomation: boolean;
  isDeployment: boolean;
  link?: string;
}

export interface Facts {
  /** The incident's onset as alarmed. */
  onsetAt: string | null;
  /** When the impact really began (metrics), else null. */
  impactStartedAt: string | null;
  /** impactStartedAt, else the onset: the moment causes are timed against. */
  startedAt: string | null;
  ok: (step: string) => boolean;
  metrics: MetricFact[] | null;
  cpuHigh: boolean;
  errorsUp: boolean;
  /** null when the logs step did not succeed. */
  signatures: SignatureFact[] | null;
  logsLink?: string;
  deployment: DeploymentFact | null;
  ecs: {
    desired: number | null;
    running: number | null;
    missing: number;
    oomKills: number;
    exitCodes: Record<string, number>;
    stoppedGroups: StoppedGroupFact[];
    deployments: { taskDefinition: string | null; status: string | null; rolloutState: string | null; failedTasks: number }[];
    rolloutState: string | null;
    events: string[];
    link?: string;
  } | null;
  alb: {
    unhealthy: number;
    healthy: number;
    total: number;
    reasons: Record<string, number>;
    targetGroups: { name: string; summary: string; link?: string; healthCheckPath: string | null }[];
    summary: string | null;
  } | null;
  aurora: {
    cluster: string | null;
    verdict: string | null;
    writerStatus: string | null;
    failoverInProgress: boolean;
    events: { at: string | null; message: string }[];
    reasons: string[];
    link?: string;
  } | null;
  changes: ChangeFact[] | null;
}

function obj(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function arr(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.map(obj).filter((x): x is Record<string, unknown> => x !== null) : [];
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function link(v: unknown): { link?: string } {
  const l = str(v);
  return l ? { link: l } : {};
}

/** Milliseconds of an ISO time, or null. */
export function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** "10:05Z" for an ISO time. */
export function hhmm(iso: string | null): string {
  return iso && iso.length >= 16 ? `${iso.slice(11, 16)}Z` : 'an unknown time';
}

/** Minutes from a to b (b − a), rounded; null when either is unknown. */
export function minutesBetween(a: string | null, b: string | null): number | null {
  const x = ms(a);
  const y = ms(b);
  return x === null || y === null ? null : Math.round((y - x) / 60_000);
}

function outputOf(steps: DiagnosisInput['steps'], id: string): Record<string, unknown> | null {
  const s: StepEvidence | undefined = steps[id];
  return s && s.status === 'succeeded' ? obj(s.output) : null;
}

const IMPACT_KINDS = /^(alarm\d+|elb_5xx|tg\d+_5xx|tg\d+_latency)$/;

function readMetrics(out: Record<string, unknown> | null): Pick<Facts, 'metrics' | 'cpuHigh' | 'errorsUp'> & { impactStartedAt: string | null } {
  if (!out) return { metrics: null, cpuHigh: false, errorsUp: false, impactStartedAt: null };
  const metrics = arr(out.metrics).map(
    (m): MetricFact => ({
      id: str(m.id) ?? '',
      label: str(m.label) ?? str(m.id) ?? 'metric',
      baseline: num(m.baseline),
      current: num(m.current),
      peak: num(m.peak),
      startedMovingAt: str(m.startedMovingAt),
      ...link(m.link),
    }),
  );
  let impactStartedAt: string | null = null;
  if (out.impactStartedAt !== undefined) {
    impactStartedAt = str(out.impactStartedAt);
  } else {
    // An older cloudwatch.metrics: the earliest movement of the alarm's metric, else of 5xx / latency.
    const moved = (re: RegExp) =>
      metrics
        .filter((m) => re.test(m.id) && m.startedMovingAt)
        .map((m) => m.startedMovingAt!)
        .sort()[0] ?? null;
    impactStartedAt = moved(/^alarm\d+$/) ?? moved(IMPACT_KINDS);
  }
  return { metrics, cpuHigh: out.cpuHigh === true, errorsUp: out.errorsUp === true, impactStartedAt };
}

function readSignatures(out: Record<string, unknown> | null): SignatureFact[] | null {
  if (!out) return null;
  return arr(out.signatures).map((s) => ({
    signature: str(s.signature) ?? str(s.sample) ?? '',
    ...(str(s.sample) ? { sample: str(s.sample)! } : {}),
    count: num(s.count) ?? 0,
    firstSeen: str(s.firstSeen),
    lastSeen: str(s.lastSeen),
    severity: str(s.severity),
    ...link(s.link),
  }));
}

function readDeployment(out: Record<string, unknown> | null): DeploymentFact | null {
  const current = obj(out?.current);
  if (!out || !current) return null;
  const previous = obj(out.previous);
  return {
    at: str(current.completedAt) ?? str(current.startedAt),
    id: str(current.id),
    taskDefinition: str(current.taskDefinition),
    previousTaskDefinition: previous ? str(previous.taskDefinition) : null,
    correlated: out.correlated === true,
    inProgress: out.inProgress === true,
    minutesBeforeOnset: num(out.minutesBeforeOnset) ?? num(out.minutes_before_onset),
    ...link(current.link),
  };
}

function readEcs(out: Record<string, unknown> | null): Facts['ecs'] {
  if (!out) return null;
  const exitCodes: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(out.exitCodes) ?? {})) if (typeof v === 'number') exitCodes[k] = v;
  return {
    desired: num(out.desired),
    running: num(out.running),
    missing: num(out.missing) ?? 0,
    oomKills: num(out.oomKills) ?? 0,
    exitCodes,
    stoppedGroups: arr(out.stoppedGroups).map((g) => ({
      reason: str(g.reason) ?? '',
      stopCode: str(g.stopCode),
      count: num(g.count) ?? 0,
      oom: g.oom === true,
      taskDefinition: str(g.taskDefinition),
      lastStoppedAt: str(g.lastStoppedAt),
      ...link(g.link),
    })),
    deployments: arr(out.deployments).map((d) => ({
      taskDefinition: str(d.taskDefinition),
      status: str(d.status),
      rolloutState: str(d.rolloutState),
      failedTasks: num(d.failedTasks) ?? 0,
    })),
    rolloutState: str(out.rolloutState),
    events: arr(out.events)
      .map((e) => str(e.message))
      .filter((m): m is string => m !== null),
    ...link(out.link),
  };
}

function readAlb(out: Record<string, unknown> | null): Facts['alb'] {
  if (!out) return null;
  const reasons: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(out.reasons) ?? {})) if (typeof v === 'number') reasons[k] = v;
  return {
    unhealthy: num(out.unhealthy) ?? 0,
    healthy: num(out.healthy) ?? 0,
    total: num(out.total) ?? 0,
    reasons,
    targetGroups: arr(out.targetGroups).map((g) => ({
      name: str(g.name) ?? 'target group',
      summary: str(g.summary) ?? '',
      healthCheckPath: str(obj(g.healthCheck)?.path),
      ...link(g.link),
    })),
    summary: str(out.summary),
  };
}

function readAurora(out: Record<string, unknown> | null): Facts['aurora'] {
  if (!out) return null;
  return {
    cluster: str(out.cluster),
    verdict: str(out.verdict),
    writerStatus: str(obj(out.writer)?.status),
    failoverInProgress: out.failoverInProgress === true,
    events: arr(out.events).map((e) => ({ at: str(e.at), message: str(e.message) ?? '' })),
    reasons: Array.isArray(out.reasons) ? out.reasons.filter((r): r is string => typeof r === 'string') : [],
    ...link(out.link),
  };
}

function readChanges(out: Record<string, unknown> | null): ChangeFact[] | null {
  if (!out) return null;
  return arr(out.changes)
    .filter((c) => str(c.at) !== null)
    .map((c) => ({
      at: str(c.at)!,
      who: str(c.who) ?? 'someone',
      eventName: str(c.eventName) ?? 'a change',
      resourceType: str(c.resourceType) ?? '',
      resourceName: str(c.resourceName) ?? '',
      summary: str(c.summary) ?? `${str(c.eventName) ?? 'a change'} on ${str(c.resourceName) ?? 'a resource'}`,
      byAutomation: c.byAutomation === true,
      isDeployment: c.isDeployment === true,
      ...link(c.link),
    }));
}

/** Reads every diagnostic the verdict uses. Pure. */
export function readFacts(input: DiagnosisInput): Facts {
  const out = (id: string) => outputOf(input.steps, id);
  const metrics = readMetrics(out('metrics'));
  const logs = out('logs');
  return {
    onsetAt: input.onsetAt,
    impactStartedAt: metrics.impactStartedAt,
    startedAt: metrics.impactStartedAt ?? input.onsetAt,
    ok: (id) => input.steps[id]?.status === 'succeeded',
    metrics: metrics.metrics,
    cpuHigh: metrics.cpuHigh,
    errorsUp: metrics.errorsUp,
    signatures: readSignatures(logs),
    ...(str(logs?.link) ? { logsLink: str(logs?.link)! } : {}),
    deployment: readDeployment(out('deploy')),
    ecs: readEcs(out('ecs')),
    alb: readAlb(out('alb')),
    aurora: readAurora(out('aurora')),
    changes: readChanges(out('changes')),
  };
}

// ---------------------------------------------------------------------------------------------
// Shared classifications of log signatures

/** Words of a database in trouble: the driver's, the engine's, a pool's. */
const DATABASE = /\b(database|postgres(ql)?|mysql|aurora|rds\.amazonaws|jdbc|sqlstate|pg::|psycopg|sequelize|hikari|too many connections|remaining connection slots|connection pool|acquiring a connection|could not connect to server|deadlock)\b|:(5432|3306)\b/i;
/** An upstream that does not answer: timeouts, refusals, resets, DNS. */
const UPSTREAM = /\b(timed? ?out|timeout|etimedout|econnrefused|connection refused|econnreset|connection reset|socket hang up|enotfound|getaddrinfo|unknownhost|upstream|bad gateway|service unavailable|circuit (breaker )?open|no route to host)\b/i;
const OUT_OF_MEMORY = /\b(out ?of ?memory|outofmemory|heap out of memory|oom|cannot allocate memory|memoryerror)\b/i;

/** The signature folds hosts and ports (`<ip>`, `<n>`): the database's port survives only in the sample. */
export function isDatabaseSignature(s: SignatureFact): boolean {
  return DATABASE.test(s.signature) || (s.sample !== undefined && DATABASE.test(s.sample));
}

export function isUpstreamSignature(s: SignatureFact): boolean {
  return UPSTREAM.test(s.signature) && !isDatabaseSignature(s);
}

export function isMemorySignature(s: SignatureFact): boolean {
  return OUT_OF_MEMORY.test(s.signature);
}

/** An error line, not an INFO/DEBUG one an older logs step may have counted. */
export function isErrorSignature(s: SignatureFact): boolean {
  if (s.severity) return !/^(info|debug|trace|notice)$/i.test(s.severity);
  return !/^\W*(\S+\s+)?(INFO|DEBUG|TRACE)\b/.test(s.signature);
}

/** Signatures sorted by count, most first. */
export function byCount(sigs: readonly SignatureFact[]): SignatureFact[] {
  return [...sigs].sort((a, b) => b.count - a.count);
}

/** A signature as quoted in evidence: its severity first unless the line already starts with it. */
export function quoted(s: SignatureFact, max = 120): string {
  const sev = s.severity && !s.signature.toUpperCase().startsWith(s.severity.toUpperCase()) ? `${s.severity} ` : '';
  return `${sev}"${short(s.signature, max)}"`;
}

/** "1 target", "3 targets". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function short(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
