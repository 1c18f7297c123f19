import { type Action, type ActionContext, type ActionPlan, type ActionResult, PermanentActionError } from '@responder/domain';
import type { ApplicationAutoScalingAdapter } from '../app-autoscaling.adapter';
import type { EcsAdapter } from '../ecs.adapter';
import { ecsServiceParams } from './ecs-service-status.action';

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
}

/** Reads `with: { cluster, service, max_tasks, factor }`; a bad value fails the step (and its plan) for good. */
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
  return { cluster, service, maxTasks, factor };
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
 * Mitigation (issue 4, action 7), MUTATING: raises the service's desired count to
 * min(max_tasks, ceil(current × factor)), reading the current count first so that a service
 * already there is a skip, not a call (STYLE §8).
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
    description: "Scale an ECS service up: desiredCount to min(max_tasks, ceil(current × factor)), below Application Auto Scaling's max capacity; a skip when already there (with: { cluster, service, max_tasks, factor }).",
    iam: ['ecs:DescribeServices', 'ecs:UpdateService', 'application-autoscaling:DescribeScalableTargets'],

    /** Pure: the current count is only known when the step runs. */
    plan(params: Record<string, unknown>): ActionPlan {
      const p = scaleUpParams(params);
      return {
        summary: `UpdateService ${p.cluster}/${p.service} desiredCount → min(${p.maxTasks}, ceil(current × ${p.factor})), at most Application Auto Scaling's max capacity`,
        resource: `ecs:${p.cluster}/${p.service}`,
      };
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
      const { target, cappedBy } = scaleUpTarget(current, limits);
      if (current >= target) {
        const reason = `already at ${current} tasks`;
        const bound = cappedBy === 'autoscaling' ? ` (Application Auto Scaling max ${target})` : cappedBy === 'catalog' ? ` (catalog max ${target})` : '';
        return { output: { skipped: true, reason, desiredCount: current, target, cappedBy, limits }, summary: `${name}: ${reason}${bound}, not scaled` };
      }

      const to = await ecs.setDesiredCount(p.cluster, p.service, target, { abortSignal: ctx.signal });
      const bound = cappedBy === 'autoscaling' ? ', capped by Application Auto Scaling max capacity' : cappedBy === 'catalog' ? ', capped by the catalog max_tasks' : '';
      return {
        output: { from: current, to, desiredCount: to, cappedBy, limits, runningCount: svc.runningCount },
        summary: `scaled ${name} from ${current} to ${to} desired tasks${bound}`,
      };
    },

    /**
     * After an attempt that was interrupted between UpdateService and its record. The ledger keeps
     * nothing about the target before the call, and running again would multiply a count that may
     * already be scaled (4 → 8 → 16). So this only reads the service and reports its desired count
     * as the outcome; it never calls UpdateService. If the first call did not land, the count is
     * still the old one, and the summary gives the number for people to judge.
     */
    async reconcile(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = scaleUpParams(params);
      const svc = await ecs.describeService(p.cluster, p.service, { events: 0, abortSignal: ctx.signal });
      return {
        output: { reconciled: true, desiredCount: svc.desiredCount, runningCount: svc.runningCount },
        summary: `${p.cluster}/${p.service}: an earlier attempt was interrupted; desired count is now ${svc.desiredCount} (not changed again)`,
      };
    },
  };
}
