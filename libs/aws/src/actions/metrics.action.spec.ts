import { CloudWatchClient, CloudWatchServiceException, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { CloudWatchAdapter, type MetricPoint } from '../cloudwatch.adapter';
import {
  analyzeSeries,
  choosePeriod,
  cloudwatchMetricsAction,
  changePoint,
  departs,
  fillMissingWithZero,
  impactStart,
  isErrorsUp,
  MAX_POINTS,
  metricsParams,
  type MetricsOutput,
} from './metrics.action';

const ALB_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/prod-alb/50dc6c495c0c9188';
const BLUE = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/73e2d6bc24d8a067';
const ONSET = Date.parse('2026-03-01T10:00:00Z');
const NOW = new Date(ONSET + 20 * 60_000);
const MIN = 60_000;

const ctx = (): ActionContext => ({ incidentId: 'inc-1', runId: 'run-1', stepId: 'metrics', idempotencyKey: 'inc-1-metrics-1', signal: new AbortController().signal, dryRun: false });

/** One point a minute from `from` (minutes relative to the onset), values from `f(minute)`. */
function series(from: number, to: number, f: (minute: number) => number): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let m = from; m < to; m++) points.push({ t: ONSET + m * MIN, v: f(m) });
  return points;
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => new Error('resolved'),
    (e: unknown) => e as Error,
  );
}

describe('analyzeSeries', () => {
  it('takes the baseline before the onset, the current value over the last 5 minutes, and the peak after the onset', () => {
    // 40 % for an hour, then 90 % from 3 minutes after the onset.
    const a = analyzeSeries(
      series(-60, 20, (m) => (m < 3 ? 40 : 90)),
      ONSET,
    );
    expect(a).toMatchObject({ baseline: 40, baselineStdDev: 0, current: 90, peak: 90, changeRatio: 2.25, points: 80 });
    expect(a.startedMovingAt).toBe(new Date(ONSET + 3 * MIN).toISOString());
    expect(a.peakAt).toBe(new Date(ONSET + 3 * MIN).toISOString());
  });

  it('does not call a noisy but steady series moving, and finds the first point beyond 3 σ', () => {
    const noisy = (m: number) => 100 + (m % 2 === 0 ? 10 : -10); // σ = 10
    const a = analyzeSeries([...series(-30, 0, noisy), ...series(0, 5, noisy), ...series(5, 10, () => 135)], ONSET);
    // The baseline is every point before the movement (35 points, 18 × 110 and 17 × 90).
    expect(a.baseline).toBeCloseTo(100.286, 3);
    expect(a.baselineStdDev).toBeCloseTo(10, 0);
    expect(a.baselineUntil).toBe(new Date(ONSET + 5 * MIN).toISOString());
    expect(a.startedMovingAt).toBe(new Date(ONSET + 5 * MIN).toISOString()); // 135 > 100 + 3 × 10
    expect(analyzeSeries(series(-30, 10, noisy), ONSET).startedMovingAt).toBeNull();
  });

  it('floors σ at 5 % of a flat baseline so that a tiny wobble is not movement', () => {
    const a = analyzeSeries([...series(-30, 0, () => 50), ...series(0, 5, () => 51)], ONSET);
    expect(a.startedMovingAt).toBeNull();
  });

  it('flags a drop (requests falling to zero) as movement', () => {
    const a = analyzeSeries([...series(-30, 0, (m) => 1000 + (m % 3) * 10), ...series(0, 10, (m) => (m < 2 ? 1000 : 0))], ONSET);
    expect(a.startedMovingAt).toBe(new Date(ONSET + 2 * MIN).toISOString());
    expect(a.current).toBe(0);
    expect(a.changeRatio).toBe(0);
  });

  it('with a zero baseline, any error after the onset is movement and the ratio is null', () => {
    const a = analyzeSeries([...series(-30, 0, () => 0), ...series(0, 10, (m) => (m < 4 ? 0 : 12))], ONSET);
    expect(a).toMatchObject({ baseline: 0, current: 12, peak: 12, changeRatio: null, startedMovingAt: new Date(ONSET + 4 * MIN).toISOString() });
  });

  it('without points before the onset, has no baseline and no movement; without any point, nothing', () => {
    expect(analyzeSeries(series(0, 10, () => 5), ONSET)).toMatchObject({ baseline: null, current: 5, startedMovingAt: null, changeRatio: null });
    expect(analyzeSeries([], ONSET)).toEqual({ baseline: null, baselineStdDev: null, baselineUntil: null, current: null, peak: null, peakAt: null, changeRatio: null, startedMovingAt: null, direction: null, points: 0 });
  });

  it('departs: beyond 3 σ either way, or above twice the baseline', () => {
    expect(departs(131, 100, 10)).toBe(true);
    expect(departs(69, 100, 10)).toBe(true);
    expect(departs(129, 100, 10)).toBe(false);
    expect(departs(5, 2, 10)).toBe(true); // 2× baseline although within 3 σ
  });
});

