import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { randomBytes } from 'node:crypto';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CloudWatchAdapter, LogsAdapter } from '@responder/aws';
import { cloudwatchMetricsAction, type LogErrorsOutput, logErrorsAction, type MetricsOutput } from '@responder/aws/actions';
import { uniqueName } from '../support/moto';

/**
 * cloudwatch.metrics and logs.errors against moto_server (5.2.1). moto answers GetMetricData for
 * plain metric queries from what PutMetricData stored (it matches on name and dimensions, and
 * aggregates per period from StartTime), and FilterLogEvents for plain terms. The default filter
 * pattern (`?ERROR ?Error ...`), paging, throttling and access denied are covered with
 * aws-sdk-client-mock in libs/aws/src/actions/{metrics,log-errors}.action.spec.ts.
 */
const MOTO_URL = process.env.MOTO_URL!;
const cw = new CloudWatchClient({ endpoint: MOTO_URL });
const logs = new CloudWatchLogsClient({ endpoint: MOTO_URL });
const cloudwatch = new CloudWatchAdapter({ client: new CloudWatchClient({ endpoint: MOTO_URL }) });
const logsAdapter = new LogsAdapter({ client: new CloudWatchLogsClient({ endpoint: MOTO_URL }) });
afterAll(() => {
  cloudwatch.close();
  logsAdapter.close();
  cw.destroy();
  logs.destroy();
});

const MIN = 60_000;
const ctx = (stepId: string): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId, idempotencyKey: `run-1-${stepId}-1`, signal: new AbortController().signal, dryRun: false });

/** One datum a minute, 10 s into the minute, from `from` to `to` minutes relative to `origin`. */
function perMinute(origin: number, from: number, to: number, datum: (minute: number) => Omit<MetricDatum, 'Timestamp'> | null): MetricDatum[] {
  const out: MetricDatum[] = [];
  const base = Math.floor(origin / MIN) * MIN;
  for (let m = from; m < to; m++) {
    const d = datum(m);
    if (d) out.push({ ...d, Timestamp: new Date(base + m * MIN + 10_000) });
  }
  return out;
}

async function put(namespace: string, data: MetricDatum[]): Promise<void> {
  for (let i = 0; i < data.length; i += 20) await cw.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data.slice(i, i + 20) }));
}

