import { redactSecrets } from '@responder/domain';
import type { KnownBlock } from '@slack/types';
import type { IncidentView, RunView, StepView } from '../view';
import {
  LIMITS,
  type SlackMessage,
  between,
  clock,
  code,
  codeBlock,
  context,
  duration,
  fallback,
  packLines,
  plural,
  safe,
  safeLine,
  section,
  truncate,
  utc,
} from './format';

/*
 * Step outputs are `Record<string, unknown>` by the time they reach Slack (stored as JSON, written
 * by whichever version of an action ran), so every renderer reads them defensively: a field of the
 * wrong type is ignored, and a renderer that finds nothing it knows gives way to the generic one.
 * The field names are those of the `*Output` types in libs/aws/src/actions.
 */

type Rec = Record<string, unknown>;
/** What a renderer may need beyond the output: the onset, to date times that fall on another day. */
interface RenderContext {
  onsetAt: string;
}
type Renderer = (output: Rec, ctx: RenderContext) => string[] | null;

const rec = (v: unknown): Rec | null => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : null);
const recs = (v: unknown): Rec[] => (Array.isArray(v) ? v.map(rec).filter((r): r is Rec => r !== null) : []);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);

const MAX_LISTED = 5;
const MAX_BODY_BLOCKS = 40;

const TITLES: Readonly<Record<string, string>> = {
  'alb.target-health': 'ALB target health',
  'ecs.service-status': 'ECS service status',
  'logs.errors': 'Log errors',
  'cloudwatch.metrics': 'Metrics around the onset',
  'deploy.recent': 'Recent deployment',
  'aurora.health': 'Aurora health',
  'verify.recovery': 'Recovery check',
};

/** What each ALB reason code means, in words on-call can act on without opening the docs. */
export const TARGET_REASON_HINTS: Readonly<Record<string, string>> = {
  'Target.Timeout': 'targets do not answer the health check in time: app hung or overloaded, or the security group blocks the load balancer',
  'Target.ResponseCodeMismatch': 'the health endpoint answers with an unexpected HTTP code: a dependency it checks is down, a redirect, or a changed path',
  'Target.FailedHealthChecks': 'connection refused or reset: the app crashed or is not listening (see stopped tasks and logs)',
  'Target.NotRegistered': 'not registered in the target group: deregistered, or its task stopped',
  'Target.NotInUse': 'no load balancer routes to this target group (normal for the idle side of blue/green)',
  'Target.InvalidState': 'the task or instance behind the target is stopped',
  'Target.IpUnusable': 'the target IP address cannot be used (reserved by the load balancer)',
  'Target.DeregistrationInProgress': 'draining during a deployment or scale-in: expected',
  'Target.HealthCheckDisabled': 'health checks are off: health unknown',
  'Elb.InitialHealthChecking': 'new target, still passing its first health checks',
  'Elb.RegistrationInProgress': 'still registering with the load balancer',
  'Elb.InternalError': 'load balancer internal error: on the AWS side, not the app',
};

/** "checkout:42" from a task definition ARN: the family and revision are what people compare. */
function taskDef(arn: string | null): string | null {
  if (!arn) return null;
  const i = arn.lastIndexOf('task-definition/');
  return i >= 0 ? arn.slice(i + 'task-definition/'.length) : arn;
}

/** "18:03 UTC" on the onset's day, the full date otherwise: a deployment two days old must not read as today's. */
function at(iso: string, ctx: RenderContext): string {
  const day = (s: string) => {
    const t = Date.parse(s);
    return Number.isNaN(t) ? s : new Date(t).toISOString().slice(0, 10);
  };
  return day(iso) === day(ctx.onsetAt) ? clock(iso) : utc(iso);
}

/** ARNs as their resource part: the account and region are the same for every one in a finding. */
function shortArns(text: string): string {
  return text.replace(/\barn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:([^\s)]+)/g, '$1');
}

function fmt(n: number | null): string {
  if (n === null) return '?';
  return Math.abs(n) >= 10 ? String(Math.round(n)) : String(Math.round(n * 100) / 100);
}

