import { type Action, type ActionContext, type ActionPlan, type ActionResult, PermanentActionError, type PlanCheck, type PrecheckContext } from '@responder/domain';
import type { ApplicationAutoScalingAdapter } from '../app-autoscaling.adapter';
import type { EcsAdapter } from '../ecs.adapter';
import { ecsServiceParams } from './ecs-service-status.action';
import { scaleUpHolds } from './plan-checks';

export const ECS_SCALE_UP_ID = 'ecs.scale-up';

/** The catalog's bounds (service-catalog `limits.scaleUpFactor` is 1 to 10). */
const MAX_FACTOR = 10;
const MAX_TASKS_LIMIT = 10_000;

export interface ScaleUpParams {
  cluster: string;
  service: string;
  /** The catalog's `limits.maxTasks`: never above it. */
  maxTasks: number;
  /** The catalog's `limits.scaleUpFactor`. */
  factor: number;
  /**
   * The desired count the plan starts from (the ecs diagnostic's `desired`), or null. With it the
   * target is fixed before approval, and the approval's params hash covers it.
   */
  from: number | null;
}

/**
 * Reads `with: { cluster, service, max_tasks, factor, from? }`; a bad value fails the step (and its
 * plan) for good. A null or missing `from` is "not given": the diagnostic it comes from may have
 * failed, and the scale-up then falls back to reading the count when it runs.
 */
export function scaleUpParams(params: Record<string, unknown>): ScaleUpParams {
  const { cluster, service } = ecsServiceParams(ECS_SCALE_UP_ID, params);
  const maxTasks = params.max_tasks;
  if (typeof maxTasks !== 'number' || !Number.isInteger(maxTasks) || maxTasks < 1 || maxTasks > MAX_TASKS_LIMIT) {
    throw new PermanentActionError(`${ECS_SCALE_UP_ID}: "max_tasks" must be a whole number from 1 to ${MAX_TASKS_LIMIT}, got ${JSON.stringify(maxTasks) ?? 'nothing'}`);
  }
  const factor = params.factor;
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1 || factor > MAX_FACTOR) {
    throw new PermanentActionError(`${ECS_SCALE_UP_ID}: "factor" must be a number from 1 to ${MAX_FACTOR}, got ${JSON.stringify(factor) ?? 'nothing'}`);
  }
  const from = params.from ?? null;
  if (from !== null && (typeof from !== 'number' || !Number.isInteger(from) || from < 0 || from > MAX_TASKS_LIMIT)) {
    throw new PermanentActionError(`${ECS_SCALE_UP_ID}: "from" must be a whole number from 0 to ${MAX_TASKS_LIMIT}, got ${JSON.stringify(from)}`);
  }
  return { cluster, service, maxTasks, factor, from };
}

export type CappedBy = 'catalog' | 'autoscaling' | null;

/**
 * The desired count a scale-up aims for from `current`: ceil(current × factor), at most the
 * catalog's max_tasks and at most Application Auto Scaling's max capacity when it manages the
 * service, with the limit that bound it (null when none did).
 */
export function scaleUpTarget(current: number, limits: { maxTasks: number; factor: number; autoscalingMax: number | null }): { target: number; cappedBy: CappedBy } {
  const wanted = Math.ceil(current * limits.factor);
  let target = wanted;
  let cappedBy: CappedBy = null;
  if (limits.maxTasks < target) {
    target = limits.maxTasks;
    cappedBy = 'catalog';
  }
  if (limits.autoscalingMax !== null && limits.autoscalingMax < target) {
    target = limits.autoscalingMax;
    cappedBy = 'autoscaling';
  }
  return { target, cappedBy };
}

/**
 * What an approval with `from` covers: the target from the approved count and the catalog's
 * max_tasks. Application Auto Scaling's max capacity is not known to a pure plan; run() caps by it
 * and says so.
 */
export function approvedScaleUpTarget(p: ScaleUpParams & { from: number }): { target: number; cappedBy: CappedBy } {
  return scaleUpTarget(p.from, { maxTasks: p.maxTasks, factor: p.factor, autoscalingMax: null });
}

/** The plan line approvers see; exact when `from` is given. Pure. */
export function scaleUpPlanSummary(p: ScaleUpParams): string {
  const name = `${p.cluster}/${p.service}`;
  if (p.from === null) {
    return `UpdateService ${name} desiredCount → min(${p.maxTasks}, ceil(current × ${p.factor})), at most Application Auto Scaling's max capacity`;
  }
  if (p.from === 0) return `no UpdateService on ${name}: desiredCount 0 (a service scaled to zero is not scaled up automatically)`;
  const { target, cappedBy } = approvedScaleUpTarget({ ...p, from: p.from });
  const cap = cappedBy === 'catalog' ? ` (capped at max_tasks ${p.maxTasks})` : '';
  if (target <= p.from) return `no UpdateService on ${name}: desiredCount ${p.from} is already ≥ the target ${target}${cap}`;
  return `UpdateService ${name} desiredCount ${p.from} → ${target}${cap}`;
}

