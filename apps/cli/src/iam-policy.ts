import type { ActionDescriptor, Catalog, CatalogService } from '@responder/domain';
import { GOAL_CHECK_IAM } from '@responder/aws/actions';
import type { Runbook } from '@responder/runbooks';

/**
 * `npm run cli -- iam-policy`: the least-privilege IAM policy for the loaded runbooks. The IAM
 * actions are exactly those declared (`iam`) by the actions the runbooks use and those of the goal
 * checks their mutating steps declare (GOAL_CHECK_IAM), plus the SQS
 * intake's when a queue is configured. Each IAM action that AWS lets us scope is scoped to the
 * catalog's resources of its type (RESOURCE_SCOPES); everything else gets "*".
 */

export type ResourceType = 'ecs-service' | 'ecs-task' | 'log-group' | 'codedeploy-deployment-group' | 'rds-cluster' | 'sqs-queue';

/**
 * Which IAM action takes which resource type (the "Resource types" column of the AWS Service
 * Authorization Reference). An IAM action not listed here gets "*": Describe and List calls,
 * cloudwatch:GetMetricData, elasticloadbalancing:DescribeTargetHealth and the like take no
 * resource-level permission. Add a line when an action calls something that does.
 */
export const RESOURCE_SCOPES: Readonly<Record<string, ResourceType>> = {
  'ecs:DescribeServices': 'ecs-service',
  'ecs:UpdateService': 'ecs-service',
  'ecs:DescribeTasks': 'ecs-task',
  'ecs:StopTask': 'ecs-task',
  'logs:FilterLogEvents': 'log-group',
  'logs:StartQuery': 'log-group',
  'logs:GetLogEvents': 'log-group',
  'codedeploy:ListDeployments': 'codedeploy-deployment-group',
  'codedeploy:GetDeployment': 'codedeploy-deployment-group',
  'codedeploy:GetDeploymentGroup': 'codedeploy-deployment-group',
  'codedeploy:CreateDeployment': 'codedeploy-deployment-group',
  'codedeploy:StopDeployment': 'codedeploy-deployment-group',
  'rds:DescribeDBClusters': 'rds-cluster',
  'rds:FailoverDBCluster': 'rds-cluster',
  'sqs:ReceiveMessage': 'sqs-queue',
  'sqs:DeleteMessage': 'sqs-queue',
  'sqs:GetQueueAttributes': 'sqs-queue',
};

/** Statement order and Sids; the unscoped statement comes last. */
const STATEMENTS: ReadonlyArray<{ type: ResourceType; sid: string; what: string }> = [
  { type: 'ecs-service', sid: 'EcsServices', what: 'ECS services' },
  { type: 'ecs-task', sid: 'EcsTasks', what: 'ECS tasks' },
  { type: 'log-group', sid: 'LogGroups', what: 'log groups' },
  { type: 'codedeploy-deployment-group', sid: 'CodeDeployDeploymentGroups', what: 'CodeDeploy deployment groups' },
  { type: 'rds-cluster', sid: 'AuroraClusters', what: 'Aurora clusters' },
  { type: 'sqs-queue', sid: 'SqsIntakeQueue', what: 'the SQS intake queue' },
];
const UNSCOPED_SID = 'NoResourceLevelPermissions';

export const SQS_INTAKE_IAM: readonly string[] = ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'];

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string | string[];
}

export interface IamPolicy {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export interface IamPolicyInput {
  runbooks: readonly Runbook[];
  actions: ReadonlyMap<string, ActionDescriptor>;
  catalog?: Catalog;
  /** SQS_QUEUE_URL: adds the intake's permissions, scoped to the queue. */
  sqsQueueUrl?: string;
  /** --region / --account: win over what the catalog's ARNs say. */
  region?: string;
  account?: string;
  /** AWS_REGION: used when neither a flag nor the catalog's ARNs give the region. */
  defaultRegion?: string;
}

interface ArnParts {
  partition: string;
  region: string;
  account: string;
}

const ARN = /^arn:(aws[a-z-]*):[^:]+:([a-z0-9-]*):(\d{12}):/;

function arnParts(arn: string): ArnParts | undefined {
  const m = ARN.exec(arn);
  return m && m[2] ? { partition: m[1], region: m[2], account: m[3] } : undefined;
}

function serviceArns(svc: CatalogService): string[] {
  return [...svc.alarms.arns, ...(svc.loadBalancer?.arn ? [svc.loadBalancer.arn] : []), ...(svc.loadBalancer?.targetGroups ?? [])];
}

/** Region, account and partition for a service: flags first, then its own ARNs, then any ARN of the catalog. */
function locate(svc: CatalogService | undefined, catalogWide: ArnParts | undefined, input: IamPolicyInput): Partial<ArnParts> & { partition: string } {
  const own = svc ? serviceArns(svc).map(arnParts).find((p) => p !== undefined) : undefined;
  const from = own ?? catalogWide;
  return { partition: from?.partition ?? 'aws', region: input.region ?? from?.region ?? input.defaultRegion, account: input.account ?? from?.account };
}

/** arn:aws:sqs:<region>:<account>:<name> from https://sqs.<region>.amazonaws.com/<account>/<name> (and the legacy and local forms). */
export function sqsQueueArn(url: string, fallback: Partial<ArnParts> & { partition: string }): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const path = /^\/(\d{12})\/([A-Za-z0-9_-]+(?:\.fifo)?)\/?$/.exec(parsed.pathname);
  if (!path) return undefined;
  const region = /(?:^|\.)([a-z]{2}(?:-[a-z]+)+-\d+)\./.exec(parsed.hostname)?.[1] ?? fallback.region;
  if (!region) return undefined;
  const partition = parsed.hostname.endsWith('.amazonaws.com.cn') ? 'aws-cn' : fallback.partition;
  return `arn:${partition}:sqs:${region}:${path[1]}:${path[2]}`;
}

