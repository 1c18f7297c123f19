import { type Action, type ActionContext, type ActionResult, PermanentActionError } from '@responder/domain';
import {
  type Elbv2Adapter,
  type HealthCheckSettings,
  nameOfTargetGroupArn,
  type TargetGroupDescription,
  type TargetHealthDescription,
} from '../elbv2.adapter';
import { targetGroupLink } from '../console-links';

/**
 * `alb.target-health`: the first thing on-call looks at when a service behind the ALB goes down.
 * It reads the health check settings of the service's target groups and the health of every
 * target, and explains each reason AWS gives in plain language, naming the path, port, matcher
 * and timeout involved.
 *
 * `with: { target_groups: [arn, ...] }`. Output (see AlbTargetHealthOutput):
 * - `unhealthy`: targets that fail their health checks (state `unhealthy` or `unhealthy.draining`),
 *   so runbooks can write `steps.alb.output.unhealthy > 0`. `unavailable` (checks disabled, or an
 *   AWS-side error) is not counted: it says the health is unknown, not that the app fails. `initial`,
 *   `draining` and `unused` targets are not counted either: they are starting, leaving, or not in service.
 * - `healthy`, `total`, `totals` (the same counts per state over all target groups), `reasons`
 *   (reason code → count over all groups, e.g. `steps.alb.output.reasons['Target.Timeout']`),
 * - `targetGroups`: per group its settings, counts, reasons with a hint, and the targets that are not
 *   healthy (the first MAX_LISTED_TARGETS, the worst first) with their reason and hint.
 */

export const ALB_TARGET_HEALTH_ID = 'alb.target-health';

/** Targets listed per group (the counts always cover all): keeps the step output and the Slack thread small. */
export const MAX_LISTED_TARGETS = 25;

/** Per state. `unhealthy` includes `unhealthy.draining`; `other` is any state AWS adds later. */
export type TargetStateCounts = {
  healthy: number;
  unhealthy: number;
  initial: number;
  draining: number;
  unused: number;
  unavailable: number;
  other: number;
};

export type TargetFinding = {
  id: string;
  port?: number;
  availabilityZone?: string;
  state: string;
  reason?: string;
  /** AWS's own words, e.g. "Health checks failed with these codes: [502]". */
  description?: string;
  hint: string;
};

export type ReasonCount = {
  reason: string;
  count: number;
  /** The hint for the first target with this reason (targets of a group differ only in port, with dynamic ports). */
  hint: string;
};

export type TargetGroupHealth = {
  arn: string;
  name: string;
  targetType: string | null;
  loadBalancerArns: string[];
  healthCheck: HealthCheckSettings;
  total: number;
  counts: TargetStateCounts;
  /** Most frequent first. A target that is not healthy but has no reason code counts under its state, e.g. `state:unhealthy`. */
  reasons: ReasonCount[];
  targetsNotHealthy: TargetFinding[];
  /** How many more targets are not healthy than `targetsNotHealthy` lists. */
  targetsNotHealthyOmitted: number;
  /** The group's Targets tab in the console; null when the region is unknown (absent from older outputs). */
  link?: string | null;
};

export type AlbTargetHealthOutput = {
  targetGroups: TargetGroupHealth[];
  totals: TargetStateCounts & { total: number };
  healthy: number;
  unhealthy: number;
  total: number;
  reasons: Record<string, number>;
};

const STATE_BUCKET: Readonly<Record<string, keyof TargetStateCounts>> = {
  healthy: 'healthy',
  unhealthy: 'unhealthy',
  'unhealthy.draining': 'unhealthy',
  initial: 'initial',
  draining: 'draining',
  unused: 'unused',
  unavailable: 'unavailable',
};

/** The order targets are listed in: what is failing first. */
const SEVERITY: readonly (keyof TargetStateCounts)[] = ['unhealthy', 'unavailable', 'other', 'initial', 'draining', 'unused', 'healthy'];

const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/;

export function albTargetHealthAction(adapter: Elbv2Adapter): Action {
  return {
    id: ALB_TARGET_HEALTH_ID,
    mutating: false,
    description: 'ALB target health: health check settings, targets per state, and a plain-language hint per failure reason (with: { target_groups }).',
    iam: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth'],
    plan: (params) => ({ summary: `read target health of ${targetGroupArns(params).map(nameOfTargetGroupArn).join(', ')}` }),
    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const arns = targetGroupArns(params);
      const options = { abortSignal: ctx.signal };
      const groups = await adapter.describeTargetGroups(arns, options);
      const targets = await Promise.all(groups.map((g) => adapter.describeTargetHealth(g.arn, options)));
      const output = targetHealthReport(groups.map((group, i) => ({ group, targets: targets[i] })));
      const region = await adapter.region();
      for (const g of output.targetGroups) g.link = targetGroupLink(region, g.arn);
      return { output, summary: targetHealthSummary(output) };
    },
  };
}