describe('cloudwatch.metrics against moto_server', () => {
  it('reads ALB, target group and ECS metrics from put data, and finds the baseline, the change and when it started', async () => {
    const now = Date.now();
    const onset = Math.floor(now / MIN) * MIN - 20 * MIN;
    const lb = `app/${uniqueName('alb')}/${randomBytes(8).toString('hex')}`;
    const tgName = uniqueName('blue');
    const tgArn = `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${tgName}/${randomBytes(8).toString('hex')}`;
    const cluster = uniqueName('prod');
    const service = 'checkout';
    const tgDims = [
      { Name: 'TargetGroup', Value: tgArn.split(':').at(-1)! },
      { Name: 'LoadBalancer', Value: lb },
    ];
    const ecsDims = [
      { Name: 'ClusterName', Value: cluster },
      { Name: 'ServiceName', Value: service },
    ];
    // Relative to the onset: a steady hour, then errors and CPU from 3 minutes after it.
    await put('AWS/ApplicationELB', [
      ...perMinute(onset, 3, 20, () => ({ MetricName: 'HTTPCode_ELB_5XX_Count', Dimensions: [{ Name: 'LoadBalancer', Value: lb }], Value: 30, Unit: 'Count' })),
      ...perMinute(onset, -30, 20, (m) => ({ MetricName: 'RequestCount', Dimensions: tgDims, Value: m < 3 ? 1000 : 400, Unit: 'Count' })),
      ...perMinute(onset, -30, 20, (m) => ({ MetricName: 'TargetResponseTime', Dimensions: tgDims, Value: m < 3 ? 0.2 : 2.5, Unit: 'Seconds' })),
    ]);
    await put('AWS/ECS', [
      ...perMinute(onset, -30, 20, (m) => ({ MetricName: 'CPUUtilization', Dimensions: ecsDims, Value: m < 3 ? 40 : 95, Unit: 'Percent' })),
      ...perMinute(onset, -30, 20, () => ({ MetricName: 'MemoryUtilization', Dimensions: ecsDims, Value: 55, Unit: 'Percent' })),
    ]);

    const action = cloudwatchMetricsAction(cloudwatch, { now: () => new Date(now) });
    const result = await action.run(
      { onset: new Date(onset).toISOString(), baseline_minutes: 30, load_balancer: `arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/${lb}`, target_groups: [tgArn], cluster, service },
      ctx('metrics'),
    );
    const output = result.output as unknown as MetricsOutput;
    const byId = Object.fromEntries(output.metrics.map((m) => [m.id, m]));
    const moved = new Date(onset + 3 * MIN).toISOString();

    expect(output.window.period).toBe(60);
    expect(byId.elb_5xx).toMatchObject({ baseline: 0, current: 30, peak: 30, startedMovingAt: moved, query: { dimensions: { LoadBalancer: lb }, stat: 'Sum', period: 60 } });
    expect(byId.tg0_requests).toMatchObject({ baseline: 1000, current: 400, changeRatio: 0.4, startedMovingAt: moved });
    expect(byId.tg0_latency).toMatchObject({ baseline: 0.2, current: 2.5, startedMovingAt: moved, query: { dimensions: { TargetGroup: `targetgroup/${tgName}/${tgArn.split('/').at(-1)}`, LoadBalancer: lb } } });
    expect(byId.tg0_5xx).toMatchObject({ baseline: 0, current: 0, startedMovingAt: null });
    expect(byId.ecs_cpu).toMatchObject({ baseline: 40, current: 95, peak: 95, startedMovingAt: moved });
    expect(byId.ecs_memory).toMatchObject({ baseline: 55, current: 55, startedMovingAt: null });
    expect(output).toMatchObject({ cpuHigh: true, errorsUp: true });
    expect(result.summary).toMatch(/^errors up, CPU high: \S+ ELB 5xx 0 → 30 from \d\d:\d\dZ; /);
  });
});

describe('cloudwatch.metrics against moto_server: errors that began before the alarm', () => {
  it('finds the 5xx rise 20 minutes before the onset (baseline from the quiet time before it) and reports impactStartedAt', async () => {
    const now = Date.now();
    const onset = Math.floor(now / MIN) * MIN - 10 * MIN;
    const lb = `app/${uniqueName('alb')}/${randomBytes(8).toString('hex')}`;
    // The alarm fired 20 minutes into the errors: a baseline over the hour before the onset holds them.
    await put('AWS/ApplicationELB', perMinute(onset, -20, 10, () => ({ MetricName: 'HTTPCode_ELB_5XX_Count', Dimensions: [{ Name: 'LoadBalancer', Value: lb }], Value: 25, Unit: 'Count' })));
    const result = await cloudwatchMetricsAction(cloudwatch, { now: () => new Date(now) }).run(
      { onset: new Date(onset).toISOString(), baseline_minutes: 60, load_balancer: lb },
      ctx('metrics'),
    );
    const output = result.output as unknown as MetricsOutput;
    const elb = output.metrics.find((m) => m.id === 'elb_5xx')!;
    expect(elb).toMatchObject({ baseline: 0, peak: 25, startedMovingAt: new Date(onset - 20 * MIN).toISOString(), direction: 'up' });
    expect(output).toMatchObject({ errorsUp: true, impactStartedAt: new Date(onset - 20 * MIN).toISOString(), impactMetric: 'elb_5xx' });
    expect(result.summary).not.toMatch(/no metric moved/);
    expect(elb.link).toContain('#metricsV2:graph=~(metrics~(~(~\'AWS*2fApplicationELB~\'HTTPCode_ELB_5XX_Count');
  });
});

