/**
 * Mitigation goals: what a mutating step must have achieved, checked after its call as part of the
 * step (a rollback: the service on its target task definition, its deployment steady, the
 * incident's alarms OK, its targets healthy, within N minutes). Pure: types, the default goals of
 * the mutating actions, and the evaluation of check results over time. The checks themselves read
 * AWS (libs/aws/src/goal-checks.ts); the engine runs them (its goal gate).
 */

/** The checks a goal may name. */
export const GOAL_CHECK_IDS = ['service-on-target', 'deployment-steady', 'alarms-ok', 'targets-healthy', 'running-reached-desired', 'writer-available'] as const;
export type GoalCheckId = (typeof GOAL_CHECK_IDS)[number];

export const GOAL_CHECK_DESCRIPTIONS: Record<GoalCheckId, string> = {
  'service-on-target': 'the ECS service runs the task definition the rollback went to',
  'deployment-steady': 'the ECS service has one deployment, completed, with its running count at its desired count',
  'alarms-ok': "every alarm of the incident is OK",
  'targets-healthy': "no target of the service's target groups is unhealthy",
  'running-reached-desired': 'the ECS service runs as many tasks as it asked for',
  'writer-available': 'the Aurora cluster has an available writer (the failover target)',
};

/** A step's goal, as parsed from a runbook. */
export interface Goal {
  withinMs: number;
  pollMs: number;
  checks: GoalCheckId[];
}

export const DEFAULT_GOAL_WITHIN_MS = 10 * 60_000;
export const DEFAULT_GOAL_POLL_MS = 15_000;

/** The goal a mutating action gets when its step says nothing (an action not listed: none). */
export const DEFAULT_GOAL_CHECKS: Readonly<Record<string, readonly GoalCheckId[]>> = {
  'deploy.rollback': ['service-on-target', 'deployment-steady', 'alarms-ok', 'targets-healthy'],
  'ecs.scale-up': ['running-reached-desired', 'alarms-ok'],
  'aurora.failover': ['writer-available'],
};

/** The default goal of an action, or null when it has none. */
export function defaultGoal(action: string): Goal | null {
  const checks = DEFAULT_GOAL_CHECKS[action];
  return checks ? { withinMs: DEFAULT_GOAL_WITHIN_MS, pollMs: DEFAULT_GOAL_POLL_MS, checks: [...checks] } : null;
}

/** One check's answer: met or not, and what was seen ("checkout-5xx is ALARM"). */
export interface GoalCheckResult {
  check: GoalCheckId;
  met: boolean;
  detail: string;
}

/** What a check reads: the step's parameters and output, the incident's alarms, the service's target groups. */
export interface GoalCheckInput {
  params: Record<string, unknown>;
  output: Record<string, unknown>;
  alarms: string[];
  targetGroups: string[];
  signal?: AbortSignal;
}

/**
 * A mutating call was made and its goal was not met in time: the step fails with it (not retried:
 * the call is never repeated by verification), and the engine escalates.
 */
export class GoalMissedError extends Error {
  override readonly name = 'GoalMissedError';
  /** Never retried, like PermanentActionError. */
  readonly permanent = true;
  constructor(
    message: string,
    readonly failed: readonly GoalCheckResult[],
  ) {
    super(message);
  }
}

/** Runs the named checks (an adapter: libs/aws, or a test's stand-in). */
export interface GoalChecker {
  check(checks: readonly GoalCheckId[], input: GoalCheckInput): Promise<GoalCheckResult[]>;
}

/** Where a verification is, kept on the step between two checks (its checkpoint). */
export interface GoalProgress {
  /** ms since the epoch */
  startedAt: number;
  deadline: number;
  checks: number;
}

export type GoalVerdict =
  | { kind: 'met'; checks: number; results: GoalCheckResult[] }
  | { kind: 'again'; afterMs: number; progress: GoalProgress }
  | { kind: 'missed'; checks: number; results: GoalCheckResult[]; failed: GoalCheckResult[] };

export function startGoal(goal: Goal, now: number): GoalProgress {
  return { startedAt: now, deadline: now + goal.withinMs, checks: 0 };
}

/** After one round of checks: met, check again after a poll (at most at the deadline), or missed once the deadline has passed. */
export function judgeGoal(goal: Goal, progress: GoalProgress, results: GoalCheckResult[], now: number): GoalVerdict {
  const checks = progress.checks + 1;
  const failed = results.filter((r) => !r.met);
  if (failed.length === 0) return { kind: 'met', checks, results };
  const left = progress.deadline - now;
  if (left <= 0) return { kind: 'missed', checks, results, failed };
  return { kind: 'again', afterMs: Math.min(goal.pollMs, left), progress: { ...progress, checks } };
}

/** "goal missed after 5 min (21 checks): checkout-5xx is ALARM; 1 of 2 targets unhealthy". */
export function goalMissedSummary(goal: Goal, checks: number, failed: readonly GoalCheckResult[]): string {
  return `goal not met within ${minutes(goal.withinMs)} (${checks} check${checks === 1 ? '' : 's'}): ${failed.map((f) => f.detail).join('; ')}`;
}

export function goalMetSummary(checks: number, results: readonly GoalCheckResult[]): string {
  return `goal met after ${checks} check${checks === 1 ? '' : 's'}: ${results.map((r) => r.detail).join('; ')}`;
}

function minutes(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

/**
 * The repeat rule: a mitigation that "succeeded" at least twice on a service within a day, each
 * time followed by the alarm coming back (a later incident of that service), is not run a third time
 * without a person. `earlier` lists its earlier successes (ms since the epoch, the incident of each).
 * Returns why a person must decide, or null.
 */
export function repeatedMitigation(
  action: string,
  service: string,
  incidentId: string,
  earlier: readonly { at: number; incidentId: string }[],
  now: number,
  windowMs = 24 * 3600_000,
): string | null {
  // Successes in other incidents: within one incident, the steps of its run are one mitigation.
  const recent = earlier.filter((e) => e.incidentId !== incidentId && now - e.at <= windowMs && e.at <= now);
  const incidents = new Set(recent.map((e) => e.incidentId));
  if (incidents.size < 2) return null;
  const when = recent
    .map((e) => e.at)
    .sort((a, b) => a - b)
    .map((t) => new Date(t).toISOString())
    .join(', ');
  return `${action} on ${service} already "succeeded" ${incidents.size} times in the last 24 h (${when}) and the alarm came back each time: a person decides whether to run it again`;
}
