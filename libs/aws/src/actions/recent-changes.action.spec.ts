import { CloudTrailClient, CloudTrailServiceException, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CloudTrailAdapter } from '../cloudtrail.adapter';
import { CHANGES_RECENT_ID, type RecentChangesOutput, recentChangesAction, recentChangesParams, WRITE_PAGES } from './recent-changes.action';

const ONSET = Date.parse('2026-03-01T10:00:00Z');
const MIN = 60_000;
const LB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/prod-alb/50dc6c495c0c9188';
const BLUE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/73e2d6bc24d8a067';
const OTHER_TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/search-blue/11e2d6bc24d8a067';
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/prod-alb/50dc6c495c0c9188/f2f7dc8efc522ab2';
const ctx = (): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId: 'changes', idempotencyKey: 'inc-1-changes-1', signal: new AbortController().signal, dryRun: false });

const params = {
  onset: new Date(ONSET).toISOString(),
  cluster: 'prod',
  service: 'checkout',
  load_balancer: LB,
  target_groups: [BLUE],
  security_groups: ['sg-0123456789abcdef0'],
  aurora_cluster: 'prod-orders',
};

let n = 0;
/** An event as LookupEvents returns it, with its CloudTrail record. */
function ev(minutes: number, eventName: string, eventSource: string, requestParameters: Record<string, unknown>, extra: { identity?: Record<string, unknown>; readOnly?: boolean; errorCode?: string; resources?: string[]; userAgent?: string } = {}) {
  const id = `ev-${++n}`;
  const identity = extra.identity ?? { type: 'IAMUser', userName: 'alice', arn: 'arn:aws:iam::123456789012:user/alice' };
  return {
    EventId: id,
    EventName: eventName,
    EventSource: eventSource,
    EventTime: new Date(ONSET + minutes * MIN),
    ReadOnly: String(extra.readOnly ?? false),
    Username: (identity.userName as string | undefined) ?? 'x',
    Resources: (extra.resources ?? []).map((ResourceName) => ({ ResourceName })),
    CloudTrailEvent: JSON.stringify({ eventID: id, userIdentity: identity, requestParameters, userAgent: extra.userAgent ?? 'aws-cli/2', ...(extra.errorCode ? { errorCode: extra.errorCode } : {}) }),
  };
}

function mocked() {
  const client = new CloudTrailClient({ region: 'eu-west-1' });
  const mock = mockClient(client);
  return { mock, action: recentChangesAction(new CloudTrailAdapter({ client })) };
}

