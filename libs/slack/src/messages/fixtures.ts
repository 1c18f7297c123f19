/*
 * Views for the message builder specs. Every time is fixed, so snapshots do not move; the step
 * outputs are typed with the actions' own `*Output` types, so a renamed field breaks the build
 * here before it silently empties a Slack finding.
 */
import type {
  AlbTargetHealthOutput,
  AuroraHealthOutput,
  EcsServiceStatusOutput,
  LogErrorsOutput,
  MetricsOutput,
  RecentDeploymentOutput,
  VerifyRecoveryOutput,
} from '@responder/aws/actions';
import type { IncidentAlarm } from '@responder/domain';
import type { IncidentView, RunView, StepView } from '../view';
import type { SlackMessage } from './format';

export const INCIDENT_ID = 'inc_01JD3M4X9QZ5';
export const RUN_ID = 'run_01JD3M4XA0B1';
export const ONSET = '2026-11-22T18:03:00.000Z';
export const OPENED = '2026-11-22T18:03:40.000Z';
export const NOW = '2026-11-22T18:25:10.000Z';
export const RESOLVED = '2026-11-22T18:45:30.000Z';
export const PARAMS_HASH = 'c0ffee1234abcd99';
export const ALARM_ARN = 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:checkout-5xx';
export const TG_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/6d0ecf831eec9f09';

/** Secrets that must never reach Slack, and what each looks like once planted in free text. */
export const SECRETS = ['xoxb-123456789012-abcdefABCDEF', 'AKIAABCDEFGHIJKLMNOP', 'hunter2hunter2'] as const;
export const SECRET_TEXT = `db login failed: token xoxb-123456789012-abcdefABCDEF key AKIAABCDEFGHIJKLMNOP password=hunter2hunter2`;

export const ALICE = 'U01ALICE0';
export const BOB = 'U02BOB000';
export const ONCALL = 'S01ONCALL';
export const APPROVERS = { slackUsers: [ALICE, BOB], slackUserGroups: [ONCALL] };
export const NO_APPROVERS = { slackUsers: [], slackUserGroups: [] };

/** Type-checked against an action's output type, stored as steps store it. */
export function asOutput<T extends object>(output: T): Record<string, unknown> {
  return output as unknown as Record<string, unknown>;
}

export function makeStep(overrides: Partial<StepView> & Pick<StepView, 'id' | 'action'>): StepView {
  return { mutating: false, status: 'pending', approvals: [], approversNeeded: 1, approvers: NO_APPROVERS, ...overrides };
}

export const alarm: IncidentAlarm = {
  name: 'checkout-5xx',
  arn: ALARM_ARN,
  kind: 'metric',
  state: 'ALARM',
  reason:
    'Threshold Crossed: 3 out of the last 3 datapoints [12.4 (22/11/26 18:02:00), 9.8 (22/11/26 18:01:00), 7.1 (22/11/26 18:00:00)] ' +
    'were greater than the threshold (5.0) (minimum 3 datapoints for OK -> ALARM transition).',
  stateChangedAt: ONSET,
};

