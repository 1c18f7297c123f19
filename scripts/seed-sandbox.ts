/**
 * Seeds a small production into moto_server for `npm run sandbox` (scripts/sandbox.ts):
 *
 * - ECS cluster `prod`, task definition family `checkout` (:1-:40 as history, :41, :42), service
 *   `checkout` created on :41 and updated to :42 (an ECS rolling deployment, made just now);
 * - a VPC, two subnets, an ALB `prod-alb`, a target group `checkout-blue` behind it with two
 *   instances registered, one stopped afterwards (target health shows `unused` / `Target.InvalidState`);
 * - log group `/ecs/prod/checkout` with older noise and the ERROR the deploy of :42 brought, first seen after it;
 * - CloudWatch data for the last hour: ALB 5xx and ECS CPU rising in the last 8 minutes;
 * - Aurora cluster `prod-orders` with a writer and a reader.
 *
 * The clients talk to the endpoint given (the moto URL) with the dummy credentials `testing`.
 * The names are fixed: seed a fresh moto_server.
 */
import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateSubnetCommand, CreateVpcCommand, EC2Client, RunInstancesCommand, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBClusterCommand, CreateDBInstanceCommand, RDSClient } from '@aws-sdk/client-rds';
import type { OverlayRule } from '../test/scenarios/support/aws-overlay';

export const REGION = 'us-east-1';
const MIN = 60_000;

export interface SandboxProduction {
  cluster: string;
  service: string;
  taskDefinitions: { previous: string; current: string };
  loadBalancerArn: string;
  targetGroupArn: string;
  instances: { running: string; stopped: string };
  logGroup: string;
  auroraCluster: string;
}

/** The catalog for the seeded resources (the real ARNs), with the recent-deploy rollback left to policy. */
export function sandboxCatalog(prod: SandboxProduction): string {
  return `# Written by scripts/seed-sandbox.ts for the resources it seeded in moto_server.
approverGroups:
  checkout-oncall:
    users: [alice@example.com, bob@example.com]
  platform-oncall:
    users: [carol@example.com]

services:
  checkout:
    description: Checkout API (sandbox, in moto_server)
    alarms:
      names: [checkout-alb-5xx, checkout-down]
      patterns: ["checkout-*"]
    ecs: { cluster: ${prod.cluster}, service: ${prod.service} }
    loadBalancer:
      arn: ${prod.loadBalancerArn}
      targetGroups:
        - ${prod.targetGroupArn}
    logGroups: [${prod.logGroup}]
    aurora: { cluster: ${prod.auroraCluster} }
    approvers: [checkout-oncall, platform-oncall]
    autonomy: { deploy.rollback: auto }
    limits: { minTasks: 2, maxTasks: 24, scaleUpFactor: 2, cooldownMinutes: 10, autoRollbackWindowMinutes: 30 }
`;
}

/**
 * moto stamps the deployment of :42 "now" (it cannot date one in the past), while the seeded 5xx
 * began 8 minutes ago: an overlay rule (test/scenarios/support/aws-overlay.ts) in front of moto that
 * tells the service the deployment landed `minutes` ago, before the impact, as a real bad deploy would have.
 */
export function deployedMinutesAgo(prod: SandboxProduction, minutes: number): OverlayRule {
  const landedAt = Date.now() - minutes * MIN;
  return {
    transform: (_req, reply) => {
      if (reply.status !== 200) return reply;
      const body = JSON.parse(reply.body) as { services?: Record<string, unknown>[] };
      for (const svc of body.services ?? []) {
        if (svc.serviceName !== prod.service) continue;
        const desired = Number(svc.desiredCount);
        svc.deployments = [
          { id: 'ecs-svc/4711', status: 'PRIMARY', taskDefinition: svc.taskDefinition, desiredCount: desired, runningCount: 0, pendingCount: 0, failedTasks: 0,
            createdAt: (landedAt - 3 * MIN) / 1000, updatedAt: landedAt / 1000, launchType: 'EC2', rolloutState: 'COMPLETED', rolloutStateReason: 'ECS deployment ecs-svc/4711 completed.' },
        ];
      }
      return { ...reply, body: JSON.stringify(body) };
    },
  };
}