describe('logs.errors against moto_server', () => {
  async function logGroup(messages: [minutesFromNow: number, message: string][]): Promise<string> {
    const name = `/ecs/${uniqueName('checkout')}`;
    await logs.send(new CreateLogGroupCommand({ logGroupName: name }));
    await logs.send(new CreateLogStreamCommand({ logGroupName: name, logStreamName: 'app/app/1' }));
    const now = Date.now();
    await logs.send(
      new PutLogEventsCommand({ logGroupName: name, logStreamName: 'app/app/1', logEvents: messages.map(([m, message]) => ({ timestamp: now + m * MIN, message })) }),
    );
    return name;
  }

  it('groups the matching lines from margin_minutes (default 10) before `since` into signatures, with the exact filter used', async () => {
    const group = await logGroup([
      [-30, 'ERROR timeout after 100 ms (too early: before since − 10 min)'],
      [-14, 'ERROR db timeout after 5012 ms to 10.0.3.17:5432'],
      [-12, 'INFO request served in 12 ms'],
      [-8, 'ERROR db timeout after 4990 ms to 10.0.3.18:5432'],
      [-6, 'ERROR payment 3f2c1a9e-8b7d-4c6e-9f10-1234567890ab declined password=hunter2'],
      [-5, 'ERROR db timeout after 5100 ms to 10.0.3.17:5432'],
    ]);
    const since = new Date(Date.now() - 10 * MIN).toISOString();
    const result = await logErrorsAction(logsAdapter).run({ log_groups: [group], since, filter_pattern: 'ERROR' }, ctx('logs'));
    const output = result.output as unknown as LogErrorsOutput;

    expect(output.groups).toEqual([{ logGroup: group, filterPattern: 'ERROR', startTime: new Date(Date.parse(since) - 10 * MIN).toISOString(), events: 4, ignored: 0, truncated: false }]);
    expect(output.distinctSignatures).toBe(2);
    expect(output.signatures.map((s) => [s.signature, s.count])).toEqual([
      ['ERROR db timeout after <n> ms to <ip>', 3],
      ['ERROR payment <uuid> declined password=[REDACTED]', 1],
    ]);
    expect(output.signatures[1].sample).toBe('ERROR payment 3f2c1a9e-8b7d-4c6e-9f10-1234567890ab declined password=[REDACTED]');
    expect(result.summary).toMatch(new RegExp(`^4 error lines in ${group}, 2 signatures: 3× ERROR db timeout`));
  });

  it('with the default filter, counts no INFO line as an error (moto matches `?term` patterns against everything), and finds the FATAL line before the alarm', async () => {
    const group = await logGroup([
      [-25, 'FATAL config: PAYMENTS_URL is not set, using a fallback'],
      [-20, 'INFO GET /health 200 in 3 ms, no errors'],
      [-15, '{"level":"info","msg":"error budget at 99.9%"}'],
      [-12, 'ERROR upstream timeout after 5012 ms'],
      [-3, 'INFO GET /health 200 in 2 ms, no errors'],
      [-2, 'ERROR upstream timeout after 4990 ms'],
    ]);
    // since = when the metrics saw the impact start (10 minutes ago); the FATAL came 15 minutes before it.
    const since = new Date(Date.now() - 10 * MIN).toISOString();
    const result = await logErrorsAction(logsAdapter).run({ log_groups: [group], since, margin_minutes: 20 }, ctx('logs'));
    const output = result.output as unknown as LogErrorsOutput;
    expect(output.groups[0].filterPattern).toBe('?ERROR ?Error ?error ?Exception ?FATAL');
    expect(output.events).toBe(3);
    expect(output.signatures.map((s) => [s.signature, s.severity, s.count])).toEqual([
      ['ERROR upstream timeout after <n> ms', 'ERROR', 2],
      ['FATAL config: PAYMENTS_URL is not set, using a fallback', 'FATAL', 1],
    ]);
    expect(Date.parse(output.signatures[1].firstSeen)).toBeLessThan(Date.parse(since));
    expect(output.signatures.every((s) => !/INFO|no errors|budget/.test(s.sample))).toBe(true);
    expect(output.link).toContain('#logsV2:logs-insights$3FqueryDetail$3D');
  });

  it('fails for good, naming the log group, when it does not exist', async () => {
    const error = await logErrorsAction(logsAdapter)
      .run({ log_groups: ['/ecs/no-such-group'], since: new Date().toISOString(), filter_pattern: 'ERROR' }, ctx('logs'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(/^log group not found: \/ecs\/no-such-group \(ResourceNotFoundException/);
  });
});