export const albOutput: AlbTargetHealthOutput = {
  targetGroups: [
    {
      arn: TG_ARN,
      name: 'checkout-blue',
      targetType: 'ip',
      loadBalancerArns: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/prod-alb/50dc6c495c0c9188'],
      healthCheck: {
        enabled: true,
        protocol: 'HTTP',
        port: 'traffic-port',
        path: '/health',
        intervalSeconds: 30,
        timeoutSeconds: 5,
        healthyThreshold: 3,
        unhealthyThreshold: 2,
        matcher: '200',
      },
      total: 6,
      counts: { healthy: 2, unhealthy: 3, initial: 1, draining: 0, unused: 0, unavailable: 0, other: 0 },
      reasons: [
        { reason: 'Target.Timeout', count: 2, hint: 'No answer to the health check (HTTP /health on port 8080) within 5 s: …' },
        { reason: 'Target.ResponseCodeMismatch', count: 1, hint: 'The health check (HTTP /health on port 8080) answered with a code outside the expected 200: …' },
        { reason: 'Elb.InitialHealthChecking', count: 1, hint: 'The target is new …' },
      ],
      targetsNotHealthy: [
        { id: '10.0.1.12', port: 8080, availabilityZone: 'us-east-1a', state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out', hint: '…' },
        { id: '10.0.2.40', port: 8080, availabilityZone: 'us-east-1b', state: 'unhealthy', reason: 'Target.Timeout', description: 'Request timed out', hint: '…' },
        {
          id: '10.0.3.7',
          port: 8080,
          availabilityZone: 'us-east-1c',
          state: 'unhealthy',
          reason: 'Target.ResponseCodeMismatch',
          description: 'Health checks failed with these codes: [502]',
          hint: '…',
        },
        { id: '10.0.3.9', port: 8080, availabilityZone: 'us-east-1c', state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress', hint: '…' },
      ],
      targetsNotHealthyOmitted: 0,
    },
  ],
  totals: { healthy: 2, unhealthy: 3, initial: 1, draining: 0, unused: 0, unavailable: 0, other: 0, total: 6 },
  healthy: 2,
  unhealthy: 3,
  total: 6,
  reasons: { 'Target.Timeout': 2, 'Target.ResponseCodeMismatch': 1, 'Elb.InitialHealthChecking': 1 },
};

export const ecsOutput: EcsServiceStatusOutput = {
  cluster: 'prod',
  service: 'checkout',
  status: 'ACTIVE',
  desired: 8,
  running: 3,
  pending: 2,
  missing: 5,
  tasksMissing: true,
  launchType: 'FARGATE',
  capacityProviders: [],
  taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:42',
  deploymentController: 'ECS',
  rolloutState: 'IN_PROGRESS',
  rolloutStateReason: 'ECS deployment ecs-svc/1234567890 in progress.',
  deploymentInProgress: true,
  deployments: [
    {
      id: 'ecs-svc/1234567890',
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment ecs-svc/1234567890 in progress.',
      taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:42',
      desiredCount: 8,
      runningCount: 1,
      pendingCount: 2,
      failedTasks: 7,
      createdAt: '2026-11-22T17:58:00.000Z',
      updatedAt: '2026-11-22T18:10:00.000Z',
    },
    {
      id: 'ecs-svc/0987654321',
      status: 'ACTIVE',
      rolloutState: 'COMPLETED',
      rolloutStateReason: null,
      taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:41',
      desiredCount: 8,
      runningCount: 2,
      pendingCount: 0,
      failedTasks: 0,
      createdAt: '2026-11-20T09:00:00.000Z',
      updatedAt: '2026-11-20T09:06:00.000Z',
    },
  ],
  events: [
    { createdAt: '2026-11-22T18:09:00.000Z', message: '(service checkout) has started 2 tasks: (task 1a2b3c) (task 4d5e6f).' },
    { createdAt: '2026-11-22T18:08:00.000Z', message: '(service checkout) (task 9f8e7d) failed ELB health checks in (target-group ' + TG_ARN + ').' },
  ],
  stopped: 9,
  stoppedGroups: [
    {
      reason: 'Essential container in task exited',
      stopCode: 'EssentialContainerExited',
      containers: ['app: OutOfMemoryError: Container killed due to memory usage (exit 137)'],
      count: 7,
      oom: true,
      lastStoppedAt: '2026-11-22T18:07:00.000Z',
      taskIds: ['9f8e7d'],
    },
    {
      reason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/<id>)',
      stopCode: 'ServiceSchedulerInitiated',
      containers: [],
      count: 2,
      oom: false,
      lastStoppedAt: '2026-11-22T18:08:00.000Z',
      taskIds: ['1a2b3c'],
    },
  ],
  oomKills: 7,
  exitCodes: { '137': 7 },
};

export const logsOutput: LogErrorsOutput = {
  groups: [
    { logGroup: '/ecs/checkout', filterPattern: '?ERROR ?Error ?error ?Exception ?FATAL', startTime: '2026-11-22T17:58:00.000Z', events: 412, truncated: false },
    { logGroup: '/ecs/checkout-worker', filterPattern: '?ERROR ?Error ?error ?Exception ?FATAL', startTime: '2026-11-22T17:58:00.000Z', events: 0, truncated: false },
  ],
  events: 412,
  truncated: false,
  distinctSignatures: 3,
  signatures: [
    {
      signature: 'ERROR db pool exhausted: timeout after <n> ms waiting for a connection',
      count: 300,
      firstSeen: '2026-11-22T18:01:12.000Z',
      lastSeen: '2026-11-22T18:24:55.000Z',
      logGroups: ['/ecs/checkout'],
      sample: 'ERROR db pool exhausted: timeout after 5012 ms waiting for a connection (pool=primary size=20)',
    },
    {
      signature: 'Error: upstream payments returned "<str>" (<n>)',
      count: 100,
      firstSeen: '2026-11-22T18:02:30.000Z',
      lastSeen: '2026-11-22T18:20:01.000Z',
      logGroups: ['/ecs/checkout'],
      sample: 'Error: upstream payments returned "Service Unavailable" (503)',
    },
    {
      signature: 'FATAL heap out of memory',
      count: 12,
      firstSeen: '2026-11-22T18:05:00.000Z',
      lastSeen: '2026-11-22T18:07:00.000Z',
      logGroups: ['/ecs/checkout'],
      sample: 'FATAL heap out of memory',
    },
  ],
};

const metric = (id: string, label: string, name: string, stat: string, m: Partial<MetricsOutput['metrics'][number]>): MetricsOutput['metrics'][number] => ({
  id,
  label,
  query: { namespace: 'AWS/ApplicationELB', name, dimensions: {}, stat, period: 60 },
  status: 'Complete',
  baseline: null,
  baselineStdDev: null,
  current: null,
  peak: null,
  peakAt: null,
  changeRatio: null,
  startedMovingAt: null,
  points: 83,
  ...m,
});

export const metricsOutput: MetricsOutput = {
  window: { start: '2026-11-22T17:03:00.000Z', onset: ONSET, end: NOW, period: 60 },
  metrics: [
    metric('elb_5xx', 'prod-alb ELB 5xx', 'HTTPCode_ELB_5XX_Count', 'Sum', { baseline: 0, baselineStdDev: 0, current: 42, peak: 57, peakAt: '2026-11-22T18:05:00.000Z', startedMovingAt: '2026-11-22T18:03:00.000Z' }),
    metric('tg0_latency', 'checkout-blue response time (s)', 'TargetResponseTime', 'Average', { baseline: 0.21, baselineStdDev: 0.02, current: 4.87, peak: 5.02, peakAt: '2026-11-22T18:06:00.000Z', startedMovingAt: '2026-11-22T18:02:00.000Z' }),
    metric('tg0_requests', 'checkout-blue requests', 'RequestCount', 'Sum', { baseline: 1200, baselineStdDev: 80, current: 1180, peak: 1260, peakAt: '2026-11-22T18:04:00.000Z' }),
    metric('ecs_cpu', 'checkout CPU %', 'CPUUtilization', 'Average', { baseline: 35, baselineStdDev: 4, current: 91, peak: 97, peakAt: '2026-11-22T18:07:00.000Z', startedMovingAt: '2026-11-22T18:04:00.000Z' }),
    metric('ecs_memory', 'checkout memory %', 'MemoryUtilization', 'Average', { baseline: 60, baselineStdDev: 3, current: 62, peak: 65, peakAt: '2026-11-22T18:10:00.000Z', status: 'PartialData' }),
  ],
  cpuHigh: true,
  errorsUp: true,
  moved: ['elb_5xx', 'tg0_latency', 'ecs_cpu'],
};

export const deployOutput: RecentDeploymentOutput = {
  cluster: 'prod',
  service: 'checkout',
  controller: 'ECS',
  codedeployApplication: null,
  deploymentGroup: null,
  current: { id: 'ecs-svc/1234567890', taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:42', startedAt: '2026-11-22T17:52:00.000Z', completedAt: '2026-11-22T17:57:48.000Z', status: 'COMPLETED' },
  previous: { id: 'ecs-svc/0987654321', taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:41', startedAt: '2026-11-20T09:00:00.000Z', completedAt: null, status: 'ACTIVE' },
  inProgress: false,
  onset: ONSET,
  windowMinutes: 30,
  minutesBeforeOnset: 5.2,
  minutes_before_onset: 5.2,
  correlated: true,
};

export const deployUncorrelatedOutput: RecentDeploymentOutput = {
  ...deployOutput,
  controller: 'CODE_DEPLOY',
  codedeployApplication: 'checkout',
  deploymentGroup: 'checkout-prod',
  current: { id: 'd-ABCDEF123', taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:41', startedAt: '2026-11-20T09:00:00.000Z', completedAt: '2026-11-20T09:12:00.000Z', status: 'Succeeded' },
  previous: null,
  minutesBeforeOnset: 3411,
  minutes_before_onset: 3411,
  correlated: false,
};

export const auroraOutput: AuroraHealthOutput = {
  cluster: 'orders-db',
  status: 'failing-over',
  engine: 'aurora-postgresql',
  writer: { instanceId: 'orders-db-1', status: 'rebooting', availabilityZone: 'us-east-1a' },
  readers: [
    { instanceId: 'orders-db-2', status: 'available', availabilityZone: 'us-east-1b', promotionTier: 1, replicaLagMs: 18 },
    { instanceId: 'orders-db-3', status: 'available', availabilityZone: 'us-east-1c', promotionTier: 2, replicaLagMs: 1450 },
  ],
  members: [],
  events: [
    { at: '2026-11-22T18:02:10.000Z', message: 'Started cross AZ failover to DB instance: orders-db-2', categories: ['failover'], sourceId: 'orders-db' },
  ],
  failoverInProgress: true,
  healthiestReader: 'orders-db-2',
  verdict: 'writer-down',
  reasons: ['the writer orders-db-1 is rebooting', 'the cluster is failing-over', 'the reader orders-db-3 lags 1450 ms behind the writer'],
  metricsWindow: { start: '2026-11-22T18:15:10.000Z', end: NOW },
};

export const verifyOutput: VerifyRecoveryOutput = {
  recovered: false,
  alarms: [
    { name: 'checkout-5xx', state: 'ALARM', reason: 'Threshold Crossed: 1 datapoint [8.2] was greater than the threshold (5.0).', updatedAt: ONSET },
    { name: 'checkout-latency', state: 'OK', reason: 'Threshold Crossed: no datapoints were received', updatedAt: '2026-11-22T18:20:00.000Z' },
  ],
  targets: { unhealthy: 2, healthy: 4, total: 6 },
  waitedMs: 300_000,
  checks: 21,
};

export const verifyRecoveredOutput: VerifyRecoveryOutput = {
  recovered: true,
  alarms: [{ name: 'checkout-5xx', state: 'OK', reason: 'Threshold Crossed: 3 datapoints were not greater than the threshold (5.0).', updatedAt: RESOLVED }],
  targets: { unhealthy: 0, healthy: 8, total: 8 },
  waitedMs: 45_000,
  checks: 4,
};

const finished = (startedAt: string, finishedAt: string) => ({ startedAt, finishedAt });

/** The mutating step used for approvals, in each state of its life. */
export const scaleUp = makeStep({
  id: 'scale-up',
  action: 'ecs.scale-up',
  mutating: true,
  status: 'awaiting_approval',
  plan: 'UpdateService prod/checkout desiredCount 4 → 8',
  params: { cluster: 'prod', service: 'checkout', desiredCount: 8 },
  paramsHash: PARAMS_HASH,
  approval: 'pending',
  approvers: APPROVERS,
  requestedAt: '2026-11-22T18:10:00.000Z',
});

export const STEPS = {
  pending: makeStep({ id: 'verify', action: 'verify.recovery', status: 'pending' }),
  queued: makeStep({ id: 'logs', action: 'logs.errors', status: 'queued' }),
  running: makeStep({ id: 'metrics', action: 'cloudwatch.metrics', status: 'running', startedAt: '2026-11-22T18:04:00.000Z' }),
  succeeded: makeStep({
    id: 'alb',
    action: 'alb.target-health',
    status: 'succeeded',
    ...finished('2026-11-22T18:04:00.000Z', '2026-11-22T18:04:03.000Z'),
    summary: '3 of 6 targets unhealthy in checkout-blue: Target.Timeout ×2, Target.ResponseCodeMismatch ×1, Elb.InitialHealthChecking ×1',
    output: asOutput(albOutput),
  }),
  failed: makeStep({
    id: 'aurora',
    action: 'aurora.health',
    status: 'failed',
    ...finished('2026-11-22T18:04:00.000Z', '2026-11-22T18:04:31.000Z'),
    error: 'AccessDenied: User: arn:aws:sts::123456789012:assumed-role/responder/task is not authorized to perform: rds:DescribeDBClusters',
  }),
  skipped: makeStep({ id: 'rollback', action: 'deploy.rollback', mutating: true, status: 'skipped', reason: 'condition false: steps.deploy.output.correlated' }),
  cancelled: makeStep({ id: 'failover', action: 'aurora.failover', mutating: true, status: 'cancelled', reason: 'incident resolved before the step started' }),
  awaitingOne: { ...scaleUp },
  awaitingTwo: { ...scaleUp, approversNeeded: 2, approvals: [{ by: ALICE, at: '2026-11-22T18:12:00.000Z' }] },
  grantedByPerson: {
    ...scaleUp,
    status: 'succeeded',
    approval: 'granted',
    approvedBy: ALICE,
    approvals: [{ by: ALICE, at: '2026-11-22T18:12:00.000Z' }],
    ...finished('2026-11-22T18:12:01.000Z', '2026-11-22T18:12:09.000Z'),
    summary: 'scaled prod/checkout from 4 to 8 desired tasks',
  },
  grantedByTwo: {
    ...scaleUp,
    status: 'running',
    approval: 'granted',
    approversNeeded: 2,
    approvedBy: BOB,
    approvals: [
      { by: ALICE, at: '2026-11-22T18:12:00.000Z' },
      { by: BOB, at: '2026-11-22T18:13:30.000Z' },
    ],
    startedAt: '2026-11-22T18:13:31.000Z',
  },
  grantedByPolicy: {
    ...scaleUp,
    status: 'succeeded',
    approval: 'policy',
    approvedBy: 'policy:business-hours-scale-up',
    ...finished('2026-11-22T18:10:01.000Z', '2026-11-22T18:10:07.000Z'),
    summary: 'scaled prod/checkout from 4 to 8 desired tasks',
  },
  rejected: {
    ...scaleUp,
    status: 'rejected',
    approval: 'rejected',
    approvedBy: BOB,
    reason: 'traffic is already dropping, wait for the rollback',
    finishedAt: '2026-11-22T18:14:00.000Z',
  },
  timedOut: { ...scaleUp, status: 'timed_out', approval: 'timed_out', finishedAt: '2026-11-22T18:40:00.000Z' },
  dryRun: {
    ...scaleUp,
    status: 'succeeded',
    approval: 'granted',
    approvedBy: ALICE,
    approvals: [{ by: ALICE, at: '2026-11-22T18:12:00.000Z' }],
    dryRun: true,
    ...finished('2026-11-22T18:12:01.000Z', '2026-11-22T18:12:01.000Z'),
    summary: 'dry run: UpdateService prod/checkout desiredCount 4 → 8 not called',
  },
  failedAfterApproval: {
    ...scaleUp,
    status: 'failed',
    approval: 'granted',
    approvedBy: ALICE,
    approvals: [{ by: ALICE, at: '2026-11-22T18:12:00.000Z' }],
    ...finished('2026-11-22T18:12:01.000Z', '2026-11-22T18:12:02.000Z'),
    error: 'ThrottlingException: Rate exceeded',
  },
} satisfies Record<string, StepView>;

export function makeRun(steps: StepView[], overrides: Partial<RunView> = {}): RunView {
  return { id: RUN_ID, runbook: 'production-down', status: 'running', trigger: 'alarm checkout-5xx', steps, ...overrides };
}

export function makeView(overrides: Partial<IncidentView> = {}): IncidentView {
  return {
    id: INCIDENT_ID,
    status: 'open',
    service: 'checkout',
    title: 'checkout-5xx: ALB 5xx above 5% for 3 minutes',
    onsetAt: ONSET,
    openedAt: OPENED,
    resolvedAt: null,
    alarms: [alarm],
    runs: [
      makeRun([
        STEPS.succeeded,
        STEPS.failed,
        makeStep({
          id: 'deploy',
          action: 'deploy.recent',
          status: 'succeeded',
          ...finished('2026-11-22T18:04:00.000Z', '2026-11-22T18:04:02.000Z'),
          summary: 'prod/checkout (ECS): checkout:42 COMPLETED, 5.2 min before the onset; previous checkout:41; correlates with the alarm',
          output: asOutput(deployOutput),
        }),
        STEPS.running,
        STEPS.awaitingTwo,
        STEPS.pending,
      ]),
    ],
    mode: 'live',
    paused: null,
    now: NOW,
    ...overrides,
  };
}

/** A resolved incident: one change made on approval, one rejected, diagnostics done. */
export function resolvedView(overrides: Partial<IncidentView> = {}): IncidentView {
  return makeView({
    status: 'resolved',
    resolvedAt: RESOLVED,
    now: RESOLVED,
    alarms: [{ ...alarm, state: 'OK', reason: 'Threshold Crossed: 3 datapoints were not greater than the threshold (5.0).', stateChangedAt: RESOLVED }],
    runs: [
      makeRun(
        [
          STEPS.succeeded,
          makeStep({ id: 'deploy', action: 'deploy.recent', status: 'succeeded', ...finished('2026-11-22T18:04:00.000Z', '2026-11-22T18:04:02.000Z'), output: asOutput(deployOutput) }),
          { ...STEPS.grantedByTwo, status: 'succeeded', finishedAt: '2026-11-22T18:13:40.000Z', summary: 'scaled prod/checkout from 4 to 8 desired tasks' },
          { ...STEPS.rejected, id: 'rollback', action: 'deploy.rollback', plan: 'roll back prod/checkout from checkout:42 to checkout:41' },
          { ...STEPS.skipped, id: 'failover', action: 'aurora.failover', reason: 'condition false: steps.aurora.output.verdict == "writer-down"' },
          makeStep({ id: 'verify', action: 'verify.recovery', status: 'succeeded', ...finished('2026-11-22T18:44:00.000Z', '2026-11-22T18:44:45.000Z'), output: asOutput(verifyRecoveredOutput) }),
        ],
        { status: 'succeeded' },
      ),
    ],
    ...overrides,
  });
}

/** Every text object in a message (the notification text included), to check limits and leaks. */
export function textsOf(message: SlackMessage): string[] {
  const out: string[] = [message.text];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(message.blocks);
  return out;
}

/** The mrkdwn texts only (and the notification text, which Slack parses the same way). */
export function mrkdwnOf(message: SlackMessage): string[] {
  const out: string[] = [message.text];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(message.blocks);
  return out;
}
