import {
  CreateListenerCommand,
  CreateLoadBalancerCommand,
  CreateTargetGroupCommand,
  type CreateTargetGroupCommandInput,
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { Elbv2Adapter } from '@responder/aws';
import { type AlbTargetHealthOutput, albTargetHealthAction } from '@responder/aws/actions';
import { uniqueName } from '../support/moto';

/**
 * alb.target-health against moto_server (5.2.1). What moto can show: target groups with their
 * health check settings and load balancers, registered targets as `healthy`, and an EC2 instance
 * that was stopped after registering as `unused` / `Target.InvalidState`. It never runs health
 * checks, so `unhealthy` and the reasons behind it are tested with aws-sdk-client-mock
 * (libs/aws/src/actions/alb-target-health.action.spec.ts). It reports no Availability Zone per target.
 *
 * moto needs a VPC for instance and ip target groups, subnets for a load balancer, and instances
 * for instance targets: @aws-sdk/client-ec2 is not a dependency, so `ec2()` below sends EC2's query
 * protocol by hand (moto does not check signatures; the credential scope only routes the request).
 */

const MOTO_URL = process.env.MOTO_URL!;
const REGION = process.env.AWS_REGION!;
const elb = new ElasticLoadBalancingV2Client({ endpoint: MOTO_URL });
const adapters: Elbv2Adapter[] = [];
afterAll(() => {
  adapters.forEach((a) => a.close());
  elb.destroy();
});

function adapterOnMoto(): Elbv2Adapter {
  const adapter = new Elbv2Adapter({ client: new ElasticLoadBalancingV2Client({ endpoint: MOTO_URL }) });
  adapters.push(adapter);
  return adapter;
}

async function ec2(action: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(MOTO_URL, {
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

function xmlValues(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]+)</${tag}>`, 'g'))].map((m) => m[1]);
}

async function createTargetGroup(input: Omit<CreateTargetGroupCommandInput, 'Name'> & { Name: string }): Promise<string> {
  const out = await elb.send(new CreateTargetGroupCommand({ ...input, Name: uniqueName(input.Name) }));
  return out.TargetGroups![0].TargetGroupArn!;
}

const ctx = (): ActionContext => ({
  incidentId: 'inc-moto',
  runId: 'run-moto',
  stepId: 'alb',
  idempotencyKey: 'inc-moto-alb-1',
  signal: new AbortController().signal,
  dryRun: false,
});

let loadBalancerArn: string;
/** ip targets on port 8080 behind the load balancer, three registered. */
let blue: string;
/** instance targets, not behind a load balancer: two instances, one stopped after registering. */
let green: string;
/** ip targets, nothing registered. */
let empty: string;

beforeAll(async () => {
  const [vpcId] = xmlValues(await ec2('CreateVpc', { CidrBlock: '10.42.0.0/16' }), 'vpcId');
  const subnets = await Promise.all(
    ['a', 'b'].map(async (zone, i) => xmlValues(await ec2('CreateSubnet', { VpcId: vpcId, CidrBlock: `10.42.${i + 1}.0/24`, AvailabilityZone: `${REGION}${zone}` }), 'subnetId')[0]),
  );
  loadBalancerArn = (await elb.send(new CreateLoadBalancerCommand({ Name: uniqueName('alb'), Subnets: subnets }))).LoadBalancers![0].LoadBalancerArn!;

  blue = await createTargetGroup({
    Name: 'blue',
    Protocol: 'HTTP',
    Port: 8080,
    VpcId: vpcId,
    TargetType: 'ip',
    HealthCheckPath: '/healthz',
    HealthCheckIntervalSeconds: 15,
    HealthCheckTimeoutSeconds: 6,
    HealthyThresholdCount: 3,
    UnhealthyThresholdCount: 4,
    Matcher: { HttpCode: '200-299' },
  });
  await elb.send(new CreateListenerCommand({ LoadBalancerArn: loadBalancerArn, Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'forward', TargetGroupArn: blue }] }));
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: blue, Targets: ['10.42.1.10', '10.42.1.11', '10.42.2.10'].map((Id) => ({ Id, Port: 8080 })) }));

  green = await createTargetGroup({ Name: 'green', Protocol: 'HTTP', Port: 80, VpcId: vpcId });
  const instances = xmlValues(
    await ec2('RunInstances', { ImageId: 'ami-12c6146b', MinCount: '2', MaxCount: '2', InstanceType: 't3.micro', SubnetId: subnets[0] }),
    'instanceId',
  );
  await elb.send(new RegisterTargetsCommand({ TargetGroupArn: green, Targets: instances.map((Id) => ({ Id })) }));
  await ec2('StopInstances', { 'InstanceId.1': instances[0] }); // moto refuses to register a stopped instance

  empty = await createTargetGroup({ Name: 'empty', Protocol: 'HTTP', Port: 80, VpcId: vpcId, TargetType: 'ip' });
});

describe('alb.target-health against moto_server', () => {
  it('reads a target group’s health check settings and its load balancer', async () => {
    const [group] = await adapterOnMoto().describeTargetGroups([blue]);
    expect(group).toEqual({
      arn: blue,
      name: expect.stringMatching(/^blue-[0-9a-f]{8}$/),
      protocol: 'HTTP',
      port: 8080,
      targetType: 'ip',
      loadBalancerArns: [loadBalancerArn],
      healthCheck: {
        enabled: true,
        protocol: 'HTTP',
        port: 'traffic-port',
        path: '/healthz',
        intervalSeconds: 15,
        timeoutSeconds: 6,
        healthyThreshold: 3,
        unhealthyThreshold: 4,
        matcher: '200-299',
      },
    });
  });

  it('counts registered targets and reports a target group without targets as zero', async () => {
    const result = await albTargetHealthAction(adapterOnMoto()).run({ target_groups: [blue, empty] }, ctx());
    const output = result.output as AlbTargetHealthOutput;

    expect(output).toMatchObject({ healthy: 3, unhealthy: 0, total: 3, reasons: {} });
    const [b, e] = output.targetGroups;
    expect(b).toMatchObject({ arn: blue, total: 3, counts: { healthy: 3, unhealthy: 0, initial: 0, draining: 0, unused: 0, unavailable: 0, other: 0 }, targetsNotHealthy: [] });
    expect(e).toMatchObject({ arn: empty, total: 0, loadBalancerArns: [], counts: { healthy: 0, unhealthy: 0, initial: 0, draining: 0, unused: 0, unavailable: 0, other: 0 } });
    expect(e.healthCheck).toMatchObject({ protocol: 'HTTP', port: 'traffic-port', intervalSeconds: 30, timeoutSeconds: 5, healthyThreshold: 5, unhealthyThreshold: 2, matcher: '200' }); // AWS's defaults for HTTP
    expect(result.summary).toBe(`no targets in ${e.name}`);
  });

  it('reports a stopped instance as unused with Target.InvalidState and a hint, not as unhealthy', async () => {
    const result = await albTargetHealthAction(adapterOnMoto()).run({ target_groups: [green] }, ctx());
    const output = result.output as AlbTargetHealthOutput;
    const [g] = output.targetGroups;

    expect(output).toMatchObject({ healthy: 1, unhealthy: 0, total: 2, reasons: { 'Target.InvalidState': 1 } });
    expect(g.counts).toMatchObject({ healthy: 1, unused: 1 });
    expect(g.targetsNotHealthy).toEqual([
      {
        id: expect.stringMatching(/^i-/),
        port: 80,
        state: 'unused',
        reason: 'Target.InvalidState',
        description: 'Target is in the stopped state',
        hint: expect.stringContaining('stopped or terminated'),
      },
    ]);
    expect(result.summary).toBe(`0 of 2 targets unhealthy in ${g.name}: Target.InvalidState ×1`);
  });

  it('fails with a permanent error naming the target group that does not exist', async () => {
    const missing = blue.replace(/[0-9a-f]{16}$/, '0000000000000000');
    const error: unknown = await albTargetHealthAction(adapterOnMoto())
      .run({ target_groups: [blue, missing] }, ctx())
      .then(
        () => new Error('run resolved'),
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(new RegExp(`^target group not found: ${missing} \\(`));
  });

  it('reaches the endpoint in AWS_ENDPOINT_URL with no endpoint configured in code', async () => {
    const previous = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = MOTO_URL;
    const adapter = new Elbv2Adapter();
    try {
      expect(await adapter.describeTargetHealth(blue)).toHaveLength(3);
    } finally {
      adapter.close();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL;
      else process.env.AWS_ENDPOINT_URL = previous;
    }
  });
});