export async function seedSandbox(endpoint: string): Promise<SandboxProduction> {
  const config = { endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const ecs = new ECSClient(config);
  const ec2 = new EC2Client(config);
  const elb = new ElasticLoadBalancingV2Client(config);
  const logs = new CloudWatchLogsClient(config);
  const cw = new CloudWatchClient(config);
  const rds = new RDSClient(config);
  try {
    // ECS: cluster, two revisions, a rolling deployment from :41 to :42.
    const cluster = 'prod';
    const service = 'checkout';
    await ecs.send(new CreateClusterCommand({ clusterName: cluster }));
    // Revisions 1-40 are history, so that the two that matter are :41 and :42, as in a real account.
    const revisions: string[] = [];
    for (let n = 1; n <= 42; n++) {
      const tag = String(n);
      const out = await ecs.send(
        new RegisterTaskDefinitionCommand({
          family: 'checkout',
          requiresCompatibilities: ['EC2'],
          networkMode: 'bridge',
          containerDefinitions: [{ name: 'app', image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/checkout:${tag}`, memory: 512, essential: true }],
        }),
      );
      if (n >= 41) revisions.push(out.taskDefinition!.taskDefinitionArn!);
    }
    await ecs.send(new CreateServiceCommand({ cluster, serviceName: service, taskDefinition: revisions[0], desiredCount: 2 }));
    await ecs.send(new UpdateServiceCommand({ cluster, service, taskDefinition: revisions[1] }));
    const deployedAt = Date.now();

    // Network, ALB, target group with two instances, one stopped after registering.
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }))).Vpc!.VpcId!;
    const subnets: string[] = [];
    for (const [i, zone] of ['a', 'b'].entries()) {
      const out = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.42.${i + 1}.0/24`, AvailabilityZone: `${REGION}${zone}` }));
      subnets.push(out.Subnet!.SubnetId!);
    }
    const loadBalancerArn = (await elb.send(new CreateLoadBalancerCommand({ Name: 'prod-alb', Subnets: subnets }))).LoadBalancers![0].LoadBalancerArn!;
    const targetGroupArn = (
      await elb.send(
        new CreateTargetGroupCommand({
          Name: 'checkout-blue',
          Protocol: 'HTTP',
          Port: 8080,
          VpcId: vpcId,
          TargetType: 'instance',
          HealthCheckPath: '/healthz',
          Matcher: { HttpCode: '200' },
        }),
      )
    ).TargetGroups![0].TargetGroupArn!;
    await elb.send(new CreateListenerCommand({ LoadBalancerArn: loadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }] }));
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 2, MaxCount: 2, InstanceType: 't3.micro', SubnetId: subnets[0] }));
    const [running, stopped] = run.Instances!.map((i) => i.InstanceId!);
    await elb.send(new RegisterTargetsCommand({ TargetGroupArn: targetGroupArn, Targets: [{ Id: running }, { Id: stopped }] }));
    await ec2.send(new StopInstancesCommand({ InstanceIds: [stopped] })); // moto refuses to register a stopped instance

    // Logs: older noise (INFO lines, upstream errors from before the deploy), then the error the deploy
    // of :42 brought, first seen after it (moto dates the deployment now, so these fall between it and now).
    const logGroup = `/ecs/${cluster}/${service}`;
    const stream = 'app/app/1';
    await logs.send(new CreateLogGroupCommand({ logGroupName: logGroup }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: logGroup, logStreamName: stream }));
    const now = Date.now();
    const afterDeploy = (f: number) => deployedAt + Math.max(1, Math.round((now - deployedAt) * f));
    const lines: [number, string][] = [
      [now - 4.5 * MIN, 'INFO request served in 14 ms'],
      [now - 4 * MIN, 'ERROR upstream connect error to 10.42.1.17:5432 after 5012 ms'],
      [now - 3 * MIN, 'ERROR upstream connect error to 10.42.1.18:5432 after 4990 ms'],
      [now - 1.5 * MIN, 'INFO request served in 12 ms'],
      [afterDeploy(0.25), 'ERROR NullPointerException in CartService.total (order 81723)'],
      [afterDeploy(0.5), 'ERROR NullPointerException in CartService.total (order 81790)'],
      [afterDeploy(0.75), 'ERROR NullPointerException in CartService.total (order 81802)'],
    ];
    await logs.send(new PutLogEventsCommand({ logGroupName: logGroup, logStreamName: stream, logEvents: lines.map(([t, message]) => ({ timestamp: t, message })) }));

    // Metrics, one datum a minute over the last hour: 5xx and CPU up in the last 8 minutes.
    const lbDimension = loadBalancerArn.split(':loadbalancer/')[1]; // app/prod-alb/<id>
    const tgDimension = targetGroupArn.split(':').at(-1)!; // targetgroup/checkout-blue/<id>
    const ecsDims = [
      { Name: 'ClusterName', Value: cluster },
      { Name: 'ServiceName', Value: service },
    ];
    const tgDims = [
      { Name: 'TargetGroup', Value: tgDimension },
      { Name: 'LoadBalancer', Value: lbDimension },
    ];
    const base = Math.floor(now / MIN) * MIN;
    const perMinute = (datum: (m: number) => Omit<MetricDatum, 'Timestamp'>): MetricDatum[] => {
      const out: MetricDatum[] = [];
      for (let m = -60; m <= 0; m++) out.push({ ...datum(m), Timestamp: new Date(base + m * MIN - 50_000) });
      return out;
    };
    const rising = (m: number) => m > -8;
    await putMetrics(cw, 'AWS/ApplicationELB', [
      ...perMinute((m) => ({ MetricName: 'HTTPCode_ELB_5XX_Count', Dimensions: [{ Name: 'LoadBalancer', Value: lbDimension }], Value: rising(m) ? 40 + (m + 8) * 15 : 0, Unit: 'Count' })),
      ...perMinute((m) => ({ MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: tgDims, Value: rising(m) ? 30 + (m + 8) * 10 : 0, Unit: 'Count' })),
      ...perMinute((m) => ({ MetricName: 'RequestCount', Dimensions: tgDims, Value: rising(m) ? 600 : 1000, Unit: 'Count' })),
      ...perMinute((m) => ({ MetricName: 'TargetResponseTime', Dimensions: tgDims, Value: rising(m) ? 2.4 : 0.18, Unit: 'Seconds' })),
    ]);
    await putMetrics(cw, 'AWS/ECS', [
      ...perMinute((m) => ({ MetricName: 'CPUUtilization', Dimensions: ecsDims, Value: rising(m) ? 93 : 38, Unit: 'Percent' })),
      ...perMinute(() => ({ MetricName: 'MemoryUtilization', Dimensions: ecsDims, Value: 56, Unit: 'Percent' })),
    ]);

    // Aurora: a writer and a reader.
    const auroraCluster = 'prod-orders';
    await rds.send(new CreateDBClusterCommand({ DBClusterIdentifier: auroraCluster, Engine: 'aurora-postgresql', MasterUsername: 'app', MasterUserPassword: 'sandbox-not-a-secret' }));
    for (const [n, tier, az] of [[1, 0, 'a'], [2, 1, 'b']] as const) {
      await rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: `${auroraCluster}-${n}`,
          DBClusterIdentifier: auroraCluster,
          Engine: 'aurora-postgresql',
          DBInstanceClass: 'db.r6g.large',
          PromotionTier: tier,
          AvailabilityZone: `${REGION}${az}`,
        }),
      );
    }

    return {
      cluster,
      service,
      taskDefinitions: { previous: revisions[0], current: revisions[1] },
      loadBalancerArn,
      targetGroupArn,
      instances: { running, stopped },
      logGroup,
      auroraCluster,
    };
  } finally {
    for (const c of [ecs, ec2, elb, logs, cw, rds]) c.destroy();
  }
}

async function putMetrics(cw: CloudWatchClient, namespace: string, data: MetricDatum[]): Promise<void> {
  for (let i = 0; i < data.length; i += 20) await cw.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + 20) }));
}
