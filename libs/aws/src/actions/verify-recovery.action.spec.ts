import { CloudWatchClient, CloudWatchServiceException, DescribeAlarmsCommand, type MetricAlarm, type StateValue } from '@aws-sdk/client-cloudwatch';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type TargetHealthStateEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CloudWatchAdapter } from '../cloudwatch.adapter';
import { Elbv2Adapter } from '../elbv2.adapter';
import { resultOf, runToEnd } from '../../../../test/support/run-action';
import { verifyRecoveryAction, type VerifyRecoveryOutput, verifyRecoveryParams, verifyRecoverySummary } from './verify-recovery.action';

const BLUE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/73e2d6bc24d8a067';
const ctx = (signal = new AbortController().signal): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId: 'verify', idempotencyKey: 'k', signal, dryRun: false });

const cw = mockClient(CloudWatchClient);
const elb = mockClient(ElasticLoadBalancingV2Client);
beforeEach(() => {
  cw.reset();
  elb.reset();
});

function action() {
  return verifyRecoveryAction(new CloudWatchAdapter({ client: new CloudWatchClient({}) }), new Elbv2Adapter({ client: new ElasticLoadBalancingV2Client({}) }));
}

function alarm(name: string, state: StateValue): MetricAlarm {
  return { AlarmName: name, StateValue: state, StateReason: `reason ${state}`, StateUpdatedTimestamp: new Date('2026-01-01T10:00:00Z') };
}

function targets(...states: TargetHealthStateEnum[]) {
  elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: BLUE, TargetGroupName: 'checkout-blue', Protocol: 'HTTP', Port: 80 }] });
  elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: states.map((State, i) => ({ Target: { Id: `10.0.0.${i}`, Port: 80 }, TargetHealth: { State } })) });
}

describe('verifyRecoveryParams', () => {
  it('accepts alarm names or objects with a name, and checks the bounds', () => {
    expect(verifyRecoveryParams({ alarms: ['a', { name: 'b', state: 'ALARM' }, 'a'] })).toEqual({ alarms: ['a', 'b'], targetGroups: [], waitSeconds: 0, pollSeconds: 15 });
    expect(() => verifyRecoveryParams({ alarms: [{ arn: 'x' }] })).toThrow(PermanentActionError);
    expect(() => verifyRecoveryParams({ alarms: [], target_groups: [] })).toThrow(/nothing to verify/);
    expect(() => verifyRecoveryParams({ alarms: ['a'], wait_seconds: 1801 })).toThrow(/wait_seconds/);
    expect(() => verifyRecoveryParams({ alarms: ['a'], target_groups: ['tg'] })).toThrow(/target_groups/);
    expect(() => verifyRecoveryParams({ alarms: ['a'], poll_seconds: 0 })).toThrow(/poll_seconds/);
  });
});