describe('changes.recent with aws-sdk-client-mock', () => {
  it('asks few lookups together (every write, and each resource by name), keeps the writes on the service’s resources, newest first, with who, what and a link', async () => {
    const { mock, action } = mocked();
    const sso = { type: 'AssumedRole', principalId: 'AROA1:bob@example.com', arn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin/bob@example.com', sessionContext: { sessionIssuer: { type: 'Role', userName: 'AWSReservedSSO_Admin', arn: 'arn:aws:iam::123456789012:role/AWSReservedSSO_Admin' } } };
    const ci = { type: 'AssumedRole', principalId: 'AROA2:gha-run-77', arn: 'arn:aws:sts::123456789012:assumed-role/github-deploy/gha-run-77', sessionContext: { sessionIssuer: { type: 'Role', userName: 'github-deploy', arn: 'arn:aws:iam::123456789012:role/github-deploy' } } };
    const autoscaling = { type: 'AWSService', invokedBy: 'ecs.application-autoscaling.amazonaws.com' };
    const healthCheck = ev(-12, 'ModifyTargetGroup', 'elasticloadbalancing.amazonaws.com', { targetGroupArn: BLUE, healthCheckPath: '/healthz', healthCheckPort: '8081' }, { identity: sso, resources: [BLUE] });
    const deploy = ev(-30, 'UpdateService', 'ecs.amazonaws.com', { cluster: 'prod', service: 'checkout', taskDefinition: 'checkout:43' }, { identity: ci });
    const register = ev(-31, 'RegisterTaskDefinition', 'ecs.amazonaws.com', { family: 'checkout', containerDefinitions: [] }, { identity: ci });
    const scaled = ev(-20, 'UpdateService', 'ecs.amazonaws.com', { cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/prod', service: 'arn:aws:ecs:us-east-1:123456789012:service/prod/checkout', desiredCount: 6 }, { identity: autoscaling });
    const sg = ev(-5, 'RevokeSecurityGroupIngress', 'ec2.amazonaws.com', { groupId: 'sg-0123456789abcdef0', ipPermissions: { items: [{ fromPort: 443 }] } });
    const listener = ev(-8, 'ModifyListener', 'elasticloadbalancing.amazonaws.com', { listenerArn: LISTENER, defaultActions: [] }, { identity: sso });
    const aurora = ev(-40, 'ModifyDBCluster', 'rds.amazonaws.com', { dBClusterIdentifier: 'prod-orders', backupRetentionPeriod: 7 });
    const noise = [
      ev(-9, 'ModifyTargetGroup', 'elasticloadbalancing.amazonaws.com', { targetGroupArn: OTHER_TG }, { resources: [OTHER_TG] }), // another service's group
      ev(-7, 'UpdateService', 'ecs.amazonaws.com', { cluster: 'prod', service: 'checkout-worker', desiredCount: 2 }), // a neighbour service
      ev(-6, 'DescribeServices', 'ecs.amazonaws.com', { cluster: 'prod', services: ['checkout'] }, { readOnly: true }), // a read
      ev(-4, 'ModifyTargetGroup', 'elasticloadbalancing.amazonaws.com', { targetGroupArn: BLUE }, { errorCode: 'AccessDenied', resources: [BLUE] }), // refused: changed nothing
    ];
    mock.on(LookupEventsCommand).resolves({ Events: [] });
    mock.on(LookupEventsCommand, { LookupAttributes: [{ AttributeKey: 'ReadOnly', AttributeValue: 'false' }] }).resolves({ Events: [sg, listener, ...noise, scaled, deploy, register, aurora] });
    // The resource lookup finds the health-check change too (and one already seen: merged by id).
    mock.on(LookupEventsCommand, { LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: BLUE }] }).resolves({ Events: [healthCheck, noise[3]] });

    const result = await action.run(params, ctx());
    const inputs = mock.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => `${i.LookupAttributes![0].AttributeKey}=${i.LookupAttributes![0].AttributeValue}`)).toEqual([
      'ReadOnly=false',
      'ResourceName=checkout',
      `ResourceName=${LB}`,
      `ResourceName=${BLUE}`,
      'ResourceName=prod-orders',
      'ResourceName=sg-0123456789abcdef0',
    ]);
    expect(inputs[0]).toMatchObject({ StartTime: new Date(ONSET - 60 * MIN), EndTime: new Date(ONSET + 5 * MIN), MaxResults: 50 });

    const output = result.output as unknown as RecentChangesOutput;
    expect(output.changes.map((c) => [c.eventName, c.resourceType, c.resourceName, c.who, c.byAutomation, c.isDeployment])).toEqual([
      ['RevokeSecurityGroupIngress', 'security-group', 'sg-0123456789abcdef0', 'alice', false, false],
      ['ModifyListener', 'listener', 'prod-alb listeners', 'bob@example.com (role AWSReservedSSO_Admin)', false, false],
      ['ModifyTargetGroup', 'target-group', 'checkout-blue', 'bob@example.com (role AWSReservedSSO_Admin)', false, false],
      ['UpdateService', 'ecs-service', 'prod/checkout', 'ecs.application-autoscaling.amazonaws.com', true, false],
      ['UpdateService', 'ecs-service', 'prod/checkout', 'gha-run-77 (role github-deploy)', true, true],
      ['RegisterTaskDefinition', 'task-definition', 'checkout', 'gha-run-77 (role github-deploy)', true, false],
      ['ModifyDBCluster', 'aurora-cluster', 'prod-orders', 'alice', false, false],
    ]);
    const tg = output.changes[2];
    expect(tg).toMatchObject({ at: new Date(ONSET - 12 * MIN).toISOString(), userType: 'AssumedRole', eventSource: 'elasticloadbalancing.amazonaws.com' });
    expect(tg.summary).toBe('bob@example.com (role AWSReservedSSO_Admin) ModifyTargetGroup on target-group checkout-blue (healthCheckPath=/healthz, healthCheckPort=8081)');
    expect(tg.link).toBe(`https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/events/${healthCheck.EventId}`);
    expect(output).toMatchObject({ from: new Date(ONSET - 60 * MIN).toISOString(), to: new Date(ONSET + 5 * MIN).toISOString(), truncated: false, omitted: 0 });
    expect(result.summary).toBe(
      '7 changes in the 60 min before the onset (4 by people, not deployments): alice RevokeSecurityGroupIngress on security-group sg-0123456789abcdef0 5 min before; ' +
        'bob@example.com (role AWSReservedSSO_Admin) ModifyListener on listener prod-alb listeners 8 min before; bob@example.com (role AWSReservedSSO_Admin) ModifyTargetGroup on target-group checkout-blue 12 min before',
    );
  });

  it(`pages every lookup with NextToken, at most ${WRITE_PAGES} pages for all writes, and says when it was cut short`, async () => {
    const { mock, action } = mocked();
    mock.on(LookupEventsCommand).resolves({ Events: [], NextToken: 'more' });
    const result = await action.run({ onset: new Date(ONSET).toISOString(), cluster: 'prod', service: 'checkout', window_minutes: 30 }, ctx());
    const calls = mock.commandCalls(LookupEventsCommand).map((c) => c.args[0].input);
    expect(calls.filter((c) => c.LookupAttributes![0].AttributeKey === 'ReadOnly')).toHaveLength(WRITE_PAGES);
    expect(calls.filter((c) => c.LookupAttributes![0].AttributeKey === 'ResourceName')).toHaveLength(2);
    expect(calls.filter((c) => c.LookupAttributes![0].AttributeKey === 'ReadOnly').map((c) => c.NextToken)).toEqual([undefined, 'more', 'more', 'more', 'more']);
    expect(result.output).toMatchObject({ changes: [], truncated: true });
    expect(result.summary).toBe("no changes to the service's resources in the 30 min before the onset (CloudTrail lookups cut short: more may exist)");
  });

  it('fails for good naming cloudtrail:LookupEvents when access is denied; throttling that outlasts the SDK is retryable', async () => {
    const { mock, action } = mocked();
    mock.on(LookupEventsCommand).rejects(new CloudTrailServiceException({ name: 'AccessDeniedException', message: 'not authorized to perform: cloudtrail:LookupEvents', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const denied = await action.run(params, ctx()).catch((e: unknown) => e as Error);
    expect(denied).toBeInstanceOf(PermanentActionError);
    expect((denied as Error).message).toMatch(/^access denied: .*cloudtrail:LookupEvents/);
    mock.reset();
    mock.on(LookupEventsCommand).rejects(new CloudTrailServiceException({ name: 'ThrottlingException', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const throttled = await action.run(params, ctx()).catch((e: unknown) => e as Error);
    expect(throttled).not.toBeInstanceOf(PermanentActionError);
    expect((throttled as Error).message).toContain('Rate exceeded');
  });

  it.each([
    [{}, /"onset" must be an ISO time/],
    [{ onset: '2026-03-01T10:00:00Z' }, /no resources to look for/],
    [{ onset: '2026-03-01T10:00:00Z', cluster: 'prod' }, /"cluster" and "service" go together/],
    [{ onset: '2026-03-01T10:00:00Z', load_balancer: 'prod-alb' }, /"load_balancer" must be a load balancer ARN/],
    [{ onset: '2026-03-01T10:00:00Z', security_groups: ['default'] }, /not a security group id/],
    [{ onset: '2026-03-01T10:00:00Z', aurora_cluster: 'x', window_minutes: 0 }, /"window_minutes" must be a number from 1 to 1440/],
  ])('refuses %j with a permanent error', (p, message) => {
    expect(() => recentChangesParams(p)).toThrow(PermanentActionError);
    expect(() => recentChangesParams(p)).toThrow(message);
  });

  it('is read-only, plans without a call, and needs only cloudtrail:LookupEvents', () => {
    const { mock, action } = mocked();
    expect(action).toMatchObject({ id: CHANGES_RECENT_ID, mutating: false, iam: ['cloudtrail:LookupEvents'] });
    expect(action.plan(params).summary).toMatch(/^look up CloudTrail write events on 6 resources from 2026-03-01T09:00:00.000Z to 2026-03-01T10:05:00.000Z$/);
    expect(mock.calls()).toHaveLength(0);
  });
});
