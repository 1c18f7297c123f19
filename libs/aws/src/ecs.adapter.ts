import {
  DescribeServicesCommand,
  DescribeTasksCommand,
  DesiredStatus,
  ECSClient,
  ListTaskDefinitionsCommand,
  ListTasksCommand,
  SortOrder,
  TaskDefinitionStatus,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { recordAttempts, toActionError } from './errors';
import { clientRegion } from './region';

/** One deployment of a service (ECS rolling updates: PRIMARY is the newest, ACTIVE the ones it replaces). */
export interface EcsDeployment {
  id: string;
  /** PRIMARY, ACTIVE or INACTIVE. */
  status: string;
  /** COMPLETED, FAILED or IN_PROGRESS; null for services that predate rollout states. */
  rolloutState: string | null;
  rolloutStateReason: string | null;
  taskDefinition: string | null;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  failedTasks: number;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface EcsServiceEvent {
  createdAt: string | null;
  message: string;
}

export interface EcsService {
  cluster: string;
  service: string;
  arn: string | null;
  /** ACTIVE, DRAINING or INACTIVE (deleted). */
  status: string;
  desiredCount: number;
  runningCount: number;
  pendingCount: number;
  /** EC2, FARGATE, EXTERNAL; null when the service uses a capacity provider strategy instead. */
  launchType: string | null;
  capacityProviders: string[];
  taskDefinition: string | null;
  /** ECS (rolling update), CODE_DEPLOY (blue/green) or EXTERNAL. */
  deploymentController: string;
  deployments: EcsDeployment[];
  /** Newest first, as ECS keeps them. */
  events: EcsServiceEvent[];
}

export interface StoppedContainer {
  name: string;
  exitCode: number | null;
  reason: string | null;
}

export interface StoppedTask {
  taskArn: string;
  taskDefinition: string | null;
  stoppedReason: string | null;
  /** TaskFailedToStart, EssentialContainerExited, UserInitiated, ServiceSchedulerInitiated, SpotInterruption, … */
  stopCode: string | null;
  stoppedAt: string | null;
  containers: StoppedContainer[];
}

export interface EcsCallOptions {
  /** Aborting it cancels the call in flight (and any retry still to come); the call rejects with the SDK's AbortError. */
  abortSignal?: AbortSignal;
}

export interface EcsAdapterOptions {
  /** Default: the SDK's chain (AWS_REGION, profile). */
  region?: string;
  /** A ready client (tests, shared configuration). The adapter owns it from then on: `close()` destroys it. */
  client?: ECSClient;
}

/**
 * Attempts per call, the first included: the SDK retries throttling, 5xx and network errors with
 * backoff and jitter; what still fails after that is left to the step's own retries.
 */
export const ECS_MAX_ATTEMPTS = 5;

/** DescribeTasks takes at most 100 tasks per call; ListTasks returns at most 100 per page. */
const BATCH = 100;

/**
 * ECS services and their tasks behind domain-named methods; no SDK type leaves this file.
 *
 * Credentials come from the SDK's default provider chain; no endpoint is set here, so
 * AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_ECS (moto, LocalStack) apply without code. Errors come out
 * as the engine needs them (errors.ts `toActionError`): permanent ones name the IAM action or the
 * missing resource.
 */
export class EcsAdapter {
  private readonly client: ECSClient;

  constructor(options: EcsAdapterOptions = {}) {
    this.client = options.client ?? new ECSClient({ region: options.region, maxAttempts: ECS_MAX_ATTEMPTS });
  }

  /** The service's counts, deployments and its last `events` service events (default 10). */
  async describeService(cluster: string, service: string, options: EcsCallOptions & { events?: number } = {}): Promise<EcsService> {
    const call = { iamAction: 'ecs:DescribeServices', resource: `ECS service ${cluster}/${service}` };
    let out;
    try {
      out = await this.client.send(new DescribeServicesCommand({ cluster, services: [service] }), { abortSignal: options.abortSignal });
    } catch (err) {
      throw toActionError(err, call, { notFound: notFound(cluster, service) });
    }
    const found = out.services?.[0];
    if (!found) {
      // DescribeServices reports an unknown service as a failure, not as an exception.
      const failure = out.failures?.[0];
      if (!failure || failure.reason === 'MISSING') throw toActionError({ name: 'ServiceNotFoundException', message: failure?.arn ?? service }, call, { notFound: notFound(cluster, service) });
      throw new Error(`ecs:DescribeServices on ${call.resource} failed: ${failure.reason ?? 'no reason'} (${failure.detail ?? failure.arn ?? ''})`);
    }
    return {
      cluster,
      service,
      arn: found.serviceArn ?? null,
      status: found.status ?? 'UNKNOWN',
      desiredCount: found.desiredCount ?? 0,
      runningCount: found.runningCount ?? 0,
      pendingCount: found.pendingCount ?? 0,
      launchType: found.launchType ?? null,
      capacityProviders: (found.capacityProviderStrategy ?? []).map((s) => s.capacityProvider ?? '').filter(Boolean),
      taskDefinition: found.taskDefinition ?? null,
      deploymentController: found.deploymentController?.type ?? 'ECS',
      deployments: (found.deployments ?? []).map((d) => ({
        id: d.id ?? '',
        status: d.status ?? 'UNKNOWN',
        rolloutState: d.rolloutState ?? null,
        rolloutStateReason: d.rolloutStateReason ?? null,
        taskDefinition: d.taskDefinition ?? null,
        desiredCount: d.desiredCount ?? 0,
        runningCount: d.runningCount ?? 0,
        pendingCount: d.pendingCount ?? 0,
        failedTasks: d.failedTasks ?? 0,
        createdAt: iso(d.createdAt),
        updatedAt: iso(d.updatedAt),
      })),
      events: (found.events ?? []).slice(0, options.events ?? 10).map((e) => ({ createdAt: iso(e.createdAt), message: e.message ?? '' })),
    };
  }

  /**
   * The service's stopped tasks that ECS still lists (about an hour after they stop), newest
   * first, at most `max`: ListTasks (desiredStatus STOPPED) then DescribeTasks in batches of 100.
   */
  async stoppedTasks(cluster: string, service: string, max = 100, options: EcsCallOptions = {}): Promise<StoppedTask[]> {
    const resource = `ECS service ${cluster}/${service}`;
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListTasksCommand({ cluster, serviceName: ecsName(service), desiredStatus: DesiredStatus.STOPPED, maxResults: Math.min(BATCH, Math.max(1, max - arns.length)), nextToken }),
          { abortSignal: options.abortSignal },
        );
      } catch (err) {
        throw toActionError(err, { iamAction: 'ecs:ListTasks', resource }, { notFound: notFound(cluster, service) });
      }
      arns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken && arns.length < max);

    const tasks: StoppedTask[] = [];
    for (let i = 0; i < Math.min(arns.length, max); i += BATCH) {
      let out;
      try {
        out = await this.client.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, Math.min(i + BATCH, max)) }), { abortSignal: options.abortSignal });
      } catch (err) {
        throw toActionError(err, { iamAction: 'ecs:DescribeTasks', resource }, { notFound: notFound(cluster, service) });
      }
      for (const t of out.tasks ?? []) {
        // ECS puts a service's tasks in the group "service:<name>". ListTasks already filters by
        // service on AWS; moto ignores serviceName, and this keeps other tasks out either way.
        if (t.group && t.group !== `service:${ecsName(service)}`) continue;
        tasks.push({
          taskArn: t.taskArn ?? '',
          taskDefinition: t.taskDefinitionArn ?? null,
          stoppedReason: t.stoppedReason || null,
          stopCode: t.stopCode ?? null,
          stoppedAt: iso(t.stoppedAt),
          containers: (t.containers ?? []).map((c) => ({ name: c.name ?? '', exitCode: c.exitCode ?? null, reason: c.reason || null })),
        });
      }
      // Tasks that aged out between the two calls come back as failures ("MISSING"): nothing to report.
    }
    return tasks.sort((a, b) => (b.stoppedAt ?? '').localeCompare(a.stoppedAt ?? ''));
  }

  /**
   * UpdateService desiredCount; resolves to the desired count ECS accepted. When it rejects, the
   * error says whether the change certainly did not happen (`notApplied`, see errors.ts).
   */
  async setDesiredCount(cluster: string, service: string, desiredCount: number, options: EcsCallOptions = {}): Promise<number> {
    const command = new UpdateServiceCommand({ cluster, service, desiredCount });
    // Every attempt the SDK's retry makes passes here: a 5xx or a timeout in an early attempt may
    // have changed the service even if the last attempt was refused (e.g. throttled).
    const attempts = recordAttempts(command);
    try {
      const out = await this.client.send(command, { abortSignal: options.abortSignal });
      return out.service?.desiredCount ?? desiredCount;
    } catch (err) {
      throw toActionError(err, { iamAction: 'ecs:UpdateService', resource: `ECS service ${cluster}/${service}` }, {
        notFound: notFound(cluster, service),
        mutating: true,
        attempts,
      });
    }
  }

  /**
   * The newest ACTIVE revision of the same family below `taskDefinition` (an ARN or family:revision):
   * what a service most likely ran before, when no ACTIVE deployment says so any more. ListTaskDefinitions
   * (familyPrefix, newest first); null when there is none.
   */
  async previousRevision(taskDefinition: string, options: EcsCallOptions = {}): Promise<string | null> {
    const current = parseTaskDefinition(taskDefinition);
    if (!current) return null;
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListTaskDefinitionsCommand({ familyPrefix: current.family, status: TaskDefinitionStatus.ACTIVE, sort: SortOrder.DESC, nextToken }),
          { abortSignal: options.abortSignal },
        );
      } catch (err) {
        throw toActionError(err, { iamAction: 'ecs:ListTaskDefinitions', resource: `ECS task definition family ${current.family}` });
      }
      // familyPrefix is a prefix: "checkout" also lists "checkout-worker".
      const older = (page.taskDefinitionArns ?? [])
        .map((arn) => ({ arn, td: parseTaskDefinition(arn) }))
        .filter((x) => x.td && x.td.family === current.family && x.td.revision < current.revision)
        .sort((a, b) => b.td!.revision - a.td!.revision);
      if (older.length > 0) return older[0].arn;
      nextToken = page.nextToken;
    } while (nextToken);
    return null;
  }

  /**
   * UpdateService taskDefinition (a rolling deployment to it); resolves to the task definition ECS
   * accepted. Errors as for `setDesiredCount` (`notApplied` when it certainly did not happen).
   */
  async setTaskDefinition(cluster: string, service: string, taskDefinition: string, options: EcsCallOptions = {}): Promise<string> {
    const command = new UpdateServiceCommand({ cluster, service, taskDefinition });
    const attempts = recordAttempts(command);
    try {
      const out = await this.client.send(command, { abortSignal: options.abortSignal });
      return out.service?.taskDefinition ?? taskDefinition;
    } catch (err) {
      throw toActionError(err, { iamAction: 'ecs:UpdateService', resource: `ECS service ${cluster}/${service}` }, {
        notFound: notFound(cluster, service),
        mutating: true,
        attempts,
      });
    }
  }

  /** The client's region (for console links), or null when none resolves. */
  region(): Promise<string | null> {
    return clientRegion(this.client);
  }

  close(): void {
    this.client.destroy();
  }
}