/**
 * Mitigation (issue 4, action 7), MUTATING: raises the service's desired count to
 * min(max_tasks, ceil(current × factor)), reading the current count first so that a service
 * already there is a skip, not a call (every step is safe to run twice).
 *
 * With `from` (the desired count the diagnostic saw), "current" is `from`: the plan names the
 * exact target and run() sets that target, never one recomputed from the live count. Approvers
 * approve a number; a count that moved between plan and run must not turn it into another one
 * (a live 6 with factor 2 would otherwise become 12 after approving 4 → 8). The live count only
 * decides whether a call is needed: at or above the target is a skip.
 *
 * Application Auto Scaling: when a scalable target manages the service, its max capacity caps the
 * target too. A desired count above that max does not hold: Application Auto Scaling brings the
 * count back inside [min, max] on its next scaling activity, so the scale-up would look done and
 * quietly be undone.
 *
 * A service at 0 tasks is left alone: a multiple of 0 is 0, and a service scaled to zero was
 * most likely scaled there on purpose.
 */
export function ecsScaleUpAction(ecs: EcsAdapter, autoscaling: ApplicationAutoScalingAdapter): Action {
  return {
    id: ECS_SCALE_UP_ID,
    mutating: true,
    announcesCall: true,
    description:
      "Scale an ECS service up: desiredCount to min(max_tasks, ceil(from × factor)) (from: the count the plan starts from, else the current one), below Application Auto Scaling's max capacity; a skip when already there (with: { cluster, service, max_tasks, factor, from? }).",
    iam: ['ecs:DescribeServices', 'ecs:UpdateService', 'application-autoscaling:DescribeScalableTargets'],

    /** Pure: exact with `from`; without it the current count is only known when the step runs. */
    plan(params: Record<string, unknown>): ActionPlan {
      const p = scaleUpParams(params);
      const summary = scaleUpPlanSummary(p);
      // Known from the plan alone (`from` against the catalog's max): no call would follow, so
      // nobody is asked to approve one.
      const nothingToDo = p.from !== null && (p.from === 0 || approvedScaleUpTarget({ ...p, from: p.from }).target <= p.from) ? summary : undefined;
      return { summary, resource: `ecs:${p.cluster}/${p.service}`, nothingToDo };
    },

    /** The plan holds while the service still wants the count it was made from. */
    async precheck(params: Record<string, unknown>, ctx: PrecheckContext): Promise<PlanCheck> {
      const p = scaleUpParams(params);
      if (p.from === null) return scaleUpHolds(p, { desiredCount: 0 });
      return scaleUpHolds(p, await ecs.describeService(p.cluster, p.service, { events: 0, abortSignal: ctx.signal }));
    },

    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = scaleUpParams(params);
      const name = `${p.cluster}/${p.service}`;
      const [svc, scalable] = await Promise.all([
        ecs.describeService(p.cluster, p.service, { events: 0, abortSignal: ctx.signal }),
        autoscaling.scalableTarget(p.cluster, p.service, { abortSignal: ctx.signal }),
      ]);
      if (svc.status !== 'ACTIVE') throw new PermanentActionError(`${ECS_SCALE_UP_ID}: ECS service ${name} is ${svc.status}, not ACTIVE: it cannot be scaled`);

      const current = svc.desiredCount;
      if (current === 0) {
        const reason = 'desired count is 0: a service scaled to zero is not scaled up automatically';
        return { output: { skipped: true, reason, desiredCount: 0 }, summary: `${name}: ${reason}` };
      }
      const limits = { maxTasks: p.maxTasks, factor: p.factor, autoscalingMax: scalable?.maxCapacity ?? null };
      if (p.from !== null) return scaleToApproved(ecs, { ...p, from: p.from }, { desiredCount: current, runningCount: svc.runningCount }, limits, ctx);

      const { target, cappedBy } = scaleUpTarget(current, limits);
      if (current >= target) {
        const reason = `already at ${current} tasks`;
        const bound = cappedBy === 'autoscaling' ? ` (Application Auto Scaling max ${target})` : cappedBy === 'catalog' ? ` (catalog max ${target})` : '';
        return { output: { skipped: true, reason, desiredCount: current, target, cappedBy, limits }, summary: `${name}: ${reason}${bound}, not scaled` };
      }

      await ctx.calling?.();
      const { desiredCount: to, requestId } = await ecs.setDesiredCount(p.cluster, p.service, target, { abortSignal: ctx.signal });
      const bound = cappedBy === 'autoscaling' ? ', capped by Application Auto Scaling max capacity' : cappedBy === 'catalog' ? ', capped by the catalog max_tasks' : '';
      return {
        output: { from: current, to, desiredCount: to, cappedBy, limits, runningCount: svc.runningCount, requestId },
        summary: `scaled ${name} from ${current} to ${to} desired tasks${bound}`,
      };
    },

    /**
     * After an attempt that was interrupted between UpdateService and its record. Without `from`
     * the ledger keeps nothing about the target before the call, and running again would multiply
     * a count that may already be scaled (4 → 8 → 16). So this only reads the service and reports
     * its desired count as the outcome; it never calls UpdateService, with or without `from` (a
     * call of its own would be one nobody saw go through). If the first call did not land, the
     * count is still the old one, and the summary gives the number (and the approved target, when
     * known) for people to judge.
     */
    async reconcile(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = scaleUpParams(params);
      const svc = await ecs.describeService(p.cluster, p.service, { events: 0, abortSignal: ctx.signal });
      if (p.from === null) {
        return {
          output: { reconciled: true, desiredCount: svc.desiredCount, runningCount: svc.runningCount },
          summary: `${p.cluster}/${p.service}: an earlier attempt was interrupted; desired count is now ${svc.desiredCount} (not changed again)`,
        };
      }
      const approvedTarget = approvedScaleUpTarget({ ...p, from: p.from }).target;
      return {
        output: { reconciled: true, desiredCount: svc.desiredCount, runningCount: svc.runningCount, plannedFrom: p.from, approvedTarget },
        summary: `${p.cluster}/${p.service}: an earlier attempt was interrupted; desired count is now ${svc.desiredCount}, approved target ${approvedTarget} (not changed again)`,
      };
    },
  };
}

