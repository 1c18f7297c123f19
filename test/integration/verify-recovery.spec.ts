import { CloudWatchClient, PutMetricAlarmCommand, SetAlarmStateCommand, type StateValue } from '@aws-sdk/client-cloudwatch';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { ActionContext } from '@responder/domain';
import { CloudWatchAdapter, Elbv2Adapter } from '@responder/aws';
import { type VerifyRecoveryOutput, verifyRecoveryAction } from '@responder/aws/actions';
import { uniqueName } from '../support/moto';
import { runToEnd } from '../support/run-action';

/**
 * verify.recovery against moto_server (5.2.1). moto never evaluates alarms, so the test moves them
 * with SetAlarmState. Its PutCompositeAlarm answers with an HTML page, so composite alarms, and target
 * health (moto shows no `unhealthy` targets), are covered with aws-sdk-client-mock in
 * libs/aws/src/actions/verify-recovery.action.spec.ts.
 */
const MOTO_URL = process.env.MOTO_URL!;
const cw = new CloudWatchClient({ endpoint: MOTO_URL });
const action = verifyRecoveryAction(
  new CloudWatchAdapter({ client: new CloudWatchClient({ endpoint: MOTO_URL }) }),
  new Elbv2Adapter({ client: new ElasticLoadBalancingV2Client({ endpoint: MOTO_URL }) }),
);
afterAll(() => cw.destroy());

const ctx = (): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId: 'verify', idempotencyKey: 'k', signal: new AbortController().signal, dryRun: false });

async function metricAlarm(prefix: string, state: StateValue): Promise<string> {
  const name = uniqueName(prefix);
  await cw.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_ELB_5XX_Count',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanThreshold',
    }),
  );
  await cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: state, StateReason: `test: ${state}` }));
  return name;
}

describe('verify.recovery against moto_server', () => {
  it('waits for an alarm in ALARM to turn OK', async () => {
    const name = await metricAlarm('checkout-5xx', 'ALARM');
    setTimeout(() => void cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: 'test: recovered' })), 300);
    const { result } = await runToEnd(action, { alarms: [{ name }], wait_seconds: 10, poll_seconds: 0.1 }, ctx());
    const output = result.output as VerifyRecoveryOutput;
    expect(output).toMatchObject({ recovered: true, targets: null, alarms: [{ name, state: 'OK', reason: 'test: recovered' }] });
    expect(output.checks).toBeGreaterThan(1);
    expect(output.waitedMs).toBeGreaterThanOrEqual(250);
    expect(output.waitedMs).toBeLessThan(10_000);
    expect(result.summary).toBe(`recovered after ${output.checks} checks: 1 alarm OK`);
  });

  it('reports an alarm that stays in ALARM, and one that does not exist, as not recovered once the wait is over', async () => {
    const name = await metricAlarm('checkout-5xx', 'ALARM');
    const missing = uniqueName('no-such-alarm');
    const { result } = await runToEnd(action, { alarms: [name, missing], wait_seconds: 1, poll_seconds: 0.2 }, ctx());
    const output = result.output as VerifyRecoveryOutput;
    expect(output).toMatchObject({ recovered: false, alarms: [{ name, state: 'ALARM' }, { name: missing, state: 'MISSING', updatedAt: null }] });
    expect(output.waitedMs).toBeGreaterThanOrEqual(1000);
    expect(output.waitedMs).toBeLessThan(5000);
    expect(result.summary).toBe(`not recovered after 1 s: ${name} still ALARM, ${missing} not found`);
  });
});