describe('verify.recovery (aws-sdk-client-mock)', () => {
  it('asks for metric and composite alarms, and is recovered when every alarm is OK and no target unhealthy', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [alarm('checkout-5xx', 'OK')], CompositeAlarms: [{ AlarmName: 'checkout-down', StateValue: 'OK' }] });
    targets('healthy', 'healthy', 'draining');
    const result = resultOf(await action().run({ alarms: ['checkout-5xx', 'checkout-down'], target_groups: [BLUE] }, ctx()));
    expect(cw.commandCalls(DescribeAlarmsCommand)[0].args[0].input).toMatchObject({ AlarmNames: ['checkout-5xx', 'checkout-down'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
    expect(result.output).toMatchObject({
      recovered: true,
      alarms: [
        { name: 'checkout-5xx', state: 'OK', reason: 'reason OK', updatedAt: '2026-01-01T10:00:00.000Z' },
        { name: 'checkout-down', state: 'OK', reason: null, updatedAt: null },
      ],
      targets: { unhealthy: 0, healthy: 2, total: 3 },
      checks: 1,
    });
    expect(result.summary).toBe('recovered after 1 check: 2 alarms OK, 0 of 3 targets unhealthy');
  });

  it('polls until the targets are healthy again', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [alarm('checkout-5xx', 'OK')] });
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [{ TargetGroupArn: BLUE, TargetGroupName: 'checkout-blue' }] });
    elb
      .on(DescribeTargetHealthCommand)
      .resolvesOnce({ TargetHealthDescriptions: [{ Target: { Id: 'a' }, TargetHealth: { State: 'unhealthy', Reason: 'Target.Timeout' } }] })
      .resolves({ TargetHealthDescriptions: [{ Target: { Id: 'a' }, TargetHealth: { State: 'healthy' } }] });
    const { result, agains } = await runToEnd(action(), { alarms: ['checkout-5xx'], target_groups: [BLUE], wait_seconds: 5, poll_seconds: 0.05 }, ctx());
    expect(result.output).toMatchObject({ recovered: true, checks: 2, targets: { unhealthy: 0, healthy: 1, total: 1 } });
    // Between the two checks it held nothing: it said "again in one poll", with where it was.
    expect(agains).toEqual([{ afterMs: 50, state: { startedAt: expect.any(Number), deadline: expect.any(Number), checks: 1 } }]);
    expect(elb.commandCalls(DescribeTargetHealthCommand)).toHaveLength(2);
  });

  it('resumes from its checkpoint: counts the checks made before it, keeps its deadline, and ends when it has passed', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [alarm('checkout-5xx', 'ALARM')] });
    const params = { alarms: ['checkout-5xx'], wait_seconds: 300, poll_seconds: 15 };
    const startedAt = Date.now() - 100_000;
    const still = await action().run(params, { ...ctx(), checkpoint: { startedAt, deadline: startedAt + 300_000, checks: 6 } });
    expect(still).toEqual({ again: { afterMs: 15_000, state: { startedAt, deadline: startedAt + 300_000, checks: 7 } } });
    // Close to the deadline: the next check is at the deadline, not a whole poll later.
    const near = await action().run(params, { ...ctx(), checkpoint: { startedAt: startedAt - 195_000, deadline: Date.now() + 2000, checks: 19 } });
    expect((near as { again: { afterMs: number } }).again.afterMs).toBeLessThanOrEqual(2000);
    const over = resultOf(await action().run(params, { ...ctx(), checkpoint: { startedAt: startedAt - 200_000, deadline: Date.now() - 1, checks: 20 } }));
    expect(over.output).toMatchObject({ recovered: false, checks: 21 });
    expect((over.output as VerifyRecoveryOutput).waitedMs).toBeGreaterThanOrEqual(300_000);
    expect(cw.commandCalls(DescribeAlarmsCommand)).toHaveLength(3);
  });

  it('reports an unknown alarm as MISSING, and unhealthy targets, as not recovered without failing', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [alarm('checkout-5xx', 'ALARM')] });
    targets('unhealthy', 'healthy');
    const result = resultOf(await action().run({ alarms: [{ name: 'checkout-5xx' }, { name: 'gone' }], target_groups: [BLUE] }, ctx()));
    const output = result.output as VerifyRecoveryOutput;
    expect(output).toMatchObject({ recovered: false, checks: 1, targets: { unhealthy: 1, healthy: 1, total: 2 } });
    expect(output.alarms[1]).toEqual({ name: 'gone', state: 'MISSING', reason: expect.any(String), updatedAt: null });
    expect(result.summary).toBe('not recovered after 0 s: checkout-5xx still ALARM, gone not found, 1 of 2 targets unhealthy');
  });

  it('works with target groups only, and summarizes a wait', () => {
    expect(verifyRecoverySummary({ recovered: true, alarms: [], targets: { unhealthy: 0, healthy: 2, total: 2 }, waitedMs: 100, checks: 2 })).toBe('recovered after 2 checks: 0 of 2 targets unhealthy');
    expect(verifyRecoverySummary({ recovered: false, alarms: [{ name: 'x', state: 'INSUFFICIENT_DATA', reason: null, updatedAt: null }], targets: null, waitedMs: 300_400, checks: 21 })).toBe(
      'not recovered after 300 s: x still INSUFFICIENT_DATA',
    );
  });

  it('does not check once the step is aborted', async () => {
    cw.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [alarm('checkout-5xx', 'ALARM')] });
    const controller = new AbortController();
    controller.abort();
    await expect(action().run({ alarms: ['checkout-5xx'], wait_seconds: 60, poll_seconds: 30 }, ctx(controller.signal))).rejects.toThrow();
  });

  it('fails for good naming cloudwatch:DescribeAlarms when access is denied', async () => {
    cw.on(DescribeAlarmsCommand).rejects(new CloudWatchServiceException({ name: 'AccessDenied', message: 'no', $fault: 'client', $metadata: { httpStatusCode: 403 } }));
    const error = await action()
      .run({ alarms: ['checkout-5xx'] }, ctx())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(/cloudwatch:DescribeAlarms/);
  });
});
