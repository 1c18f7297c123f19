import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Incident, TimelineEntry } from '@responder/domain';
import { type RcaInput, type RcaRun, buildRca, duration } from './model';
import { renderRca, renderRcaMarkdown } from './rca';

const ROOT = join(__dirname, '../../..');

let seq = 0;
const entry = (at: string, type: string, data: Record<string, unknown> = {}): TimelineEntry => ({ id: `${Date.parse(at)}-${seq++}`, at, type, data });

function incident(over: Partial<Incident> & Pick<Incident, 'onsetAt' | 'openedAt'>): Incident {
  return {
    id: 'inc_01JD3M4X9QZ0000000000',
    status: 'resolved',
    service: 'checkout',
    routed: true,
    title: 'checkout-5xx',
    resolvedAt: null,
    alarms: [{ name: 'checkout-5xx', arn: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:checkout-5xx', kind: 'metric', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [42.0] was greater than the threshold (5.0).', stateChangedAt: over.onsetAt }],
    ...over,
  };
}

const plusMinutes = (iso: string, m: number) => new Date(Date.parse(iso) + m * 60_000).toISOString();
const diagnostics = (at: string, impact = '2024-11-22T23:57:00.000Z'): RcaRun['steps'] => [
  { id: 'alb', action: 'alb.target-health', status: 'succeeded', mutating: false, summary: 'checkout-tg: 0 of 4 targets healthy (Target.ResponseCodeMismatch)', output: { healthy: 0, total: 4, hint: 'the health check gets an unexpected HTTP code' }, startedAt: at, finishedAt: at },
  // The shape cloudwatch.metrics writes (metrics[].query, impactStartedAt, links).
  { id: 'metrics', action: 'cloudwatch.metrics', status: 'succeeded', mutating: false, summary: '5xx: baseline 0.2/min, peak 42/min', output: {
    window: { start: plusMinutes(impact, -59), onset: plusMinutes(impact, 1), end: plusMinutes(impact, 2), period: 60 },
    metrics: [{ id: 'target5xx', label: 'Target 5xx (checkout-tg)', query: { namespace: 'AWS/ApplicationELB', name: 'HTTPCode_Target_5XX_Count', dimensions: { TargetGroup: 'targetgroup/checkout-tg/abc' }, stat: 'Sum', period: 60 }, status: 'Complete', baseline: 0.2, baselineStdDev: 0.4, current: 40, peak: 42, peakAt: plusMinutes(impact, 1), changeRatio: 200, startedMovingAt: impact, direction: 'up', points: 61, link: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#metricsV2?graph=target5xx',
    series: Array.from({ length: 12 }, (_, i): [number, number] => [Date.parse(plusMinutes(impact, i - 8)), i < 8 ? [0, 1, 0, 0, 0, 1, 0, 0][i] : 30 + i]) }],
    cpuHigh: false, errorsUp: true, moved: ['target5xx'], impactStartedAt: impact, impactMetric: 'target5xx',
  }, startedAt: at, finishedAt: at },
  { id: 'deploy', action: 'deploy.recent', status: 'succeeded', mutating: false, summary: 'checkout (ECS): checkout:42 PRIMARY, 3 minutes before the onset; correlates with the alarm', output: { correlated: true, minutesBeforeOnset: 3, current: { id: 'ecs-svc/123', taskDefinition: 'checkout:42' } }, startedAt: at, finishedAt: at },
];

