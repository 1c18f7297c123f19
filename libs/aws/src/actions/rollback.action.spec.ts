import {
  BatchGetDeploymentsCommand,
  CodeDeployClient,
  CreateDeploymentCommand,
  type DeploymentInfo,
  GetDeploymentCommand,
  ListDeploymentsCommand,
  StopDeploymentCommand,
} from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CodeDeployAdapter } from '../codedeploy.adapter';
import { EcsAdapter } from '../ecs.adapter';
import { rollbackAction, rollbackMarker } from './rollback.action';

const TD = (rev: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:${rev}`;
const ctx = (): ActionContext => ({ incidentId: 'i', runId: 'run-1', stepId: 'rollback', idempotencyKey: 'run-1:rollback#1', signal: new AbortController().signal, dryRun: false });
const CD_PARAMS = { cluster: 'prod', service: 'checkout', codedeploy_application: 'app', deployment_group: 'dg', from_deployment: 'd-NEW', to_deployment: 'd-OLD' };
const REVISION = { revisionType: 'AppSpecContent' as const, appSpecContent: { content: `TaskDefinition: ${TD(6)}` } };

function setup(controller: 'ECS' | 'CODE_DEPLOY', deployments: DeploymentInfo[] = []) {
  const ecsClient = new ECSClient({ region: 'us-east-1' });
  const cdClient = new CodeDeployClient({ region: 'us-east-1' });
  const ecs = mockClient(ecsClient);
  const cd = mockClient(cdClient);
  const state = { taskDefinition: TD(7), deployments };
  ecs.on(DescribeServicesCommand).callsFake(() => ({
    services: [{ serviceName: 'checkout', status: 'ACTIVE', desiredCount: 2, runningCount: 2, taskDefinition: state.taskDefinition, deploymentController: { type: controller }, deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY' }] }],
    failures: [],
  }));
  ecs.on(UpdateServiceCommand).callsFake((input: { taskDefinition: string }) => {
    state.taskDefinition = input.taskDefinition;
    return { service: { taskDefinition: input.taskDefinition }, $metadata: { requestId: 'req-update-service' } };
  });
  cd.on(ListDeploymentsCommand).callsFake(() => ({ deployments: state.deployments.map((d) => d.deploymentId) }));
  cd.on(BatchGetDeploymentsCommand).callsFake(() => ({ deploymentsInfo: state.deployments }));
  cd.on(GetDeploymentCommand, { deploymentId: 'd-OLD' }).resolves({ deploymentInfo: { deploymentId: 'd-OLD', revision: REVISION } });
  cd.on(StopDeploymentCommand).callsFake(() => {
    state.deployments = state.deployments.map((d) => (d.deploymentId === 'd-NEW' ? { ...d, status: 'Stopped', rollbackInfo: { rollbackDeploymentId: 'd-RB' } } : d));
    return { status: 'Pending', statusMessage: 'Stopping Pending', $metadata: { requestId: 'req-stop-deployment' } };
  });
  cd.on(CreateDeploymentCommand).callsFake((input: { description: string }) => {
    state.deployments = [{ deploymentId: 'd-MINE', status: 'Created', createTime: new Date('2026-03-01T13:00:00Z'), description: input.description }, ...state.deployments];
    return { deploymentId: 'd-MINE', $metadata: { requestId: 'req-create-deployment' } };
  });
  const action = rollbackAction(new EcsAdapter({ client: ecsClient }), new CodeDeployAdapter({ client: cdClient }), { pollMs: 1 });
  return { ecs, cd, state, action };
}

const deployment = (id: string, status: string, minutes: number): DeploymentInfo => ({ deploymentId: id, status: status as DeploymentInfo['status'], createTime: new Date(Date.parse('2026-03-01T12:00:00Z') - minutes * 60_000) });
const failure = (p: Promise<unknown>) => p.then(() => new Error('resolved'), (e: unknown) => e as Error);

describe('deploy.rollback', () => {
  it('pre-checks the plan against the service without changing it: stale once another revision runs, or a newer CodeDeploy deployment exists', async () => {
    const { ecs, cd, state, action } = setup('ECS');
    const params = { cluster: 'prod', service: 'checkout', from_task_definition: TD(7), to_task_definition: TD(6) };
    const signal = new AbortController().signal;
    expect(await action.precheck!(params, { signal })).toEqual({ holds: true, checked: `prod/checkout still runs ${TD(7)}` });
    state.taskDefinition = TD(8);
    expect(await action.precheck!(params, { signal })).toEqual({ holds: false, reason: `prod/checkout now runs ${TD(8)}, not the plan's ${TD(7)} (deployed since the plan was made)` });
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);

    const codeDeploy = setup('CODE_DEPLOY', [deployment('d-NEWER', 'Succeeded', 1), deployment('d-NEW', 'Succeeded', 10)]);
    expect(await codeDeploy.action.precheck!(CD_PARAMS, { signal })).toMatchObject({ holds: false, reason: expect.stringContaining('is now d-NEWER, not the plan\'s d-NEW') });
    expect(codeDeploy.cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
    expect(cd.commandCalls(StopDeploymentCommand)).toHaveLength(0);
  });

  it('plans without calling AWS, on the service resource', () => {
    const { ecs, cd, action } = setup('ECS');
    expect(action.plan({ cluster: 'prod', service: 'checkout', from_task_definition: TD(7), to_task_definition: TD(6) })).toEqual({
      summary: `roll back prod/checkout from ${TD(7)} to ${TD(6)}`,
      resource: 'ecs:prod/checkout',
    });
    expect(action.plan(CD_PARAMS).summary).toBe('roll back prod/checkout from d-NEW to d-OLD');
    expect(ecs.calls()).toHaveLength(0);
    expect(cd.calls()).toHaveLength(0);
  });

  it.each([
    [{ cluster: 'prod', service: 'checkout' }, /give "from_task_definition" and "to_task_definition"/],
    [{ cluster: 'prod', service: 'checkout', from_task_definition: TD(7), to_task_definition: 'checkout:7' }, /are the same/],
    [{ ...CD_PARAMS, wait_seconds: -1 }, /"wait_seconds" must be a whole number/],
  ])('refuses bad parameters when planning: %p', (params, message) => {
    const { action } = setup('ECS');
    expect(() => action.plan(params)).toThrow(PermanentActionError);
    expect(() => action.plan(params)).toThrow(message);
  });

  it('ECS rolling: UpdateService to the previous task definition, then waits until steady', async () => {
    const { ecs, state, action } = setup('ECS');
    const result = await action.run({ cluster: 'prod', service: 'checkout', from_task_definition: TD(7), to_task_definition: 'checkout:6', wait_seconds: 5 }, ctx());
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([{ cluster: 'prod', service: 'checkout', taskDefinition: 'checkout:6' }]);
    expect(state.taskDefinition).toBe('checkout:6');
    expect(result.output).toMatchObject({ controller: 'ECS', action: 'update-service', from: TD(7), to: 'checkout:6', steady: true, requestId: 'req-update-service' });
  });

  it('CodeDeploy in progress: StopDeployment with autoRollbackEnabled, and a second run finds it stopped and makes no call', async () => {
    const { cd, action } = setup('CODE_DEPLOY', [deployment('d-NEW', 'InProgress', 5), deployment('d-OLD', 'Succeeded', 600)]);
    const first = await action.run(CD_PARAMS, ctx());
    expect(cd.commandCalls(StopDeploymentCommand).map((c) => c.args[0].input)).toEqual([{ deploymentId: 'd-NEW', autoRollbackEnabled: true }]);
    expect(first.output).toMatchObject({ controller: 'CODE_DEPLOY', action: 'stop-deployment', deploymentId: 'd-NEW', stopStatus: 'Pending', requestId: 'req-stop-deployment' });
    const second = await action.run(CD_PARAMS, ctx());
    expect(second.output).toMatchObject({ skipped: true, reason: 'deployment d-NEW is already Stopped', deploymentId: 'd-RB' });
    expect(cd.commandCalls(StopDeploymentCommand)).toHaveLength(1);
  });

  it("CodeDeploy completed: a new deployment of the previous deployment's revision as it is, marked with the step", async () => {
    const { cd, action } = setup('CODE_DEPLOY', [deployment('d-NEW', 'Succeeded', 5), deployment('d-OLD', 'Succeeded', 600)]);
    const result = await action.run(CD_PARAMS, ctx());
    const input = cd.commandCalls(CreateDeploymentCommand)[0].args[0].input;
    expect(input).toMatchObject({ applicationName: 'app', deploymentGroupName: 'dg', revision: REVISION });
    expect(input.description).toContain(rollbackMarker(ctx()));
    expect(result.output).toMatchObject({ controller: 'CODE_DEPLOY', action: 'create-deployment', deploymentId: 'd-MINE', revisionOf: 'd-OLD', replaced: 'd-NEW', requestId: 'req-create-deployment' });
    expect((await action.run(CD_PARAMS, ctx())).output).toMatchObject({ skipped: true, reason: 'rollback deployment already created', deploymentId: 'd-MINE' });
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(1);
  });

  it('CodeDeploy: a stale plan (another deployment since) fails for good without a call', async () => {
    const { cd, action } = setup('CODE_DEPLOY', [deployment('d-OTHER', 'InProgress', 1), deployment('d-NEW', 'Succeeded', 5)]);
    const error = await failure(action.run(CD_PARAMS, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(/the plan is stale: the newest deployment of app\/dg is d-OTHER/);
    expect(cd.commandCalls(StopDeploymentCommand)).toHaveLength(0);
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  it('fails for good, naming codedeploy:StopDeployment, when access is denied', async () => {
    const { cd, action } = setup('CODE_DEPLOY', [deployment('d-NEW', 'Baking', 5)]);
    // CodeDeploy has no modeled AccessDeniedException class: the SDK raises a generic service exception with that name.
    cd.on(StopDeploymentCommand).rejects(Object.assign(new Error('User is not authorized to perform: codedeploy:StopDeployment'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const error = await failure(action.run(CD_PARAMS, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(/^access denied: the role Responder runs as needs codedeploy:StopDeployment on CodeDeploy deployment d-NEW/);
  });

  it('reconcile finds the rollback deployment an interrupted attempt created, and does not call again', async () => {
    const { cd, action } = setup('CODE_DEPLOY', [
      { deploymentId: 'd-MINE', status: 'InProgress', createTime: new Date('2026-03-01T13:00:00Z'), description: `${rollbackMarker(ctx())}: revision of d-OLD` },
      deployment('d-NEW', 'Succeeded', 5),
    ]);
    const result = await action.reconcile!(CD_PARAMS, ctx());
    expect(result.output).toEqual({ reconciled: true, controller: 'CODE_DEPLOY', deploymentId: 'd-MINE', reason: 'rollback deployment already created' });
    expect(cd.commandCalls(StopDeploymentCommand)).toHaveLength(0);
    expect(cd.commandCalls(CreateDeploymentCommand)).toHaveLength(0);
  });

  it('reconcile fails for good, without calling, when no rollback is found', async () => {
    const { cd, action } = setup('CODE_DEPLOY', [deployment('d-NEW', 'InProgress', 5)]);
    await expect(action.reconcile!(CD_PARAMS, ctx())).rejects.toThrow(/no rollback of d-NEW is found/);
    expect(cd.commandCalls(StopDeploymentCommand)).toHaveLength(0);
  });
});