/** `with.target_groups`, checked: a non-empty list of target group ARNs, duplicates dropped. */
export function targetGroupArns(params: Record<string, unknown>): string[] {
  const value = params.target_groups;
  const shape = `${ALB_TARGET_HEALTH_ID}: "target_groups" must be a non-empty list of target group ARNs`;
  if (!Array.isArray(value) || value.length === 0) throw new PermanentActionError(`${shape}, got ${JSON.stringify(value) ?? 'nothing'}`);
  const bad = value.filter((v) => typeof v !== 'string' || !TARGET_GROUP_ARN.test(v));
  if (bad.length > 0) throw new PermanentActionError(`${shape}; not one: ${bad.map((v) => JSON.stringify(v) ?? String(v)).join(', ')}`);
  return [...new Set(value as string[])];
}

/** The output for described groups and their targets. Pure. */
export function targetHealthReport(groups: readonly { group: TargetGroupDescription; targets: readonly TargetHealthDescription[] }[]): AlbTargetHealthOutput {
  const targetGroups = groups.map(({ group, targets }) => groupHealth(group, targets));
  const totals = { ...emptyCounts(), total: 0 };
  const reasons: Record<string, number> = {};
  for (const g of targetGroups) {
    for (const key of Object.keys(g.counts) as (keyof TargetStateCounts)[]) totals[key] += g.counts[key];
    totals.total += g.total;
    for (const r of g.reasons) reasons[r.reason] = (reasons[r.reason] ?? 0) + r.count;
  }
  return { targetGroups, totals, healthy: totals.healthy, unhealthy: totals.unhealthy, total: totals.total, reasons };
}

