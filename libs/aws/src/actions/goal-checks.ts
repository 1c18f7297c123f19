import type { GoalCheckId, GoalCheckInput, GoalCheckResult, GoalChecker } from '@responder/domain';
import type { CloudWatchAdapter } from '../cloudwatch.adapter';
import { type EcsAdapter, type EcsService, sameTaskDefinition } from '../ecs.adapter';
import { type Elbv2Adapter } from '../elbv2.adapter';
import type { RdsAdapter } from '../rds.adapter';
import { targetHealthReport } from './alb-target-health.action';

/**
 * The goal checks of the mutating actions (libs/domain/src/goal.ts), read from AWS after the call:
 * read only, each one answer { met, detail }. A check that cannot read what it needs (AccessDenied,
 * a missing parameter) is not met, with the reason: a goal is never met by default.
 */

/** The IAM actions the goal checks call (the CLI's IAM policy adds them). */
export const GOAL_CHECK_IAM: Readonly<Record<GoalCheckId, readonly string[]>> = {
  'service-on-target': ['ecs:DescribeServices'],
  'deployment-steady': ['ecs:DescribeServices'],
  'running-reached-desired': ['ecs:DescribeServices'],
  'alarms-ok': ['cloudwatch:DescribeAlarms'],
  'targets-healthy': ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth'],
  'writer-available': ['rds:DescribeDBClusters', 'rds:DescribeDBInstances'],
};

export interface GoalCheckAdapters {
  ecs: EcsAdapter;
  cloudwatch: CloudWatchAdapter;
  elbv2: Elbv2Adapter;
  rds: RdsAdapter;
}

type Check = (input: GoalCheckInput, service: () => Promise<EcsService>) => Promise<Omit<GoalCheckResult, 'check'>>;

function text(params: Record<string, unknown>, key: string): string | null {
  const v = params[key];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
}

const CHECKS: Record<GoalCheckId, (a: GoalCheckAdapters) => Check> = {
  'service-on-target': () => async (input, service) => {
    const to = text(input.params, 'to_task_definition') ?? text(input.output, 'to');
    if (!to) return { met: false, detail: 'service-on-target: the step names no task definition to be on (to_task_definition)' };
    const svc = await service();
    return sameTaskDefinition(svc.taskDefinition, to)
      ? { met: true, detail: `${svc.service} runs ${svc.taskDefinition}` }
      : { met: false, detail: `${svc.service} runs ${svc.taskDefinition ?? 'no task definition'}, not ${to}` };
  },
  'deployment-steady': () => async (_input, service) => {
    const svc = await service();
    // A service from before rollout states has none: its counts say whether it is steady.
    const rolling = svc.deployments.filter((d) => (d.rolloutState ?? 'COMPLETED') !== 'COMPLETED' || d.status !== 'PRIMARY');
    if (svc.deployments.length === 1 && rolling.length === 0 && svc.runningCount >= svc.desiredCount) {
      return { met: true, detail: `${svc.service}: one deployment, completed, ${svc.runningCount}/${svc.desiredCount} tasks running` };
    }
    const states = svc.deployments.map((d) => `${d.status} ${d.rolloutState ?? 'no rollout state'}`).join(', ');
    return { met: false, detail: `${svc.service} is not steady: ${svc.deployments.length} deployment(s) (${states || 'none'}), ${svc.runningCount}/${svc.desiredCount} tasks running` };
  },
  'running-reached-desired': () => async (input, service) => {
    const svc = await service();
    const wanted = typeof input.output.desiredCount === 'number' ? input.output.desiredCount : svc.desiredCount;
    return svc.runningCount >= wanted
      ? { met: true, detail: `${svc.service}: ${svc.runningCount} of ${wanted} tasks running` }
      : { met: false, detail: `${svc.service}: ${svc.runningCount} of ${wanted} tasks running` };
  },
  'alarms-ok':
    ({ cloudwatch }) =>
    async (input) => {
      if (input.alarms.length === 0) return { met: false, detail: 'alarms-ok: the incident has no alarm to check' };
      const found = new Map((await cloudwatch.alarmStates(input.alarms, { abortSignal: input.signal })).map((a) => [a.name, a.state]));
      const notOk = input.alarms.filter((name) => found.get(name) !== 'OK').map((name) => `${name} is ${found.get(name) ?? 'not found'}`);
      return notOk.length === 0 ? { met: true, detail: `${input.alarms.length} alarm${input.alarms.length === 1 ? '' : 's'} OK` } : { met: false, detail: notOk.join(', ') };
    },
  'targets-healthy':
    ({ elbv2 }) =>
    async (input) => {
      if (input.targetGroups.length === 0) return { met: true, detail: 'targets-healthy: the service has no target groups in the catalog: nothing to check' };
      const groups = await elbv2.describeTargetGroups(input.targetGroups, { abortSignal: input.signal });
      const targets = await Promise.all(groups.map((g) => elbv2.describeTargetHealth(g.arn, { abortSignal: input.signal })));
      const report = targetHealthReport(groups.map((group, i) => ({ group, targets: targets[i] })));
      return report.unhealthy === 0 ? { met: true, detail: `0 of ${report.total} targets unhealthy` } : { met: false, detail: `${report.unhealthy} of ${report.total} targets unhealthy` };
    },
  'writer-available':
    ({ rds }) =>
    async (input) => {
      const cluster = text(input.params, 'cluster');
      if (!cluster) return { met: false, detail: 'writer-available: the step names no cluster' };
      const c = await rds.describeCluster(cluster, { abortSignal: input.signal });
      const writer = c.members.find((m) => m.role === 'writer');
      if (writer?.status === 'available' && c.status === 'available') return { met: true, detail: `Aurora ${cluster}: writer ${writer.instanceId} available` };
      return { met: false, detail: `Aurora ${cluster} is ${c.status}; writer ${writer ? `${writer.instanceId} is ${writer.status}` : 'missing'}` };
    },
};

/** The goal checker on AWS: runs the named checks in parallel, reading the ECS service once. */
export function awsGoalChecker(adapters: GoalCheckAdapters): GoalChecker {
  const checks = Object.fromEntries(Object.entries(CHECKS).map(([id, make]) => [id, make(adapters)])) as Record<GoalCheckId, Check>;
  return {
    async check(ids, input) {
      let svc: Promise<EcsService> | undefined;
      const service = () => {
        const cluster = text(input.params, 'cluster');
        const name = text(input.params, 'service');
        if (!cluster || !name) return Promise.reject(new Error('the step names no ECS cluster and service'));
        return (svc ??= adapters.ecs.describeService(cluster, name, { abortSignal: input.signal, events: 0 }));
      };
      return Promise.all(
        ids.map(async (check): Promise<GoalCheckResult> => {
          try {
            return { check, ...(await checks[check](input, service)) };
          } catch (err) {
            return { check, met: false, detail: `${check}: could not check: ${(err as Error).message}` };
          }
        }),
      );
    },
  };
}