function notFound(cluster: string, service: string): Record<string, string> {
  return {
    ClusterNotFoundException: `ECS cluster "${cluster}" not found`,
    ServiceNotFoundException: `ECS service "${service}" not found in cluster "${cluster}"`,
    ServiceNotActiveException: `ECS service "${service}" in cluster "${cluster}" is not active (deleted or draining)`,
  };
}

/** A name from a name or an ARN (`arn:aws:ecs:…:service/prod/checkout` → `checkout`). */
export function ecsName(nameOrArn: string): string {
  return nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1);
}

function iso(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}

/** `{ family, revision }` from `arn:…:task-definition/checkout:7` or `checkout:7`; null without a revision. */
export function parseTaskDefinition(taskDefinition: string): { family: string; revision: number } | null {
  const match = /(?:task-definition\/)?([A-Za-z0-9_-]+):(\d+)$/.exec(taskDefinition);
  return match ? { family: match[1], revision: Number(match[2]) } : null;
}

/** Whether two task definitions (ARNs or family:revision) are the same revision. */
export function sameTaskDefinition(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a || !b) return false;
  const pa = parseTaskDefinition(a);
  const pb = parseTaskDefinition(b);
  return pa && pb ? pa.family === pb.family && pa.revision === pb.revision : a === b;
}
