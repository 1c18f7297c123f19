import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { type AwsOverlay, type OverlayRequest, awsError } from '../scenarios/support/aws-overlay';
import { client } from '../support/engine';
import { PROD_SIGNING_SECRET as SIGNING_SECRET, type ProdService, startProdService } from '../support/prod-service';
import { APPROVER_SLACK_ID, PROD_DOWN_AWS_STEPS, type ProdWorld, seedProdWorld, startsPerStep } from '../support/prod-world';
import { testRedis } from '../support/redis';
import { blockActionsBody, signSlackRequest } from '../support/slack-sign';
import type { SlackStub, StubMessage } from '../support/slack-stub';

/**
 * The shipped production-down runbook while AWS refuses: throttling on every call for its first
 * attempts (the SDK's own backoff gets through, the step never needs its retries), and
 * AccessDenied on a diagnostic (the run goes on, the failure names the IAM action) and on the
 * mutating call (failed once, never called again, and the approver reads why in Slack). AWS is
 * moto_server behind a local stand-in (test/scenarios/support/aws-overlay.ts) that answers the
 * faults and counts every attempt, routed there by AWS_ENDPOINT_URL.
 */
const { prefix, cleanup } = testRedis('aws-faults');
let world: ProdWorld;
let service: ProdService;
let overlay: AwsOverlay;
let slack: SlackStub;
let app: INestApplication;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  world = await seedProdWorld(process.env.MOTO_URL!, ['throttled', 'blind', 'locked']);
  service = await startProdService(prefix, world, process.env.MOTO_URL!);
  ({ app, overlay, slack } = service);
  api = client(app);
}, 60_000);

afterAll(async () => {
  await service?.close();
  world?.close();
  await cleanup();
});

