import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { type DeploymentRolloutState, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { RDSClient } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudWatchAdapter } from '../cloudwatch.adapter';
import { EcsAdapter } from '../ecs.adapter';
import { Elbv2Adapter } from '../elbv2.adapter';
import { RdsAdapter } from '../rds.adapter';
import { awsGoalChecker } from './goal-checks';

const ecs = mockClient(ECSClient);
const cw = mockClient(CloudWatchClient);
beforeEach(() => {
  ecs.reset();
  cw.reset();
});

const TD1 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:41';
const TD2 = 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:42';

function checker() {
  return awsGoalChecker({
    ecs: new EcsAdapter({ client: new ECSClient({}) }),
    cloudwatch: new CloudWatchAdapter({ client: new CloudWatchClient({}) }),
    elbv2: new Elbv2Adapter({ client: new ElasticLoadBalancingV2Client({}) }),
    rds: new RdsAdapter({ client: new RDSClient({}) }),
  });
}

function service(taskDefinition: string, deployments: Array<{ status: string; rolloutState?: DeploymentRolloutState; taskDefinition: string }>, running = 2) {
  ecs.on(DescribeServicesCommand).resolves({
    services: [{ serviceName: 'checkout', clusterArn: 'prod', status: 'ACTIVE', taskDefinition, desiredCount: 2, runningCount: running, pendingCount: 0, deployments: deployments.map((d, i) => ({ id: `d${i}`, ...d, desiredCount: 2, runningCount: running })) }],
    failures: [],
  });
}

const input = { params: { cluster: 'prod', service: 'checkout', to_task_definition: TD1 }, output: {}, alarms: ['checkout-5xx'], targetGroups: [] };

describe('the AWS goal checks (aws-sdk-client-mock)', () => {
  it("a rollback's goal is met: on its target, one completed deployment, alarms OK; the service is read once", async () => {
    service(TD1, [{ status: 'PRIMARY', rolloutState: 'COMPLETED', taskDefinition: TD1 }]);
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'checkout-5xx', StateValue: 'OK' }] });
    const results = await checker().check(['service-on-target', 'deployment-steady', 'alarms-ok', 'targets-healthy'], input);
    expect(results.map((r) => [r.check, r.met])).toEqual([
      ['service-on-target', true],
      ['deployment-steady', true],
      ['alarms-ok', true],
      ['targets-healthy', true],
    ]);
    expect(ecs.commandCalls(DescribeServicesCommand)).toHaveLength(1);
  });

  it('says what is not met: another task definition, a rollout in progress, an alarm still in ALARM or missing', async () => {
    service(TD2, [
      { status: 'PRIMARY', rolloutState: 'IN_PROGRESS', taskDefinition: TD1 },
      { status: 'ACTIVE', rolloutState: 'COMPLETED', taskDefinition: TD2 },
    ], 1);
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'checkout-5xx', StateValue: 'ALARM' }] });
    const results = await checker().check(['service-on-target', 'deployment-steady', 'alarms-ok', 'running-reached-desired'], { ...input, alarms: ['checkout-5xx', 'gone'] });
    expect(results).toEqual([
      { check: 'service-on-target', met: false, detail: `checkout runs ${TD2}, not ${TD1}` },
      { check: 'deployment-steady', met: false, detail: 'checkout is not steady: 2 deployment(s) (PRIMARY IN_PROGRESS, ACTIVE COMPLETED), 1/2 tasks running' },
      { check: 'alarms-ok', met: false, detail: 'checkout-5xx is ALARM, gone is not found' },
      { check: 'running-reached-desired', met: false, detail: 'checkout: 1 of 2 tasks running' },
    ]);
  });

  it('a check that cannot read is not met, with the reason (never met by default)', async () => {
    const results = await checker().check(['service-on-target', 'writer-available'], { ...input, params: {} });
    expect(results).toEqual([
      { check: 'service-on-target', met: false, detail: 'service-on-target: the step names no task definition to be on (to_task_definition)' },
      { check: 'writer-available', met: false, detail: 'writer-available: the step names no cluster' },
    ]);
    const noService = await checker().check(['deployment-steady'], { ...input, params: { to_task_definition: TD1 } });
    expect(noService[0]).toEqual({ check: 'deployment-steady', met: false, detail: 'deployment-steady: could not check: the step names no ECS cluster and service' });
  });
});
