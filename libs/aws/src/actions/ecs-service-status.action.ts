import { type Action, type ActionContext, type ActionPlan, type ActionResult, PermanentActionError } from '@responder/domain';
import { ecsServiceLink, ecsTaskLink } from '../console-links';
import type { EcsAdapter, EcsDeployment, EcsService, EcsServiceEvent, StoppedTask } from '../ecs.adapter';

/** Where an ECS action acts: `with: { cluster, service }` (names or ARNs). */
export interface EcsServiceParams {
  cluster: string;
  service: string;
}

/** Reads `cluster` and `service` from a step's parameters; a missing one fails the step for good. */
export function ecsServiceParams(actionId: string, params: Record<string, unknown>): EcsServiceParams {
  const read = (key: 'cluster' | 'service') => {
    const value = params[key];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new PermanentActionError(`${actionId}: "${key}" must be a non-empty string, got ${JSON.stringify(value) ?? 'nothing'}`);
    }
    return value.trim();
  };
  return { cluster: read('cluster'), service: read('service') };
}

function optionalInt(actionId: string, params: Record<string, unknown>, key: string, min: number, max: number, fallback: number): number {
  const value = params[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new PermanentActionError(`${actionId}: "${key}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Folds what differs between tasks that stopped for the same cause (task and container ids, ARNs'
 * hex suffixes, deployment numbers, IP addresses) so that identical causes group together.
 */
export function foldReason(text: string): string {
  return text
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<id>')
    .replace(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, '<ip>')
    .replace(/\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b/gi, '<id>')
    .replace(/\d{4,}/g, '<n>')
    .replace(/\s+/g, ' ')
    .trim();
}

const OOM_TEXT = /OutOfMemory/i;

/**
 * Killed for memory: ECS says "OutOfMemoryError: Container killed due to memory usage", or a
 * container ended with 137 (SIGKILL) on its own. When ECS stops a task itself (scale-in, a failed
 * health check, a deployment) a container that outlives the stop timeout also ends with 137, so
 * 137 counts only when the stop code says an essential container exited (or there is no stop code).
 */
export function isOomKill(task: StoppedTask): boolean {
  if (OOM_TEXT.test(task.stoppedReason ?? '') || task.containers.some((c) => OOM_TEXT.test(c.reason ?? ''))) return true;
  return (task.stopCode === null || task.stopCode === 'EssentialContainerExited') && task.containers.some((c) => c.exitCode === 137);
}

export interface StoppedGroup {
  /** The folded stopped reason, e.g. "Task failed ELB health checks in (target-group arn:…:targetgroup/checkout/<id>)". */
  reason: string;
  stopCode: string | null;
  /** What each container that failed said: "app: OutOfMemoryError: Container killed due to memory usage (exit 137)". */
  containers: string[];
  count: number;
  oom: boolean;
  lastStoppedAt: string | null;
  /** Up to five task ids, to look one up. */
  taskIds: string[];
  /** The newest of these stopped tasks in the console (its stopped reason); null when the region is unknown. */
  link?: string | null;
}

/** Stopped tasks grouped by cause (stop code, folded reason, what the failing containers said), the largest group first. */
export function groupStoppedTasks(tasks: readonly StoppedTask[]): StoppedGroup[] {
  const groups = new Map<string, StoppedGroup>();
  for (const task of tasks) {
    const reason = foldReason(task.stoppedReason ?? '(no reason given)');
    const containers = task.containers
      .filter((c) => c.reason || (c.exitCode !== null && c.exitCode !== 0))
      .map((c) => `${c.name}: ${c.reason ? foldReason(c.reason) : 'exited'}${c.exitCode !== null ? ` (exit ${c.exitCode})` : ''}`)
      .sort();
    const key = JSON.stringify([task.stopCode, reason, containers]);
    let group = groups.get(key);
    if (!group) {
      group = { reason, stopCode: task.stopCode, containers, count: 0, oom: isOomKill(task), lastStoppedAt: null, taskIds: [] };
      groups.set(key, group);
    }
    group.count++;
    if (task.stoppedAt && (!group.lastStoppedAt || task.stoppedAt > group.lastStoppedAt)) group.lastStoppedAt = task.stoppedAt;
    if (group.taskIds.length < 5) group.taskIds.push(task.taskArn.slice(task.taskArn.lastIndexOf('/') + 1));
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || (b.lastStoppedAt ?? '').localeCompare(a.lastStoppedAt ?? ''));
}

export const ECS_SERVICE_STATUS_ID = 'ecs.service-status';

/**
 * Diagnostic (issue 4, action 2): is the ECS service running the tasks it wants, is a deployment
 * rolling, what do its events say, and why did its tasks stop (grouped, with OOM kills and exit
 * codes). `with: { cluster, service, max_stopped?: 1-1000 (100), events?: 0-100 (10) }`.
 */
export function ecsServiceStatusAction(ecs: EcsAdapter): Action {
  const id = ECS_SERVICE_STATUS_ID;
  return {
    id,
    mutating: false,
    description: 'ECS service status: desired/running/pending tasks, deployments and rollout state, last events, stopped tasks grouped by reason with OOM kills and exit codes (with: { cluster, service }).',
    iam: ['ecs:DescribeServices', 'ecs:ListTasks', 'ecs:DescribeTasks'],
    plan(params: Record<string, unknown>): ActionPlan {
      const { cluster, service } = ecsServiceParams(id, params);
      return { summary: `read ECS service ${cluster}/${service}: counts, deployments, events, stopped tasks` };
    },
    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const { cluster, service } = ecsServiceParams(id, params);
      const maxStopped = optionalInt(id, params, 'max_stopped', 1, 1000, 100);
      const events = optionalInt(id, params, 'events', 0, 100, 10);
      const [svc, stopped] = await Promise.all([
        ecs.describeService(cluster, service, { events, abortSignal: ctx.signal }),
        ecs.stoppedTasks(cluster, service, maxStopped, { abortSignal: ctx.signal }),
      ]);
      const output = serviceStatusReport(svc, stopped);
      const region = await ecs.region();
      output.link = ecsServiceLink(region, cluster, service, 'events');
      output.deploymentsLink = ecsServiceLink(region, cluster, service, 'deployments');
      for (const g of output.stoppedGroups) g.link = g.taskIds[0] ? ecsTaskLink(region, cluster, g.taskIds[0]) : ecsServiceLink(region, cluster, service, 'tasks');
      return { output, summary: serviceStatusSummary(output) };
    },
  };
}

/** A type alias, not an interface: it must be assignable to ActionResult's Record<string, unknown>. */
export type EcsServiceStatusOutput = {
  cluster: string;
  service: string;
  status: string;
  desired: number;
  running: number;
  pending: number;
  /** desired − running (never below 0). */
  missing: number;
  tasksMissing: boolean;
  launchType: string | null;
  capacityProviders: string[];
  taskDefinition: string | null;
  deploymentController: string;
  /** Of the PRIMARY deployment. */
  rolloutState: string | null;
  rolloutStateReason: string | null;
  deploymentInProgress: boolean;
  deployments: EcsDeployment[];
  events: EcsServiceEvent[];
  /** How many stopped tasks were examined. */
  stopped: number;
  stoppedGroups: StoppedGroup[];
  /** Stopped tasks killed for memory (isOomKill). */
  oomKills: number;
  /** Container exit code → how many containers of the stopped tasks ended with it. */
  exitCodes: Record<string, number>;
  /** The service's events in the console; `deploymentsLink` its deployments. Null when the region is unknown (absent from older outputs). */
  link?: string | null;
  deploymentsLink?: string | null;
};

/** The output for a described service and its stopped tasks. Pure. */
export function serviceStatusReport(svc: EcsService, stopped: readonly StoppedTask[]): EcsServiceStatusOutput {
  const missing = Math.max(0, svc.desiredCount - svc.runningCount);
  const primary = svc.deployments.find((d) => d.status === 'PRIMARY') ?? svc.deployments[0] ?? null;
  const exitCodes: Record<string, number> = {};
  for (const task of stopped) {
    for (const c of task.containers) if (c.exitCode !== null) exitCodes[c.exitCode] = (exitCodes[c.exitCode] ?? 0) + 1;
  }
  return {
    cluster: svc.cluster,
    service: svc.service,
    status: svc.status,
    desired: svc.desiredCount,
    running: svc.runningCount,
    pending: svc.pendingCount,
    missing,
    tasksMissing: missing > 0,
    launchType: svc.launchType,
    capacityProviders: svc.capacityProviders,
    taskDefinition: svc.taskDefinition,
    deploymentController: svc.deploymentController,
    rolloutState: primary?.rolloutState ?? null,
    rolloutStateReason: primary?.rolloutStateReason ?? null,
    // A rolling update keeps the deployment it replaces (ACTIVE) beside the new PRIMARY until it is done.
    deploymentInProgress: svc.deployments.length > 1 || primary?.rolloutState === 'IN_PROGRESS',
    deployments: svc.deployments,
    events: svc.events,
    stopped: stopped.length,
    stoppedGroups: groupStoppedTasks(stopped),
    oomKills: stopped.filter(isOomKill).length,
    exitCodes,
  };
}

/** One line for the timeline and Slack. */
export function serviceStatusSummary(o: EcsServiceStatusOutput): string {
  const parts = [`${o.cluster}/${o.service} ${o.status}: ${o.running} of ${o.desired} tasks running${o.missing > 0 ? ` (${o.missing} missing)` : ''}`];
  if (o.rolloutState) parts.push(`rollout ${o.rolloutState}`);
  if (o.stopped > 0) {
    const top = o.stoppedGroups
      .slice(0, 2)
      .map((g) => `${g.count}× ${truncate(g.containers[0] ?? g.reason, 80)}`)
      .join(', ');
    parts.push(`${o.stopped} stopped tasks: ${top}${o.stoppedGroups.length > 2 ? ', …' : ''}`);
  }
  if (o.oomKills > 0) parts.push(`${o.oomKills} OOM kill${o.oomKills === 1 ? '' : 's'}`);
  return parts.join('; ');
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
