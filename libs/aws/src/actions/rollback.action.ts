import { type Action, type ActionContext, type ActionPlan, type ActionResult, PermanentActionError, type PlanCheck, type PrecheckContext } from '@responder/domain';
import { CODEDEPLOY_IN_PROGRESS, type CodeDeployAdapter, type CodeDeployDeployment } from '../codedeploy.adapter';
import { type EcsAdapter, type EcsService, sameTaskDefinition } from '../ecs.adapter';
import { ecsServiceParams } from './ecs-service-status.action';
import { codeDeployRollbackHolds, ecsRollbackHolds } from './plan-checks';

export const DEPLOY_ROLLBACK_ID = 'deploy.rollback';

const MAX_WAIT_SECONDS = 1800;

export interface RollbackParams {
  cluster: string;
  service: string;
  /** ECS rolling: the task definitions (from deploy.recent's current / previous). */
  fromTaskDefinition: string | null;
  toTaskDefinition: string | null;
  /** CODE_DEPLOY: the group and the deployments (deploy.recent's current.id / previous.id). */
  application: string | null;
  group: string | null;
  fromDeployment: string | null;
  toDeployment: string | null;
  waitSeconds: number;
}

export function rollbackParams(params: Record<string, unknown>): RollbackParams {
  const { cluster, service } = ecsServiceParams(DEPLOY_ROLLBACK_ID, params);
  const optional = (key: string): string | null => {
    const value = params[key];
    if (value === undefined || value === null || value === '') return null;
    if (typeof value !== 'string') throw new PermanentActionError(`${DEPLOY_ROLLBACK_ID}: "${key}" must be a string, got ${JSON.stringify(value)}`);
    return value.trim();
  };
  const wait = params.wait_seconds ?? 0;
  if (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 0 || wait > MAX_WAIT_SECONDS) {
    throw new PermanentActionError(`${DEPLOY_ROLLBACK_ID}: "wait_seconds" must be a whole number from 0 to ${MAX_WAIT_SECONDS}, got ${JSON.stringify(wait)}`);
  }
  const p: RollbackParams = {
    cluster,
    service,
    fromTaskDefinition: optional('from_task_definition'),
    toTaskDefinition: optional('to_task_definition'),
    application: optional('codedeploy_application'),
    group: optional('deployment_group'),
    fromDeployment: optional('from_deployment'),
    toDeployment: optional('to_deployment'),
    waitSeconds: wait,
  };
  const ecsRolling = p.fromTaskDefinition !== null && p.toTaskDefinition !== null;
  const codeDeploy = p.application !== null && p.group !== null && p.fromDeployment !== null;
  if (!ecsRolling && !codeDeploy) {
    throw new PermanentActionError(
      `${DEPLOY_ROLLBACK_ID}: give "from_task_definition" and "to_task_definition" (ECS rolling) or "codedeploy_application", "deployment_group" and "from_deployment" (CodeDeploy), from deploy.recent's output`,
    );
  }
  if (ecsRolling && sameTaskDefinition(p.fromTaskDefinition, p.toTaskDefinition)) {
    throw new PermanentActionError(`${DEPLOY_ROLLBACK_ID}: "from_task_definition" and "to_task_definition" are the same (${p.fromTaskDefinition}): nothing to roll back to`);
  }
  return p;
}

/** What the service's real state says about this rollback (pure). */
type EcsState = 'on-from' | 'on-to' | 'elsewhere';
function ecsState(svc: EcsService, p: RollbackParams): EcsState {
  if (sameTaskDefinition(svc.taskDefinition, p.toTaskDefinition)) return 'on-to';
  if (sameTaskDefinition(svc.taskDefinition, p.fromTaskDefinition)) return 'on-from';
  return 'elsewhere';
}

/** The marker in a CodeDeploy deployment's description that says which step created it (found again by reconcile). */
export function rollbackMarker(ctx: Pick<ActionContext, 'runId' | 'stepId'>): string {
  return `responder rollback ${ctx.runId}/${ctx.stepId}`;
}

/** A deployment that already rolls `from` back: ours (the marker), CodeDeploy's own rollback of it, or `from` itself stopped / failed. */
function existingRollback(deployments: CodeDeployDeployment[], from: string, marker: string): { how: string; deploymentId: string } | null {
  const ours = deployments.find((d) => d.description?.includes(marker));
  if (ours) return { how: 'rollback deployment already created', deploymentId: ours.id };
  const auto = deployments.find((d) => d.rollbackOf === from);
  if (auto) return { how: 'CodeDeploy is already rolling it back', deploymentId: auto.id };
  const fromDeployment = deployments.find((d) => d.id === from);
  if (fromDeployment && (fromDeployment.status === 'Stopped' || fromDeployment.status === 'Failed')) {
    return { how: `deployment ${from} is already ${fromDeployment.status}`, deploymentId: fromDeployment.rolledBackBy ?? from };
  }
  return null;
}

