import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ElasticLoadBalancingV2ServiceException,
  TargetGroupNotFoundException,
  type TargetGroup,
  type TargetHealthDescription,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { ELBV2_MAX_ATTEMPTS, Elbv2Adapter } from '../elbv2.adapter';
import { type AlbTargetHealthOutput, albTargetHealthAction, MAX_LISTED_TARGETS, targetGroupArns, targetHealthHint } from './alb-target-health.action';

const BLUE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/73e2d6bc24d8a067';
const GREEN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-green/2453ed029918f21f';
const ALB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/prod-alb/50dc6c495c0c9188';

const ctx = (): ActionContext => ({
  incidentId: 'inc-1',
  runId: 'run-1',
  stepId: 'alb',
  idempotencyKey: 'inc-1-alb-1',
  signal: new AbortController().signal,
  dryRun: false,
});

function targetGroup(arn: string, overrides: Partial<TargetGroup> = {}): TargetGroup {
  return {
    TargetGroupArn: arn,
    TargetGroupName: /targetgroup\/([^/]+)\//.exec(arn)![1],
    Protocol: 'HTTP',
    Port: 80,
    TargetType: 'ip',
    HealthCheckEnabled: true,
    HealthCheckProtocol: 'HTTP',
    HealthCheckPort: 'traffic-port',
    HealthCheckPath: '/healthz',
    HealthCheckIntervalSeconds: 10,
    HealthCheckTimeoutSeconds: 5,
    HealthyThresholdCount: 3,
    UnhealthyThresholdCount: 2,
    Matcher: { HttpCode: '200-299' },
    LoadBalancerArns: [ALB],
    ...overrides,
  };
}

function target(id: string, port: number, state: string, reason?: string, description?: string): TargetHealthDescription {
  return {
    Target: { Id: id, Port: port, AvailabilityZone: 'us-east-1a' },
    HealthCheckPort: String(port),
    TargetHealth: { State: state as never, Reason: reason as never, Description: description },
  };
}

function awsError(name: string, message: string, status: number): ElasticLoadBalancingV2ServiceException {
  return new ElasticLoadBalancingV2ServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

const notFound = () => new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: { httpStatusCode: 400 } });

/** An adapter whose client is mocked: `send` is replaced, so the SDK's middleware (retries included) does not run. */
function mocked() {
  const client = new ElasticLoadBalancingV2Client({ region: 'us-east-1' });
  const mock = mockClient(client);
  const adapter = new Elbv2Adapter({ client });
  return { mock, adapter, action: albTargetHealthAction(adapter) };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome: unknown = await promise.then(
    () => new Error('expected a rejection'),
    (e: unknown) => e,
  );
  if (!(outcome instanceof Error) || outcome.message === 'expected a rejection') throw new Error('the promise resolved');
  return outcome;
}

