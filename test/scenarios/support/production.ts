import { randomBytes } from 'node:crypto';
import { CloudWatchClient, type MetricDatum, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { CreateClusterCommand, CreateServiceCommand, ECSClient, RegisterTaskDefinitionCommand, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CreateDBClusterCommand, CreateDBInstanceCommand, RDSClient, StopDBInstanceCommand } from '@aws-sdk/client-rds';
import { uniqueName } from '../../support/moto';
import { type AwsOverlay, json, jsonError } from './aws-overlay';

/**
 * One seeded production per scenario: an ECS cluster with the failing service `checkout` behind an
 * ALB, its logs, metrics, Aurora cluster and CloudTrail history, and a healthy neighbour `search`.
 * Every time is in minutes relative to the alarm's onset (negative = before). Whatever moto keeps
 * (clusters, services, task definitions, target groups, instances, log events, metric data, Aurora
 * members) is written to moto; what it cannot hold goes through the overlay (aws-overlay.ts).
 */
export const REGION = process.env.AWS_REGION ?? 'us-east-1';
export const ACCOUNT = '123456789012';
const MIN = 60_000;

export interface StoppedTaskSeed {
  count: number;
  at: number;
  stoppedReason: string;
  stopCode?: 'EssentialContainerExited' | 'TaskFailedToStart' | 'ServiceSchedulerInitiated' | 'TerminationNotice' | 'UserInitiated';
  container?: { exitCode: number | null; reason?: string };
}

export interface ServiceSeed {
  desired: number;
  /** Tasks running (default: all desired). */
  running?: number;
  /** Images of the task definition's revisions, oldest first; the service runs the last. */
  images: string[];
  /** When the deployment of the last revision completed. */
  deployedAt: number;
  /** The newest first is not required: the overlay sorts. */
  events?: { at: number; message: string }[];
  stoppedTasks?: StoppedTaskSeed[];
}

export interface TargetSeed {
  id: string;
  state: 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'initial';
  reason?: string;
  description?: string;
}

export interface LogLine {
  at: number;
  message: string;
}

export interface TrailEvent {
  at: number;
  eventName: string;
  eventSource: string;
  /** IAM user / role session as CloudTrail names it. */
  who: { type: 'IAMUser' | 'AssumedRole' | 'AWSService'; name: string; role?: string };
  resources: { type: string; name: string }[];
  requestParameters?: Record<string, unknown>;
  readOnly?: boolean;
}

/** A value per minute; null publishes nothing that minute (ALB counts are only published when non-zero). */
export type Shape = (minute: number) => number | null;

/** Deterministic noise: the same scenario seeds the same numbers every run. */
export function jitter(minute: number, amplitude: number): number {
  const x = Math.sin(minute * 12.9898 + 78.233) * 43758.5453;
  return (x - Math.floor(x) - 0.5) * 2 * amplitude;
}

export const steady = (value: number, noise = 0.05): Shape => (m) => Math.max(0, value + jitter(m, value * noise));
/** `before` until `from`, then `after` (each with a little noise). */
export const stepUp = (before: number, after: number, from: number, noise = 0.05): Shape => (m) =>
  m < from ? Math.max(0, before + jitter(m, before * noise)) : Math.max(0, after + jitter(m, after * noise));
/** A count that is zero (unpublished) before `from` and about `after` per minute from then. */
export const countFrom = (after: number, from: number): Shape => (m) => (m < from ? null : Math.round(after + jitter(m, after * 0.1)));
/** A count with a small background: `background` before, `after` from `from`. */
export const countStep = (background: number, after: number, from: number): Shape => (m) => Math.max(0, Math.round((m < from ? background : after) + jitter(m, m < from ? background * 0.5 : after * 0.1)));

/** `before` until `from`, then rising linearly to `to` at minute `until`, and staying there. */
export const ramp = (before: number, from: number, to: number, until: number, noise = 0.02): Shape => (m) => {
  const v = m < from ? before : m >= until ? to : before + ((to - before) * (m - from)) / (until - from);
  return Math.max(0, v + jitter(m, v * noise));
};

/** A line every `every` minutes from `from` up to now (or `to`). */
export function every(every: number, from: number, message: (minute: number, i: number) => string, to = 2): LogLine[] {
  const out: LogLine[] = [];
  for (let m = from, i = 0; m < to; m += every, i++) out.push({ at: Math.round(m * 1000) / 1000, message: message(m, i) });
  return out;
}

export interface MetricsSeed {
  elb5xx?: Shape;
  target5xx?: Shape;
  responseTime?: Shape;
  requests?: Shape;
  cpu?: Shape;
  memory?: Shape;
}

export interface ProductionHandles {
  cluster: string;
  service: string;
  neighbour: string;
  loadBalancerArn: string;
  listenerArn: string;
  targetGroupArn: string;
  logGroup: string;
  neighbourLogGroup: string;
  aurora: string;
  taskDefinitions: string[];
  onset: Date;
  /** ISO time of a minute relative to the onset. */
  at(minute: number): string;
}

async function ec2(motoUrl: string, action: string, params: Record<string, string>): Promise<string> {
  // @aws-sdk/client-ec2 is a dev dependency, but moto's EC2 answers a hand-made query faster to write here.
  const res = await fetch(motoUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=testing/20260101/${REGION}/ec2/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ Action: action, Version: '2016-11-15', ...params }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`EC2 ${action} on moto answered ${res.status}: ${text}`);
  return text;
}