function listed<T>(items: readonly T[], render: (item: T) => string, max = MAX_LISTED, noun = 'more'): string[] {
  const lines = items.slice(0, max).map(render);
  if (items.length > max) lines.push(`_…and ${items.length - max} ${noun}_`);
  return lines;
}

const STATE_ORDER = ['healthy', 'unhealthy', 'initial', 'draining', 'unused', 'unavailable', 'other'] as const;

function stateCounts(counts: Rec | null): string {
  if (!counts) return '';
  return STATE_ORDER.map((k) => [k, num(counts[k])] as const)
    .filter(([, n]) => n !== null && n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}

function healthCheck(hc: Rec | null): string | null {
  if (!hc) return null;
  if (bool(hc.enabled) === false) return 'health checks disabled';
  const protocol = str(hc.protocol) ?? 'HTTP';
  const parts = [`${safe(protocol)}${str(hc.path) ? ` ${code(str(hc.path)!, 100)}` : ''} on ${safe(str(hc.port) ?? 'traffic-port')}`];
  const interval = num(hc.intervalSeconds);
  const timeout = num(hc.timeoutSeconds);
  if (interval !== null) parts.push(`every ${interval}s`);
  if (timeout !== null) parts.push(`timeout ${timeout}s`);
  if (str(hc.matcher)) parts.push(`expects ${safe(str(hc.matcher)!)}`);
  return `health check ${parts.join(', ')}`;
}

function albTargetHealth(o: Rec): string[] | null {
  const groups = recs(o.targetGroups);
  const total = num(o.total);
  if (total === null && groups.length === 0) return null;
  const unhealthy = num(o.unhealthy) ?? 0;
  const healthy = num(o.healthy) ?? 0;
  const lines: string[] = [];
  if (unhealthy > 0) lines.push(`:red_circle: *${unhealthy} of ${plural(total ?? 0, 'target')} unhealthy* (${healthy} healthy)`);
  else if (total === 0) lines.push(':red_circle: *No targets registered*: the load balancer has nowhere to send traffic');
  else if (total !== null && healthy < total) lines.push(`:large_yellow_circle: *${healthy} of ${plural(total, 'target')} healthy*, none failing its checks`);
  else lines.push(`:large_green_circle: *All ${plural(total ?? healthy, 'target')} healthy*`);

  lines.push(
    ...listed(groups, (g) => {
      const name = code(str(g.name) ?? str(g.arn) ?? 'target group', 100);
      const counts = stateCounts(rec(g.counts));
      const check = healthCheck(rec(g.healthCheck));
      return `• ${name}: ${counts || 'no targets'}${num(g.total) !== null ? ` of ${num(g.total)}` : ''}${check ? `\n      _${check}_` : ''}`;
    }, 10, 'more target groups'),
  );

  // The hint the action wrote, for codes this table does not know (it names the port and path).
  const actionHints = new Map<string, string>();
  for (const g of groups) for (const r of recs(g.reasons)) if (str(r.reason) && str(r.hint)) actionHints.set(str(r.reason)!, str(r.hint)!);
  const reasons = Object.entries(rec(o.reasons) ?? {})
    .map(([reason, count]) => [reason, num(count) ?? 0] as const)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (reasons.length > 0) {
    lines.push('*Why*');
    lines.push(
      ...listed(reasons, ([reason, count]) => {
        const hint = TARGET_REASON_HINTS[reason] ?? (reason.startsWith('state:') ? `${reason.slice(6)} with no reason code from AWS` : actionHints.get(reason));
        return `• ${code(reason, 100)} ×${count}${hint ? `: ${safeLine(hint, 400)}` : ''}`;
      }, 8, 'more reasons'),
    );
  }

  const notHealthy = groups.flatMap((g) => recs(g.targetsNotHealthy));
  if (notHealthy.length > 0) {
    lines.push('*Targets not healthy*');
    lines.push(
      ...listed(notHealthy, (t) => {
        const where = `${str(t.id) ?? '?'}${num(t.port) !== null ? `:${num(t.port)}` : ''}`;
        const az = str(t.availabilityZone) ? ` (${safe(str(t.availabilityZone)!)})` : '';
        const description = str(t.description) ? `: ${safeLine(str(t.description)!, 200)}` : '';
        return `• ${code(where, 100)}${az} ${safe(str(t.state) ?? '?')}${description}`;
      }, MAX_LISTED, 'more targets'),
    );
  }
  return lines;
}

function ecsServiceStatus(o: Rec, ctx: RenderContext): string[] | null {
  const desired = num(o.desired);
  const running = num(o.running);
  if (desired === null && running === null) return null;
  const pending = num(o.pending) ?? 0;
  const missing = num(o.missing) ?? Math.max(0, (desired ?? 0) - (running ?? 0));
  const status = str(o.status);
  const name = str(o.cluster) && str(o.service) ? `${code(`${str(o.cluster)}/${str(o.service)}`, 150)} ` : '';
  const lines = [
    `${missing > 0 ? ':red_circle:' : ':large_green_circle:'} ${name}*${running ?? '?'} of ${desired ?? '?'} tasks running*` +
      `${pending > 0 ? `, ${pending} pending` : ''}${missing > 0 ? ` (${missing} missing)` : ''}${status && status !== 'ACTIVE' ? ` · service ${safe(status)}` : ''}`,
  ];
  const td = taskDef(str(o.taskDefinition));
  const rollout = str(o.rolloutState);
  const rolloutReason = str(o.rolloutStateReason);
  if (td || rollout) {
    lines.push(
      [td ? `Task definition ${code(td, 150)}` : null, rollout ? `rollout ${safe(rollout)}${rolloutReason ? `: ${safeLine(rolloutReason, 300)}` : ''}` : null]
        .filter((p) => p !== null)
        .join(' · '),
    );
  }
  const deployments = recs(o.deployments);
  if (deployments.length > 1 || bool(o.deploymentInProgress)) {
    lines.push(`*Deployments*${bool(o.deploymentInProgress) ? ' (one is rolling out)' : ''}`);
    lines.push(
      ...listed(deployments, (d) => {
        const failed = num(d.failedTasks) ?? 0;
        return (
          `• ${safe(str(d.status) ?? '?')} ${code(taskDef(str(d.taskDefinition)) ?? str(d.id) ?? '?', 150)}: ` +
          `${num(d.runningCount) ?? '?'} of ${num(d.desiredCount) ?? '?'} running` +
          `${(num(d.pendingCount) ?? 0) > 0 ? `, ${num(d.pendingCount)} pending` : ''}${failed > 0 ? `, ${failed} failed tasks` : ''}` +
          `${str(d.rolloutState) ? ` · ${safe(str(d.rolloutState)!)}` : ''}`
        );
      }),
    );
  }
  const stopped = num(o.stopped) ?? 0;
  const oom = num(o.oomKills) ?? 0;
  const groups = recs(o.stoppedGroups);
  if (stopped > 0 || groups.length > 0) {
    lines.push(`*${plural(stopped, 'stopped task')}*${oom > 0 ? `, :boom: ${plural(oom, 'OOM kill')}` : ''}`);
    lines.push(
      ...listed(groups, (g) => {
        const containers = strs(g.containers);
        const stopCode = str(g.stopCode) ? ` (${safe(str(g.stopCode)!)})` : '';
        return `• *${num(g.count) ?? '?'}×* ${safeLine(shortArns(str(g.reason) ?? 'no reason given'), 250)}${stopCode}${containers.length > 0 ? `: ${code(containers.join('; '), 300)}` : ''}`;
      }, MAX_LISTED, 'more causes'),
    );
    const exits = Object.entries(rec(o.exitCodes) ?? {})
      .map(([exit, n]) => [exit, num(n) ?? 0] as const)
      .sort((a, b) => b[1] - a[1]);
    if (exits.length > 0) lines.push(`Exit codes: ${exits.slice(0, 8).map(([exit, n]) => `${safe(exit)} ×${n}`).join(', ')}`);
  }
  const events = recs(o.events);
  if (events.length > 0) {
    lines.push('*Latest service events*');
    lines.push(...listed(events, (e) => `• ${str(e.createdAt) ? `${at(str(e.createdAt)!, ctx)} ` : ''}${safeLine(shortArns(str(e.message) ?? ''), 300)}`, 3, 'more events'));
  }
  return lines;
}

function logErrors(o: Rec, ctx: RenderContext): string[] | null {
  const events = num(o.events);
  const signatures = recs(o.signatures);
  if (events === null && signatures.length === 0) return null;
  const groups = recs(o.groups);
  const where = groups.length === 1 ? code(str(groups[0].logGroup) ?? '?', 200) : plural(groups.length, 'log group');
  if (events === 0) {
    const since = str(groups[0]?.startTime);
    return [`:large_green_circle: *No error lines* in ${where}${since ? ` since ${at(since, ctx)}` : ''}`];
  }
  const distinct = num(o.distinctSignatures) ?? signatures.length;
  const lines = [
    `:red_circle: *${plural(events ?? 0, 'error line')}*${bool(o.truncated) ? ' (more not read)' : ''} in ${where}, ${plural(distinct, 'signature')}`,
  ];
  if (signatures.length > 0) {
    lines.push('*Top signatures*');
    lines.push(
      ...listed(signatures, (s) => {
        const first = str(s.firstSeen);
        const last = str(s.lastSeen);
        const when = first ? ` · ${at(first, ctx)}${last && last !== first ? `–${at(last, ctx)}` : ''}` : '';
        return `• *${num(s.count) ?? '?'}×* ${code(str(s.signature) ?? '?', 250)}${when}`;
      }, MAX_LISTED, 'more signatures'),
    );
    const sample = str(signatures[0].sample);
    if (sample) lines.push(`Sample of the first: ${codeBlock(sample, 400)}`);
  }
  return lines;
}

function cloudwatchMetrics(o: Rec, ctx: RenderContext): string[] | null {
  const metrics = recs(o.metrics);
  if (metrics.length === 0 && bool(o.errorsUp) === null) return null;
  const moved = metrics.filter((m) => str(m.startedMovingAt));
  const flags = [bool(o.errorsUp) ? '*errors up*' : null, bool(o.cpuHigh) ? '*CPU high*' : null].filter((f) => f !== null);
  const lines: string[] = [];
  if (flags.length > 0) lines.push(`:red_circle: ${flags.join(', ')}: ${moved.length} of ${plural(metrics.length, 'metric')} moved from the baseline`);
  else if (moved.length > 0) lines.push(`:large_yellow_circle: *${moved.length} of ${plural(metrics.length, 'metric')} moved* from the baseline`);
  else lines.push(`:large_green_circle: *No metric moved* from its baseline (${plural(metrics.length, 'metric')})`);
  lines.push(
    ...listed(metrics, (m) => {
      const baseline = num(m.baseline);
      const current = num(m.current);
      const startedAt = str(m.startedMovingAt);
      const peakAt = str(m.peakAt);
      const trend = !startedAt ? ':heavy_minus_sign:' : baseline !== null && current !== null && current < baseline ? ':chart_with_downwards_trend:' : ':chart_with_upwards_trend:';
      const peak = startedAt && num(m.peak) !== null ? `, peak ${fmt(num(m.peak))}${peakAt ? ` at ${at(peakAt, ctx)}` : ''}` : '';
      const status = str(m.status) && str(m.status) !== 'Complete' ? ` · _${safe(str(m.status)!)}_` : '';
      return `${trend} *${safeLine(str(m.label) ?? str(m.id) ?? '?', 150)}*: baseline ${fmt(baseline)} → now ${fmt(current)}${peak} · ${startedAt ? `moved from ${at(startedAt, ctx)}` : 'steady'}${status}`;
    }, 15, 'more metrics'),
  );
  const window = rec(o.window);
  if (window && str(window.onset)) lines.push(`_Baseline: before the onset at ${at(str(window.onset)!, ctx)}; period ${num(window.period) ?? '?'}s_`);
  return lines;
}

function deploymentRef(d: Rec, ctx: RenderContext): string {
  const name = code(taskDef(str(d.taskDefinition)) ?? str(d.id) ?? '?', 150);
  const started = str(d.startedAt);
  const completed = str(d.completedAt);
  return `${name} ${safe(str(d.status) ?? '')}${started ? ` · started ${at(started, ctx)}` : ''}${completed ? ` · finished ${at(completed, ctx)}` : ''}`.trim();
}

function minutesText(minutes: number): string {
  return Math.abs(minutes) < 120 ? `${Math.abs(minutes)} min` : duration(Math.abs(minutes) * 60_000);
}

function deployRecent(o: Rec, ctx: RenderContext): string[] | null {
  if (!('current' in o) && bool(o.correlated) === null) return null;
  const current = rec(o.current);
  const previous = rec(o.previous);
  const windowMinutes = num(o.windowMinutes);
  const window = windowMinutes !== null ? `window ${windowMinutes} min` : null;
  if (!current) return [`:grey_question: *No deployment found*${window ? ` (${window})` : ''}`];
  const minutes = num(o.minutesBeforeOnset);
  const when = bool(o.inProgress)
    ? 'in progress at the onset'
    : minutes === null
      ? 'time unknown'
      : minutes >= 0
        ? `${minutesText(minutes)} before the onset`
        : `${minutesText(minutes)} after the onset`;
  const detail = [when, window].filter((p) => p !== null).join(', ');
  const lines = [
    bool(o.correlated)
      ? `:warning: *The deployment correlates with the onset* (${detail})`
      : `:large_green_circle: *No correlation*: the deployment does not match the onset (${detail})`,
    `*Current*: ${deploymentRef(current, ctx)}`,
    `*Previous*: ${previous ? deploymentRef(previous, ctx) : 'none found'}`,
  ];
  if (str(o.controller) === 'CODE_DEPLOY') {
    lines.push(`_Deployed by CodeDeploy ${code(`${str(o.codedeployApplication) ?? '?'}/${str(o.deploymentGroup) ?? '?'}`, 150)}_`);
  }
  return lines;
}

const VERDICT_EMOJI: Readonly<Record<string, string>> = { healthy: ':large_green_circle:', degraded: ':large_yellow_circle:', 'writer-down': ':red_circle:' };

function auroraHealth(o: Rec, ctx: RenderContext): string[] | null {
  const verdict = str(o.verdict);
  if (!verdict) return null;
  const status = str(o.status);
  const lines = [`${VERDICT_EMOJI[verdict] ?? ':white_circle:'} *Aurora ${safe(str(o.cluster) ?? '')}: ${safe(verdict)}*${status && status !== 'available' ? ` (cluster ${safe(status)})` : ''}`];
  if (bool(o.failoverInProgress)) lines.push(':arrows_counterclockwise: *Failover in progress*');
  const writer = rec(o.writer);
  lines.push(
    writer
      ? `Writer: ${code(str(writer.instanceId) ?? '?', 100)} ${safe(str(writer.status) ?? '?')}${str(writer.availabilityZone) ? ` (${safe(str(writer.availabilityZone)!)})` : ''}`
      : ':red_circle: No writer',
  );
  const readers = recs(o.readers);
  if (readers.length > 0) {
    lines.push(`Readers (${readers.length}):`);
    lines.push(
      ...listed(readers, (r) => {
        const tier = num(r.promotionTier);
        const lag = num(r.replicaLagMs);
        return `• ${code(str(r.instanceId) ?? '?', 100)} ${safe(str(r.status) ?? '?')}${tier !== null ? ` · tier ${tier}` : ''}${lag !== null ? ` · lag ${fmt(lag)} ms` : ''}`;
      }, 10, 'more readers'),
    );
  }
  if (str(o.healthiestReader) && verdict !== 'healthy') lines.push(`Healthiest reader: ${code(str(o.healthiestReader)!, 100)}`);
  const reasons = strs(o.reasons);
  if (reasons.length > 0) {
    lines.push('*Why*');
    lines.push(...listed(reasons, (r) => `• ${safeLine(r, 300)}`, 8, 'more reasons'));
  }
  const events = recs(o.events);
  if (events.length > 0) {
    lines.push('*Recent failover events*');
    lines.push(...listed(events.slice(-3), (e) => `• ${str(e.at) ? `${at(str(e.at)!, ctx)} ` : ''}${safeLine(str(e.message) ?? '', 300)}`, 3));
  }
  return lines;
}

function verifyRecovery(o: Rec): string[] | null {
  const recovered = bool(o.recovered);
  if (recovered === null) return null;
  const checks = num(o.checks);
  const waited = num(o.waitedMs);
  const lines = [
    recovered
      ? `:large_green_circle: *Recovered*${checks !== null ? ` after ${plural(checks, 'check')}` : ''}`
      : `:red_circle: *Not recovered*${waited !== null ? ` after ${duration(waited)}` : ''}`,
  ];
  lines.push(
    ...listed(recs(o.alarms), (a) => {
      const state = str(a.state) ?? '?';
      const emoji = state === 'OK' ? ':large_green_circle:' : state === 'ALARM' ? ':red_circle:' : ':white_circle:';
      const reason = state !== 'OK' && str(a.reason) ? `: ${safeLine(str(a.reason)!, 300)}` : '';
      return `• ${emoji} ${code(str(a.name) ?? '?', 200)} ${safe(state)}${reason}`;
    }, 15, 'more alarms'),
  );
  const targets = rec(o.targets);
  if (targets) lines.push(`Targets: ${num(targets.unhealthy) ?? '?'} of ${num(targets.total) ?? '?'} unhealthy`);
  return lines;
}

const RENDERERS: Readonly<Record<string, Renderer>> = {
  'alb.target-health': albTargetHealth,
  'ecs.service-status': ecsServiceStatus,
  'logs.errors': logErrors,
  'cloudwatch.metrics': cloudwatchMetrics,
  'deploy.recent': deployRecent,
  'aurora.health': auroraHealth,
  'verify.recovery': verifyRecovery,
};

/** The value as redaction sees it beside its key: `password: x` is a secret where `x` alone is not. */
function redactedValue(key: string, value: string): string {
  const pair = `${key}: ${value}`;
  const masked = redactSecrets(pair);
  return masked.startsWith(`${key}: `) ? masked.slice(key.length + 2) : masked;
}

/** Any other action: its summary and the output's small scalar fields as `key: value`. */
function generic(output: Rec | undefined): string[] {
  const scalars = Object.entries(output ?? {})
    .filter(([, v]) => typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 200))
    .slice(0, 12)
    .map(([k, v]) => `*${safe(k)}*: ${safeLine(redactedValue(k, String(v)), 200)}`);
  return scalars.length > 0 ? [scalars.join(' · ')] : [];
}