/** Does this call concern the given ECS service (or is not about a service at all: metrics, logs)? */
const about = (req: OverlayRequest, service: string) => !JSON.stringify(req.params).match(/"(service|services)":/) || JSON.stringify(req.params).includes(`"${service}"`);
const text = (m: StubMessage) => `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;

describe('production-down while AWS refuses', () => {
  it('throttled on the first two attempts of every call: the SDK backs off and gets through, each step runs once, the rollback is made once', async () => {
    const from = overlay.log().length;
    overlay.on('*', {
      answer: (req) => (req.attempt > 0 && req.attempt < 3 ? awsError(req, 400, req.protocol === 'json' ? 'ThrottlingException' : 'Throttling', 'Rate exceeded') : undefined),
    });
    try {
      const incidentId = await api.alarm('throttled-5xx');
      const run = await api.waitRun(incidentId, ['succeeded', 'failed'], 90_000);
      const step = (id: string) => run.steps.find((s) => s.id === id)!;
      expect(run.status).toBe('succeeded');
      for (const id of ['ecs', 'metrics', 'logs', 'deploy', 'changes', 'diagnose', 'rollback', 'settle', 'verify']) expect([id, step(id).status]).toEqual([id, 'succeeded']);
      expect(step('diagnose').output).toMatchObject({ cause: 'deployment' });
      expect(step('rollback')).toMatchObject({ approval: 'policy' });
      expect(await world.taskDefinitionOf('throttled')).toBe(world.revisions.throttled[0]);

      // Every call the run made through the stand-in: three attempts each (two throttled, then moto's answer).
      const calls = new Map<string, { key: string; attempts: number[]; statuses: number[] }>();
      for (const c of overlay.log().slice(from)) {
        const call = calls.get(c.invocationId) ?? { key: c.key, attempts: [], statuses: [] };
        call.attempts.push(c.attempt);
        call.statuses.push(c.status);
        calls.set(c.invocationId, call);
      }
      expect(calls.size).toBeGreaterThanOrEqual(6);
      for (const call of calls.values()) expect(call).toEqual({ key: call.key, attempts: [1, 2, 3], statuses: [400, 400, 200] });
      const updates = [...calls.values()].filter((c) => c.key === 'ecs:UpdateService');
      expect(updates).toHaveLength(1);
      // The steps' own retries were never needed: each started once, none retried.
      const timeline = await api.timeline(incidentId);
      const starts = startsPerStep(timeline);
      for (const id of PROD_DOWN_AWS_STEPS) expect([id, starts[id]]).toEqual([id, 1]);
      expect(timeline.filter((e) => e.type === 'step.retrying')).toEqual([]);
    } finally {
      overlay.on('*', {});
    }
  }, 120_000);

  it('AccessDenied on a diagnostic: the run goes on to its verdict, the failure names the IAM action, and nothing is retried', async () => {
    const from = overlay.log().length;
    overlay.on('ecs:DescribeServices', {
      answer: (req) =>
        about(req, 'blind')
          ? awsError(req, 400, 'AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/responder/task is not authorized to perform: ecs:DescribeServices')
          : undefined,
    });
    try {
      const incidentId = await api.alarm('blind-5xx');
      const run = await api.waitRun(incidentId, ['succeeded', 'failed'], 60_000);
      const step = (id: string) => run.steps.find((s) => s.id === id)!;
      expect(step('ecs')).toMatchObject({ status: 'failed', error: expect.stringContaining('access denied: the role Responder runs as needs ecs:DescribeServices on ECS service') });
      expect(step('deploy')).toMatchObject({ status: 'failed', error: expect.stringContaining('ecs:DescribeServices') });
      // The other diagnostics and the verdict went on; the denied checks are gaps, not a stop.
      expect(step('metrics').status).toBe('succeeded');
      expect(step('logs').status).toBe('succeeded');
      expect(step('diagnose').status).toBe('succeeded');
      const gaps = (step('diagnose').output as { gaps: { step: string; reason: string }[] }).gaps;
      expect(gaps).toEqual(expect.arrayContaining([expect.objectContaining({ step: 'ecs', reason: expect.stringContaining('ecs:DescribeServices') })]));
      expect(step('rollback').status).toBe('skipped'); // nothing to roll back to without the deployment
      expect(await world.taskDefinitionOf('blind')).toBe(world.revisions.blind[1]);
      // One attempt per call (the SDK does not retry a denial), one start per step (nor does the engine).
      const denied = overlay.log().slice(from).filter((c) => c.key === 'ecs:DescribeServices');
      expect(denied.map((c) => [c.attempt, c.status])).toEqual([
        [1, 400],
        [1, 400],
      ]);
      const timeline = await api.timeline(incidentId);
      expect(startsPerStep(timeline)).toMatchObject({ ecs: 1, deploy: 1 });
      expect(timeline.filter((e) => e.type === 'step.retrying')).toEqual([]);
    } finally {
      overlay.on('ecs:DescribeServices', {});
    }
  }, 90_000);

  it('AccessDenied on the rollback: it fails once, is not called again, and the approver reads why in Slack', async () => {
    overlay.on('ecs:UpdateService', {
      answer: (req) =>
        about(req, 'locked')
          ? awsError(req, 400, 'AccessDeniedException', 'User: arn:aws:sts::123456789012:assumed-role/responder/task is not authorized to perform: ecs:UpdateService')
          : undefined,
    });
    const before = overlay.calls('ecs:UpdateService');
    try {
      // An hour after the deploy: outside the policy's window, so the approver is asked in Slack.
      const incidentId = await api.alarm('locked-5xx', 'ALARM', new Date(Date.now() + 60 * 60_000));
      await api.waitStep(incidentId, 'rollback', ['awaiting_approval'], 60_000);
      const asked = await slack.waitFor(() => slack.messages('#inc-locked').find((m) => JSON.stringify(m.blocks ?? []).includes('responder_approve')), 15_000);
      const button = (asked.blocks ?? [])
        .flatMap((b) => ((b as { type: string }).type === 'actions' ? (b as { elements: Array<{ action_id: string; value: string }> }).elements : []))
        .find((b) => b.action_id === 'responder_approve')!;
      const body = blockActionsBody({ userId: APPROVER_SLACK_ID, actionId: button.action_id, value: button.value, channelId: asked.channel, messageTs: asked.ts });
      await request(app.getHttpServer()).post('/slack/events').set(signSlackRequest(SIGNING_SECRET, body)).send(body).expect(200);

      const failed = await api.waitStep(incidentId, 'rollback', ['failed'], 60_000);
      expect(failed.error).toMatch(/^access denied: the role Responder runs as needs ecs:UpdateService on ECS service .*\/locked/);
      expect(overlay.calls('ecs:UpdateService') - before).toBe(1);
      const timeline = await api.timeline(incidentId);
      expect(startsPerStep(timeline).rollback).toBe(1);
      expect(timeline.filter((e) => e.type === 'step.retrying' || e.type === 'step.reconciling')).toEqual([]);
      expect(await world.taskDefinitionOf('locked')).toBe(world.revisions.locked[1]);
      // The message the approver clicked now says the rollback failed, and why.
      const decided = await slack.waitFor(() => slack.messages('#inc-locked').find((m) => m.ts === asked.ts && /ecs:UpdateService/.test(text(m))), 15_000);
      expect(text(decided)).toMatch(/:x: Failed in \d+s: access denied: the role Responder runs as needs ecs:UpdateService/);
      expect(text(decided)).not.toContain('responder_approve');
      // Still once, after the run moved on.
      await api.waitStep(incidentId, 'scale-up', ['awaiting_approval', 'skipped'], 30_000);
      expect(overlay.calls('ecs:UpdateService') - before).toBe(1);
    } finally {
      overlay.on('ecs:UpdateService', {});
    }
  }, 90_000);
});
