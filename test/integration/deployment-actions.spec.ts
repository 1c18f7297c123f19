import { CreateClusterCommand, CreateServiceCommand, DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CodeDeployAdapter, EcsAdapter } from '@responder/aws';
import { recentDeploymentAction, rollbackAction, type RecentDeploymentOutput } from '@responder/aws/actions';
import { countingEcsClient, uniqueName } from '../support/moto';

/**
 * deploy.recent and deploy.rollback for ECS rolling services against moto_server (5.2.1).
 * moto's UpdateService changes the service's taskDefinition but adds no deployment: the PRIMARY
 * deployment keeps the task definition and time the service was created with, rollout IN_PROGRESS.
 * So "previous" comes from the family's revisions here, and the current deployment's times are
 * the service's creation. CodeDeploy (GetDeployment / BatchGetDeployments do not parse under moto)
 * is covered in the aws-sdk-client-mock specs.
 */
const MOTO_URL = process.env.MOTO_URL!;
const ecsClient = new ECSClient({ endpoint: MOTO_URL });

const counted = countingEcsClient(MOTO_URL);
const adapterClient = counted.client;
const ecs = new EcsAdapter({ client: adapterClient });
const codedeploy = new CodeDeployAdapter({ client: new CodeDeployClient({ endpoint: MOTO_URL }) });
const recent = recentDeploymentAction(ecs, codedeploy);
const rollback = rollbackAction(ecs, codedeploy, { pollMs: 100 });

afterAll(() => {
  ecs.close();
  codedeploy.close();
  ecsClient.destroy();
});

beforeEach(() => {
  counted.reset();
});

const ctx = (stepId: string): ActionContext => ({
  incidentId: 'inc-1',
  runId: 'run-1',
  stepId,
  idempotencyKey: `run-1:${stepId}#1`,
  signal: new AbortController().signal,
  dryRun: false,
});

/** A cluster, three revisions of a family, a service created on rev 1 and deployed to rev 2 (rev 3 registered, never deployed). */
async function deployed(): Promise<{ cluster: string; service: string; revs: string[] }> {
  const cluster = uniqueName('prod');
  const family = uniqueName('checkout');
  const service = 'checkout';
  await ecsClient.send(new CreateClusterCommand({ clusterName: cluster }));
  const revs: string[] = [];
  for (const image of ['checkout:1', 'checkout:2', 'checkout:3']) {
    const out = await ecsClient.send(
      new RegisterTaskDefinitionCommand({ family, requiresCompatibilities: ['EC2'], networkMode: 'bridge', containerDefinitions: [{ name: 'app', image, memory: 512, essential: true }] }),
    );
    revs.push(out.taskDefinition!.taskDefinitionArn!);
  }
  await ecsClient.send(new CreateServiceCommand({ cluster, serviceName: service, taskDefinition: revs[0], desiredCount: 2 }));
  await ecsClient.send(new UpdateServiceCommand({ cluster, service, taskDefinition: revs[1] }));
  return { cluster, service, revs };
}

async function taskDefinitionOf(cluster: string, service: string): Promise<string> {
  const out = await ecsClient.send(new DescribeServicesCommand({ cluster, services: [service] }));
  return out.services![0].taskDefinition!;
}

describe('deploy.recent against moto_server (ECS rolling)', () => {
  it('reports rev 2 as current, rev 1 as previous, and correlates a deployment in progress at the onset', async () => {
    const p = await deployed();
    const onset = new Date(Date.now() + 5 * 60_000).toISOString();
    const result = await recent.run({ cluster: p.cluster, service: p.service, onset }, ctx('deploy'));
    const output = result.output as unknown as RecentDeploymentOutput;
    expect(output).toMatchObject({
      controller: 'ECS',
      current: { id: expect.stringMatching(/^ecs-svc\//), taskDefinition: p.revs[1], status: 'IN_PROGRESS', startedAt: expect.any(String), completedAt: null },
      previous: { id: null, taskDefinition: p.revs[0], status: 'REVISION' },
      inProgress: true,
      correlated: true,
      windowMinutes: 30,
    });
    expect(output.minutes_before_onset).toBe(output.minutesBeforeOnset);
    expect(output.minutesBeforeOnset).toBeGreaterThan(4);
  });

  it('does not correlate a deployment that started after the onset', async () => {
    const p = await deployed();
    const onset = new Date(Date.now() - 60 * 60_000).toISOString();
    const output = (await recent.run({ cluster: p.cluster, service: p.service, onset }, ctx('deploy'))).output as unknown as RecentDeploymentOutput;
    expect(output.correlated).toBe(false);
    expect(output.minutesBeforeOnset).toBeLessThan(-59);
  });
});

describe('deploy.rollback against moto_server (ECS rolling)', () => {
  it('rolls the service back from rev 2 to rev 1, and a second run is a skip with no call', async () => {
    const p = await deployed();
    const params = { cluster: p.cluster, service: p.service, from_task_definition: p.revs[1], to_task_definition: p.revs[0], wait_seconds: 1 };
    expect(rollback.plan(params)).toEqual({ summary: `roll back ${p.cluster}/${p.service} from ${p.revs[1]} to ${p.revs[0]}`, resource: `ecs:${p.cluster}/${p.service}` });

    const first = await rollback.run(params, ctx('rollback'));
    expect(first.output).toMatchObject({ controller: 'ECS', action: 'update-service', from: p.revs[1], to: p.revs[0], requestId: expect.any(String) });
    expect(typeof first.output.steady).toBe('boolean');
    expect(await taskDefinitionOf(p.cluster, p.service)).toBe(p.revs[0]);
    expect(counted.sent('UpdateServiceCommand')).toBe(1);

    const second = await rollback.run(params, ctx('rollback'));
    expect(second.output).toMatchObject({ skipped: true, reason: 'already rolled back' });
    expect(counted.sent('UpdateServiceCommand')).toBe(1);
  });

  it('fails for good when the service has moved to a third revision since the plan', async () => {
    const p = await deployed();
    await ecsClient.send(new UpdateServiceCommand({ cluster: p.cluster, service: p.service, taskDefinition: p.revs[2] }));
    const error = await rollback.run({ cluster: p.cluster, service: p.service, from_task_definition: p.revs[1], to_task_definition: p.revs[0] }, ctx('rollback')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(/the plan is stale/);
    expect(counted.sent('UpdateServiceCommand')).toBe(0);
    expect(await taskDefinitionOf(p.cluster, p.service)).toBe(p.revs[2]);
  });

  it('reconcile reports a rollback that landed and does not call UpdateService', async () => {
    const p = await deployed();
    await ecsClient.send(new UpdateServiceCommand({ cluster: p.cluster, service: p.service, taskDefinition: p.revs[0] }));
    const result = await rollback.reconcile!({ cluster: p.cluster, service: p.service, from_task_definition: p.revs[1], to_task_definition: p.revs[0] }, ctx('rollback'));
    expect(result.output).toEqual({ reconciled: true, controller: 'ECS', taskDefinition: p.revs[0] });
    expect(counted.sent('UpdateServiceCommand')).toBe(0);
  });

  it('reconcile fails for good, without calling, when the rollback did not land', async () => {
    const p = await deployed();
    const error = await rollback.reconcile!({ cluster: p.cluster, service: p.service, from_task_definition: p.revs[1], to_task_definition: p.revs[0] }, ctx('rollback')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(counted.sent('UpdateServiceCommand')).toBe(0);
    expect(await taskDefinitionOf(p.cluster, p.service)).toBe(p.revs[1]);
  });
});