/**
 * The thread reply for a finished read-only step: what it found, readable at a glance. Null for a
 * mutating step (the approval thread reports those) and for a step that has not run to an end.
 */
export function findingMessage(view: IncidentView, run: RunView, step: StepView): SlackMessage | null {
  if (step.mutating || (step.status !== 'succeeded' && step.status !== 'failed')) return null;
  // The verdict leads the incident message itself; only a failed diagnosis is a finding.
  if (step.action === 'diagnose' && step.status === 'succeeded') return null;
  const title = TITLES[step.action] ?? step.action;
  const failed = step.status === 'failed';
  const took = between(step.startedAt, step.finishedAt);
  const meta = context(
    [
      `runbook ${code(run.runbook, 100)}`,
      step.finishedAt ? `finished ${clock(step.finishedAt)}` : null,
      took !== null ? `took ${duration(took)}` : null,
      `incident ${code(view.id)}`,
    ]
      .filter((p) => p !== null)
      .join(' · '),
  );
  const head = `${failed ? ':x:' : ':mag:'} *${safe(title)}${failed ? ' failed' : ''}* ${code(step.id, 80)}${TITLES[step.action] ? ` · ${safe(step.action)}` : ''}`;

  let body: string[];
  if (failed) {
    body = [`*Error*: ${safeLine(step.error ?? 'no error message recorded', 2000)}`];
  } else {
    const output = rec(step.output);
    const renderer = RENDERERS[step.action];
    const specialised = output && renderer ? renderer(output, { onsetAt: view.onsetAt }) : null;
    body = specialised ?? [...(step.summary ? [safeLine(step.summary, 2000)] : []), ...generic(output ?? undefined)];
    if (body.length === 0) body = ['_no output_'];
  }

  const blocks: KnownBlock[] = [section(head), ...packLines(body, MAX_BODY_BLOCKS), meta];
  const what = failed ? (step.error ?? 'failed') : (step.summary ?? title);
  return { text: fallback(`${safe(title)} (${safe(step.id)}): ${truncate(safe(what), LIMITS.fallback)}`), blocks };
}
