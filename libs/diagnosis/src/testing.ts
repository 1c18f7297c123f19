import type { DiagnosisInput, StepEvidence } from './model';

/**
 * Small hand-made diagnostics for the specs: a healthy service at 10:00Z, which each spec bends
 * into one failure. Not exported from the lib's index.
 */

export const ONSET = '2026-12-07T10:00:00.000Z';

/** ISO time `m` minutes after the onset (negative: before). */
export function at(m: number): string {
  return new Date(Date.parse(ONSET) + m * 60_000).toISOString();
}

export function ok(output: Record<string, unknown>): StepEvidence {
  return { status: 'succeeded', output };
}

export function metric(id: string, label: string, baseline: number, current: number, startedMovingAt: string | null = null): Record<string, unknown> {
  return { id, label, baseline, current, peak: current, startedMovingAt, link: `https://eu-west-1.console.aws.amazon.com/cloudwatch/home#metric/${id}` };
}

export function sig(signature: string, firstSeen: string, count = 20, severity = 'ERROR'): Record<string, unknown> {
  return { signature, count, firstSeen, lastSeen: at(5), severity, sample: signature, link: 'https://eu-west-1.console.aws.amazon.com/cloudwatch/home#logsV2:logs-insights' };
}

export function healthySteps(): Record<string, StepEvidence> {
  return {
    alb: ok({ unhealthy: 0, healthy: 4, total: 4, reasons: {}, targetGroups: [{ name: 'checkout-blue', summary: 'all 4 targets healthy in checkout-blue', healthCheck: { path: '/health' }, link: 'https://console/tg' }] }),
    ecs: ok({ desired: 4, running: 4, missing: 0, oomKills: 0, exitCodes: {}, stoppedGroups: [], deployments: [{ taskDefinition: 'checkout:41', status: 'PRIMARY', rolloutState: 'COMPLETED', failedTasks: 0 }], events: [], link: 'https://console/ecs' }),
    metrics: ok({
      metrics: [
        metric('elb_5xx', 'prod-alb ELB 5xx', 0, 0),
        metric('tg0_latency', 'checkout-blue response time (s)', 0.1, 0.1),
        metric('tg0_requests', 'checkout-blue requests', 1000, 1000),
        metric('ecs_cpu', 'checkout CPU %', 35, 36),
        metric('ecs_memory', 'checkout memory %', 50, 51),
      ],
      cpuHigh: false,
      errorsUp: false,
      moved: [],
      impactStartedAt: null,
    }),
    logs: ok({ signatures: [], link: 'https://console/logs' }),
    // An older, unrelated deployment: noise every scenario carries.
    deploy: ok({ controller: 'ECS', current: { id: 'ecs-svc/1', taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:41', startedAt: at(-3 * 24 * 60), completedAt: at(-3 * 24 * 60 + 5), link: 'https://console/deploy' }, previous: null, correlated: false, inProgress: false, minutesBeforeOnset: 3 * 24 * 60 - 5 }),
    aurora: ok({ cluster: 'checkout-db', verdict: 'healthy', writer: { instanceId: 'checkout-db-1', status: 'available' }, failoverInProgress: false, events: [], reasons: [], link: 'https://console/rds' }),
    changes: ok({ changes: [] }),
  };
}

/** The healthy service with these steps replaced (or their output fields merged with `patch`). */
export function scenario(overrides: Record<string, StepEvidence>, patch: Record<string, Record<string, unknown>> = {}): DiagnosisInput {
  const steps = { ...healthySteps(), ...overrides };
  for (const [id, fields] of Object.entries(patch)) {
    const s = steps[id];
    steps[id] = { ...s, output: { ...(s.output ?? {}), ...fields } };
  }
  return { steps, onsetAt: ONSET };
}

/** A deployment of checkout:42 that landed `m` minutes after the onset (negative: before). */
export function deployedAt(m: number): Record<string, unknown> {
  return {
    controller: 'ECS',
    current: { id: 'ecs-svc/2', taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:42', startedAt: at(m - 4), completedAt: at(m), link: 'https://console/deploy/2' },
    previous: { id: null, taskDefinition: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/checkout:41', status: 'REVISION' },
    correlated: m <= 0,
    inProgress: false,
    minutesBeforeOnset: -m,
  };
}
