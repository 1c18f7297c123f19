import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CloudTrailAdapter } from '@responder/aws';
import { type RecentChangesOutput, recentChangesAction } from '@responder/aws/actions';
import { type CloudTrailStub, startCloudTrailStub } from '../support/cloudtrail-stub';

/**
 * changes.recent through the real SDK client against the CloudTrail stand-in (moto has no
 * LookupEvents), routed the way a deployment would route it: AWS_ENDPOINT_URL_CLOUDTRAIL.
 */
const MIN = 60_000;
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/73e2d6bc24d8a067';
const ctx = (): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId: 'changes', idempotencyKey: 'run-1-changes-1', signal: new AbortController().signal, dryRun: false });
let stub: CloudTrailStub;
let adapter: CloudTrailAdapter;

beforeAll(async () => {
  stub = await startCloudTrailStub();
  process.env.AWS_ENDPOINT_URL_CLOUDTRAIL = stub.url;
  adapter = new CloudTrailAdapter({ region: 'us-east-1' });
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_CLOUDTRAIL;
  adapter.close();
  await stub.close();
});
beforeEach(() => stub.reset());

describe('changes.recent against the CloudTrail stand-in', () => {
  it('finds a person’s health-check change among a busy account’s writes (beyond the pages of all writes, by resource name), and ignores the noise', async () => {
    const onset = Date.now() - 5 * MIN;
    // 300 unrelated writes in the hour: more than the 5 pages of 50 read for "all writes".
    stub.seed(
      Array.from({ length: 300 }, (_, i) => ({
        eventName: 'PutObjectRetention',
        eventSource: 's3.amazonaws.com',
        at: onset - 2 * MIN - i * 10_000,
        requestParameters: { bucketName: `logs-${i}` },
      })),
    );
    const [healthCheck] = stub.seed([
      {
        eventName: 'ModifyTargetGroup',
        eventSource: 'elasticloadbalancing.amazonaws.com',
        at: onset - 40 * MIN,
        who: { type: 'AssumedRole', role: 'AWSReservedSSO_Admin', session: 'carol@example.com' },
        resources: [{ type: 'AWS::ElasticLoadBalancingV2::TargetGroup', name: TG }],
        requestParameters: { targetGroupArn: TG, healthCheckPath: '/ready' },
      },
      { eventName: 'DescribeTargetHealth', eventSource: 'elasticloadbalancing.amazonaws.com', at: onset - 3 * MIN, resources: [{ name: TG }], requestParameters: { targetGroupArn: TG } },
      { eventName: 'ModifyTargetGroup', eventSource: 'elasticloadbalancing.amazonaws.com', at: onset - 2 * 60 * MIN, resources: [{ name: TG }], requestParameters: { targetGroupArn: TG } }, // before the window
    ]);
    const result = await recentChangesAction(adapter).run({ onset: new Date(onset).toISOString(), cluster: 'prod', service: 'checkout', target_groups: [TG] }, ctx());
    const output = result.output as unknown as RecentChangesOutput;
    expect(output.changes).toEqual([
      expect.objectContaining({
        eventId: healthCheck,
        eventName: 'ModifyTargetGroup',
        who: 'carol@example.com (role AWSReservedSSO_Admin)',
        userType: 'AssumedRole',
        resourceType: 'target-group',
        resourceName: 'checkout-blue',
        byAutomation: false,
        isDeployment: false,
        link: `https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/${healthCheck}`,
      }),
    ]);
    expect(output.lookups).toEqual([
      { key: 'ReadOnly', value: 'false', pages: 5, events: 250, truncated: true },
      { key: 'ResourceName', value: 'checkout', pages: 1, events: 0, truncated: false },
      { key: 'ResourceName', value: TG, pages: 1, events: 2, truncated: false }, // the change and a read, which is dropped
    ]);
    expect(result.summary).toMatch(/^1 change in the 60 min before the onset \(1 by people, not deployments\) \(CloudTrail lookups cut short: more may exist\): carol@example.com \(role AWSReservedSSO_Admin\) ModifyTargetGroup on target-group checkout-blue 40 min before$/);
    // Every request carried exactly one lookup attribute and the window.
    expect(stub.calls().every((c) => (c.body.LookupAttributes as unknown[]).length === 1 && typeof c.body.StartTime === 'number')).toBe(true);
  });

  it('rides out throttling (LookupEvents allows 2 calls a second) with the SDK’s retries', async () => {
    const onset = Date.now();
    stub.seed({ eventName: 'UpdateService', eventSource: 'ecs.amazonaws.com', at: onset - 10 * MIN, requestParameters: { cluster: 'prod', service: 'checkout', desiredCount: 1 } });
    stub.throttleNext(2);
    const result = await recentChangesAction(adapter).run({ onset: new Date(onset).toISOString(), cluster: 'prod', service: 'checkout' }, ctx());
    expect((result.output as unknown as RecentChangesOutput).changes.map((c) => [c.eventName, c.who])).toEqual([['UpdateService', 'alice']]);
    expect(stub.calls().filter((c) => c.status === 400)).toHaveLength(2);
  });

  it('fails for good, naming cloudtrail:LookupEvents, when access is denied', async () => {
    stub.failWith('AccessDeniedException');
    const error: Error = await recentChangesAction(adapter)
      .run({ onset: new Date().toISOString(), cluster: 'prod', service: 'checkout' }, ctx())
      .then(
        () => new Error('resolved'),
        (e: unknown) => e as Error,
      );
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(/^access denied: .*cloudtrail:LookupEvents/);
  });

  it('seeds over HTTP too (for a service under test in another process)', async () => {
    const res = await fetch(`${stub.url}/__seed`, { method: 'POST', body: JSON.stringify([{ eventName: 'DeleteListener', eventSource: 'elasticloadbalancing.amazonaws.com', at: new Date().toISOString() }]) });
    expect(((await res.json()) as { eventIds: string[] }).eventIds).toHaveLength(1);
    const read = await adapter.lookupEvents({ key: 'EventName', value: 'DeleteListener' }, { start: new Date(Date.now() - MIN), end: new Date(Date.now() + MIN) }, { maxPages: 1 });
    expect(read.events.map((e) => [e.eventName, e.readOnly, e.identity?.type])).toEqual([['DeleteListener', false, 'IAMUser']]);
  });
});
