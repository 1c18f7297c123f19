import { type Action, type ActionContext, type ActionResult, PermanentActionError } from '@responder/domain';
import { CODEDEPLOY_IN_PROGRESS, type CodeDeployAdapter, type CodeDeployDeployment } from '../codedeploy.adapter';
import { codeDeployDeploymentLink, ecsServiceLink, taskDefinitionLink } from '../console-links';
import type { EcsAdapter, EcsService } from '../ecs.adapter';
import { ecsServiceParams } from './ecs-service-status.action';

export const DEPLOY_RECENT_ID = 'deploy.recent';

const DEFAULT_WINDOW_MINUTES = 30;

export interface DeploymentRef {
  /** The ECS deployment id (`ecs-svc/…`) or the CodeDeploy deployment id (`d-…`); null for a bare task definition revision. */
  id: string | null;
  taskDefinition: string | null;
  startedAt: string | null;
  completedAt: string | null;
  /** ECS: the rollout state (COMPLETED, IN_PROGRESS, FAILED) or ACTIVE / REVISION for a previous one; CodeDeploy: its status. */
  status: string;
  /**
   * In the console: the CodeDeploy deployment, the ECS service's deployments tab, or the task
   * definition revision for a bare previous revision. Null when the region is unknown (absent from older outputs).
   */
  link?: string | null;
}

export interface RecentDeploymentOutput {
  cluster: string;
  service: string;
  controller: 'ECS' | 'CODE_DEPLOY';
  codedeployApplication: string | null;
  deploymentGroup: string | null;
  current: DeploymentRef | null;
  previous: DeploymentRef | null;
  inProgress: boolean;
  onset: string;
  windowMinutes: number;
  /** onset − (completedAt ?? startedAt) of the current deployment, in minutes (1 decimal); negative when it came after the onset. */
  minutesBeforeOnset: number | null;
  /** The same, for runbook expressions (`steps.deploy.output.minutes_before_onset`). */
  minutes_before_onset: number | null;
  /** Finished within windowMinutes before the onset, or in progress at the onset. */
  correlated: boolean;
}

export interface RecentDeploymentParams {
  cluster: string;
  service: string;
  onset: Date;
  application: string | null;
  group: string | null;
  windowMinutes: number;
}

export function recentDeploymentParams(params: Record<string, unknown>): RecentDeploymentParams {
  const { cluster, service } = ecsServiceParams(DEPLOY_RECENT_ID, params);
  const onset = typeof params.onset === 'string' ? new Date(params.onset) : null;
  if (!onset || Number.isNaN(onset.getTime())) {
    throw new PermanentActionError(`${DEPLOY_RECENT_ID}: "onset" must be an ISO date-time, got ${JSON.stringify(params.onset) ?? 'nothing'}`);
  }
  const optional = (key: string): string | null => {
    const value = params[key];
    if (value === undefined || value === null || value === '') return null;
    if (typeof value !== 'string') throw new PermanentActionError(`${DEPLOY_RECENT_ID}: "${key}" must be a string, got ${JSON.stringify(value)}`);
    return value;
  };
  const window = params.window_minutes ?? DEFAULT_WINDOW_MINUTES;
  if (typeof window !== 'number' || !Number.isFinite(window) || window < 0 || window > 7 * 24 * 60) {
    throw new PermanentActionError(`${DEPLOY_RECENT_ID}: "window_minutes" must be a number from 0 to 10080, got ${JSON.stringify(window)}`);
  }
  return { cluster, service, onset, application: optional('codedeploy_application'), group: optional('deployment_group'), windowMinutes: window };
}

/** How the current deployment stands against the onset (pure). */
export function correlate(current: DeploymentRef | null, inProgress: boolean, onset: Date, windowMinutes: number): { minutesBeforeOnset: number | null; correlated: boolean } {
  const at = current?.completedAt ?? current?.startedAt ?? null;
  if (!current || !at) return { minutesBeforeOnset: null, correlated: false };
  const minutes = Math.round(((onset.getTime() - Date.parse(at)) / 60_000) * 10) / 10;
  const startedBeforeOnset = current.startedAt !== null && Date.parse(current.startedAt) <= onset.getTime();
  const correlated = (inProgress && startedBeforeOnset) || (minutes >= 0 && minutes <= windowMinutes);
  return { minutesBeforeOnset: minutes, correlated };
}

/** ECS rolling update: the PRIMARY deployment is current; the previous one is the newest ACTIVE deployment, else the family's previous revision. */
async function ecsRolling(ecs: EcsAdapter, svc: EcsService, signal: AbortSignal): Promise<{ current: DeploymentRef | null; previous: DeploymentRef | null; inProgress: boolean }> {
  const primary = svc.deployments.find((d) => d.status === 'PRIMARY') ?? null;
  const active = svc.deployments.filter((d) => d.status === 'ACTIVE').sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  // Services created before rollout states have none: more than one deployment means it is rolling.
  const inProgress = primary?.rolloutState ? primary.rolloutState === 'IN_PROGRESS' : svc.deployments.length > 1;
  const status = primary?.rolloutState ?? (inProgress ? 'IN_PROGRESS' : 'COMPLETED');
  const current: DeploymentRef | null = primary
    ? {
        id: primary.id,
        // The service's own task definition is what it runs towards; the PRIMARY deployment's should match it.
        taskDefinition: svc.taskDefinition ?? primary.taskDefinition,
        startedAt: primary.createdAt,
        completedAt: status === 'COMPLETED' ? primary.updatedAt : null,
        status,
      }
    : null;
  let previous: DeploymentRef | null = null;
  if (active[0]) {
    previous = { id: active[0].id, taskDefinition: active[0].taskDefinition, startedAt: active[0].createdAt, completedAt: null, status: 'ACTIVE' };
  } else if (svc.taskDefinition) {
    const revision = await ecs.previousRevision(svc.taskDefinition, { abortSignal: signal });
    if (revision) previous = { id: null, taskDefinition: revision, startedAt: null, completedAt: null, status: 'REVISION' };
  }
  return { current, previous, inProgress };
}

