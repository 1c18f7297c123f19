import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CreateDeploymentCommand,
  type DeploymentInfo,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  type RevisionLocation,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { recordAttempts, toActionError } from './errors';
import { clientRegion } from './region';

/** One CodeDeploy deployment, as the actions read it. */
export interface CodeDeployDeployment {
  id: string;
  /** Created, Queued, InProgress, Baking, Ready, Succeeded, Failed, Stopped. */
  status: string;
  createdAt: string | null;
  completedAt: string | null;
  /** user, autoscaling, codeDeployRollback, CodeDeploy, CloudFormation, … */
  creator: string | null;
  description: string | null;
  /** The task definition named in the AppSpec, when the revision is inline AppSpec content; null for S3/GitHub revisions. */
  taskDefinition: string | null;
  /** For a rollback deployment: the deployment that triggered it. */
  rollbackOf: string | null;
  /** The deployment CodeDeploy started to roll this one back, if any. */
  rolledBackBy: string | null;
}

/** Statuses in which a deployment has not finished (Baking: traffic shifted, the old task set not yet gone). */
export const CODEDEPLOY_IN_PROGRESS = new Set(['Created', 'Queued', 'InProgress', 'Baking', 'Ready']);

export interface CodeDeployCallOptions {
  abortSignal?: AbortSignal;
}

export interface CodeDeployAdapterOptions {
  region?: string;
  /** A ready client (tests). The adapter owns it from then on: `close()` destroys it. */
  client?: CodeDeployClient;
}

export const CODEDEPLOY_MAX_ATTEMPTS = 5;

/** BatchGetDeployments takes at most 25 ids. */
const BATCH = 25;

/**
 * CodeDeploy deployments of one deployment group (ECS blue/green) behind domain-named methods; no
 * SDK type leaves this file. Same conventions as the other adapters: default credential chain, no
 * endpoint in code, errors through `toActionError`.
 */
export class CodeDeployAdapter {
  private readonly client: CodeDeployClient;

  constructor(options: CodeDeployAdapterOptions = {}) {
    this.client = options.client ?? new CodeDeployClient({ region: options.region, maxAttempts: CODEDEPLOY_MAX_ATTEMPTS });
  }

  /**
   * The group's newest deployments, newest first, at most `max` (1-25): the first page of
   * ListDeployments, then BatchGetDeployments, sorted by creation time (ListDeployments does not
   * document its order).
   */
  async recentDeployments(application: string, group: string, max = 5, options: CodeDeployCallOptions = {}): Promise<CodeDeployDeployment[]> {
    const resource = `CodeDeploy deployment group ${application}/${group}`;
    const nf = notFound(application, group);
    let ids: string[];
    try {
      const out = await this.client.send(new ListDeploymentsCommand({ applicationName: application, deploymentGroupName: group }), { abortSignal: options.abortSignal });
      ids = out.deployments ?? [];
    } catch (err) {
      throw toActionError(err, { iamAction: 'codedeploy:ListDeployments', resource }, { notFound: nf });
    }
    if (ids.length === 0) return [];
    let infos: DeploymentInfo[];
    try {
      const out = await this.client.send(new BatchGetDeploymentsCommand({ deploymentIds: ids.slice(0, BATCH) }), { abortSignal: options.abortSignal });
      infos = out.deploymentsInfo ?? [];
    } catch (err) {
      throw toActionError(err, { iamAction: 'codedeploy:GetDeployment', resource }, { notFound: nf });
    }
    return infos
      .map(toDeployment)
      .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))
      .slice(0, Math.max(1, Math.min(max, BATCH)));
  }

  /** StopDeployment with autoRollbackEnabled: CodeDeploy moves traffic back to the original task set. Mutating. */
  async stopWithRollback(deploymentId: string, options: CodeDeployCallOptions = {}): Promise<{ status: string | null; message: string | null }> {
    const command = new StopDeploymentCommand({ deploymentId, autoRollbackEnabled: true });
    const attempts = recordAttempts(command);
    try {
      const out = await this.client.send(command, { abortSignal: options.abortSignal });
      return { status: out.status ?? null, message: out.statusMessage ?? null };
    } catch (err) {
      throw toActionError(err, { iamAction: 'codedeploy:StopDeployment', resource: `CodeDeploy deployment ${deploymentId}` }, {
        notFound: { DeploymentDoesNotExistException: `CodeDeploy deployment "${deploymentId}" not found` },
        mutating: true,
        attempts,
      });
    }
  }

  /**
   * A new deployment in the group of the revision `fromDeploymentId` deployed, as it is (for ECS
   * the AppSpec names that deployment's task definition). Mutating; resolves to the new id.
   */
  async redeployRevisionOf(application: string, group: string, fromDeploymentId: string, description: string, options: CodeDeployCallOptions = {}): Promise<string> {
    let revision: RevisionLocation | undefined;
    try {
      const out = await this.client.send(new GetDeploymentCommand({ deploymentId: fromDeploymentId }), { abortSignal: options.abortSignal });
      revision = out.deploymentInfo?.revision;
    } catch (err) {
      throw toActionError(err, { iamAction: 'codedeploy:GetDeployment', resource: `CodeDeploy deployment ${fromDeploymentId}` }, {
        notFound: { DeploymentDoesNotExistException: `CodeDeploy deployment "${fromDeploymentId}" not found` },
      });
    }
    if (!revision) throw toActionError({ name: 'RevisionRequiredException', message: `deployment ${fromDeploymentId} has no revision`, $fault: 'client' }, { iamAction: 'codedeploy:GetDeployment', resource: `CodeDeploy deployment ${fromDeploymentId}` });
    const command = new CreateDeploymentCommand({ applicationName: application, deploymentGroupName: group, revision, description });
    const attempts = recordAttempts(command);
    try {
      const out = await this.client.send(command, { abortSignal: options.abortSignal });
      return out.deploymentId ?? '';
    } catch (err) {
      throw toActionError(err, { iamAction: 'codedeploy:CreateDeployment', resource: `CodeDeploy deployment group ${application}/${group}` }, {
        notFound: notFound(application, group),
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

function toDeployment(d: DeploymentInfo): CodeDeployDeployment {
  return {
    id: d.deploymentId ?? '',
    status: d.status ?? 'Unknown',
    createdAt: d.createTime ? d.createTime.toISOString() : null,
    completedAt: d.completeTime ? d.completeTime.toISOString() : null,
    creator: d.creator ?? null,
    description: d.description ?? null,
    taskDefinition: appSpecTaskDefinition(d.revision?.appSpecContent?.content ?? d.revision?.string?.content),
    rollbackOf: d.rollbackInfo?.rollbackTriggeringDeploymentId ?? null,
    rolledBackBy: d.rollbackInfo?.rollbackDeploymentId ?? null,
  };
}

/** `TaskDefinition` from an ECS AppSpec, YAML or JSON; null when it is not there. */
export function appSpecTaskDefinition(content: string | undefined): string | null {
  if (!content) return null;
  const match = /["']?TaskDefinition["']?\s*:\s*["']?([^"'\s,}]+)/.exec(content);
  return match ? match[1] : null;
}

function notFound(application: string, group: string): Record<string, string> {
  return {
    ApplicationDoesNotExistException: `CodeDeploy application "${application}" not found`,
    DeploymentGroupDoesNotExistException: `CodeDeploy deployment group "${group}" not found in application "${application}"`,
  };
}
