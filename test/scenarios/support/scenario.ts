import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { INGEST_KEY, startApp } from '../../support/app';
import { type RunView, type StepView, client, eventually, personToken } from '../../support/engine';
import { alarmEvent } from '../../support/events';
import { testRedis } from '../../support/redis';
import { type AwsOverlay, startAwsOverlay } from './aws-overlay';
import { type LogLine, type MetricsSeed, Production, type ServiceSeed, type TrailEvent, steady } from './production';
import { withoutGoals } from '../../support/runbook-text';

/**
 * The scenario harness: seeds one production failure (with the noise of a real one), sends the
 * alarm to the real service, runs the shipped production-down runbook, and checks the verdict,
 * the evidence it leads with, its gaps, and what was or was not changed without a person.
 */
export type Cause = 'deployment' | 'capacity' | 'memory' | 'dependency' | 'database' | 'health-check' | 'infrastructure' | 'configuration-change' | 'unknown';

export interface Verdict {
  cause: Cause;
  confidence: number;
  summary: string;
  hypotheses: { cause: Cause; confidence: number; summary: string; evidence: { step: string; text: string; link?: string }[]; against: { step: string; text: string }[] }[];
  gaps: { step: string; reason: string }[];
  impactStartedAt: string | null;
}

export interface ScenarioOutcome {
  run: RunView;
  step(id: string): StepView;
  output<T = Record<string, unknown>>(id: string): T;
  production: Production;
  verdict: Verdict | null;
  /** The verdict as GET /incidents/:id shows it. */
  apiVerdict: Verdict | null;
  /** The postmortem as GET /incidents/:id/rca.md serves it once the run settled and people did what `then` says. */
  rca: string;
}

export interface ScenarioDefinition {
  name: string;
  /** The checkout service (default: 4 tasks, all running, deployed three days ago). */
  checkout?: Partial<ServiceSeed> | ((p: Production) => Partial<ServiceSeed>);
  /** The line a health check leaves in checkout's log (default: `GET /healthz 200`). */
  healthCheckLine?: (minute: number) => string;
  /** EC2 hosts behind the target group, `stop` of them stopped (default 4, none stopped). */
  hosts?: { count: number; stop?: number };
  writerDown?: boolean;
  /** Metrics of checkout over the last 70 minutes (default: a healthy service). */
  metrics?: MetricsSeed;
  /** Checkout's log lines besides the health checks and routine INFO/WARN lines. */
  logs?: (p: Production) => LogLine[];
  /** CloudTrail events besides the routine ones. */
  trail?: (p: Production) => TrailEvent[];
  /** Anything else moto or the overlay should hold (target health, refused calls). */
  seed?: (p: Production) => Promise<void> | void;
  expect: {
    cause: Cause;
    /** At least this confident (default 0.5 for a cause, none for unknown). */
    minConfidence?: number;
    /** What the leading hypothesis must cite (with a console link): a step and the text of its finding. */
    evidence?: { step: string; text?: RegExp }[];
    /** Exactly these gaps (step ids, each reason matched when given). */
    gaps?: { step: string; reason?: RegExp }[];
    /** Mutating steps that ran without a person (policy); every other one did not. */
    automatic: string[];
    /** Mutating steps waiting for a person; every other one is not. */
    proposed: string[];
  };
  /**
   * What people do once the run settled (after the checks above are taken from the settled run):
   * approve or reject steps that wait for them (as alice, the on-call approver, with her personal
   * token), the alarm going back to OK (`recover`), the postmortem's owner and status. The RCA the
   * scenario keeps (and writes as its golden file) is the one after them.
   */
  then?: { approve?: string[]; reject?: string[]; recover?: boolean; postmortem?: { owner?: string; status?: 'draft' | 'review' | 'published' } };
  /** Assertions on the diagnostics' own outputs (what the verdict stands on). */
  evidence?: (o: ScenarioOutcome) => void;
}

const MUTATING = ['rollback', 'rollback-codedeploy', 'scale-up', 'failover'];
const TERMINAL_STEP = ['succeeded', 'failed', 'rejected', 'timed_out', 'skipped', 'cancelled'];
const ROOT = join(__dirname, '..', '..', '..');
const MIN = 60_000;