function groupHealth(group: TargetGroupDescription, targets: readonly TargetHealthDescription[]): TargetGroupHealth {
  const counts = emptyCounts();
  const findings: (TargetFinding & { bucket: keyof TargetStateCounts })[] = [];
  for (const t of targets) {
    const bucket = STATE_BUCKET[t.state] ?? 'other';
    counts[bucket] += 1;
    if (bucket === 'healthy') continue;
    findings.push({
      bucket,
      id: t.id,
      ...(t.port !== undefined && { port: t.port }),
      ...(t.availabilityZone !== undefined && { availabilityZone: t.availabilityZone }),
      state: t.state,
      ...(t.reason !== undefined && { reason: t.reason }),
      ...(t.description !== undefined && { description: t.description }),
      hint: targetHealthHint({ reason: t.reason, state: t.state, healthCheck: group.healthCheck, port: healthCheckPort(group, t) }),
    });
  }
  findings.sort((a, b) => SEVERITY.indexOf(a.bucket) - SEVERITY.indexOf(b.bucket) || a.id.localeCompare(b.id));

  const byReason = new Map<string, ReasonCount>();
  for (const f of findings) {
    const reason = f.reason ?? `state:${f.state}`;
    const entry = byReason.get(reason);
    if (entry) entry.count += 1;
    else byReason.set(reason, { reason, count: 1, hint: f.hint });
  }

  const listed = findings.slice(0, MAX_LISTED_TARGETS).map(({ bucket: _bucket, ...finding }) => finding);
  return {
    arn: group.arn,
    name: group.name,
    targetType: group.targetType,
    loadBalancerArns: group.loadBalancerArns,
    healthCheck: group.healthCheck,
    total: targets.length,
    counts,
    reasons: [...byReason.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    targetsNotHealthy: listed,
    targetsNotHealthyOmitted: findings.length - listed.length,
  };
}

/** The port checks go to for this target: `traffic-port` is the port the target is registered on. */
function healthCheckPort(group: TargetGroupDescription, target: TargetHealthDescription): string | null {
  const port = target.healthCheckPort ?? group.healthCheck.port;
  if (port === null || port === 'traffic-port') {
    const traffic = target.port ?? group.port;
    return traffic === null ? null : String(traffic);
  }
  return port;
}

export interface HintContext {
  reason?: string;
  state: string;
  healthCheck: HealthCheckSettings;
  /** The port health checks go to for this target, resolved. */
  port: string | null;
}

/** What a reason code means for the people on call, with the settings it depends on. Pure. */
export function targetHealthHint({ reason, state, healthCheck: hc, port }: HintContext): string {
  const onPort = port ? `port ${port}` : 'the health check port';
  const check = describeCheck(hc, onPort);
  const within = hc.timeoutSeconds !== null ? `${hc.timeoutSeconds} s` : 'the health check timeout';
  switch (reason) {
    case 'Target.ResponseCodeMismatch':
      return (
        `The health check (${check}) answered with a code outside the expected ${hc.matcher ?? 'codes'}: the app runs, but its ` +
        `health endpoint fails (a dependency it checks is down), redirects (HTTP to HTTPS, a login page) or is gone (404 after a ` +
        `path change). Compare the codes in the description with ${hc.matcher ?? 'the matcher'}.`
      );
    case 'Target.Timeout':
      return (
        `No answer to the health check (${check}) within ${within}: the task's security group may not let the load balancer in ` +
        `on ${onPort}, the app may listen on another port (or only on 127.0.0.1), or it is too slow to answer in ${within} ` +
        `(CPU or memory starved, blocked on a dependency).`
      );
    case 'Target.FailedHealthChecks':
      return (
        `The load balancer could not complete the health check on ${onPort}: the connection was refused or reset, or the answer ` +
        `was malformed. The app has probably crashed or is not listening yet; look at the task's logs and ECS stopped reasons.`
      );
    case 'Target.NotRegistered':
      return 'The target is not registered in this target group (any more): it was deregistered, or its task stopped. ECS registers the tasks it starts by itself.';
    case 'Target.NotInUse':
      return (
        'No load balancer uses this target group (no listener rule forwards to it), or the target is in an Availability Zone ' +
        'the load balancer does not have enabled. For the idle target group of a blue/green pair, this is normal.'
      );
    case 'Target.InvalidState':
      return 'The target is stopped or terminated: the instance or task behind it is gone. Look at the ECS stopped reasons.';
    case 'Target.IpUnusable':
      return "The target's IP address cannot be used: it is reserved for the load balancer itself. Register another address.";
    case 'Target.DeregistrationInProgress':
      return "The target is being deregistered and drains its connections until the target group's deregistration delay ends; expected during deployments and scale-in.";
    case 'Target.HealthCheckDisabled':
      return 'Health checks are disabled for this target group, so its health is unknown: the load balancer sends traffic to the target whatever its state.';
    case 'Elb.InitialHealthChecking': {
      const wait =
        hc.healthyThreshold !== null && hc.intervalSeconds !== null
          ? `${hc.healthyThreshold} health checks in a row (every ${hc.intervalSeconds} s, so about ${hc.healthyThreshold * hc.intervalSeconds} s)`
          : 'its first health checks';
      return `The target is new and has not yet passed ${wait}; it takes no traffic until then. Look again after that.`;
    }
    case 'Elb.RegistrationInProgress':
      return 'The target is still being registered with the load balancer, which takes a little while after a task starts.';
    case 'Elb.InternalError':
      return "The load balancer reports an internal error for this target's health: a problem on AWS's side, not the app's. Check the AWS Health Dashboard and look again shortly.";
    case undefined:
      return `The target is ${state} and AWS gives no reason code.`;
    default:
      return `AWS reports ${reason} (state ${state}); there is no hint for this code yet: see the description.`;
  }
}

function describeCheck(hc: HealthCheckSettings, onPort: string): string {
  const protocol = hc.protocol ?? 'HTTP';
  if (protocol === 'TCP' || protocol === 'TLS' || protocol === 'UDP' || protocol === 'TCP_UDP' || hc.path === null) {
    return `${protocol} on ${onPort}`;
  }
  return `${protocol} ${hc.path} on ${onPort}`;
}

/** One line: "2 of 6 targets unhealthy in checkout-blue: Target.ResponseCodeMismatch ×2". Pure. */
export function targetHealthSummary(output: AlbTargetHealthOutput): string {
  const notFine = output.targetGroups.filter((g) => g.total === 0 || g.counts.healthy < g.total);
  if (notFine.length === 0) {
    return `all ${output.total} targets healthy in ${output.targetGroups.map((g) => g.name).join(', ')}`;
  }
  return notFine
    .map((g) => {
      if (g.total === 0) return `no targets in ${g.name}`;
      const reasons = g.reasons.map((r) => `${r.reason} ×${r.count}`).join(', ');
      return `${g.counts.unhealthy} of ${g.total} targets unhealthy in ${g.name}${reasons ? `: ${reasons}` : ''}`;
    })
    .join('; ');
}

function emptyCounts(): TargetStateCounts {
  return { healthy: 0, unhealthy: 0, initial: 0, draining: 0, unused: 0, unavailable: 0, other: 0 };
}