const xmlValues = (xml: string, tag: string): string[] => [...xml.matchAll(new RegExp(`<${tag}>([^<]+)</${tag}>`, 'g'))].map((m) => m[1]);
const epoch = (ms: number): number => ms / 1000;
const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The seeding side: clients straight to moto, and the overlay the service under test reads through. */
export class Production implements ProductionHandles {
  readonly cluster = uniqueName('prod');
  readonly service = 'checkout';
  readonly neighbour = 'search';
  readonly logGroup: string;
  readonly neighbourLogGroup: string;
  readonly aurora = uniqueName('orders');
  readonly onset: Date;
  loadBalancerArn = '';
  listenerArn = '';
  targetGroupArn = '';
  taskDefinitions: string[] = [];
  instanceIds: string[] = [];
  private readonly ecs: ECSClient;
  private readonly elb: ElasticLoadBalancingV2Client;
  private readonly cw: CloudWatchClient;
  private readonly logs: CloudWatchLogsClient;
  private readonly rds: RDSClient;
  private vpcId = '';
  private subnets: string[] = [];
  private readonly services = new Map<string, { seed: ServiceSeed; deploymentId: string }>();
  private readonly taskPatches = new Map<string, Record<string, unknown>>();
  private readonly trail: (TrailEvent & { id: string })[] = [];
  private readonly denied = new Map<string, string>();
  private lookupDelayMs = 0;

  constructor(
    private readonly motoUrl: string,
    private readonly overlay: AwsOverlay,
    /** The alarm's onset: a whole minute, a little before now, so that metrics after it exist. */
    onsetMs = Math.floor(Date.now() / MIN) * MIN - 2 * MIN,
  ) {
    this.onset = new Date(onsetMs);
    this.logGroup = `/ecs/${this.cluster}/checkout`;
    this.neighbourLogGroup = `/ecs/${this.cluster}/search`;
    this.ecs = new ECSClient({ endpoint: motoUrl });
    this.elb = new ElasticLoadBalancingV2Client({ endpoint: motoUrl });
    this.cw = new CloudWatchClient({ endpoint: motoUrl });
    this.logs = new CloudWatchLogsClient({ endpoint: motoUrl });
    this.rds = new RDSClient({ endpoint: motoUrl });
    this.installOverlay();
  }

  at(minute: number): string {
    return new Date(this.onset.getTime() + minute * MIN).toISOString();
  }

  private ms(minute: number): number {
    return this.onset.getTime() + minute * MIN;
  }

  /** An ELBv2 client straight to moto, for a scenario's own changes. */
  elbClient(): ElasticLoadBalancingV2Client {
    return this.elb;
  }

  close(): void {
    for (const c of [this.ecs, this.elb, this.cw, this.logs, this.rds]) c.destroy();
  }