describe('alb.target-health with a mocked ELBv2 client', () => {
  it('declares itself read-only with the two IAM actions it calls', () => {
    const { action } = mocked();
    expect(action).toMatchObject({
      id: 'alb.target-health',
      mutating: false,
      iam: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth'],
    });
    expect(action.plan({ target_groups: [BLUE, GREEN] })).toEqual({ summary: 'read target health of checkout-blue, checkout-green' });
  });

  it('counts targets per state, explains each reason with the path, matcher, port and timeout involved, and sums up in one line', async () => {
    const { mock, action } = mocked();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [targetGroup(GREEN, { LoadBalancerArns: [] }), targetGroup(BLUE)] });
    mock.on(DescribeTargetHealthCommand, { TargetGroupArn: BLUE }).resolves({
      TargetHealthDescriptions: [
        target('10.0.1.10', 8080, 'healthy'),
        target('10.0.1.11', 8080, 'unhealthy', 'Target.ResponseCodeMismatch', 'Health checks failed with these codes: [502]'),
        target('10.0.1.12', 8080, 'healthy'),
        target('10.0.2.10', 8081, 'unhealthy', 'Target.Timeout', 'Request timed out'),
        target('10.0.2.11', 8080, 'unhealthy', 'Target.ResponseCodeMismatch', 'Health checks failed with these codes: [502]'),
        target('10.0.2.12', 8080, 'initial', 'Elb.InitialHealthChecking', 'Initial health checks in progress'),
      ],
    });
    mock.on(DescribeTargetHealthCommand, { TargetGroupArn: GREEN }).resolves({ TargetHealthDescriptions: [] });

    const result = await action.run({ target_groups: [BLUE, GREEN] }, ctx());
    const output = result.output as AlbTargetHealthOutput;
    expect(output.targetGroups.map((g) => g.link)).toEqual([
      `https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#TargetGroup:targetGroupArn=${BLUE}`,
      `https://us-east-1.console.aws.amazon.com/ec2/home?region=us-east-1#TargetGroup:targetGroupArn=${GREEN}`,
    ]);

    expect(result.summary).toBe('3 of 6 targets unhealthy in checkout-blue: Target.ResponseCodeMismatch ×2, Elb.InitialHealthChecking ×1, Target.Timeout ×1; no targets in checkout-green');
    expect(output).toMatchObject({ unhealthy: 3, healthy: 2, total: 6, reasons: { 'Target.ResponseCodeMismatch': 2, 'Target.Timeout': 1, 'Elb.InitialHealthChecking': 1 } });
    expect(output.totals).toEqual({ healthy: 2, unhealthy: 3, initial: 1, draining: 0, unused: 0, unavailable: 0, other: 0, total: 6 });

    const [blue, green] = output.targetGroups; // in the order the runbook named them
    expect(blue).toMatchObject({
      arn: BLUE,
      name: 'checkout-blue',
      loadBalancerArns: [ALB],
      healthCheck: { enabled: true, protocol: 'HTTP', port: 'traffic-port', path: '/healthz', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2, matcher: '200-299' },
      total: 6,
      counts: { healthy: 2, unhealthy: 3, initial: 1, draining: 0, unused: 0, unavailable: 0, other: 0 },
      targetsNotHealthyOmitted: 0,
    });
    expect(green).toMatchObject({ name: 'checkout-green', total: 0, loadBalancerArns: [], counts: { healthy: 0, unhealthy: 0 }, targetsNotHealthy: [] });

    // The failing ones first, then the starting one; each with AWS's reason, its words, and a hint.
    expect(blue.targetsNotHealthy.map((t) => [t.id, t.state, t.reason])).toEqual([
      ['10.0.1.11', 'unhealthy', 'Target.ResponseCodeMismatch'],
      ['10.0.2.10', 'unhealthy', 'Target.Timeout'],
      ['10.0.2.11', 'unhealthy', 'Target.ResponseCodeMismatch'],
      ['10.0.2.12', 'initial', 'Elb.InitialHealthChecking'],
    ]);
    const [mismatch, timeout, , initial] = blue.targetsNotHealthy;
    expect(mismatch).toMatchObject({ port: 8080, availabilityZone: 'us-east-1a', description: 'Health checks failed with these codes: [502]' });
    expect(mismatch.hint).toContain('HTTP /healthz on port 8080');
    expect(mismatch.hint).toContain('outside the expected 200-299');
    expect(timeout.hint).toContain('(HTTP /healthz on port 8081) within 5 s');
    expect(timeout.hint).toMatch(/security group/);
    expect(initial.hint).toContain('3 health checks in a row (every 10 s, so about 30 s)');
    expect(blue.reasons).toEqual([
      { reason: 'Target.ResponseCodeMismatch', count: 2, hint: mismatch.hint },
      { reason: 'Elb.InitialHealthChecking', count: 1, hint: initial.hint },
      { reason: 'Target.Timeout', count: 1, hint: timeout.hint },
    ]);
  });

  it('sums up all-healthy target groups as such', async () => {
    const { mock, action } = mocked();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [targetGroup(BLUE)] });
    mock.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [target('10.0.1.10', 80, 'healthy'), target('10.0.1.11', 80, 'healthy')] });
    const result = await action.run({ target_groups: [BLUE] }, ctx());
    expect(result.summary).toBe('all 2 targets healthy in checkout-blue');
    expect(result.output).toMatchObject({ unhealthy: 0, healthy: 2, total: 2, reasons: {} });
  });

  it('counts unhealthy.draining as unhealthy, unavailable apart from it, and lists only the first targets of a big group, worst first', async () => {
    const { mock, action } = mocked();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [targetGroup(BLUE)] });
    const many = Array.from({ length: MAX_LISTED_TARGETS + 5 }, (_, i) => target(`10.0.3.${100 + i}`, 80, 'draining', 'Target.DeregistrationInProgress'));
    mock.on(DescribeTargetHealthCommand).resolves({
      TargetHealthDescriptions: [
        ...many,
        target('10.0.9.1', 80, 'unhealthy.draining', 'Target.FailedHealthChecks'),
        target('10.0.9.2', 80, 'unavailable', 'Elb.InternalError'),
        target('10.0.9.3', 80, 'some-future-state'),
      ],
    });
    const output = (await action.run({ target_groups: [BLUE] }, ctx())).output as AlbTargetHealthOutput;
    const [blue] = output.targetGroups;
    expect(blue.counts).toEqual({ healthy: 0, unhealthy: 1, initial: 0, draining: MAX_LISTED_TARGETS + 5, unused: 0, unavailable: 1, other: 1 });
    expect(output.unhealthy).toBe(1);
    expect(blue.targetsNotHealthy).toHaveLength(MAX_LISTED_TARGETS);
    expect(blue.targetsNotHealthyOmitted).toBe(8);
    expect(blue.targetsNotHealthy.slice(0, 3).map((t) => t.state)).toEqual(['unhealthy.draining', 'unavailable', 'some-future-state']);
    expect(blue.reasons.find((r) => r.reason === 'state:some-future-state')?.count).toBe(1);
  });

  it('reads every page of DescribeTargetGroups', async () => {
    const { mock, adapter } = mocked();
    mock
      .on(DescribeTargetGroupsCommand)
      .resolvesOnce({ TargetGroups: [targetGroup(GREEN)], NextMarker: 'page-2' })
      .resolvesOnce({ TargetGroups: [targetGroup(BLUE)] });
    const groups = await adapter.describeTargetGroups([BLUE, GREEN]);
    expect(groups.map((g) => g.name)).toEqual(['checkout-blue', 'checkout-green']);
    const calls = mock.commandCalls(DescribeTargetGroupsCommand);
    expect(calls.map((c) => c.args[0].input.Marker)).toEqual([undefined, 'page-2']);
    expect(calls[0].args[0].input).toMatchObject({ TargetGroupArns: [BLUE, GREEN], PageSize: 400 });
  });

  it('makes no call for an empty list of target groups (DescribeTargetGroups would describe the whole account)', async () => {
    const { mock, adapter } = mocked();
    expect(await adapter.describeTargetGroups([])).toEqual([]);
    expect(mock.calls()).toHaveLength(0);
  });

  it.each(['DescribeTargetGroups', 'DescribeTargetHealth'])('fails at once with a permanent error naming elasticloadbalancing:%s when access is denied', async (operation) => {
    const { mock, action } = mocked();
    const denied = awsError('AccessDenied', `User: arn:aws:sts::123456789012:assumed-role/responder/task is not authorized to perform: elasticloadbalancing:${operation}`, 403);
    const groups = mock.on(DescribeTargetGroupsCommand);
    const health = mock.on(DescribeTargetHealthCommand);
    if (operation === 'DescribeTargetGroups') {
      groups.rejects(denied);
    } else {
      groups.resolves({ TargetGroups: [targetGroup(BLUE)] });
      health.rejects(denied);
    }

    const error = await rejection(action.run({ target_groups: [BLUE] }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(/^access denied: /);
    expect(error.message).toContain(`elasticloadbalancing:${operation} on ${BLUE}`);
  });

  it('fails with a permanent error naming the ARN of a target group that does not exist', async () => {
    const { mock, action } = mocked();
    mock.on(DescribeTargetGroupsCommand).rejects(notFound());
    const error = await rejection(action.run({ target_groups: [GREEN] }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(new RegExp(`^target group not found: ${GREEN} \\(`));
  });

  it('names only the missing ARN when one of several target groups does not exist', async () => {
    const { mock, action } = mocked();
    mock.on(DescribeTargetGroupsCommand).callsFake((input: { TargetGroupArns: string[] }) => {
      if (input.TargetGroupArns.includes(GREEN)) throw notFound(); // AWS does not say which one
      return { TargetGroups: [targetGroup(BLUE)] };
    });
    const error = await rejection(action.run({ target_groups: [BLUE, GREEN] }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(new RegExp(`^target group not found: ${GREEN} \\(`)); // not BLUE
  });

  it('fails with a permanent error when DescribeTargetHealth does not find the group (deleted in between)', async () => {
    const { mock, action } = mocked();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [targetGroup(BLUE)] });
    mock.on(DescribeTargetHealthCommand).rejects(notFound());
    const error = await rejection(action.run({ target_groups: [BLUE] }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(new RegExp(`^target group not found: ${BLUE} \\(`));
  });

  it('surfaces throttling that outlasted the SDK’s retries as a retryable error, and the retried step then succeeds', async () => {
    // The mock replaces `send`, so the SDK's own retry never runs here (it is tested over HTTP below):
    // what the step sees is the error after the SDK gave up, and the step's retry runs the action again.
    const { mock, action } = mocked();
    mock.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [targetGroup(BLUE)] });
    mock
      .on(DescribeTargetHealthCommand)
      .rejectsOnce(awsError('Throttling', 'Rate exceeded', 400))
      .resolves({ TargetHealthDescriptions: [target('10.0.1.10', 80, 'healthy')] });

    const error = await rejection(action.run({ target_groups: [BLUE] }, ctx()));
    expect(error).not.toBeInstanceOf(PermanentActionError);
    expect(error.message).toContain(`elasticloadbalancing:DescribeTargetHealth on ${BLUE} failed`);
    expect(error.message).toContain('Throttling: Rate exceeded');

    const retried = await action.run({ target_groups: [BLUE] }, ctx());
    expect(retried.summary).toBe('all 1 targets healthy in checkout-blue');
  });

  it.each([
    [{}, /non-empty list of target group ARNs, got nothing/],
    [{ target_groups: [] }, /non-empty list of target group ARNs, got \[\]/],
    [{ target_groups: BLUE }, /non-empty list of target group ARNs, got "arn:/],
    [{ target_groups: [BLUE, 'checkout-green', 7] }, /not one: "checkout-green", 7$/],
    [{ target_groups: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/prod-alb/50dc6c495c0c9188'] }, /not one: "arn:aws:elasticloadbalancing:[^"]*loadbalancer/],
  ])('refuses %j with a permanent error, in plan and in run, before any call', async (params, message) => {
    const { mock, action } = mocked();
    expect(() => action.plan(params)).toThrow(PermanentActionError);
    const error = await rejection(action.run(params, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(message);
    expect(mock.calls()).toHaveLength(0);
  });

  it('drops repeated ARNs', () => {
    expect(targetGroupArns({ target_groups: [BLUE, GREEN, BLUE] })).toEqual([BLUE, GREEN]);
  });
});

describe('targetHealthHint', () => {
  const healthCheck = {
    enabled: true,
    protocol: 'HTTP',
    port: 'traffic-port',
    path: '/healthz',
    intervalSeconds: 10,
    timeoutSeconds: 5,
    healthyThreshold: 3,
    unhealthyThreshold: 2,
    matcher: '200',
  };

  it.each([
    ['Target.ResponseCodeMismatch', 'unhealthy', /\/healthz on port 8080.*expected 200/],
    ['Target.Timeout', 'unhealthy', /on port 8080\) within 5 s/],
    ['Target.FailedHealthChecks', 'unhealthy', /on port 8080: the connection was refused/],
    ['Target.NotRegistered', 'unused', /not registered/],
    ['Target.NotInUse', 'unused', /blue\/green/],
    ['Target.InvalidState', 'unused', /stopped or terminated/],
    ['Target.IpUnusable', 'unused', /reserved for the load balancer/],
    ['Target.DeregistrationInProgress', 'draining', /deregistration delay/],
    ['Target.HealthCheckDisabled', 'unavailable', /disabled/],
    ['Elb.InitialHealthChecking', 'initial', /about 30 s/],
    ['Elb.RegistrationInProgress', 'initial', /being registered/],
    ['Elb.InternalError', 'unhealthy', /AWS's side/],
    ['Target.SomethingNew', 'unhealthy', /AWS reports Target.SomethingNew \(state unhealthy\); there is no hint/],
    [undefined, 'unhealthy', /unhealthy and AWS gives no reason code/],
  ])('%s', (reason, state, hint) => {
    expect(targetHealthHint({ reason, state, healthCheck, port: '8080' })).toMatch(hint);
  });

  it('describes a TCP check without a path', () => {
    const hint = targetHealthHint({ reason: 'Target.Timeout', state: 'unhealthy', healthCheck: { ...healthCheck, protocol: 'TCP', path: null, matcher: null }, port: '9000' });
    expect(hint).toContain('(TCP on port 9000)');
  });
});

/**
 * The SDK's own retries, through the adapter's own client (no client passed in), against a local
 * HTTP stand-in for the ELBv2 endpoint that AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 points at.
 */
describe('Elbv2Adapter over HTTP: the SDK retries', () => {
  const XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
  const errorXml = (code: string, message: string) =>
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`;
  const healthyXml =
    `<DescribeTargetHealthResponse xmlns="${XMLNS}"><DescribeTargetHealthResult><TargetHealthDescriptions><member>` +
    '<HealthCheckPort>8080</HealthCheckPort><Target><Id>10.0.1.10</Id><Port>8080</Port></Target><TargetHealth><State>healthy</State></TargetHealth>' +
    '</member></TargetHealthDescriptions></DescribeTargetHealthResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DescribeTargetHealthResponse>';

  let server: Server;
  let responses: { status: number; body: string }[];
  let requests: string[];
  const previous = process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push(new URLSearchParams(body).get('Action') ?? '');
        const next = responses.length > 1 ? responses.shift()! : responses[0];
        res.writeHead(next.status, { 'content-type': 'text/xml' }).end(next.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2;
    else process.env.AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2 = previous;
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    requests = [];
  });

  async function withAdapter<T>(fn: (adapter: Elbv2Adapter) => Promise<T>): Promise<T> {
    const adapter = new Elbv2Adapter({ region: 'us-east-1' });
    try {
      return await fn(adapter);
    } finally {
      adapter.close();
    }
  }

  it('retries a throttled call and returns its result', async () => {
    responses = [
      { status: 400, body: errorXml('Throttling', 'Rate exceeded') },
      { status: 200, body: healthyXml },
    ];
    const targets = await withAdapter((a) => a.describeTargetHealth(BLUE));
    expect(targets).toEqual([{ id: '10.0.1.10', port: 8080, state: 'healthy', healthCheckPort: '8080' }]);
    expect(requests).toEqual(['DescribeTargetHealth', 'DescribeTargetHealth']);
  });

  it(`gives up on a lasting 5xx after ${ELBV2_MAX_ATTEMPTS} attempts with a retryable error`, async () => {
    responses = [{ status: 503, body: errorXml('ServiceUnavailable', 'Service is unavailable') }];
    const error = await rejection(withAdapter((a) => a.describeTargetHealth(BLUE)));
    expect(error).not.toBeInstanceOf(PermanentActionError);
    expect(error.message).toContain(`elasticloadbalancing:DescribeTargetHealth on ${BLUE} failed after ${ELBV2_MAX_ATTEMPTS} attempts`);
    expect(requests).toHaveLength(ELBV2_MAX_ATTEMPTS);
  });

  it('does not retry AccessDenied, and names the IAM action', async () => {
    responses = [{ status: 403, body: errorXml('AccessDenied', 'User is not authorized to perform: elasticloadbalancing:DescribeTargetHealth') }];
    const error = await rejection(withAdapter((a) => a.describeTargetHealth(BLUE)));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(/^access denied: .*elasticloadbalancing:DescribeTargetHealth on /);
    expect(requests).toHaveLength(1);
  });
});
