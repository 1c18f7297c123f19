import type { PlanCheck } from '@responder/domain';
import { type EcsService, sameTaskDefinition } from '../ecs.adapter';
import type { CodeDeployDeployment } from '../codedeploy.adapter';
import type { RollbackParams } from './rollback.action';
import type { ScaleUpParams } from './ecs-scale-up.action';

/**
 * Pure comparisons between what a mutating step's plan was made on and what the world says now,
 * read right before the call (Action.precheck). A plan that no longer holds is made again from
 * fresh evidence rather than called: a deployment since the plan, a count that moved, a writer
 * that came back.
 */

/**
 * An ECS rolling rollback holds while the service still runs the plan's `from` (or already runs
 * `to`: the call would be a skip, which the action reports). The service's task definition is its
 * primary deployment's: a deployment since the plan (even one still rolling out) changes it.
 */
export function ecsRollbackHolds(p: Pick<RollbackParams, 'cluster' | 'service' | 'fromTaskDefinition' | 'toTaskDefinition'>, svc: Pick<EcsService, 'taskDefinition'>): PlanCheck {
  const name = `${p.cluster}/${p.service}`;
  if (sameTaskDefinition(svc.taskDefinition, p.toTaskDefinition)) return { holds: true, checked: `${name} is already on ${p.toTaskDefinition}` };
  if (!sameTaskDefinition(svc.taskDefinition, p.fromTaskDefinition)) {
    return { holds: false, reason: `${name} now runs ${svc.taskDefinition ?? 'no task definition'}, not the plan's ${p.fromTaskDefinition} (deployed since the plan was made)` };
  }
  return { holds: true, checked: `${name} still runs ${p.fromTaskDefinition}` };
}

/** A CodeDeploy rollback holds while the plan's `from` is still the group's newest deployment (or one already rolls it back). */
export function codeDeployRollbackHolds(p: Pick<RollbackParams, 'application' | 'group' | 'fromDeployment'>, deployments: Pick<CodeDeployDeployment, 'id' | 'rollbackOf'>[]): PlanCheck {
  const name = `${p.application}/${p.group}`;
  const latest = deployments[0];
  if (latest?.id === p.fromDeployment) return { holds: true, checked: `${p.fromDeployment} is still the newest deployment of ${name}` };
  if (latest && latest.rollbackOf === p.fromDeployment) return { holds: true, checked: `${p.fromDeployment} is already being rolled back` };
  return { holds: false, reason: `the newest deployment of ${name} is now ${latest?.id ?? 'none'}, not the plan's ${p.fromDeployment} (deployed since the plan was made)` };
}

/** A scale-up planned from a desired count holds while the service is still at that count. */
export function scaleUpHolds(p: Pick<ScaleUpParams, 'cluster' | 'service' | 'from'>, svc: Pick<EcsService, 'desiredCount'>): PlanCheck {
  const name = `${p.cluster}/${p.service}`;
  if (p.from === null) return { holds: true, checked: `${name}: the plan reads the count when it runs` };
  if (svc.desiredCount !== p.from) return { holds: false, reason: `${name} now wants ${svc.desiredCount} tasks, not the plan's ${p.from}` };
  return { holds: true, checked: `${name} still wants ${p.from} tasks` };
}

/** A failover holds while the writer is still down (and no failover is under way: the action skips then). */
export function failoverHolds(cluster: string, health: { writer: { instanceId: string; status: string } | null; failoverInProgress: boolean }): PlanCheck {
  if (health.failoverInProgress) return { holds: true, checked: `a failover of ${cluster} is under way` };
  if (health.writer?.status === 'available') return { holds: false, reason: `the writer ${health.writer.instanceId} of ${cluster} is available again` };
  return { holds: true, checked: `the writer of ${cluster} is still ${health.writer ? `${health.writer.instanceId} (${health.writer.status})` : 'missing'}` };
}
