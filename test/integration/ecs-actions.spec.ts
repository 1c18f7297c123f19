import { randomBytes } from 'node:crypto';
import { ApplicationAutoScalingClient, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import {
  CreateClusterCommand,
  CreateServiceCommand,
  DescribeServicesCommand,
  ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  StopTaskCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { ApplicationAutoScalingAdapter, EcsAdapter } from '@responder/aws';
import { ecsScaleUpAction, ecsServiceStatusAction, type EcsServiceStatusOutput } from '@responder/aws/actions';
import { countingEcsClient, uniqueName } from '../support/moto';

/**
 * ECS actions against moto_server (5.2.1). moto never launches a service's tasks (runningCount
 * stays 0, so every desired task is "missing") until UpdateService, which sets runningCount to the
 * new desired count. Stopped tasks with reasons come from RunTask (FARGATE: no container instance
 * needed) in the service's group, then StopTask with a reason; moto gives them no stopCode, no
 * stoppedAt and exit code 0, so OOM kills are covered by the aws-sdk-client-mock specs.
 */
const MOTO_URL = process.env.MOTO_URL!;
const ecsClient = new ECSClient({ endpoint: MOTO_URL });
const aasClient = new ApplicationAutoScalingClient({ endpoint: MOTO_URL });

const counted = countingEcsClient(MOTO_URL);
const adapterClient = counted.client;
const ecs = new EcsAdapter({ client: adapterClient });
const autoscaling = new ApplicationAutoScalingAdapter({ client: new ApplicationAutoScalingClient({ endpoint: MOTO_URL }) });
const status = ecsServiceStatusAction(ecs);
const scaleUp = ecsScaleUpAction(ecs, autoscaling);

afterAll(() => {
  ecs.close();
  autoscaling.close();
  ecsClient.destroy();
  aasClient.destroy();
});

const ctx = (stepId: string): ActionContext => ({
  incidentId: 'inc-1',
  runId: 'run-1',
  stepId,
  idempotencyKey: `run-1:${stepId}#1`,
  signal: new AbortController().signal,
  dryRun: false,
});

interface Production {
  cluster: string;
  service: string;
  family: string;
  taskDefinitions: string[];
}

/** A cluster of its own, two revisions of a task definition, and a service on the second. */
async function production(desiredCount: number): Promise<Production> {
  const cluster = uniqueName('prod');
  const family = uniqueName('checkout');
  const service = 'checkout';
  await ecsClient.send(new CreateClusterCommand({ clusterName: cluster }));
  const taskDefinitions: string[] = [];
  for (const image of ['registry.example/checkout:1.4.1', 'registry.example/checkout:1.4.2']) {
    // EC2 compatibility with bridge networking: moto would otherwise want a real subnet for awsvpc.
    const out = await ecsClient.send(
      new RegisterTaskDefinitionCommand({ family, requiresCompatibilities: ['EC2'], networkMode: 'bridge', containerDefinitions: [{ name: 'app', image, memory: 512, essential: true }] }),
    );
    taskDefinitions.push(out.taskDefinition!.taskDefinitionArn!);
  }
  await ecsClient.send(new CreateServiceCommand({ cluster, serviceName: service, taskDefinition: taskDefinitions[1], desiredCount }));
  return { cluster, service, family, taskDefinitions };
}

/** Starts `count` tasks in `group` and stops each with the reason `reason(i)`. */
async function stoppedTasks(p: Production, group: string, count: number, reason: (i: number) => string): Promise<void> {
  const run = await ecsClient.send(new RunTaskCommand({ cluster: p.cluster, taskDefinition: p.taskDefinitions[1], count, launchType: 'FARGATE', group }));
  expect(run.tasks).toHaveLength(count);
  for (const [i, task] of run.tasks!.entries()) await ecsClient.send(new StopTaskCommand({ cluster: p.cluster, task: task.taskArn, reason: reason(i) }));
}

async function desiredCount(p: Production): Promise<number> {
  const out = await ecsClient.send(new DescribeServicesCommand({ cluster: p.cluster, services: [p.service] }));
  return out.services![0].desiredCount!;
}

const tgArn = (name: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${name}/${randomBytes(8).toString('hex')}`;

describe('ecs.service-status against moto_server', () => {
  it('reports the counts, the missing tasks, the deployment, and the stopped tasks grouped by reason', async () => {
    const p = await production(3);
    await stoppedTasks(p, `service:${p.service}`, 3, (i) => (i < 2 ? `Task failed ELB health checks in (target-group ${tgArn('checkout-blue')})` : 'Essential container in task exited'));
    // Another service's task in the same cluster: moto's ListTasks ignores serviceName, the action must not.
    await stoppedTasks(p, 'service:payments', 1, () => 'Essential container in task exited');

    const result = await status.run({ cluster: p.cluster, service: p.service }, ctx('ecs'));
    const output = result.output as EcsServiceStatusOutput;

    expect(output).toMatchObject({
      cluster: p.cluster,
      service: p.service,
      status: 'ACTIVE',
      desired: 3,
      running: 0,
      pending: 3,
      missing: 3,
      tasksMissing: true,
      launchType: 'EC2',
      taskDefinition: p.taskDefinitions[1],
      deploymentController: 'ECS',
      rolloutState: 'IN_PROGRESS',
      deploymentInProgress: true,
      stopped: 3,
      oomKills: 0,
      exitCodes: { '0': 3 },
    });
    expect(output.deployments).toEqual([
      expect.objectContaining({ status: 'PRIMARY', taskDefinition: p.taskDefinitions[1], desiredCount: 3, runningCount: 0, rolloutState: 'IN_PROGRESS', createdAt: expect.any(String) }),
    ]);
    expect(output.stoppedGroups).toEqual([
      {
        reason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:<id>:targetgroup/checkout-blue/<id>)',
        stopCode: null,
        containers: [],
        count: 2,
        oom: false,
        lastStoppedAt: null,
        taskIds: [expect.any(String), expect.any(String)],
        link: expect.stringMatching(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/ecs\/v2\/clusters\/[\w-]+\/tasks\/[\w-]+\/configuration\?region=us-east-1$/),
      },
      { reason: 'Essential container in task exited', stopCode: null, containers: [], count: 1, oom: false, lastStoppedAt: null, taskIds: [expect.any(String)], link: expect.any(String) },
    ]);
    expect(result.summary).toMatch(/^\S+\/checkout ACTIVE: 0 of 3 tasks running \(3 missing\); rollout IN_PROGRESS; 3 stopped tasks: 2× Task failed ELB health checks/);
  });

  it('fails for good, naming the service, when it does not exist', async () => {
    const p = await production(1);
    const error = await status.run({ cluster: p.cluster, service: 'nope' }, ctx('ecs')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(new RegExp(`^ECS service "nope" not found in cluster "${p.cluster}"`));
  });

  it('fails for good, naming the cluster, when it does not exist', async () => {
    const error = await status.run({ cluster: 'no-such-cluster', service: 'checkout' }, ctx('ecs')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(/^ECS cluster "no-such-cluster" not found/);
  });

  it('reaches the endpoint in AWS_ENDPOINT_URL with no endpoint configured in code', async () => {
    const p = await production(2);
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = MOTO_URL;
    const adapter = new EcsAdapter();
    try {
      expect(await adapter.describeService(p.cluster, p.service)).toMatchObject({ desiredCount: 2, taskDefinition: p.taskDefinitions[1] });
    } finally {
      adapter.close();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
    }
  });
});

describe('ecs.scale-up against moto_server', () => {
  beforeEach(() => {
    counted.reset();
  });

  it('scales 2 → 4 with factor 2, then is a skip (no UpdateService) at max 4, however often it runs', async () => {
    const p = await production(2);
    const first = await scaleUp.run({ cluster: p.cluster, service: p.service, max_tasks: 10, factor: 2 }, ctx('scale-up'));
    expect(first.output).toMatchObject({ from: 2, to: 4, cappedBy: null });
    expect(await desiredCount(p)).toBe(4);
    expect(counted.sent('UpdateServiceCommand')).toBe(1);

    for (let i = 0; i < 2; i++) {
      const again = await scaleUp.run({ cluster: p.cluster, service: p.service, max_tasks: 4, factor: 2 }, ctx('scale-up'));
      expect(again.output).toMatchObject({ skipped: true, reason: 'already at 4 tasks', desiredCount: 4, cappedBy: 'catalog' });
    }
    expect(await desiredCount(p)).toBe(4);
    expect(counted.sent('UpdateServiceCommand')).toBe(1);
  });

  it("stops at the max capacity of the service's Application Auto Scaling target", async () => {
    const p = await production(2);
    await aasClient.send(
      new RegisterScalableTargetCommand({ ServiceNamespace: 'ecs', ResourceId: `service/${p.cluster}/${p.service}`, ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 1, MaxCapacity: 3 }),
    );
    const result = await scaleUp.run({ cluster: p.cluster, service: p.service, max_tasks: 10, factor: 2 }, ctx('scale-up'));
    expect(result.output).toMatchObject({ from: 2, to: 3, cappedBy: 'autoscaling', limits: { autoscalingMax: 3 } });
    expect(await desiredCount(p)).toBe(3);
  });

  it('with from, plans the exact target and sets it, not one recomputed from a count that moved after the plan', async () => {
    const p = await production(3);
    const params = { cluster: p.cluster, service: p.service, max_tasks: 10, factor: 2, from: 3 };
    expect(scaleUp.plan(params).summary).toBe(`UpdateService ${p.cluster}/${p.service} desiredCount 3 → 6`);
    await ecsClient.send(new UpdateServiceCommand({ cluster: p.cluster, service: p.service, desiredCount: 2 })); // scaled down between plan and run

    const result = await scaleUp.run(params, ctx('scale-up'));
    expect(result.output).toMatchObject({ from: 2, to: 6, plannedFrom: 3, approvedTarget: 6, target: 6 });
    expect(result.summary).toBe(`scaled ${p.cluster}/${p.service} from 2 to 6 desired tasks; the plan started from 3 but the service was scaled down to 2 since: set to the approved target`);
    expect(await desiredCount(p)).toBe(6);
    expect(counted.sent('UpdateServiceCommand')).toBe(1);

    const again = await scaleUp.run(params, ctx('scale-up'));
    expect(again.output).toMatchObject({ skipped: true, reason: 'already at 6 desired tasks (≥ target 6)' });
    expect(counted.sent('UpdateServiceCommand')).toBe(1);
  });

  it('with from, caps at max_tasks as planned', async () => {
    const p = await production(4);
    const params = { cluster: p.cluster, service: p.service, max_tasks: 7, factor: 2, from: 4 };
    expect(scaleUp.plan(params).summary).toBe(`UpdateService ${p.cluster}/${p.service} desiredCount 4 → 7 (capped at max_tasks 7)`);
    expect((await scaleUp.run(params, ctx('scale-up'))).output).toMatchObject({ from: 4, to: 7, cappedBy: 'catalog' });
    expect(await desiredCount(p)).toBe(7);
  });

  it('reconcile reports the desired count without calling UpdateService', async () => {
    const p = await production(5);
    const result = await scaleUp.reconcile!({ cluster: p.cluster, service: p.service, max_tasks: 10, factor: 2 }, ctx('scale-up'));
    expect(result.output).toEqual({ reconciled: true, desiredCount: 5, runningCount: 0 });
    expect(counted.sent('UpdateServiceCommand')).toBe(0);
    expect(await desiredCount(p)).toBe(5);
  });

  it('UpdateService on a service that does not exist fails for good, naming it', async () => {
    const p = await production(1);
    const error = await ecs.setDesiredCount(p.cluster, 'gone', 4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toBe(`ECS service "gone" not found in cluster "${p.cluster}" (ServiceNotFoundException: Service not found.)`);
  });
});