export interface RollbackActionOptions {
  /** How often the bounded wait looks at the service. Default 10 s. */
  pollMs?: number;
}

/**
 * Mitigation (issue 4, action 6), MUTATING: rolls a service back to its previous deployment.
 * - ECS rolling: UpdateService to `to_task_definition`, only while the service is still on
 *   `from_task_definition`: already on `to` is a skip; on a third revision the plan is stale and
 *   the step fails for good (someone deployed since it was approved).
 * - CodeDeploy, `from_deployment` in progress: StopDeployment with autoRollbackEnabled.
 * - CodeDeploy, `from_deployment` completed: a new deployment of `to_deployment`'s revision as it is.
 * Then, with `wait_seconds`, waits (bounded) for the service to be steady.
 */
export function rollbackAction(ecs: EcsAdapter, codedeploy: CodeDeployAdapter, options: RollbackActionOptions = {}): Action {
  const pollMs = options.pollMs ?? 10_000;

  async function waitSteady(p: RollbackParams, signal: AbortSignal): Promise<{ steady: boolean | null; runningCount?: number; desiredCount?: number }> {
    if (p.waitSeconds === 0) return { steady: null };
    const deadline = Date.now() + p.waitSeconds * 1000;
    for (;;) {
      const svc = await ecs.describeService(p.cluster, p.service, { events: 0, abortSignal: signal });
      const steady = svc.deployments.length <= 1 && svc.runningCount === svc.desiredCount && svc.deployments.every((d) => d.rolloutState !== 'FAILED');
      if (steady || Date.now() + pollMs > deadline || signal.aborted) return { steady, runningCount: svc.runningCount, desiredCount: svc.desiredCount };
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  async function runEcs(p: RollbackParams, svc: EcsService, ctx: ActionContext): Promise<ActionResult> {
    const name = `${p.cluster}/${p.service}`;
    const state = ecsState(svc, p);
    if (state === 'on-to') {
      return { output: { skipped: true, reason: 'already rolled back', controller: 'ECS', taskDefinition: svc.taskDefinition }, summary: `${name}: already on ${p.toTaskDefinition}, not rolled back again` };
    }
    if (state === 'elsewhere') {
      throw new PermanentActionError(`${DEPLOY_ROLLBACK_ID}: the plan is stale: ${name} runs ${svc.taskDefinition}, neither ${p.fromTaskDefinition} nor ${p.toTaskDefinition}`);
    }
    await ctx.calling?.();
    const { taskDefinition: to, requestId } = await ecs.setTaskDefinition(p.cluster, p.service, p.toTaskDefinition!, { abortSignal: ctx.signal });
    const wait = await waitSteady(p, ctx.signal);
    return {
      output: { controller: 'ECS', action: 'update-service', from: svc.taskDefinition, to, requestId, ...wait },
      summary: `rolled back ${name} from ${svc.taskDefinition} to ${to}${wait.steady === null ? '' : wait.steady ? '; steady' : `; not steady after ${p.waitSeconds}s`}`,
    };
  }

  async function runCodeDeploy(p: RollbackParams, ctx: ActionContext): Promise<ActionResult> {
    const app = p.application!;
    const group = p.group!;
    const from = p.fromDeployment!;
    const deployments = await codedeploy.recentDeployments(app, group, 10, { abortSignal: ctx.signal });
    const done = existingRollback(deployments, from, rollbackMarker(ctx));
    if (done) return { output: { skipped: true, reason: done.how, controller: 'CODE_DEPLOY', deploymentId: done.deploymentId }, summary: `${app}/${group}: ${done.how}, not rolled back again` };
    const latest = deployments[0];
    if (!latest || latest.id !== from) {
      throw new PermanentActionError(`${DEPLOY_ROLLBACK_ID}: the plan is stale: the newest deployment of ${app}/${group} is ${latest?.id ?? 'none'}, not ${from}`);
    }
    if (CODEDEPLOY_IN_PROGRESS.has(latest.status)) {
      await ctx.calling?.();
      const stopped = await codedeploy.stopWithRollback(from, { abortSignal: ctx.signal });
      const wait = await waitSteady(p, ctx.signal);
      return {
        output: { controller: 'CODE_DEPLOY', action: 'stop-deployment', deploymentId: from, stopStatus: stopped.status, stopMessage: stopped.message, requestId: stopped.requestId, ...wait },
        summary: `stopped CodeDeploy deployment ${from} (${latest.status}) with auto-rollback: ${stopped.status ?? 'no status'}`,
      };
    }
    if (!p.toDeployment) throw new PermanentActionError(`${DEPLOY_ROLLBACK_ID}: deployment ${from} is ${latest.status}: "to_deployment" (the previous deployment) is needed to deploy its revision again`);
    await ctx.calling?.();
    const { deploymentId: created, requestId } = await codedeploy.redeployRevisionOf(app, group, p.toDeployment, `${rollbackMarker(ctx)}: revision of ${p.toDeployment}, replacing ${from}`, { abortSignal: ctx.signal });
    const wait = await waitSteady(p, ctx.signal);
    return {
      output: { controller: 'CODE_DEPLOY', action: 'create-deployment', deploymentId: created, revisionOf: p.toDeployment, replaced: from, requestId, ...wait },
      summary: `created CodeDeploy deployment ${created} of ${p.toDeployment}'s revision, replacing ${from}`,
    };
  }

  return {
    id: DEPLOY_ROLLBACK_ID,
    mutating: true,
    announcesCall: true,
    description:
      'Roll an ECS service back to its previous deployment: UpdateService (rolling), StopDeployment with auto-rollback (CodeDeploy in progress) or a new deployment of the previous revision (with: { cluster, service, from_task_definition, to_task_definition } or { cluster, service, codedeploy_application, deployment_group, from_deployment, to_deployment }, wait_seconds?).',
    iam: ['ecs:DescribeServices', 'ecs:UpdateService', 'codedeploy:ListDeployments', 'codedeploy:GetDeployment', 'codedeploy:StopDeployment', 'codedeploy:CreateDeployment'],

    plan(params: Record<string, unknown>): ActionPlan {
      const p = rollbackParams(params);
      const from = p.fromTaskDefinition ?? p.fromDeployment;
      const to = p.toTaskDefinition ?? p.toDeployment ?? 'its previous revision';
      return { summary: `roll back ${p.cluster}/${p.service} from ${from} to ${to}`, resource: `ecs:${p.cluster}/${p.service}` };
    },

    /** The plan holds while the service still runs `from` (ECS) or `from` is the newest deployment (CodeDeploy). */
    async precheck(params: Record<string, unknown>, ctx: PrecheckContext): Promise<PlanCheck> {
      const p = rollbackParams(params);
      const svc = await ecs.describeService(p.cluster, p.service, { events: 0, abortSignal: ctx.signal });
      if (svc.deploymentController === 'CODE_DEPLOY' && p.fromDeployment) {
        return codeDeployRollbackHolds(p, await codedeploy.recentDeployments(p.application!, p.group!, 10, { abortSignal: ctx.signal }));
      }
      if (p.fromTaskDefinition) return ecsRollbackHolds(p, svc);
      // Neither: run() refuses with the reason; there is no plan to compare.
      return { holds: true, checked: `${p.cluster}/${p.service} uses ${svc.deploymentController}` };
    },

    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = rollbackParams(params);
      const svc = await ecs.describeService(p.cluster, p.service, { events: 0, abortSignal: ctx.signal });
      if (svc.deploymentController === 'ECS' && p.fromTaskDefinition) return runEcs(p, svc, ctx);
      if (svc.deploymentController === 'CODE_DEPLOY' && p.fromDeployment) return runCodeDeploy(p, ctx);
      throw new PermanentActionError(`${DEPLOY_ROLLBACK_ID}: ${p.cluster}/${p.service} uses the ${svc.deploymentController} deployment controller, and the parameters do not describe a rollback for it`);
    },

    /**
     * After an interrupted attempt: reads the real state and reports it, never calling again.
     * A rollback that cannot be found fails the step for good, for people to look at: reporting
     * success would hide that the service was not rolled back.
     */
    async reconcile(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = rollbackParams(params);
      const name = `${p.cluster}/${p.service}`;
      const svc = await ecs.describeService(p.cluster, p.service, { events: 0, abortSignal: ctx.signal });
      if (svc.deploymentController === 'CODE_DEPLOY' && p.fromDeployment) {
        const deployments = await codedeploy.recentDeployments(p.application!, p.group!, 10, { abortSignal: ctx.signal });
        const done = existingRollback(deployments, p.fromDeployment, rollbackMarker(ctx));
        if (done) return { output: { reconciled: true, controller: 'CODE_DEPLOY', deploymentId: done.deploymentId, reason: done.how }, summary: `${name}: an earlier attempt was interrupted; ${done.how}` };
        throw new PermanentActionError(`${DEPLOY_ROLLBACK_ID}: an earlier attempt was interrupted and no rollback of ${p.fromDeployment} is found: check ${p.application}/${p.group} by hand`);
      }
      const state = ecsState(svc, p);
      if (state === 'on-to') {
        return { output: { reconciled: true, controller: 'ECS', taskDefinition: svc.taskDefinition }, summary: `${name}: an earlier attempt was interrupted; the service is on ${svc.taskDefinition} (rolled back)` };
      }
      throw new PermanentActionError(`${DEPLOY_ROLLBACK_ID}: an earlier attempt was interrupted and ${name} runs ${svc.taskDefinition}, not ${p.toTaskDefinition}: not called again, check by hand`);
    },
  };
}