/** Routine lines of a healthy checkout task: ALB health checks every 30 s and INFO/WARN lines that mention errors without being any. */
function routineLogs(p: Production, from = -70, healthCheckLine?: (minute: number) => string): LogLine[] {
  const lines: LogLine[] = [];
  const until = Math.floor((Date.now() - p.onset.getTime()) / MIN);
  for (let m = from; m <= until; m += 0.5) {
    lines.push({ at: m, message: healthCheckLine?.(m) ?? `INFO  [http] GET /healthz 200 1.${Math.abs(Math.round(m * 7)) % 10}ms ua="ELB-HealthChecker/2.0"` });
    if (Number.isInteger(m) && m % 10 === 0) {
      lines.push({ at: m + 0.1, message: 'INFO  [cache] warmup done: 4812 keys, 0 errors in 212 ms' });
      lines.push({ at: m + 0.2, message: 'INFO  [retry] policy loaded: on error back off 200ms, max 3 attempts' });
      lines.push({ at: m + 0.3, message: 'WARN  [db] slow query 1204 ms: SELECT * FROM orders WHERE customer_id = $1' });
    }
  }
  return lines;
}

/** Changes every account has: autoscaling adjusting the service hours ago, the neighbour's CI deploy just now, read-only calls. */
function routineTrail(p: Production): TrailEvent[] {
  const serviceArn = `arn:aws:ecs:us-east-1:123456789012:service/${p.cluster}/${p.service}`;
  return [
    {
      at: -55,
      eventName: 'UpdateService',
      eventSource: 'ecs.amazonaws.com',
      who: { type: 'AssumedRole', name: 'AutoScaling', role: 'AWSServiceRoleForApplicationAutoScaling_ECSService' },
      resources: [{ type: 'AWS::ECS::Service', name: serviceArn }],
      requestParameters: { cluster: p.cluster, service: p.service, desiredCount: 4 },
    },
    {
      at: -6,
      eventName: 'UpdateService',
      eventSource: 'ecs.amazonaws.com',
      who: { type: 'AssumedRole', name: 'GitHubActions', role: 'github-actions-deploy' },
      resources: [{ type: 'AWS::ECS::Service', name: `arn:aws:ecs:us-east-1:123456789012:service/${p.cluster}/${p.neighbour}` }],
      requestParameters: { cluster: p.cluster, service: p.neighbour, taskDefinition: `${p.cluster}-search:18` },
    },
    {
      at: -3,
      eventName: 'DescribeServices',
      eventSource: 'ecs.amazonaws.com',
      who: { type: 'IAMUser', name: 'dave' },
      resources: [{ type: 'AWS::ECS::Service', name: serviceArn }],
      readOnly: true,
    },
  ];
}

function catalogYaml(p: Production): string {
  return `
approverGroups:
  oncall: { users: [alice@example.com], slackUsers: [U0ALICE01] }
services:
  checkout:
    description: Checkout API
    alarms: { patterns: ["checkout-*"] }
    ecs: { cluster: ${p.cluster}, service: checkout }
    loadBalancer:
      arn: ${p.loadBalancerArn}
      targetGroups: [${p.targetGroupArn}]
    logGroups: [${p.logGroup}]
    aurora: { cluster: ${p.aurora} }
    approvers: [oncall]
    # the runbook's recent-deploy policy decides the rollback (mutating actions default to ask)
    autonomy: { deploy.rollback: auto }
    limits: { minTasks: 2, maxTasks: 16, scaleUpFactor: 2, cooldownMinutes: 0, autoRollbackWindowMinutes: 30 }
  search:
    description: Search API, a healthy neighbour in the same cluster
    alarms: { patterns: ["search-*"] }
    ecs: { cluster: ${p.cluster}, service: search }
    logGroups: [${p.neighbourLogGroup}]
    approvers: [oncall]
    autonomy: { deploy.rollback: auto }
    limits: { maxTasks: 8, cooldownMinutes: 0, autoRollbackWindowMinutes: 30 }
`;
}

/** The alarm CloudWatch sends: checkout's ALB 5xx, with the metric it watches. */
function checkoutAlarm(p: Production, state: 'ALARM' | 'OK' = 'ALARM'): Record<string, unknown> {
  const event =
    state === 'ALARM'
      ? alarmEvent({ alarmName: 'checkout-alb-5xx', at: p.onset, reason: 'Threshold Crossed: 1 out of the last 1 datapoints was greater than the threshold (10.0)' })
      : alarmEvent({ alarmName: 'checkout-alb-5xx', state: 'OK', reason: 'Threshold Crossed: 1 out of the last 1 datapoints was not greater than the threshold (10.0)' });
  const metric = (event.detail.configuration as { metrics: { metricStat: { metric: { dimensions: Record<string, string> } } }[] }).metrics[0].metricStat.metric;
  metric.dimensions = { LoadBalancer: p.loadBalancerArn.split(':loadbalancer/')[1] };
  return event;
}