/** A rollback granted by the recent-deploy policy, then resolved: across midnight (23:58 → 00:07). */
function rollbackByPolicy(): RcaInput {
  const timeline = [
    entry('2024-11-22T23:58:40Z', 'alarm.received', { alarm: 'checkout-5xx', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [42.0] was greater than the threshold (5.0).', stateChangedAt: '2024-11-22T23:58:00Z', source: 'http' }),
    entry('2024-11-22T23:58:40Z', 'incident.opened', { service: 'checkout', routed: true, alarm: 'checkout-5xx' }),
    entry('2024-11-22T23:58:41Z', 'run.planned', { runbook: 'production-down' }),
    entry('2024-11-22T23:59:05Z', 'step.succeeded', { step: 'deploy', action: 'deploy.recent', summary: 'checkout:42 3 minutes before the onset; correlates with the alarm' }),
    entry('2024-11-22T23:59:06Z', 'approval.granted', { step: 'rollback', by: 'policy:recent-deploy', policy: 'recent-deploy', plan: 'UpdateService prod/checkout taskDefinition checkout:42 → checkout:41' }),
    entry('2024-11-23T00:02:10Z', 'step.succeeded', { step: 'rollback', action: 'deploy.rollback', summary: 'rolled back to checkout:41' }),
    entry('2024-11-23T00:07:00Z', 'incident.resolved', { lastAlarm: 'checkout-5xx', openForMs: 500_000 }),
  ];
  return {
    incident: incident({ onsetAt: '2024-11-22T23:58:00Z', openedAt: '2024-11-22T23:58:40Z', resolvedAt: '2024-11-23T00:07:00Z' }),
    timeline,
    runs: [{ runbook: 'production-down', steps: [
      ...diagnostics('2024-11-22T23:59:00Z'),
      { id: 'diagnose', action: 'diagnose', status: 'succeeded', mutating: false, summary: 'Deployment checkout:42 at 23:55Z introduced "NullPointerException" (confidence 0.95).', output: {
        cause: 'deployment', confidence: 0.95, summary: 'Deployment checkout:42 at 23:55Z introduced "NullPointerException" (confidence 0.95).', impactStartedAt: '2024-11-22T23:57:00Z',
        hypotheses: [
          { cause: 'deployment', confidence: 0.95, summary: 'deployment checkout:42 at 23:55Z introduced "NullPointerException"', against: [], evidence: [
            { step: 'deploy', text: 'deployment checkout:42 landed at 23:55Z, 2 min before the impact began', link: 'https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/deployments' },
            { step: 'logs', text: 'ERROR "NullPointerException at CartService.total" first seen at 23:56Z, after the deployment (40×)' },
          ] },
          { cause: 'database', confidence: 0.1, summary: 'the database fails the service', evidence: [{ step: 'logs', text: '2× "SQLSTATE 40001"' }], against: [{ step: 'aurora', text: 'the writer of checkout-db is available and no failover is under way' }] },
        ],
        gaps: [{ step: 'changes', reason: 'recent changes (CloudTrail) not checked: access denied (the role needs cloudtrail:LookupEvents)' }],
      }, startedAt: '2024-11-22T23:59:05Z', finishedAt: '2024-11-22T23:59:05Z' },
      { id: 'rollback', action: 'deploy.rollback', status: 'succeeded', mutating: true, approval: 'policy', approvedBy: 'policy:recent-deploy', plan: 'UpdateService prod/checkout taskDefinition checkout:42 → checkout:41', params: { cluster: 'prod', service: 'checkout', to: 'checkout:41' }, output: { requestId: 'f3a1c2d4-0000-4000-8000-000000000001' }, summary: 'rolled back to checkout:41', startedAt: '2024-11-22T23:59:06Z', finishedAt: '2024-11-23T00:02:10Z' },
      { id: 'scale-up', action: 'ecs.scale-up', status: 'skipped', mutating: true, reason: 'a rollback ran' },
    ] }],
    now: new Date('2024-11-23T09:00:00Z'),
  };
}

/** People approve a scale-up (two-person) and reject a failover; secrets planted everywhere. */
function approvalsAndRejection(): RcaInput {
  const timeline = [
    entry('2024-11-20T10:00:30Z', 'alarm.received', { alarm: 'checkout-latency', state: 'ALARM', reason: 'p99 > 2s; see https://grafana.example.com/d/abc | conn postgres://app:hunter2@db:5432/app', stateChangedAt: '2024-11-20T10:00:00Z' }),
    entry('2024-11-20T10:00:31Z', 'incident.opened', { service: 'checkout', routed: true, alarm: 'checkout-latency' }),
    entry('2024-11-20T10:01:00Z', 'approval.requested', { step: 'scale-up', plan: 'UpdateService prod/checkout desiredCount 4 → 8' }),
    entry('2024-11-20T10:03:12Z', 'note', { by: 'alice', text: 'looking; slack token xoxb-123456-abcdef leaked in logs? password=s3cret' }),
    entry('2024-11-20T10:04:00Z', 'approval.recorded', { step: 'scale-up', by: 'alice', count: 1, needed: 2 }),
    entry('2024-11-20T10:05:00Z', 'approval.granted', { step: 'scale-up', by: 'bob', count: 2, needed: 2 }),
    entry('2024-11-20T10:06:30Z', 'step.succeeded', { step: 'scale-up', action: 'ecs.scale-up', summary: 'desiredCount 4 → 8' }),
    entry('2024-11-20T10:07:00Z', 'approval.rejected', { step: 'failover', by: 'carol', reason: 'writer is fine | readers lag' }),
    entry('2024-11-20T10:20:00Z', 'incident.resolved', { lastAlarm: 'checkout-latency' }),
  ];
  return {
    incident: incident({ onsetAt: '2024-11-20T10:00:00Z', openedAt: '2024-11-20T10:00:31Z', resolvedAt: '2024-11-20T10:20:00Z', title: 'checkout-latency' }),
    timeline,
    runs: [{ runbook: 'production-down', steps: [
      // The shape logs.errors writes (groups[].filterPattern, signatures with severity and first/last seen, links).
      { id: 'logs', action: 'logs.errors', status: 'succeeded', mutating: false, summary: '2 signatures, 310 lines', output: {
        groups: [{ logGroup: '/ecs/checkout', filterPattern: '?ERROR ?Exception', startTime: '2024-11-20T09:50:00.000Z', events: 310, truncated: false }],
        events: 310, truncated: false, distinctSignatures: 2,
        signatures: [{ signature: 'ERROR timeout calling <ip>', count: 300, firstSeen: '2024-11-20T09:59:10.000Z', lastSeen: '2024-11-20T10:00:40.000Z', logGroups: ['/ecs/checkout'], severity: 'ERROR', sample: 'Authorization: Bearer eyJhbGciOi.abc.def AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG', link: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:logs-insights$3FqueryDetail$3D~(signature)' }],
        from: '2024-11-20T09:50:00.000Z', to: '2024-11-20T10:00:40.000Z',
        link: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:logs-insights$3FqueryDetail$3D~(all)',
      }, startedAt: '2024-11-20T10:00:40Z', finishedAt: '2024-11-20T10:00:50Z' },
      { id: 'scale-up', action: 'ecs.scale-up', status: 'succeeded', mutating: true, approval: 'granted', approvedBy: 'bob', approvals: [{ by: 'alice' }, { by: 'bob' }], plan: 'UpdateService prod/checkout desiredCount 4 → 8', params: { desiredCount: 8, redis: 'redis://:sup3rs3cret@cache:6379' }, summary: 'desiredCount 4 → 8', startedAt: '2024-11-20T10:05:01Z', finishedAt: '2024-11-20T10:06:30Z' },
      { id: 'failover', action: 'aurora.failover', status: 'rejected', mutating: true, approval: 'rejected', plan: 'FailoverDBCluster prod-db → prod-db-reader-1' },
    ] }],
    now: new Date('2024-11-20T12:00:00Z'),
  };
}

/** Still open, a diagnostic failed, nothing mitigated, no human yet. */
function openWithFailedStep(): RcaInput {
  const timeline = [
    entry('2024-11-21T08:15:05Z', 'alarm.received', { alarm: 'orders-unhealthy', state: 'ALARM', reason: 'UnHealthyHostCount > 0 token=abc123def', stateChangedAt: '2024-11-21T08:15:00Z' }),
    entry('2024-11-21T08:15:06Z', 'incident.opened', { service: 'orders', routed: true, alarm: 'orders-unhealthy' }),
    entry('2024-11-21T08:15:30Z', 'step.failed', { step: 'ecs', action: 'ecs.service-status', error: 'AccessDenied: ecs:DescribeServices with mysql://root:toor@db/orders' }),
  ];
  return {
    incident: incident({ service: 'orders', status: 'open', title: 'orders-unhealthy', onsetAt: '2024-11-21T08:15:00Z', openedAt: '2024-11-21T08:15:06Z', alarms: [] }),
    timeline,
    runs: [{ runbook: 'production-down', steps: [
      { id: 'ecs', action: 'ecs.service-status', status: 'failed', mutating: false, error: 'AccessDenied: ecs:DescribeServices with mysql://root:toor@db/orders', startedAt: '2024-11-21T08:15:10Z', finishedAt: '2024-11-21T08:15:30Z' },
      { id: 'metrics', action: 'cloudwatch.metrics', status: 'succeeded', mutating: false, summary: 'UnHealthyHostCount 0 → 2', output: { query: { namespace: 'AWS/ApplicationELB', metric: 'UnHealthyHostCount' } } },
    ] }],
    now: new Date('2024-11-21T08:30:00Z'),
  };
}

/** Resolved after a failed mitigation: the rollback failed, a person approved a scale-up that worked. */
function failedMitigation(): RcaInput {
  const timeline = [
    entry('2024-11-24T14:02:10Z', 'alarm.received', { alarm: 'checkout-5xx', state: 'ALARM', reason: 'Threshold Crossed', stateChangedAt: '2024-11-24T14:02:00Z' }),
    entry('2024-11-24T14:02:10Z', 'incident.opened', { service: 'checkout', routed: true, alarm: 'checkout-5xx' }),
    entry('2024-11-24T14:02:40Z', 'approval.granted', { step: 'rollback', by: 'policy:recent-deploy', policy: 'recent-deploy', plan: 'roll back prod/checkout from checkout:42 to checkout:41' }),
    entry('2024-11-24T14:03:30Z', 'step.failed', { step: 'rollback', action: 'deploy.rollback', error: 'ClientException: TaskDefinition checkout:41 is INACTIVE' }),
    entry('2024-11-24T14:04:00Z', 'approval.requested', { step: 'scale-up', plan: 'UpdateService prod/checkout desiredCount 2 → 4' }),
    entry('2024-11-24T14:09:00Z', 'approval.granted', { step: 'scale-up', by: 'dave@example.com', count: 1, needed: 1 }),
    entry('2024-11-24T14:10:30Z', 'step.succeeded', { step: 'scale-up', action: 'ecs.scale-up', summary: 'scaled prod/checkout from 2 to 4 desired tasks' }),
    entry('2024-11-24T14:21:00Z', 'incident.resolved', { lastAlarm: 'checkout-5xx' }),
  ];
  return {
    incident: incident({ onsetAt: '2024-11-24T14:02:00Z', openedAt: '2024-11-24T14:02:10Z', resolvedAt: '2024-11-24T14:21:00Z' }),
    timeline,
    runs: [{ runbook: 'production-down', steps: [
      ...diagnostics('2024-11-24T14:02:30Z', '2024-11-24T14:01:00.000Z'),
      { id: 'rollback', action: 'deploy.rollback', status: 'failed', mutating: true, approval: 'policy', approvedBy: 'policy:recent-deploy', plan: 'roll back prod/checkout from checkout:42 to checkout:41', params: { cluster: 'prod', service: 'checkout' }, error: 'ClientException: TaskDefinition checkout:41 is INACTIVE', startedAt: '2024-11-24T14:02:40Z', finishedAt: '2024-11-24T14:03:30Z' },
      { id: 'scale-up', action: 'ecs.scale-up', status: 'succeeded', mutating: true, approval: 'granted', approvedBy: 'dave@example.com', approvals: [{ by: 'dave@example.com' }], plan: 'UpdateService prod/checkout desiredCount 2 → 4', params: { cluster: 'prod', service: 'checkout', from: 2 }, output: { desiredCount: 4, requestId: 'a1b2c3d4-0000-4000-8000-000000000009' }, summary: 'scaled prod/checkout from 2 to 4 desired tasks', startedAt: '2024-11-24T14:09:01Z', finishedAt: '2024-11-24T14:10:30Z' },
    ] }],
    now: new Date('2024-11-24T15:00:00Z'),
  };
}

/** A rollback made by policy whose goal was missed (the alarm stayed ALARM); still open. */
function missedGoal(): RcaInput {
  const error = 'deploy.rollback: the call was made (prod/checkout: rolled back) but its goal not met within 10 min (40 checks): checkout-5xx is ALARM';
  const timeline = [
    entry('2024-11-24T14:02:10Z', 'alarm.received', { alarm: 'checkout-5xx', state: 'ALARM', reason: 'Threshold Crossed', stateChangedAt: '2024-11-24T14:02:00Z' }),
    entry('2024-11-24T14:02:10Z', 'incident.opened', { service: 'checkout', routed: true, alarm: 'checkout-5xx' }),
    entry('2024-11-24T14:02:40Z', 'approval.granted', { step: 'rollback', by: 'policy:recent-deploy', policy: 'recent-deploy', plan: 'roll back prod/checkout from checkout:42 to checkout:41' }),
    entry('2024-11-24T14:12:45Z', 'mitigation.goal_missed', { step: 'rollback', action: 'deploy.rollback', summary: 'goal not met within 10 min (40 checks): checkout-5xx is ALARM' }),
    entry('2024-11-24T14:12:45Z', 'step.failed', { step: 'rollback', action: 'deploy.rollback', error }),
  ];
  return {
    incident: incident({ onsetAt: '2024-11-24T14:02:00Z', openedAt: '2024-11-24T14:02:10Z', status: 'open' }),
    timeline,
    runs: [{ runbook: 'production-down', steps: [
      ...diagnostics('2024-11-24T14:02:30Z', '2024-11-24T14:01:00.000Z'),
      { id: 'rollback', action: 'deploy.rollback', status: 'failed', goal: 'missed', mutating: true, approval: 'policy', approvedBy: 'policy:recent-deploy', plan: 'roll back prod/checkout from checkout:42 to checkout:41', params: { cluster: 'prod', service: 'checkout' }, error, startedAt: '2024-11-24T14:02:40Z', finishedAt: '2024-11-24T14:12:45Z' },
    ] }],
    now: new Date('2024-11-24T14:20:00Z'),
  };
}

const CASES: Array<[string, () => RcaInput]> = [
  ['failed-mitigation', failedMitigation],
  ['missed-goal', missedGoal],
  ['rollback-by-policy', rollbackByPolicy],
  ['approvals-and-rejection', approvalsAndRejection],
  ['open-with-failed-step', openWithFailedStep],
];

// The golden files are real runs (the scenario suite's incidents): golden.spec.ts. These built
// inputs cover what the scenarios do not (two-person approvals, a failed mitigation, secrets).
describe('renderRca of built inputs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rca-lint-'));
  it.each(CASES)('%s passes markdownlint with the repository configuration', (name, build) => {
    const file = join(dir, `${name}.md`);
    writeFileSync(file, renderRca(build()));
    const lint = spawnSync(join(ROOT, 'node_modules/.bin/markdownlint-cli2'), ['--config', join(ROOT, '.markdownlint-cli2.jsonc'), file], { cwd: ROOT, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`).toContain('0 error(s)');
    expect(lint.status).toBe(0);
  });
});

describe('renderRca key times', () => {
  it('measures durations across midnight (23:58 onset, 00:07 resolved → 9m)', () => {
    const md = renderRca(rollbackByPolicy());
    expect(md).toContain('| Time to resolve (onset → resolved) | 10m |');
    expect(md).toContain('| Resolved (alarms back to OK) | 2024-11-23 00:07:00 UTC |');
    expect(md).toContain('| Time to mitigate (onset → mitigated) | 5m 10s |');
    expect(md).toContain('| 2024-11-23 00:07:00 | +10m |');
    expect(md).toContain('# RCA: checkout — checkout-5xx — 2024-11-22');
  });

  it('shows — for the moments that have not happened and the durations that depend on them', () => {
    const md = renderRca(openWithFailedStep());
    expect(md).toContain('| First human response | — |');
    expect(md).toContain('| Mitigated (first mitigating action succeeded) | — |');
    expect(md).toContain('| Resolved (alarms back to OK) | — |');
    expect(md).toContain('| Time to acknowledge (detected → first human response) | — |');
    expect(md).toContain('| Time to resolve (onset → resolved) | — |');
    expect(md).toContain('| Time to detect (impact started → incident opened) | 6s |');
  });

  it("measures the impact from the verdict's impactStartedAt, not from the alarm (time to detect was the alarm's 40 s)", () => {
    const model = buildRca(rollbackByPolicy());
    expect(model.keyTimes).toMatchObject({ onset: '2024-11-22T23:57:00.000Z', alarm: '2024-11-22T23:58:00.000Z', detected: '2024-11-22T23:58:40.000Z' });
    expect(model.durations.toDetectMs).toBe(100_000);
    expect(model.summary.impactWindow).toMatchObject({ start: '2024-11-22T23:57:00.000Z', durationMs: 600_000 });
    expect(renderRca(rollbackByPolicy())).toContain('| Time to detect (impact started → incident opened) | 1m 40s |');
  });

  it("falls back to the metrics step's impactStartedAt without a verdict, and to the alarm without either", () => {
    const input = failedMitigation();
    const metrics = input.runs[0].steps.find((s) => s.id === 'metrics')!;
    metrics.output = { ...metrics.output, impactStartedAt: '2024-11-24T13:55:00.000Z' };
    expect(buildRca(input).durations.toDetectMs).toBe(430_000);
    metrics.output = { ...metrics.output, impactStartedAt: null };
    expect(buildRca(input).durations.toDetectMs).toBe(10_000);
  });

  it('takes the first person, not a policy, as the first human response', () => {
    expect(renderRca(approvalsAndRejection())).toContain('| First human response | 2024-11-20 10:03:12 UTC |');
    expect(renderRca(rollbackByPolicy())).toContain('| First human response | — |');
  });

  it('formats durations with the two largest units', () => {
    expect(duration(0)).toBe('0s');
    expect(duration(192_000)).toBe('3m 12s');
    expect(duration(540_000)).toBe('9m');
    expect(duration(3_900_000)).toBe('1h 5m');
    expect(duration(93_600_000)).toBe('1d 2h');
  });
});

describe('renderRca content', () => {
  it('pre-fills the root cause when a rollback succeeded after a correlated deployment', () => {
    expect(renderRca(rollbackByPolicy())).toContain('Likely the deployment `checkout:42`: the alarm began 3 minutes after it, and rolling back (`rollback`) succeeded 5m 10s after onset.');
  });

  it('says "1 minute", not "1 minutes"', () => {
    const input = rollbackByPolicy();
    const deploy = input.runs[0].steps.find((s) => s.id === 'deploy')!;
    deploy.output = { ...deploy.output, minutesBeforeOnset: 1 };
    const md = renderRca(input);
    expect(md).toContain('the alarm began 1 minute after it');
    expect(md).not.toMatch(/\b1 minutes\b/);
  });

  it('writes findings as sentences, the verdict\'s evidence first, with no settle wait and no "N items"', () => {
    const input = rollbackByPolicy();
    input.runs[0].steps.push({ id: 'settle', action: 'wait', status: 'succeeded', mutating: false, summary: 'waited 120 s', output: { waitedSeconds: 120 } });
    input.runs[0].steps.push({ id: 'aurora', action: 'aurora.health', status: 'succeeded', mutating: false, summary: 'writer available', output: { readers: [{ id: 'r1' }], writer: { id: 'w1', status: 'available' } } });
    const model = buildRca(input);
    // deploy and logs carry the verdict's evidence (logs did not run here), then the rest as they ran.
    expect(model.findings.map((f) => f.step)).toEqual(['deploy', 'alb', 'metrics', 'aurora']);
    expect(model.findings[0].sentences[0].text).toBe('Evidence for the verdict: deployment checkout:42 landed at 23:55Z, 2 min before the impact began.');
    expect(model.findings.find((f) => f.step === 'metrics')!.sentences.map((s) => s.text)).toContain(
      'Target 5xx (checkout-tg) left its baseline (0.20) at 2024-11-22 23:57:00 UTC, peaking at 42 at 2024-11-22 23:58:00 UTC.',
    );
    const md = renderRca(input);
    expect(md).not.toMatch(/\d+ items?\b/);
    expect(md).not.toContain('settle');
  });

  it('gives the queries to re-run from what the actions write: metrics[].query, logs groups[].filterPattern, and every console link', () => {
    const metrics = buildRca(rollbackByPolicy()).findings.find((f) => f.step === 'metrics')!;
    expect(metrics.rerun).toEqual([{ kind: 'metric', value: { label: 'Target 5xx (checkout-tg)', namespace: 'AWS/ApplicationELB', name: 'HTTPCode_Target_5XX_Count', dimensions: { TargetGroup: 'targetgroup/checkout-tg/abc' }, stat: 'Sum', period: 60 } }]);
    expect(metrics.links).toEqual(['https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#metricsV2?graph=target5xx']);
    const logs = buildRca(approvalsAndRejection()).findings.find((f) => f.step === 'logs')!;
    expect(logs.rerun).toEqual([{ kind: 'logs', value: { logGroup: '/ecs/checkout', filterPattern: '?ERROR ?Exception', startTime: '2024-11-20T09:50:00.000Z', endTime: '2024-11-20T10:00:40.000Z' } }]);
    expect(logs.links).toHaveLength(2);
    expect(logs.sentences.map((s) => s.text)).toContain('ERROR timeout calling <ip> 300 times, first seen 2024-11-20 09:59:10 UTC, last seen 2024-11-20 10:00:40 UTC.');
    expect(renderRca(rollbackByPolicy())).toContain('In the console:\n\n- <https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#metricsV2?graph=target5xx>');
  });

  it('puts a recovery check that found "not recovered" under What went wrong, even when the incident resolved later', () => {
    const input = rollbackByPolicy();
    input.runs[0].steps.push({ id: 'verify', action: 'verify.recovery', status: 'succeeded', mutating: false, summary: 'not recovered after 300 s: checkout-5xx still ALARM', output: { recovered: false, alarms: [{ name: 'checkout-5xx', state: 'ALARM' }], waitedMs: 300_000, checks: 10 }, startedAt: '2024-11-23T00:02:10Z', finishedAt: '2024-11-23T00:04:00Z' });
    const wrong = buildRca(input).prompts.find((p) => p.title === 'What went wrong')!.items.map((i) => i.text);
    expect(wrong).toContain('verify found the service not recovered at 2024-11-23 00:04:00 UTC (not recovered after 300 s: checkout-5xx still ALARM); the alarms went back to OK 3m later.');
  });

  it('puts a mitigation that missed its goal first under What went wrong, and does not count it as mitigating', () => {
    const model = buildRca(missedGoal());
    const wrong = model.prompts.find((p) => p.title === 'What went wrong')!.items.map((i) => i.text);
    expect(wrong[0]).toBe('Mitigation rollback (deploy.rollback) was made but missed its goal: deploy.rollback: the call was made (prod/checkout: rolled back) but its goal not met within 10 min (40 checks): checkout-5xx is ALARM. It did not mitigate the incident; people were called in.');
    expect(wrong.filter((w) => w.includes(' rollback '))).toHaveLength(1);
    expect(model.outcome).toMatchObject({ outcome: 'not_mitigated', text: 'not mitigated: rollback changed production but missed its goal' });
    expect(model.keyTimes.mitigated).toBeNull();
    expect(model.actions[0]).toMatchObject({ step: 'rollback', goal: 'missed', called: true });
    const md = renderRca(missedGoal());
    expect(md).toContain('- Goal: **missed**: the call was made and did not work; the incident was not mitigated by it');
    expect(md).toMatch(/rollback missed its goal: the mitigation did not work/);
  });

  it('names who approved or rejected each action, and the policy', () => {
    const policy = renderRca(rollbackByPolicy());
    expect(policy).toContain('- Approval: granted by policy:recent-deploy');
    expect(policy).toContain('- Request id: `f3a1c2d4-0000-4000-8000-000000000001`');
    const people = renderRca(approvalsAndRejection());
    expect(people).toContain('- Approval: approved by alice and bob');
    expect(people).toContain('- Approval: rejected by carol: writer is fine \\| readers lag');
  });

  it('names each approver as the person, with the channel and the name the credential carried', () => {
    const input = approvalsAndRejection();
    const scaleUp = input.runs[0].steps.find((s) => s.id === 'scale-up')!;
    scaleUp.approvals = [{ by: 'alice', via: 'slack', as: 'U0ALICE01' }, { by: 'bob', via: 'token', as: 'bob@example.com' }];
    input.timeline = input.timeline.map((e) =>
      e.type === 'approval.recorded' ? { ...e, data: { ...e.data, via: 'slack', as: 'U0ALICE01' } } : e.type === 'approval.rejected' ? { ...e, data: { ...e.data, via: 'oidc' } } : e,
    );
    const md = renderRca(input);
    expect(md).toContain('- Approval: approved by alice (in Slack as U0ALICE01) and bob (with a personal token as bob\\@example.com)');
    expect(md).toContain('- Approval: rejected by carol (with an OIDC token): writer is fine \\| readers lag');
    expect(md).toContain('| Approval of step scale-up recorded (1 of 2) | alice (in Slack as U0ALICE01) |');
    expect(buildRca(input).actions[0].approval.by).toEqual(['alice', 'bob']);
  });

  it('escapes | in table cells and keeps the queries a reader re-runs', () => {
    const md = renderRca(approvalsAndRejection());
    expect(md).toContain('<https://grafana.example.com/d/abc> \\| conn');
    expect(md).toContain('To re-run (logs):');
    expect(md).toContain('"filterPattern": "?ERROR ?Exception"');
  });
});

describe('secrets', () => {
  const planted = ['hunter2', 'xoxb-123456-abcdef', 's3cret', 'eyJhbGciOi', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'sup3rs3cret', 'abc123def', 'toor'];

  it.each(CASES)('none planted in alarm reasons, step outputs, params and notes reaches the %s markdown', (_name, build) => {
    const md = renderRca(build());
    for (const secret of planted) expect(md).not.toContain(secret);
  });
});

/** What a reader sees of the markdown: escapes, code-span ticks and autolink brackets removed. */
function unmarkdown(md: string): string {
  return md
    .replace(/(?<!\\)<(https?:\/\/[^>]+)>/g, '$1')
    .replace(/(?<!\\)`/g, '')
    .replace(/\\([\\`*_[\]<>#|~@])/g, '$1');
}
const oneLine = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('rca.json (buildRca) and rca.md (renderRca) say the same', () => {
  it.each(CASES)('%s: the markdown is the rendering of the model', (_name, build) => {
    expect(renderRcaMarkdown(buildRca(build()))).toBe(renderRca(build()));
  });

  it.each(CASES)('%s: every timeline row, finding, action, key time and prompt of the model is in the markdown', (_name, build) => {
    const model = buildRca(build());
    const raw = renderRca(build());
    const md = unmarkdown(raw);
    expect(md).toContain(`# ${model.title.text}`);
    expect(md).toContain(`- **What happened**: ${model.summary.whatHappened.text}`);
    expect(model.timeline.length).toBeGreaterThan(0);
    for (const row of model.timeline) expect(md).toContain(`| ${oneLine(row.event)} | ${row.actor} |`);
    for (const time of Object.values(model.keyTimes)) if (time) expect(md).toContain(`${time.slice(0, 10)} ${time.slice(11, 19)} UTC`);
    for (const f of model.findings) {
      expect(md).toContain(`### ${f.runbook}: ${f.step} (${f.action})`);
      for (const h of f.highlights) expect(md).toContain(`- ${h.key}: ${h.value.text}`);
      for (const r of f.rerun) expect(raw).toContain(`To re-run (${r.kind}):\n\n\`\`\`json\n${JSON.stringify(r.value, null, 2)}`);
    }
    for (const a of model.actions) {
      expect(md).toContain(`### ${a.runbook}: ${a.step} (${a.action})`);
      expect(md).toContain(`- Approval: ${oneLine(a.approval.text)}`);
      // A call shows its request id; a step that made none says why, with no request id line.
      if (a.called) expect(md).toContain(`### ${a.runbook}: ${a.step} (${a.action})\n\n- Approval: ${oneLine(a.approval.text)}\n- Plan: ${a.plan ?? '—'}\n- Outcome: ${a.status}`);
      if (a.called) expect(md).toContain(`- Request id: ${a.requestId ?? '—'}`);
      else expect(md).toContain(`### ${a.runbook}: ${a.step} (${a.action})\n\n- Not called: ${oneLine(a.notCalled!)}\n- Approval:`);
    }
    for (const section of model.prompts) {
      expect(md).toContain(`### ${section.title}\n\n> ${section.prompt}`);
      for (const item of section.items) expect(md).toContain(`- ${item.text}`);
    }
    for (const note of model.notes) expect(md).toContain(`Note: ${oneLine(note.text)}`);
    if (model.verdict) {
      expect(md).toContain(`- **Cause**: ${model.verdict.cause} (confidence ${model.verdict.confidence.toFixed(2)})`);
      for (const e of model.verdict.hypotheses[0].evidence) expect(md).toContain(`- ${e.step}: ${e.text}${e.link ? ` (${e.link})` : ''}`);
      for (const g of model.verdict.gaps) expect(md).toContain(`- ${g.step}: ${g.reason}`);
    }
  });

  it.each(CASES)('%s: the model is plain JSON with no secret in it', (_name, build) => {
    const model = buildRca(build());
    const json = JSON.stringify(model);
    expect(JSON.parse(json)).toEqual(model);
    for (const secret of ['hunter2', 'xoxb-123456-abcdef', 's3cret', 'eyJhbGciOi', 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', 'sup3rs3cret', 'abc123def', 'toor']) {
      expect(json).not.toContain(secret);
    }
  });

  it('carries the verdict: its evidence with links, what it ruled out and the gaps; diagnose is no finding', () => {
    const model = buildRca(rollbackByPolicy());
    expect(model.verdict).toMatchObject({ cause: 'deployment', confidence: 0.95, gaps: [{ step: 'changes' }] });
    expect(model.findings.map((f) => f.step)).not.toContain('diagnose');
    const md = renderRca(rollbackByPolicy());
    expect(md).toContain('## Root cause and trigger (hypothesis)');
    expect(md).toContain('(<https://eu-west-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/deployments>)');
    expect(md).toMatch(/Ruled out:\n\n- database \(0\.10\): the writer of checkout-db is available/);
    expect(buildRca(openWithFailedStep()).verdict).toBeNull();
    expect(renderRca(openWithFailedStep())).not.toContain('Root cause and trigger (hypothesis)');
  });

  it('gives approvers and request ids as data', () => {
    const [rollback, scaleUp] = [buildRca(rollbackByPolicy()).actions[0], buildRca(approvalsAndRejection()).actions[0]];
    expect(rollback).toMatchObject({ step: 'rollback', requestId: 'f3a1c2d4-0000-4000-8000-000000000001', approval: { outcome: 'policy', by: ['policy:recent-deploy'] } });
    expect(scaleUp.approval).toEqual({ outcome: 'approved', by: ['alice', 'bob'], reason: null, text: 'approved by alice and bob' });
    expect(buildRca(approvalsAndRejection()).actions[1].approval).toMatchObject({ outcome: 'rejected', by: ['carol'], reason: 'writer is fine | readers lag' });
    expect(buildRca(rollbackByPolicy()).durations).toEqual({ toDetectMs: 100_000, toAcknowledgeMs: null, toMitigateMs: 310_000, toResolveMs: 600_000 });
    expect(buildRca(openWithFailedStep())).toMatchObject({ draft: true, status: 'open', summary: { impactWindow: { end: null, ongoing: true } } });
  });

  it('says an incident opened by hand had no alarm, and who opened it', () => {
    const input: RcaInput = {
      incident: incident({ status: 'open', title: 'Manual run of production-down by alice@example.com', onsetAt: '2024-11-21T08:15:00Z', openedAt: '2024-11-21T08:15:00Z', alarms: [] }),
      timeline: [entry('2024-11-21T08:15:00Z', 'incident.opened', { service: 'checkout', routed: true, manual: true, by: 'alice@example.com', runbook: 'production-down' })],
      runs: [{ runbook: 'production-down', steps: diagnostics('2024-11-21T08:15:10Z') }],
      now: new Date('2024-11-21T08:30:00Z'),
    };
    const model = buildRca(input);
    expect(model.alarm).toBeNull();
    expect(model.title.text).toBe('RCA: checkout — Manual run of production-down by alice@example.com — 2024-11-21');
    expect(model.summary.whatHappened.text).toBe('No alarm: the incident for checkout was opened by hand by alice@example.com (Manual run of production-down by alice@example.com).');
    expect(renderRca(input)).not.toContain('unknown alarm');
  });

  it('lists notes from the API with their author, who is the first human response', () => {
    const input = openWithFailedStep();
    input.timeline.push(entry('2024-11-21T08:20:00Z', 'note', { by: 'dana@example.com', author: 'dana@example.com', text: 'restarting the\nworkers', source: 'api' }));
    const model = buildRca(input);
    expect(model.notes).toEqual([{ id: expect.any(String), at: '2024-11-21T08:20:00Z', by: 'dana@example.com', text: 'restarting the\nworkers', source: 'api' }]);
    expect(model.keyTimes.firstHumanResponse).toBe('2024-11-21T08:20:00.000Z');
    expect(renderRca(input)).toContain('| 08:20:00 | +5m | Note: restarting the workers | dana\\@example.com |');
  });
});

/** Parses diagrams with mermaid's own grammars, in a child process (mermaid is ESM-only). */
function mermaidCheck(texts: string[]): Array<{ ok: boolean; error?: string }> {
  const run = spawnSync(process.execPath, [join(ROOT, 'test/support/mermaid-check.mjs')], { cwd: ROOT, input: JSON.stringify(texts.map((text) => ({ text }))), encoding: 'utf8' });
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as Array<{ ok: boolean; error?: string }>;
}

const diagramsIn = (md: string) => [...md.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((m) => m[1]);

describe('diagrams', () => {
  it.each(CASES)("%s: every mermaid diagram parses with mermaid's grammar", (_name, build) => {
    const diagrams = diagramsIn(renderRca(build()));
    expect(diagrams.length).toBeGreaterThan(0);
    expect(mermaidCheck(diagrams)).toEqual(diagrams.map(() => ({ ok: true })));
  });

  it("charts the alarm's metric with its baseline as a mermaid xychart", () => {
    const chart = diagramsIn(renderRca(rollbackByPolicy())).find((d) => d.startsWith('xychart-beta'))!;
    expect(chart).toContain('x-axis ["23:49", "23:50"');
    expect(chart).toContain('line [0, 1, 0, 0, 0, 1, 0, 0, 38, 39, 40, 41]');
    expect(chart).toContain('line [0.2, 0.2, 0.2');
  });

  it('the check refuses a broken diagram (so a pass means something)', () => {
    const [broken, badDate] = mermaidCheck(['gantt\n  section a\n  ::: nope ::', 'gantt\n  dateFormat YYYY-MM-DD HH:mm:ss\n  section a\n  x :t0, yesterday-ish, 2024-01-01 00:00:00']);
    expect(broken.ok).toBe(false);
    expect(badDate.ok).toBe(false);
  });

  it('draws the response as a gantt: the impact, the alarm, diagnostics, the approval wait, the mitigation, the recovery', () => {
    const gantt = diagramsIn(renderRca(failedMitigation())).find((d) => d.startsWith('gantt'))!;
    expect(gantt).toContain('Impact :crit, t0, 2024-11-24 14:01:00, 2024-11-24 14:21:00');
    expect(gantt).toContain('Alarm fired :milestone');
    expect(gantt).toContain('scale-up waits for approval :t6, 2024-11-24 14:04:00, 2024-11-24 14:09:00');
    expect(gantt).toMatch(/section Mitigation\n {2}rollback :crit, t\d+, 2024-11-24 14:02:40, 2024-11-24 14:03:30\n {2}scale-up :done/);
    expect(gantt).toContain('Resolved :milestone');
  });
});

describe('postmortem sections', () => {
  it('has the sections of a postmortem, with the full event log folded away', () => {
    const md = renderRca(rollbackByPolicy());
    const headings = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(['Summary', 'Impact', 'Root cause and trigger (hypothesis)', 'Detection', 'Timeline', 'Findings', 'Response and recovery', 'Action items', 'Lessons learned', '5 whys']);
    expect(md).toContain('<details>\n<summary>The full event log (7 entries)</summary>');
    expect(md).toContain('impact started 23:57:00 → alarm fired 23:58:00 (+1m) → incident opened 23:58:40 (+40s).');
  });

  it('condenses the timeline to decisions and turning points', () => {
    const model = buildRca(rollbackByPolicy());
    expect(model.decisions.map((d) => d.type)).toEqual(['alarm.received', 'incident.opened', 'approval.granted', 'step.succeeded', 'incident.resolved']);
    expect(model.decisions.find((d) => d.type === 'step.succeeded')!.event).toMatch(/^Step rollback succeeded/);
  });

  it('pre-fills action items from the verdict, its gaps and failures, and seeds the 5 whys with the verdict', () => {
    const model = buildRca(rollbackByPolicy());
    expect(model.actionItems.map((a) => [a.kind, a.item.text])).toEqual([
      ['prevent', 'Fix what the verdict blames, once confirmed: Deployment checkout:42 at 23:55Z introduced "NullPointerException" (confidence 0.95).'],
      ['prevent', 'Catch this kind of change before it reaches production for checkout (a test, a canary, or a deployment alarm that rolls back on its own).'],
      ['detect', 'Close the diagnostic gap changes: recent changes (CloudTrail) not checked: access denied (the role needs cloudtrail:LookupEvents)'],
    ]);
    expect(model.whys[0].answer?.text).toBe('Deployment checkout:42 at 23:55Z introduced "NullPointerException" (confidence 0.95). (hypothesis)');
    expect(model.whys).toHaveLength(5);
    expect(model.impact.errors5xx).toMatchObject({ label: 'Target 5xx (checkout-tg)', peak: 42, baseline: 0.2 });
  });
});