describe('the baseline is taken before the movement, not from a window that holds the incident', () => {
  // The case that was misread: ELB 5xx at 0 for 40 minutes, then ~20 a minute from 20 minutes
  // BEFORE the alarm. A baseline over the hour before the onset already held the errors
  // (mean ~6.7, σ ~9.4), so nothing "moved" after the onset.
  const elevatedBeforeAlarm = series(-60, 20, (m) => (m < -20 ? 0 : 18 + (m % 3) * 2));

  it('finds the 5xx rise 20 minutes before the alarm, with a baseline of the 40 quiet minutes', () => {
    const a = analyzeSeries(elevatedBeforeAlarm, ONSET);
    expect(a.startedMovingAt).toBe(new Date(ONSET - 20 * MIN).toISOString());
    expect(a).toMatchObject({ baseline: 0, baselineStdDev: 0, baselineUntil: new Date(ONSET - 20 * MIN).toISOString(), direction: 'up', peak: 22 });
    expect(changePoint(elevatedBeforeAlarm, ONSET)).toBe(40);
  });

  it('does not take a short blip long before the onset for the start', () => {
    // Two noisy minutes at -50, quiet again, then the real rise at -8.
    const points = series(-60, 10, (m) => (m === -50 || m === -49 ? 9 : m >= -8 ? 30 : 1));
    expect(analyzeSeries(points, ONSET).startedMovingAt).toBe(new Date(ONSET - 8 * MIN).toISOString());
  });

  it('a series elevated from the very start of the window has no baseline to leave: not moving (honest, not guessed)', () => {
    expect(analyzeSeries(series(-60, 20, () => 25), ONSET).startedMovingAt).toBeNull();
  });

  it('impactStartedAt: the alarm metric first, else the earliest rise of 5xx / latency, never after the onset', () => {
    const m = (id: string, kind: 'alarm' | 'elb5xx' | 'latency' | 'cpu' | 'requests', at: number | null, direction: 'up' | 'down' = 'up') => ({
      id,
      kind,
      direction,
      startedMovingAt: at === null ? null : new Date(ONSET + at * MIN).toISOString(),
    });
    expect(impactStart([m('elb_5xx', 'elb5xx', -20), m('alarm0', 'alarm', -12), m('ecs_cpu', 'cpu', -30)], ONSET)).toEqual({
      impactStartedAt: new Date(ONSET - 12 * MIN).toISOString(),
      impactMetric: 'alarm0',
    });
    expect(impactStart([m('alarm0', 'alarm', null), m('elb_5xx', 'elb5xx', -20), m('tg0_latency', 'latency', -25)], ONSET)).toMatchObject({ impactMetric: 'tg0_latency' });
    // Fewer errors or requests is not where an impact starts; CPU alone is not the impact.
    expect(impactStart([m('elb_5xx', 'elb5xx', -20, 'down'), m('tg0_requests', 'requests', -30), m('ecs_cpu', 'cpu', -30)], ONSET)).toEqual({ impactStartedAt: null, impactMetric: null });
    // Seen after the onset (coarse periods): the alarm had fired by the onset.
    expect(impactStart([m('elb_5xx', 'elb5xx', 3)], ONSET).impactStartedAt).toBe(new Date(ONSET).toISOString());
  });
});

describe('choosePeriod', () => {
  it.each([
    [60, 60], // an hour at 1 minute
    [23 * 60, 60],
    [24 * 60, 120], // 1,441 points at 60 s would be too many
    [3 * 24 * 60, 300],
    [30 * 24 * 60, 3600], // 1,440 points at 1800 s: one too many
  ])('%i minutes → %i s, always below MAX_POINTS points', (minutes, period) => {
    expect(choosePeriod(0, minutes * MIN)).toBe(period);
    expect(Math.ceil((minutes * 60) / period)).toBeLessThan(MAX_POINTS);
  });
});