/** Waits until nothing more happens without a person: the run finished, or everything left waits for an approval. */
async function settled(api: ReturnType<typeof client>, incidentId: string): Promise<RunView> {
  let last = '';
  return eventually(
    'the run to settle',
    async () => {
      const [run] = await api.runs(incidentId);
      if (!run) return undefined;
      if (['succeeded', 'failed', 'aborted'].includes(run.status)) return run;
      const busy = run.steps.some((s) => s.status === 'queued' || s.status === 'running');
      const waiting = run.steps.some((s) => s.status === 'awaiting_approval');
      const diagnose = run.steps.find((s) => s.id === 'diagnose');
      const key = JSON.stringify(run.steps.map((s) => [s.id, s.status]));
      const stable = key === last;
      last = key;
      return !busy && waiting && (!diagnose || TERMINAL_STEP.includes(diagnose.status)) && stable ? run : undefined;
    },
    90_000,
  );
}

/** Does what `then` says, as people would, and waits until the service has taken it in. */
async function peopleAct(app: INestApplication, api: ReturnType<typeof client>, incidentId: string, then: ScenarioDefinition['then'], token: string, p: Production): Promise<void> {
  if (!then) return;
  const server = app.getHttpServer();
  for (const [verb, steps] of [['approve', then.approve ?? []], ['reject', then.reject ?? []]] as const) {
    for (const step of steps) {
      await request(server).post(`/incidents/${incidentId}/steps/${step}/${verb}`).set('Authorization', `Bearer ${token}`).send(verb === 'reject' ? { reason: 'not this one' } : {}).expect(200);
      await api.waitStep(incidentId, step, TERMINAL_STEP, 60_000);
    }
  }
  if (then.recover) {
    const ok = checkoutAlarm(p, 'OK');
    await request(server).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(ok).expect(202);
    await eventually('the incident to resolve and its runs to finish', async () => {
      const incident = (await api.get(`/incidents/${incidentId}`).expect(200)).body as { status: string; runs: RunView[] };
      return incident.status === 'resolved' && incident.runs.every((r) => r.status !== 'running') ? incident : undefined;
    }, 60_000);
  }
  if (then.postmortem) {
    await request(server).patch(`/incidents/${incidentId}/postmortem`).set('Authorization', `Bearer ${token}`).send(then.postmortem).expect(200);
  }
}

function record(def: ScenarioDefinition, outcome: ScenarioOutcome | null, error: string | null): void {
  const file = process.env.SCENARIO_RESULTS;
  if (!file) return;
  const steps = outcome?.run.steps ?? [];
  appendFileSync(
    file,
    `${JSON.stringify({
      scenario: def.name,
      testPath: expect.getState().testPath,
      expected: def.expect.cause,
      got: outcome ? (outcome.verdict?.cause ?? '(no verdict)') : '(no run)',
      confidence: outcome?.verdict?.confidence ?? null,
      automatic: steps.filter((s) => MUTATING.includes(s.id) && s.status === 'succeeded').map((s) => s.id),
      proposed: steps.filter((s) => MUTATING.includes(s.id) && s.status === 'awaiting_approval').map((s) => s.id),
      error,
    })}\n`,
  );
}