  /** The network, the ALB with its listener and the checkout target group. */
  async network(): Promise<void> {
    [this.vpcId] = xmlValues(await ec2(this.motoUrl, 'CreateVpc', { CidrBlock: '10.42.0.0/16' }), 'vpcId');
    this.subnets = await Promise.all(
      ['a', 'b'].map(async (zone, i) => xmlValues(await ec2(this.motoUrl, 'CreateSubnet', { VpcId: this.vpcId, CidrBlock: `10.42.${i + 1}.0/24`, AvailabilityZone: `${REGION}${zone}` }), 'subnetId')[0]),
    );
    this.loadBalancerArn = (await this.elb.send(new CreateLoadBalancerCommand({ Name: uniqueName('prod-alb').slice(0, 32), Subnets: this.subnets }))).LoadBalancers![0].LoadBalancerArn!;
    this.targetGroupArn = (
      await this.elb.send(
        new CreateTargetGroupCommand({
          Name: uniqueName('checkout').slice(0, 32),
          Protocol: 'HTTP',
          Port: 8080,
          VpcId: this.vpcId,
          TargetType: 'instance',
          HealthCheckPath: '/healthz',
          HealthCheckIntervalSeconds: 15,
          HealthCheckTimeoutSeconds: 5,
          HealthyThresholdCount: 3,
          UnhealthyThresholdCount: 2,
          Matcher: { HttpCode: '200' },
        }),
      )
    ).TargetGroups![0].TargetGroupArn!;
    this.listenerArn = (
      await this.elb.send(new CreateListenerCommand({ LoadBalancerArn: this.loadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: this.targetGroupArn }] }))
    ).Listeners![0].ListenerArn!;
  }

  /** EC2 container instances registered as the target group's targets; `stop` of them stopped afterwards (moto then reports them unused, Target.InvalidState). */
  async hosts(count: number, stop = 0): Promise<string[]> {
    this.instanceIds = xmlValues(
      await ec2(this.motoUrl, 'RunInstances', { ImageId: 'ami-12c6146b', MinCount: String(count), MaxCount: String(count), InstanceType: 'm6i.large', SubnetId: this.subnets[0] }),
      'instanceId',
    );
    await this.elb.send(new RegisterTargetsCommand({ TargetGroupArn: this.targetGroupArn, Targets: this.instanceIds.map((Id) => ({ Id, Port: 8080 })) }));
    const stopped = this.instanceIds.slice(0, stop);
    for (const id of stopped) await ec2(this.motoUrl, 'StopInstances', { 'InstanceId.1': id });
    return stopped;
  }

  /** What DescribeTargetHealth answers for the target group (moto never fails a health check). */
  targetHealth(targets: TargetSeed[]): void {
    const arn = this.targetGroupArn;
    this.overlay.on('elasticloadbalancing:DescribeTargetHealth', {
      answer: (req) => {
        if (req.params.TargetGroupArn !== arn) return undefined;
        const members = targets
          .map(
            (t) =>
              `<member><HealthCheckPort>8080</HealthCheckPort><Target><Id>${t.id}</Id><Port>8080</Port></Target><TargetHealth><State>${t.state}</State>` +
              (t.reason ? `<Reason>${t.reason}</Reason>` : '') +
              (t.description ? `<Description>${escapeXml(t.description)}</Description>` : '') +
              '</TargetHealth></member>',
          )
          .join('');
        return {
          status: 200,
          contentType: 'text/xml',
          body: `<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><DescribeTargetHealthResult><TargetHealthDescriptions>${members}</TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></DescribeTargetHealthResponse>`,
        };
      },
    });
  }

  async ecsCluster(): Promise<void> {
    await this.ecs.send(new CreateClusterCommand({ clusterName: this.cluster }));
  }

  /** An ECS service on the last of its revisions, deployed at `deployedAt`; returns the task definition ARNs. */
  async ecsService(name: string, seed: ServiceSeed): Promise<string[]> {
    const family = uniqueName(`${this.cluster}-${name}`).slice(0, 255);
    const arns: string[] = [];
    for (const image of seed.images) {
      const out = await this.ecs.send(
        new RegisterTaskDefinitionCommand({ family, requiresCompatibilities: ['EC2'], networkMode: 'bridge', containerDefinitions: [{ name: 'app', image, memory: 1024, essential: true }] }),
      );
      arns.push(out.taskDefinition!.taskDefinitionArn!);
    }
    await this.ecs.send(new CreateServiceCommand({ cluster: this.cluster, serviceName: name, taskDefinition: arns.at(-1), desiredCount: seed.desired, launchType: 'EC2' }));
    this.services.set(name, { seed, deploymentId: `ecs-svc/${randomBytes(9).readBigUInt64BE().toString().slice(0, 19)}` });
    for (const stopped of seed.stoppedTasks ?? []) {
      const run = await this.ecs.send(new RunTaskCommand({ cluster: this.cluster, taskDefinition: arns.at(-1), count: stopped.count, launchType: 'FARGATE', group: `service:${name}` }));
      for (const task of run.tasks ?? []) {
        await this.ecs.send(new StopTaskCommand({ cluster: this.cluster, task: task.taskArn, reason: stopped.stoppedReason }));
        this.taskPatches.set(task.taskArn!, {
          stopCode: stopped.stopCode,
          stoppedAt: epoch(this.ms(stopped.at)),
          stoppingAt: epoch(this.ms(stopped.at)),
          ...(stopped.container ? { containers: [{ name: 'app', taskArn: task.taskArn, lastStatus: 'STOPPED', exitCode: stopped.container.exitCode, reason: stopped.container.reason }] } : {}),
        });
      }
    }
    if (name === this.service) this.taskDefinitions = arns;
    return arns;
  }

  /** Per-minute metric data from `from` to now, for the checkout service's ALB, target group and ECS service. */
  async metrics(seed: MetricsSeed, from = -70): Promise<void> {
    const lb = this.loadBalancerArn.split(':loadbalancer/')[1];
    const tgDims = [
      { Name: 'TargetGroup', Value: this.targetGroupArn.split(':').at(-1)! },
      { Name: 'LoadBalancer', Value: lb },
    ];
    const ecsDims = [
      { Name: 'ClusterName', Value: this.cluster },
      { Name: 'ServiceName', Value: this.service },
    ];
    const until = Math.floor((Date.now() - this.onset.getTime()) / MIN);
    const series = (name: string, dims: { Name: string; Value: string }[], unit: MetricDatum['Unit'], shape?: Shape): MetricDatum[] => {
      if (!shape) return [];
      const out: MetricDatum[] = [];
      for (let m = from; m <= until; m++) {
        const v = shape(m);
        if (v !== null) out.push({ MetricName: name, Dimensions: dims, Value: Math.round(v * 1000) / 1000, Unit: unit, Timestamp: new Date(this.ms(m) + 10_000) });
      }
      return out;
    };
    await this.put('AWS/ApplicationELB', [
      ...series('HTTPCode_ELB_5XX_Count', [{ Name: 'LoadBalancer', Value: lb }], 'Count', seed.elb5xx),
      ...series('HTTPCode_Target_5XX_Count', tgDims, 'Count', seed.target5xx),
      ...series('TargetResponseTime', tgDims, 'Seconds', seed.responseTime),
      ...series('RequestCount', tgDims, 'Count', seed.requests),
    ]);
    await this.put('AWS/ECS', [...series('CPUUtilization', ecsDims, 'Percent', seed.cpu), ...series('MemoryUtilization', ecsDims, 'Percent', seed.memory)]);
  }

  private async put(namespace: string, data: MetricDatum[]): Promise<void> {
    // moto answered a large PutMetricData batch with an HTML page: 20 a call, as in test/integration/metrics-logs.
    for (let i = 0; i < data.length; i += 20) await this.cw.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + 20) }));
  }

  /** Log lines of a group (one stream per task), in time order. */
  async logLines(group: string, lines: LogLine[]): Promise<void> {
    await this.logs.send(new CreateLogGroupCommand({ logGroupName: group }));
    const stream = `app/app/${randomBytes(16).toString('hex')}`;
    await this.logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
    const events = lines.map((l) => ({ timestamp: Math.round(this.ms(l.at)), message: l.message })).sort((a, b) => a.timestamp - b.timestamp);
    for (let i = 0; i < events.length; i += 500) await this.logs.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: events.slice(i, i + 500) }));
  }

  /** An Aurora PostgreSQL cluster with a writer and two readers; `writerDown` stops the writer (moto allows it, AWS would show it failing). */
  async auroraCluster(options: { writerDown?: boolean } = {}): Promise<void> {
    await this.rds.send(new CreateDBClusterCommand({ DBClusterIdentifier: this.aurora, Engine: 'aurora-postgresql', MasterUsername: 'app', MasterUserPassword: 'not-a-secret-1' }));
    for (const [n, tier, az] of [
      [1, 0, 'a'],
      [2, 1, 'b'],
      [3, 2, 'c'],
    ] as const) {
      await this.rds.send(
        new CreateDBInstanceCommand({ DBInstanceIdentifier: `${this.aurora}-${n}`, DBClusterIdentifier: this.aurora, Engine: 'aurora-postgresql', DBInstanceClass: 'db.r6g.large', PromotionTier: tier, AvailabilityZone: `${REGION}${az}` }),
      );
    }
    if (options.writerDown) await this.rds.send(new StopDBInstanceCommand({ DBInstanceIdentifier: `${this.aurora}-1` }));
  }

  /** CloudTrail management events (LookupEvents is not in moto: the overlay answers it). */
  cloudTrail(events: TrailEvent[]): void {
    for (const e of events) this.trail.push({ ...e, id: randomBytes(16).toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-') });
  }

  /** How long each LookupEvents call takes (CloudTrail answers in seconds in a busy account, at 2 calls a second). */
  slowCloudTrail(ms: number): void {
    this.lookupDelayMs = ms;
  }

  /** The service's calls of `service:Operation` are refused as AWS refuses a missing IAM permission. */
  deny(key: string, iamAction: string): void {
    this.denied.set(key, iamAction);
  }

  private installOverlay(): void {
    const denied = (key: string) => {
      const action = this.denied.get(key);
      return action
        ? jsonError(400, 'AccessDeniedException', `User: arn:aws:sts::${ACCOUNT}:assumed-role/responder-task/0f3c is not authorized to perform: ${action} because no identity-based policy allows the ${action} action`)
        : undefined;
    };
    this.overlay.on('logs:FilterLogEvents', { answer: () => denied('logs:FilterLogEvents') });
    this.overlay.on('ecs:DescribeServices', {
      transform: (_req, reply) => {
        if (reply.status !== 200) return reply;
        const body = JSON.parse(reply.body) as { services?: Record<string, unknown>[] };
        for (const svc of body.services ?? []) {
          const seeded = this.services.get(String(svc.serviceName));
          if (!seeded || !String(svc.clusterArn).endsWith(`/${this.cluster}`)) continue;
          const { seed, deploymentId } = seeded;
          const desired = Number(svc.desiredCount);
          const running = Math.min(seed.running ?? desired, desired);
          const done = this.ms(seed.deployedAt);
          svc.runningCount = running;
          svc.pendingCount = 0;
          svc.deployments = [
            {
              id: deploymentId,
              status: 'PRIMARY',
              taskDefinition: svc.taskDefinition,
              desiredCount: desired,
              runningCount: running,
              pendingCount: 0,
              failedTasks: 0,
              createdAt: epoch(done - 4 * MIN),
              updatedAt: epoch(done),
              launchType: 'EC2',
              rolloutState: 'COMPLETED',
              rolloutStateReason: `ECS deployment ${deploymentId} completed.`,
            },
          ];
          svc.events = [
            ...(seed.events ?? []),
            { at: seed.deployedAt, message: `(service ${String(svc.serviceName)}) has reached a steady state.` },
            { at: seed.deployedAt - 1, message: `(service ${String(svc.serviceName)}) (deployment ${deploymentId}) deployment completed.` },
          ]
            .sort((a, b) => b.at - a.at)
            .map((e) => ({ id: randomBytes(8).toString('hex'), createdAt: epoch(this.ms(e.at)), message: e.message }));
        }
        return { ...reply, body: JSON.stringify(body) };
      },
    });
    this.overlay.on('ecs:DescribeTasks', {
      transform: (_req, reply) => {
        if (reply.status !== 200) return reply;
        const body = JSON.parse(reply.body) as { tasks?: Record<string, unknown>[] };
        for (const task of body.tasks ?? []) Object.assign(task, this.taskPatches.get(String(task.taskArn)) ?? {});
        return { ...reply, body: JSON.stringify(body) };
      },
    });
    this.overlay.on('cloudtrail:LookupEvents', {
      delayMs: () => this.lookupDelayMs,
      answer: (req) => denied('cloudtrail:LookupEvents') ?? json(200, this.lookupEvents(req.params)),
    });
  }

  /** LookupEvents as CloudTrail answers it: the time range, one lookup attribute, newest first, 50 a page. */
  private lookupEvents(params: Record<string, unknown>): Record<string, unknown> {
    const toMs = (v: unknown, fallback: number) => (typeof v === 'number' ? v * 1000 : typeof v === 'string' ? Date.parse(v) : fallback);
    const start = toMs(params.StartTime, 0);
    const end = toMs(params.EndTime, Date.now());
    const attrs = (params.LookupAttributes as { AttributeKey: string; AttributeValue: string }[] | undefined) ?? [];
    const matches = (e: TrailEvent): boolean =>
      attrs.every((a) => {
        switch (a.AttributeKey) {
          case 'ReadOnly':
            return String(e.readOnly ?? false) === a.AttributeValue;
          case 'EventName':
            return e.eventName === a.AttributeValue;
          case 'EventSource':
            return e.eventSource === a.AttributeValue;
          case 'Username':
            return e.who.name === a.AttributeValue;
          case 'ResourceName':
            return e.resources.some((r) => r.name === a.AttributeValue);
          case 'ResourceType':
            return e.resources.some((r) => r.type === a.AttributeValue);
          default:
            return true;
        }
      });
    const found = this.trail
      .filter((e) => this.ms(e.at) >= start && this.ms(e.at) <= end && matches(e))
      .sort((a, b) => b.at - a.at);
    const offset = typeof params.NextToken === 'string' ? Number(params.NextToken) : 0;
    const max = typeof params.MaxResults === 'number' ? params.MaxResults : 50;
    const page = found.slice(offset, offset + max);
    return {
      Events: page.map((e) => ({
        EventId: e.id,
        EventName: e.eventName,
        ReadOnly: String(e.readOnly ?? false),
        EventTime: epoch(this.ms(e.at)),
        EventSource: e.eventSource,
        Username: e.who.name,
        Resources: e.resources.map((r) => ({ ResourceType: r.type, ResourceName: r.name })),
        CloudTrailEvent: JSON.stringify(this.cloudTrailRecord(e)),
      })),
      ...(offset + max < found.length ? { NextToken: String(offset + max) } : {}),
    };
  }

  private cloudTrailRecord(e: TrailEvent & { id: string }): Record<string, unknown> {
    const identity =
      e.who.type === 'IAMUser'
        ? { type: 'IAMUser', principalId: 'AIDA4EXAMPLE7PERSON', arn: `arn:aws:iam::${ACCOUNT}:user/${e.who.name}`, accountId: ACCOUNT, userName: e.who.name }
        : e.who.type === 'AWSService'
          ? { type: 'AWSService', invokedBy: e.who.name }
          : {
              type: 'AssumedRole',
              principalId: `AROA4EXAMPLEROLE:${e.who.name}`,
              arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${e.who.role ?? e.who.name}/${e.who.name}`,
              accountId: ACCOUNT,
              sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/${e.who.role ?? e.who.name}`, userName: e.who.role ?? e.who.name } },
            };
    return {
      eventVersion: '1.09',
      userIdentity: identity,
      eventTime: new Date(this.ms(e.at)).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      eventSource: e.eventSource,
      eventName: e.eventName,
      awsRegion: REGION,
      sourceIPAddress: e.who.type === 'AWSService' ? e.who.name : '203.0.113.24',
      userAgent: e.who.type === 'IAMUser' ? 'aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.1 os/macos' : 'aws-sdk-js/3.700.0',
      requestParameters: e.requestParameters ?? null,
      responseElements: null,
      eventID: e.id,
      readOnly: e.readOnly ?? false,
      resources: e.resources.map((r) => ({ ARN: r.name, type: r.type })),
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
    };
  }
}
