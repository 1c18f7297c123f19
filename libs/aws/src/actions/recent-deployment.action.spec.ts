import { BatchGetDeploymentsCommand, CodeDeployClient, type DeploymentInfo, ListDeploymentsCommand } from '@aws-sdk/client-codedeploy';
import { DescribeServicesCommand, ECSClient, ListTaskDefinitionsCommand } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { appSpecTaskDefinition, CodeDeployAdapter } from '../codedeploy.adapter';
import { EcsAdapter } from '../ecs.adapter';
import { correlate, recentDeploymentAction, type RecentDeploymentOutput } from './recent-deployment.action';

const TD = (rev: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:${rev}`;
const ONSET = '2026-03-01T12:00:00.000Z';
const at = (minutesBeforeOnset: number) => new Date(Date.parse(ONSET) - minutesBeforeOnset * 60_000);

const ctx = (): ActionContext => ({ incidentId: 'i', runId: 'r', stepId: 'deploy', idempotencyKey: 'r:deploy#1', signal: new AbortController().signal, dryRun: false });

function setup(service: Record<string, unknown>) {
  const ecsClient = new ECSClient({ region: 'us-east-1' });
  const cdClient = new CodeDeployClient({ region: 'us-east-1' });
  const ecs = mockClient(ecsClient);
  const cd = mockClient(cdClient);
  ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: 'checkout', status: 'ACTIVE', desiredCount: 2, runningCount: 2, ...service }], failures: [] });
  const action = recentDeploymentAction(new EcsAdapter({ client: ecsClient }), new CodeDeployAdapter({ client: cdClient }));
  return { ecs, cd, action };
}

const appSpec = (rev: number) => ({
  revisionType: 'AppSpecContent' as const,
  appSpecContent: { content: `version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n      Properties:\n        TaskDefinition: "${TD(rev)}"\n` },
});

describe('deploy.recent', () => {
  it('ECS rolling: the PRIMARY deployment is current and the ACTIVE one previous; in progress at the onset correlates', async () => {
    const { action, ecs } = setup({
      taskDefinition: TD(7),
      deploymentController: { type: 'ECS' },
      deployments: [
        { id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: TD(7), rolloutState: 'IN_PROGRESS', createdAt: at(3), updatedAt: at(1) },
        { id: 'ecs-svc/1', status: 'ACTIVE', taskDefinition: TD(6), rolloutState: 'COMPLETED', createdAt: at(600), updatedAt: at(590) },
      ],
    });
    const output = (await action.run({ cluster: 'prod', service: 'checkout', onset: ONSET }, ctx())).output as unknown as RecentDeploymentOutput;
    expect(output).toMatchObject({
      controller: 'ECS',
      current: {
        id: 'ecs-svc/2',
        taskDefinition: TD(7),
        status: 'IN_PROGRESS',
        startedAt: at(3).toISOString(),
        completedAt: null,
        link: 'https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/deployments?region=us-east-1',
      },
      previous: { id: 'ecs-svc/1', taskDefinition: TD(6), status: 'ACTIVE' },
      inProgress: true,
      minutesBeforeOnset: 3,
      minutes_before_onset: 3,
      correlated: true,
    });
    expect(ecs.commandCalls(ListTaskDefinitionsCommand)).toHaveLength(0);
  });

  it("ECS rolling, completed: previous is the family's newest older revision; outside the window it does not correlate", async () => {
    const { action, ecs } = setup({
      taskDefinition: TD(7),
      deploymentController: { type: 'ECS' },
      deployments: [{ id: 'ecs-svc/2', status: 'PRIMARY', taskDefinition: TD(7), rolloutState: 'COMPLETED', createdAt: at(50), updatedAt: at(40) }],
    });
    ecs.on(ListTaskDefinitionsCommand).resolves({ taskDefinitionArns: [TD(8), TD(7), 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout-worker:9', TD(5)] });
    const params = { cluster: 'prod', service: 'checkout', onset: ONSET };
    const output = (await action.run(params, ctx())).output as unknown as RecentDeploymentOutput;
    expect(output).toMatchObject({ current: { completedAt: at(40).toISOString(), status: 'COMPLETED' }, previous: { id: null, taskDefinition: TD(5), status: 'REVISION' }, inProgress: false, minutesBeforeOnset: 40, correlated: false });
    expect((await action.run({ ...params, window_minutes: 45 }, ctx())).output).toMatchObject({ correlated: true });
  });

  it('CODE_DEPLOY: newest deployment is current, the newest older Succeeded one previous, task definitions from the AppSpec', async () => {
    const { action, cd } = setup({ taskDefinition: TD(7), deploymentController: { type: 'CODE_DEPLOY' }, deployments: [] });
    const infos: DeploymentInfo[] = [
      { deploymentId: 'd-OLD', status: 'Succeeded', createTime: at(2000), completeTime: at(1990), revision: appSpec(5) },
      { deploymentId: 'd-FAILED', status: 'Failed', createTime: at(1000), completeTime: at(990), revision: appSpec(6) },
      { deploymentId: 'd-NEW', status: 'Succeeded', createTime: at(20), completeTime: at(10), revision: appSpec(7) },
    ];
    cd.on(ListDeploymentsCommand).resolves({ deployments: ['d-NEW', 'd-FAILED', 'd-OLD'] });
    cd.on(BatchGetDeploymentsCommand).resolves({ deploymentsInfo: infos });
    const result = await action.run({ cluster: 'prod', service: 'checkout', onset: ONSET, codedeploy_application: 'app', deployment_group: 'dg' }, ctx());
    expect(result.output).toMatchObject({
      controller: 'CODE_DEPLOY',
      current: { id: 'd-NEW', taskDefinition: TD(7), status: 'Succeeded', completedAt: at(10).toISOString() },
      previous: { id: 'd-OLD', taskDefinition: TD(5), link: 'https://us-east-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-OLD?region=us-east-1' },
      inProgress: false,
      minutes_before_onset: 10,
      correlated: true,
    });
    expect(cd.commandCalls(ListDeploymentsCommand)[0].args[0].input).toEqual({ applicationName: 'app', deploymentGroupName: 'dg' });
  });

  it('CODE_DEPLOY without the application and group fails for good', async () => {
    const { action } = setup({ deploymentController: { type: 'CODE_DEPLOY' }, deployments: [] });
    await expect(action.run({ cluster: 'prod', service: 'checkout', onset: ONSET }, ctx())).rejects.toThrow(PermanentActionError);
  });

  it('refuses an onset that is not a date', () => {
    const { action } = setup({});
    expect(() => action.plan({ cluster: 'prod', service: 'checkout', onset: 'yesterday' })).toThrow(/"onset" must be an ISO date-time/);
  });
});

describe('correlate', () => {
  const ref = (startedAt: Date, completedAt: Date | null) => ({ id: 'x', taskDefinition: null, startedAt: startedAt.toISOString(), completedAt: completedAt?.toISOString() ?? null, status: 's' });
  it.each([
    ['finished 10 min before', ref(at(15), at(10)), false, 10, true],
    ['finished 31 min before', ref(at(40), at(31)), false, 31, false],
    ['finished after the onset', ref(at(5), at(-2)), false, -2, false],
    ['in progress since before the onset', ref(at(90), null), true, 90, true],
  ])('%s', (_name, current, inProgress, minutes, correlated) => {
    expect(correlate(current, inProgress, new Date(ONSET), 30)).toEqual({ minutesBeforeOnset: minutes, correlated });
  });
});

describe('appSpecTaskDefinition', () => {
  it('reads YAML and JSON AppSpecs', () => {
    expect(appSpecTaskDefinition(appSpec(3).appSpecContent.content)).toBe(TD(3));
    expect(appSpecTaskDefinition(JSON.stringify({ Resources: [{ TargetService: { Properties: { TaskDefinition: TD(4) } } }] }))).toBe(TD(4));
    expect(appSpecTaskDefinition(undefined)).toBeNull();
  });
});