/** One scenario file = one call: seeds, runs, and declares the checks as separate tests. */
export function scenario(def: ScenarioDefinition): void {
  describe(`scenario: ${def.name}`, () => {
    const MOTO_URL = process.env.MOTO_URL!;
    const { prefix, cleanup, redis } = testRedis(`scenario-${def.name.replace(/\W+/g, '-')}`);
    let overlay: AwsOverlay | undefined;
    let production: Production | undefined;
    let app: INestApplication | undefined;
    let outcome: ScenarioOutcome | null = null;
    let failure: string | null = null;
    let originalTaskDefinition = '';

    beforeAll(async () => {
      try {
        overlay = await startAwsOverlay(MOTO_URL);
        const p = new Production(MOTO_URL, overlay);
        production = p;
        await p.network();
        await p.ecsCluster();
        await p.hosts(def.hosts?.count ?? 4, def.hosts?.stop ?? 0);
        await p.ecsService(p.neighbour, { desired: 2, images: ['search:1.17.0', 'search:1.18.0'], deployedAt: -5 });
        await p.ecsService(p.service, { desired: 4, images: ['checkout:2026.11.3', 'checkout:2026.11.4'], deployedAt: -3 * 24 * 60, ...(typeof def.checkout === 'function' ? def.checkout(p) : def.checkout) });
        originalTaskDefinition = p.taskDefinitions.at(-1)!;
        await p.auroraCluster({ writerDown: def.writerDown });
        await p.metrics({ requests: steady(1200), responseTime: steady(0.12), cpu: steady(38), memory: steady(52), ...def.metrics });
        await p.logLines(p.logGroup, [...routineLogs(p, -70, def.healthCheckLine), ...(def.logs?.(p) ?? [])]);
        await p.logLines(p.neighbourLogGroup, routineLogs(p, -20));
        p.cloudTrail([...routineTrail(p), ...(def.trail?.(p) ?? [])]);
        await def.seed?.(p);

        const dir = mkdtempSync(join(tmpdir(), 'scenario-'));
        const catalogFile = join(dir, 'catalog.yaml');
        writeFileSync(catalogFile, catalogYaml(p));
        // The shipped runbook; only the waits after a mitigation are shortened (moto never recovers).
        const runbook = withoutGoals(readFileSync(join(ROOT, 'runbooks', 'production-down.yaml'), 'utf8'))
          .replace('settle_seconds: { default: 120,', 'settle_seconds: { default: 1,')
          .replace('verify_seconds: { default: 300,', 'verify_seconds: { default: 0,');
        process.env.AWS_ENDPOINT_URL = overlay.url;
        const { awsActions } = await import('@responder/aws/actions');
        ({ app } = await startApp(prefix, {}, { catalogFile, runbooks: [runbook], actions: awsActions({ region: 'us-east-1' }) }));
        const api = client(app);
        const res = await request(app.getHttpServer()).post('/events/eventbridge').set('x-api-key', INGEST_KEY).send(checkoutAlarm(p)).expect(202);
        const incidentId = (res.body as { incidentId: string }).incidentId;
        const run = await settled(api, incidentId);
        const incident = (await api.get(`/incidents/${incidentId}`).expect(200)).body as { verdict?: Verdict | null };
        const diagnose = run.steps.find((s) => s.id === 'diagnose');
        const verdict = (diagnose?.output as Verdict | undefined) ?? null;
        const step = (id: string): StepView => {
          const found = run.steps.find((s) => s.id === id);
          if (!found) throw new Error(`the run has no step ${id} (steps: ${run.steps.map((s) => s.id).join(', ')})`);
          return found;
        };
        await peopleAct(app, api, incidentId, def.then, await personToken(redis, prefix, 'alice@example.com'), p);
        const rca = (await api.get(`/incidents/${incidentId}/rca.md`).expect(200)).text;
        outcome = { run, step, output: <T>(id: string) => (step(id).output ?? {}) as T, production: p, verdict, apiVerdict: incident.verdict ?? null, rca };
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
        throw error;
      }
    }, 120_000);

    afterAll(async () => {
      record(def, outcome, failure);
      await app?.close();
      delete process.env.AWS_ENDPOINT_URL;
      await overlay?.close();
      production?.close();
      await cleanup();
    });

    const o = (): ScenarioOutcome => {
      if (!outcome) throw new Error(`the scenario did not run: ${failure ?? 'unknown'}`);
      return outcome;
    };

    if (def.evidence) {
      it('gathers the evidence the verdict stands on', () => {
        // SCENARIO_DEBUG=1 prints what each step found, to see why a scenario fails.
        if (process.env.SCENARIO_DEBUG) process.stderr.write(`${JSON.stringify(o().run.steps.map((s) => ({ id: s.id, status: s.status, error: s.error, output: s.output })), null, 1)}\n`);
        def.evidence!(o());
      });
    }

    it('writes a postmortem: impact from when the metrics moved, the verdict, the request id of each AWS call, diagrams that parse', () => {
      const { rca, run, output } = o();
      // UPDATE_GOLDEN=1 keeps this real run's document as a golden file (linted and parsed in libs/rca's spec).
      // Named after the scenario's file: bad-deployment.spec.ts → scenario-bad-deployment.md.
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(join(ROOT, `test/fixtures/rca/scenario-${basename(expect.getState().testPath!, '.spec.ts')}.md`), rca);
      const impact = output<{ impactStartedAt?: string | null }>('metrics').impactStartedAt;
      if (impact) expect(rca).toContain(`- **Window**: ${impact.slice(0, 10)} ${impact.slice(11, 19)} UTC (impact started)`);
      expect(rca).toContain('## Root cause and trigger (hypothesis)');
      expect(rca).not.toMatch(/\b1 minutes\b|\d+ items?\b/);
      for (const s of run.steps.filter((x) => MUTATING.includes(x.id) && x.status === 'succeeded' && !x.output?.skipped)) {
        const requestId = (s.output as { requestId?: string } | undefined)?.requestId;
        expect(requestId).toEqual(expect.any(String));
        expect(rca).toContain(`- Request id: \`${requestId}\``);
      }
      const diagrams = [...rca.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((m) => ({ text: m[1] }));
      expect(diagrams.length).toBeGreaterThan(0);
      const check = spawnSync(process.execPath, [join(ROOT, 'test/support/mermaid-check.mjs')], { input: JSON.stringify(diagrams), encoding: 'utf8' });
      expect(JSON.parse(check.stdout)).toEqual(diagrams.map(() => ({ ok: true })));
    });

    it(`diagnoses ${def.expect.cause}`, () => {
      const { verdict } = o();
      expect(verdict).not.toBeNull();
      expect(verdict!.cause).toBe(def.expect.cause);
      const min = def.expect.minConfidence ?? (def.expect.cause === 'unknown' ? 0 : 0.5);
      expect(verdict!.confidence).toBeGreaterThanOrEqual(min);
      expect(verdict!.summary.length).toBeGreaterThan(0);
      expect(o().apiVerdict).toMatchObject({ cause: verdict!.cause, confidence: verdict!.confidence, summary: verdict!.summary });
      if (def.expect.cause !== 'unknown') expect(verdict!.hypotheses[0]?.cause).toBe(def.expect.cause);
    });

    if (def.expect.evidence?.length) {
      it('leads with the evidence that names the cause', () => {
        const top = o().verdict?.hypotheses[0];
        expect(top).toBeDefined();
        for (const want of def.expect.evidence!) {
          // Each cited finding links to the console page that shows it, in the service's region.
          const item = expect.objectContaining({ step: want.step, link: expect.stringMatching(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\//), ...(want.text ? { text: expect.stringMatching(want.text) } : {}) });
          expect(top!.evidence).toEqual(expect.arrayContaining([item]));
        }
      });
    }

    if (def.expect.gaps) {
      it(def.expect.gaps.length ? `names its gaps: ${def.expect.gaps.map((g) => g.step).join(', ')}` : 'has no gaps', () => {
        const gaps = o().verdict?.gaps ?? [];
        expect(gaps.map((g) => g.step).sort()).toEqual(def.expect.gaps!.map((g) => g.step).sort());
        for (const want of def.expect.gaps!) {
          if (want.reason) expect(gaps.find((g) => g.step === want.step)?.reason).toMatch(want.reason);
        }
      });
    }

    it(
      `changes production without a person: ${def.expect.automatic.join(', ') || 'nothing'}; waits for a person: ${def.expect.proposed.join(', ') || 'nothing'}`,
      async () => {
        const { run, production: p } = o();
        const automatic = run.steps.filter((s) => MUTATING.includes(s.id) && s.status === 'succeeded').map((s) => s.id);
        const proposed = run.steps.filter((s) => MUTATING.includes(s.id) && s.status === 'awaiting_approval').map((s) => s.id);
        expect({ automatic, proposed }).toEqual({ automatic: [...def.expect.automatic].sort(), proposed: [...def.expect.proposed].sort() });
        for (const id of automatic) expect(run.steps.find((s) => s.id === id)?.approvedBy).toMatch(/^policy:/);
        // What production runs now, read from moto itself rather than from the step's own report.
        const ecs = new ECSClient({ endpoint: process.env.MOTO_URL });
        try {
          const svc = (await ecs.send(new DescribeServicesCommand({ cluster: p.cluster, services: [p.service] }))).services![0];
          expect(svc.taskDefinition).toBe(def.expect.automatic.includes('rollback') ? p.taskDefinitions.at(-2) : originalTaskDefinition);
        } finally {
          ecs.destroy();
        }
      },
    );
  });
}