type Limits = Parameters<typeof scaleUpTarget>[1];

/**
 * run() with `from`: sets the approved target, lowered only by Application Auto Scaling's max;
 * the live count only decides whether a call is needed.
 */
async function scaleToApproved(
  ecs: EcsAdapter,
  p: ScaleUpParams & { from: number },
  live: { desiredCount: number; runningCount: number },
  limits: Limits,
  ctx: ActionContext,
): Promise<ActionResult> {
  const name = `${p.cluster}/${p.service}`;
  const current = live.desiredCount;
  const approved = approvedScaleUpTarget(p);
  const planned = { plannedFrom: p.from, approvedTarget: approved.target };
  if (approved.target <= p.from) {
    // The approved plan was "no UpdateService": nothing may change, whatever the count is now.
    const reason = `the approved plan changes nothing: it started from ${p.from} desired tasks, already ≥ the target ${approved.target}`;
    return {
      output: { skipped: true, reason, desiredCount: current, ...planned, target: approved.target, cappedBy: approved.cappedBy, limits },
      summary: `${name}: ${reason}, not scaled`,
    };
  }
  let { target, cappedBy } = approved;
  if (limits.autoscalingMax !== null && limits.autoscalingMax < target) {
    target = limits.autoscalingMax;
    cappedBy = 'autoscaling';
  }
  const aasCap = cappedBy === 'autoscaling' ? `, capped by Application Auto Scaling max capacity ${target} (approved ${approved.target})` : '';
  if (current >= target) {
    const reason = `already at ${current} desired tasks (≥ target ${target})`;
    return { output: { skipped: true, reason, desiredCount: current, ...planned, target, cappedBy, limits }, summary: `${name}: ${reason}${aasCap}, not scaled` };
  }

  await ctx.calling?.();
  const { desiredCount: to, requestId } = await ecs.setDesiredCount(p.cluster, p.service, target, { abortSignal: ctx.signal });
  const catalogCap = cappedBy === 'catalog' ? `, capped at max_tasks ${p.maxTasks}` : '';
  // Below `from`, someone scaled down after the plan: the approved target still holds, it is what people approved.
  const drift =
    current < p.from
      ? `; the plan started from ${p.from} but the service was scaled down to ${current} since: set to the approved target`
      : current > p.from
        ? `; the plan started from ${p.from}, the service was at ${current} when the step ran`
        : '';
  return {
    output: { from: current, to, desiredCount: to, ...planned, target, cappedBy, limits, runningCount: live.runningCount, requestId },
    summary: `scaled ${name} from ${current} to ${to} desired tasks${catalogCap}${aasCap}${drift}`,
  };
}