describe('fillMissingWithZero and isErrorsUp', () => {
  it('fills the periods a count has no point for with 0 and keeps the others', () => {
    expect(fillMissingWithZero([{ t: 2 * MIN, v: 7 }], { start: 0, end: 4 * MIN, period: 60 })).toEqual([
      { t: 0, v: 0 },
      { t: MIN, v: 0 },
      { t: 2 * MIN, v: 7 },
      { t: 3 * MIN, v: 0 },
    ]);
  });

  it('needs at least one error a minute, twice the baseline, and more than 3 σ above it', () => {
    expect(isErrorsUp({ baseline: 0, baselineStdDev: 0, current: 5 }, 60)).toBe(true);
    expect(isErrorsUp({ baseline: 0, baselineStdDev: 0, current: 0.5 }, 60)).toBe(false); // a stray error
    expect(isErrorsUp({ baseline: 0, baselineStdDev: 0, current: 4 }, 300)).toBe(false); // 4 in 5 minutes
    expect(isErrorsUp({ baseline: 10, baselineStdDev: 1, current: 15 }, 60)).toBe(false); // not twice
    expect(isErrorsUp({ baseline: 10, baselineStdDev: 8, current: 30 }, 60)).toBe(false); // within 3 σ
    expect(isErrorsUp({ baseline: 10, baselineStdDev: 2, current: 30 }, 60)).toBe(true);
  });
});

describe('metricsParams', () => {
  it('derives the LoadBalancer and TargetGroup dimensions from ARNs and defaults the baseline to 60 minutes', () => {
    expect(metricsParams({ onset: '2026-03-01T10:00:00Z', load_balancer: ALB_ARN, target_groups: [BLUE, BLUE] })).toMatchObject({
      baselineMinutes: 60,
      loadBalancer: 'app/prod-alb/50dc6c495c0c9188',
      targetGroups: [BLUE],
    });
    expect(metricsParams({ onset: '2026-03-01T10:00:00Z', load_balancer: 'app/prod-alb/50dc6c495c0c9188' }).loadBalancer).toBe('app/prod-alb/50dc6c495c0c9188');
  });

  it.each([
    [{}, /"onset" must be an ISO time, got nothing/],
    [{ onset: 'yesterday', cluster: 'c', service: 's' }, /"onset" must be an ISO time/],
    [{ onset: '2026-03-01T10:00:00Z', load_balancer: 'prod-alb' }, /"load_balancer" must be a load balancer ARN/],
    [{ onset: '2026-03-01T10:00:00Z', target_groups: [BLUE] }, /"target_groups" needs "load_balancer"/],
    [{ onset: '2026-03-01T10:00:00Z', load_balancer: ALB_ARN, target_groups: ['checkout-blue'] }, /not a target group ARN: "checkout-blue"/],
    [{ onset: '2026-03-01T10:00:00Z', cluster: 'prod' }, /"cluster" and "service" go together/],
    [{ onset: '2026-03-01T10:00:00Z', cluster: 'prod', service: 'x', baseline_minutes: 2 }, /"baseline_minutes" must be a whole number from 5 to 1440/],
    [{ onset: '2026-03-01T10:00:00Z' }, /nothing to read/],
    [{ onset: '2026-03-01T10:00:00Z', alarm_metrics: [{ namespace: 'AWS/SQS' }] }, /needs "namespace" and "name"/],
    [{ onset: '2026-03-01T10:00:00Z', alarm_metrics: [{ namespace: 'A', name: 'B', period: 90 }] }, /period must be a multiple of 60/],
  ])('refuses %j with a permanent error', (params, message) => {
    expect(() => metricsParams(params)).toThrow(PermanentActionError);
    expect(() => metricsParams(params)).toThrow(message);
  });
});