function codeDeployRef(d: CodeDeployDeployment): DeploymentRef {
  return { id: d.id, taskDefinition: d.taskDefinition, startedAt: d.createdAt, completedAt: d.completedAt, status: d.status };
}

/**
 * Diagnostic (issue 4, action 5), read only: the service's current and previous deployment and
 * how the current one stands against the alarm's onset, for either deployment controller.
 * CODE_DEPLOY: current is the group's newest deployment; previous is the newest earlier one that
 * Succeeded (what a rollback would go back to).
 */
export function recentDeploymentAction(ecs: EcsAdapter, codedeploy: CodeDeployAdapter): Action {
  return {
    id: DEPLOY_RECENT_ID,
    mutating: false,
    description:
      'The current and previous deployment of an ECS service (rolling or CodeDeploy blue/green) against the alarm onset (with: { cluster, service, onset, codedeploy_application?, deployment_group?, window_minutes? }).',
    iam: ['ecs:DescribeServices', 'ecs:ListTaskDefinitions', 'codedeploy:ListDeployments', 'codedeploy:GetDeployment'],

    plan(params: Record<string, unknown>) {
      const p = recentDeploymentParams(params);
      return { summary: `read the deployments of ${p.cluster}/${p.service}` };
    },

    async run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult> {
      const p = recentDeploymentParams(params);
      const name = `${p.cluster}/${p.service}`;
      const svc = await ecs.describeService(p.cluster, p.service, { events: 0, abortSignal: ctx.signal });
      let found: { current: DeploymentRef | null; previous: DeploymentRef | null; inProgress: boolean };
      let controller: 'ECS' | 'CODE_DEPLOY';
      if (svc.deploymentController === 'CODE_DEPLOY') {
        controller = 'CODE_DEPLOY';
        if (!p.application || !p.group) {
          throw new PermanentActionError(`${DEPLOY_RECENT_ID}: ${name} is deployed by CodeDeploy: "codedeploy_application" and "deployment_group" are needed`);
        }
        const deployments = await codedeploy.recentDeployments(p.application, p.group, 10, { abortSignal: ctx.signal });
        const [latest, ...older] = deployments;
        const previous = older.find((d) => d.status === 'Succeeded') ?? null;
        found = { current: latest ? codeDeployRef(latest) : null, previous: previous ? codeDeployRef(previous) : null, inProgress: latest ? CODEDEPLOY_IN_PROGRESS.has(latest.status) : false };
      } else if (svc.deploymentController === 'ECS') {
        controller = 'ECS';
        found = await ecsRolling(ecs, svc, ctx.signal);
      } else {
        throw new PermanentActionError(`${DEPLOY_RECENT_ID}: ${name} uses the ${svc.deploymentController} deployment controller, which Responder cannot read`);
      }
      const { minutesBeforeOnset, correlated } = correlate(found.current, found.inProgress, p.onset, p.windowMinutes);
      const region = await ecs.region();
      for (const ref of [found.current, found.previous]) {
        if (!ref) continue;
        ref.link =
          controller === 'CODE_DEPLOY' && ref.id
            ? codeDeployDeploymentLink(region, ref.id)
            : ref.id === null && ref.taskDefinition
              ? taskDefinitionLink(region, ref.taskDefinition)
              : ecsServiceLink(region, p.cluster, p.service, 'deployments');
      }
      const output: RecentDeploymentOutput = {
        cluster: p.cluster,
        service: p.service,
        controller,
        codedeployApplication: p.application,
        deploymentGroup: p.group,
        ...found,
        onset: p.onset.toISOString(),
        windowMinutes: p.windowMinutes,
        minutesBeforeOnset,
        minutes_before_onset: minutesBeforeOnset,
        correlated,
      };
      return { output: output as unknown as Record<string, unknown>, summary: summarize(name, output) };
    },
  };
}

function summarize(name: string, o: RecentDeploymentOutput): string {
  if (!o.current) return `${name}: no deployment found`;
  const when = o.inProgress ? 'in progress' : o.minutesBeforeOnset === null ? 'time unknown' : o.minutesBeforeOnset >= 0 ? `${o.minutesBeforeOnset} min before the onset` : `${-o.minutesBeforeOnset} min after the onset`;
  const prev = o.previous?.taskDefinition ?? o.previous?.id ?? 'none';
  return `${name} (${o.controller}): ${o.current.taskDefinition ?? o.current.id} ${o.current.status}, ${when}; previous ${prev}${o.correlated ? '; correlates with the alarm' : ''}`;
}