/** The IAM actions the runbooks' steps need (their actions' and their goals' checks'), sorted and without duplicates. */
export function runbookIamActions(runbooks: readonly Runbook[], actions: ReadonlyMap<string, ActionDescriptor>): string[] {
  const iam = new Set<string>();
  for (const runbook of runbooks) {
    for (const step of runbook.steps) {
      for (const a of actions.get(step.action)?.iam ?? []) iam.add(a);
      // A mutating step's goal is checked after its call (libs/aws goal-checks.ts): its reads too.
      for (const check of step.goal?.checks ?? []) for (const a of GOAL_CHECK_IAM[check]) iam.add(a);
    }
  }
  return [...iam].sort();
}

/** Builds the policy; `warnings` lists each statement that had to fall back to "*" and why. */
export function buildIamPolicy(input: IamPolicyInput): { policy: IamPolicy; warnings: string[] } {
  const warnings: string[] = [];
  const iam = new Set(runbookIamActions(input.runbooks, input.actions));
  if (input.sqsQueueUrl) for (const a of SQS_INTAKE_IAM) iam.add(a);

  const services = Object.keys(input.catalog?.services ?? {})
    .sort()
    .map((name) => input.catalog!.services[name]);
  const catalogWide = services.flatMap(serviceArns).map(arnParts).find((p) => p !== undefined);

  /** The ARNs of one resource type, or a reason they cannot be built. */
  const resources = (type: ResourceType): string[] | string => {
    if (type === 'sqs-queue') {
      const arn = sqsQueueArn(input.sqsQueueUrl ?? '', locate(undefined, catalogWide, input));
      return arn ? [arn] : `cannot derive the queue's ARN from SQS_QUEUE_URL ${input.sqsQueueUrl} (pass --region)`;
    }
    if (!input.catalog) return 'no service catalog';
    const arns: string[] = [];
    const missing = new Set<string>();
    let any = false;
    for (const svc of services) {
      const names = resourceNames(type, svc);
      if (names.length === 0) continue;
      any = true;
      const { partition, region, account } = locate(svc, catalogWide, input);
      if (!region) missing.add('region');
      if (!account) missing.add('account');
      if (!region || !account) continue;
      arns.push(...names.map((n) => `arn:${partition}:${RESOURCE_SERVICE[type]}:${region}:${account}:${n}`));
    }
    if (missing.size > 0) {
      const what = [...missing].sort().join(' and ');
      return `unknown ${what} (no ARN in the catalog names it: pass ${[...missing].sort().map((m) => `--${m}`).join(' and ')})`;
    }
    if (!any) return 'no service in the catalog has one';
    return [...new Set(arns)].sort();
  };

  const statements: PolicyStatement[] = [];
  const unscoped = [...iam].filter((a) => RESOURCE_SCOPES[a] === undefined);
  for (const { type, sid, what } of STATEMENTS) {
    const actions = [...iam].filter((a) => RESOURCE_SCOPES[a] === type).sort();
    if (actions.length === 0) continue;
    const scoped = resources(type);
    if (typeof scoped === 'string') {
      warnings.push(`warning: ${sid} (${actions.join(', ')}): cannot scope to ${what}: ${scoped}; using "*"`);
      statements.push({ Sid: sid, Effect: 'Allow', Action: actions, Resource: '*' });
    } else {
      statements.push({ Sid: sid, Effect: 'Allow', Action: actions, Resource: scoped });
    }
  }
  if (unscoped.length > 0) statements.push({ Sid: UNSCOPED_SID, Effect: 'Allow', Action: unscoped.sort(), Resource: '*' });
  return { policy: { Version: '2012-10-17', Statement: statements }, warnings };
}

const RESOURCE_SERVICE: Readonly<Record<Exclude<ResourceType, 'sqs-queue'>, string>> = {
  'ecs-service': 'ecs',
  'ecs-task': 'ecs',
  'log-group': 'logs',
  'codedeploy-deployment-group': 'codedeploy',
  'rds-cluster': 'rds',
};

/** The resource part of the ARN (after "<account>:") for each resource of that type a service has. */
function resourceNames(type: Exclude<ResourceType, 'sqs-queue'>, svc: CatalogService): string[] {
  switch (type) {
    case 'ecs-service':
      return svc.ecs ? [`service/${svc.ecs.cluster}/${svc.ecs.service}`] : [];
    case 'ecs-task':
      return svc.ecs ? [`task/${svc.ecs.cluster}/*`] : [];
    case 'log-group':
      return svc.logGroups.map((g) => `log-group:${g}:*`);
    case 'codedeploy-deployment-group':
      return svc.codeDeploy ? [`deploymentgroup:${svc.codeDeploy.application}/${svc.codeDeploy.deploymentGroup}`] : [];
    case 'rds-cluster':
      return svc.aurora ? [`cluster:${svc.aurora.cluster}`] : [];
  }
}