describe('cloudwatch.metrics with aws-sdk-client-mock', () => {
  function mocked() {
    const client = new CloudWatchClient({ region: 'us-east-1' });
    const mock = mockClient(client);
    const action = cloudwatchMetricsAction(new CloudWatchAdapter({ client }), { now: () => NOW });
    return { mock, action };
  }
  const ts = (minutes: number[]) => minutes.map((m) => new Date(ONSET + m * MIN));

  const params = {
    onset: new Date(ONSET).toISOString(),
    baseline_minutes: 30,
    load_balancer: ALB_ARN,
    target_groups: [BLUE],
    cluster: 'prod',
    service: 'checkout',
    alarm_metrics: [{ namespace: 'AWS/ApplicationELB', name: 'HTTPCode_ELB_5XX_Count', dimensions: [{ Name: 'LoadBalancer', Value: 'app/prod-alb/50dc6c495c0c9188' }], stat: 'Sum', period: 300 }],
  };

  it('asks for every metric in one request, with the exact dimensions, stats and period, and reads every page', async () => {
    const { mock, action } = mocked();
    mock
      .on(GetMetricDataCommand)
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'ecs_cpu', Timestamps: ts([-30, -20, -10]), Values: [40, 41, 39], StatusCode: 'PartialData' },
          { Id: 'elb_5xx', Timestamps: ts([5, 6]), Values: [30, 50], StatusCode: 'PartialData' },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        MetricDataResults: [
          { Id: 'ecs_cpu', Timestamps: ts([2, 16, 17, 18, 19]), Values: [85, 90, 92, 94, 96], StatusCode: 'Complete' },
          { Id: 'elb_5xx', Timestamps: ts([18, 19]), Values: [40, 60], StatusCode: 'Complete' },
        ],
      });

    const result = await action.run(params, ctx());
    const calls = mock.commandCalls(GetMetricDataCommand);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    const input: GetMetricDataCommandInput = calls[0].args[0].input;
    expect(input.StartTime).toEqual(new Date(ONSET - 30 * MIN));
    expect(input.EndTime).toEqual(NOW);
    expect(input.ScanBy).toBe('TimestampAscending');
    expect(input.MetricDataQueries!.map((q) => [q.Id, q.MetricStat!.Metric!.MetricName, q.MetricStat!.Stat, q.MetricStat!.Period])).toEqual([
      ['elb_5xx', 'HTTPCode_ELB_5XX_Count', 'Sum', 60],
      ['tg0_5xx', 'HTTPCode_Target_5XX_Count', 'Sum', 60],
      ['tg0_latency', 'TargetResponseTime', 'Average', 60],
      ['tg0_requests', 'RequestCount', 'Sum', 60],
      ['ecs_cpu', 'CPUUtilization', 'Average', 60],
      ['ecs_memory', 'MemoryUtilization', 'Average', 60],
      ['alarm0', 'HTTPCode_ELB_5XX_Count', 'Sum', 300],
    ]);
    expect(input.MetricDataQueries![1].MetricStat!.Metric!.Dimensions).toEqual([
      { Name: 'TargetGroup', Value: 'targetgroup/checkout-blue/73e2d6bc24d8a067' },
      { Name: 'LoadBalancer', Value: 'app/prod-alb/50dc6c495c0c9188' },
    ]);
    expect(input.MetricDataQueries![4].MetricStat!.Metric!.Dimensions).toEqual([
      { Name: 'ClusterName', Value: 'prod' },
      { Name: 'ServiceName', Value: 'checkout' },
    ]);

    const output = result.output as unknown as MetricsOutput;
    expect(output.window).toEqual({ start: new Date(ONSET - 30 * MIN).toISOString(), onset: new Date(ONSET).toISOString(), end: NOW.toISOString(), period: 60 });
    const cpu = output.metrics.find((m) => m.id === 'ecs_cpu')!;
    expect(cpu).toMatchObject({ label: 'checkout CPU %', baseline: 40, current: 93, peak: 96, startedMovingAt: new Date(ONSET + 2 * MIN).toISOString(), status: 'Complete' });
    expect(cpu.query).toEqual({ namespace: 'AWS/ECS', name: 'CPUUtilization', dimensions: { ClusterName: 'prod', ServiceName: 'checkout' }, stat: 'Average', period: 60 });
    // A count without points is 0 in the missing periods: baseline 0, 5xx from 10:05.
    const elb = output.metrics.find((m) => m.id === 'elb_5xx')!;
    expect(elb).toMatchObject({ baseline: 0, current: 20, peak: 60, startedMovingAt: new Date(ONSET + 5 * MIN).toISOString() });
    const memory = output.metrics.find((m) => m.id === 'ecs_memory')!;
    expect(memory).toMatchObject({ baseline: null, current: null, points: 0 });
    expect(output).toMatchObject({ cpuHigh: true, errorsUp: true, moved: ['elb_5xx', 'ecs_cpu'] });
    expect(result.summary).toBe('errors up, CPU high: prod-alb ELB 5xx 0 → 20 from 10:05Z; checkout CPU % 40 → 93 from 10:02Z; 5 of 7 metrics steady');
  });

  it('reports errors that rose 20 minutes before the alarm: impactStartedAt, the 5xx moving, a console link per metric', async () => {
    const { mock, action } = mocked();
    const minutes = Array.from({ length: 80 }, (_, i) => i - 60); // -60 … 19
    const errors = minutes.filter((m) => m >= -20);
    mock.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        // ALB counts: published only when non-zero.
        { Id: 'elb_5xx', Timestamps: ts(errors), Values: errors.map(() => 20), StatusCode: 'Complete' },
        { Id: 'ecs_cpu', Timestamps: ts(minutes), Values: minutes.map((m) => 40 + (m % 2)), StatusCode: 'Complete' },
      ],
    });
    const result = await action.run({ onset: new Date(ONSET).toISOString(), baseline_minutes: 60, load_balancer: ALB_ARN, cluster: 'prod', service: 'checkout' }, ctx());
    const output = result.output as unknown as MetricsOutput;
    expect(output.impactStartedAt).toBe(new Date(ONSET - 20 * MIN).toISOString());
    expect(output.impactMetric).toBe('elb_5xx');
    const elb = output.metrics.find((m) => m.id === 'elb_5xx')!;
    expect(elb).toMatchObject({ baseline: 0, peak: 20, startedMovingAt: new Date(ONSET - 20 * MIN).toISOString() });
    expect(output.errorsUp).toBe(true);
    expect(output.moved).toEqual(['elb_5xx']);
    expect(result.summary).toBe('errors up: prod-alb ELB 5xx 0 → 20 from 09:40Z; 2 of 3 metrics steady');
    expect(elb.link).toMatch(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#metricsV2:graph=~\(metrics~\(~\(~'AWS\*2fApplicationELB~'HTTPCode_ELB_5XX_Count~'LoadBalancer~'app\*2fprod-alb\*2f50dc6c495c0c9188\)\)/);
    expect(output.metrics.every((m) => typeof m.link === 'string')).toBe(true);
  });

  it('says when nothing moved', async () => {
    const { mock, action } = mocked();
    mock.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'ecs_cpu', Timestamps: ts([-10, 10]), Values: [40, 41] }] });
    const result = await action.run({ onset: new Date(ONSET).toISOString(), cluster: 'prod', service: 'checkout' }, ctx());
    expect(result.summary).toBe('no metric moved from its baseline (2 metrics, period 60 s)');
    expect(result.output).toMatchObject({ cpuHigh: false, errorsUp: false, moved: [] });
  });

  it('fails at once with a permanent error naming cloudwatch:GetMetricData when access is denied', async () => {
    const { mock, action } = mocked();
    mock.on(GetMetricDataCommand).rejects(
      new CloudWatchServiceException({ name: 'AccessDenied', message: 'not authorized to perform: cloudwatch:GetMetricData', $fault: 'client', $metadata: { httpStatusCode: 403 } }),
    );
    const error = await rejection(action.run({ onset: new Date(ONSET).toISOString(), cluster: 'prod', service: 'checkout' }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(/^access denied: .*cloudwatch:GetMetricData on metrics AWS\/ECS\/CPUUtilization/);
  });

  it('passes on throttling that outlasted the SDK’s retries as a retryable error', async () => {
    const { mock, action } = mocked();
    mock.on(GetMetricDataCommand).rejects(new CloudWatchServiceException({ name: 'Throttling', message: 'Rate exceeded', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const error = await rejection(action.run({ onset: new Date(ONSET).toISOString(), cluster: 'prod', service: 'checkout' }, ctx()));
    expect(error).not.toBeInstanceOf(PermanentActionError);
    expect(error.message).toContain('cloudwatch:GetMetricData on metrics');
  });

  it('refuses an onset in the future before any call', async () => {
    const { mock, action } = mocked();
    const error = await rejection(action.run({ onset: new Date(NOW.getTime() + 120 * MIN).toISOString(), cluster: 'prod', service: 'checkout' }, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(mock.calls()).toHaveLength(0);
  });

  it('plans without a call', () => {
    const { mock, action } = mocked();
    expect(action.plan({ onset: new Date(ONSET).toISOString(), cluster: 'prod', service: 'checkout' }).summary).toBe('read 2 CloudWatch metrics: checkout CPU %, checkout memory %');
    expect(mock.calls()).toHaveLength(0);
    expect(action.mutating).toBe(false);
    expect(action.iam).toEqual(['cloudwatch:GetMetricData']);
  });
});
