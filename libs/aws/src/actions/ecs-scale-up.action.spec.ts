import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand } from '@aws-sdk/client-application-auto-scaling';
import {
  AccessDeniedException,
  DescribeServicesCommand,
  ECSClient,
  InvalidParameterException,
  ServerException,
  ServiceNotFoundException,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { ApplicationAutoScalingAdapter } from '../app-autoscaling.adapter';
import { EcsAdapter } from '../ecs.adapter';
import { NotAppliedError } from '../errors';
import { ecsScaleUpAction, scaleUpPlanSummary, scaleUpParams, scaleUpTarget } from './ecs-scale-up.action';

const CLUSTER = 'prod';
const SERVICE = 'checkout';
const PARAMS = { cluster: CLUSTER, service: SERVICE, max_tasks: 24, factor: 2 };

const ctx = (): ActionContext => ({
  incidentId: 'inc-1',
  runId: 'run-1',
  stepId: 'scale-up',
  idempotencyKey: 'run-1:scale-up#1',
  signal: new AbortController().signal,
  dryRun: false,
});

/** An ECS mock whose desired count UpdateService really changes, and an Application Auto Scaling mock. */
function setup(desiredCount: number, scalableMax: number | null = null) {
  const ecsClient = new ECSClient({ region: 'us-east-1' });
  const aasClient = new ApplicationAutoScalingClient({ region: 'us-east-1' });
  const ecs = mockClient(ecsClient);
  const aas = mockClient(aasClient);
  const state = { desiredCount };
  ecs.on(DescribeServicesCommand).callsFake(() => ({
    services: [{ serviceName: SERVICE, status: 'ACTIVE', desiredCount: state.desiredCount, runningCount: 1, pendingCount: 0, deployments: [] }],
    failures: [],
  }));
  ecs.on(UpdateServiceCommand).callsFake((input: { desiredCount: number }) => {
    state.desiredCount = input.desiredCount;
    return { service: { serviceName: SERVICE, desiredCount: input.desiredCount }, $metadata: { requestId: `req-scale-${input.desiredCount}` } };
  });
  aas.on(DescribeScalableTargetsCommand).resolves({
    ScalableTargets:
      scalableMax === null
        ? []
        : [{ ServiceNamespace: 'ecs', ResourceId: `service/${CLUSTER}/${SERVICE}`, ScalableDimension: 'ecs:service:DesiredCount', MinCapacity: 2, MaxCapacity: scalableMax, RoleARN: 'r', CreationTime: new Date() }],
  });
  const action = ecsScaleUpAction(new EcsAdapter({ client: ecsClient }), new ApplicationAutoScalingAdapter({ client: aasClient }));
  return { ecs, aas, state, action };
}

const failure = (p: Promise<unknown>) => p.then(() => new Error('resolved'), (e: unknown) => e as Error);

describe('scaleUpTarget', () => {
  it.each([
    [3, 24, 2, null, 6, null],
    [3, 4, 2, null, 4, 'catalog'],
    [3, 24, 2, 5, 5, 'autoscaling'],
    [3, 4, 2, 5, 4, 'catalog'],
    [3, 4, 2, 3, 3, 'autoscaling'],
    [5, 24, 1.5, null, 8, null],
  ])('current %i, max_tasks %i, factor %d, autoscaling max %p → %i (capped by %p)', (current, maxTasks, factor, autoscalingMax, target, cappedBy) => {
    expect(scaleUpTarget(current, { maxTasks, factor, autoscalingMax })).toEqual({ target, cappedBy });
  });
});

describe('ecs.scale-up', () => {
  it('pre-checks the plan: it holds while the desired count is still the one it was made from, without a call', async () => {
    const { ecs, state, action } = setup(4);
    const params = { cluster: 'prod', service: 'checkout', max_tasks: 20, factor: 2, from: 4 };
    const signal = new AbortController().signal;
    expect(await action.precheck!(params, { signal })).toEqual({ holds: true, checked: 'prod/checkout still wants 4 tasks' });
    state.desiredCount = 6;
    expect(await action.precheck!(params, { signal })).toEqual({ holds: false, reason: "prod/checkout now wants 6 tasks, not the plan's 4" });
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('plans without calling AWS: the formula, and the lock resource', () => {
    const { ecs, aas, action } = setup(3);
    expect(action.plan(PARAMS)).toEqual({
      summary: "UpdateService prod/checkout desiredCount → min(24, ceil(current × 2)), at most Application Auto Scaling's max capacity",
      resource: 'ecs:prod/checkout',
    });
    expect(ecs.calls()).toHaveLength(0);
    expect(aas.calls()).toHaveLength(0);
  });

  it.each([
    [{ ...PARAMS, max_tasks: 0 }, /"max_tasks" must be a whole number from 1/],
    [{ ...PARAMS, max_tasks: '24' }, /"max_tasks" must be a whole number/],
    [{ ...PARAMS, factor: 0.5 }, /"factor" must be a number from 1 to 10, got 0.5/],
    [{ ...PARAMS, cluster: undefined }, /"cluster" must be a non-empty string, got nothing/],
  ])('refuses bad parameters when planning: %p', (params, message) => {
    const { action } = setup(3);
    expect(() => action.plan(params)).toThrow(PermanentActionError);
    expect(() => action.plan(params)).toThrow(message);
  });

  it('raises the desired count to ceil(current × factor)', async () => {
    const { ecs, state, action } = setup(3);
    const result = await action.run(PARAMS, ctx());
    expect(result.output).toMatchObject({ from: 3, to: 6, desiredCount: 6, cappedBy: null, requestId: 'req-scale-6' });
    expect(result.summary).toBe('scaled prod/checkout from 3 to 6 desired tasks');
    expect(ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input)).toEqual([{ cluster: CLUSTER, service: SERVICE, desiredCount: 6 }]);
    expect(state.desiredCount).toBe(6);
  });

  it('stops at the catalog max_tasks', async () => {
    const { state, action } = setup(3);
    const result = await action.run({ ...PARAMS, max_tasks: 4 }, ctx());
    expect(result.output).toMatchObject({ from: 3, to: 4, cappedBy: 'catalog' });
    expect(state.desiredCount).toBe(4);
  });

  it("stops at Application Auto Scaling's max capacity, which would otherwise undo the scale-up", async () => {
    const { aas, state, action } = setup(3, 5);
    const result = await action.run(PARAMS, ctx());
    expect(result.output).toMatchObject({ from: 3, to: 5, cappedBy: 'autoscaling', limits: { maxTasks: 24, factor: 2, autoscalingMax: 5 } });
    expect(result.summary).toBe('scaled prod/checkout from 3 to 5 desired tasks, capped by Application Auto Scaling max capacity');
    expect(state.desiredCount).toBe(5);
    expect(aas.commandCalls(DescribeScalableTargetsCommand)[0].args[0].input).toEqual({
      ServiceNamespace: 'ecs',
      ResourceIds: ['service/prod/checkout'],
      ScalableDimension: 'ecs:service:DesiredCount',
    });
  });

  it('is a skip, not a call, when the service is already at the target', async () => {
    const { ecs, action } = setup(24);
    const result = await action.run(PARAMS, ctx());
    expect(result.output).toMatchObject({ skipped: true, reason: 'already at 24 tasks', desiredCount: 24 });
    expect(result.summary).toBe('prod/checkout: already at 24 tasks (catalog max 24), not scaled');
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('is safe to run twice: the second run finds the limit reached and makes no call', async () => {
    const { ecs, state, action } = setup(5);
    const params = { ...PARAMS, max_tasks: 8 };
    expect((await action.run(params, ctx())).output).toMatchObject({ from: 5, to: 8 });
    expect((await action.run(params, ctx())).output).toMatchObject({ skipped: true, reason: 'already at 8 tasks', desiredCount: 8 });
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1);
    expect(state.desiredCount).toBe(8);
  });

  it('announces its call after its reads and right before UpdateService, and not when it skips', async () => {
    const { ecs, action } = setup(3);
    expect(action.announcesCall).toBe(true);
    const order: string[] = [];
    const calling = jest.fn(() => {
      order.push(`calling after ${ecs.commandCalls(DescribeServicesCommand).length} read(s), ${ecs.commandCalls(UpdateServiceCommand).length} update(s)`);
      return Promise.resolve();
    });
    await action.run(PARAMS, { ...ctx(), calling });
    expect(order).toEqual(['calling after 1 read(s), 0 update(s)']);
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(1);

    const skip = setup(24);
    const notCalling = jest.fn(() => Promise.resolve());
    await skip.action.run(PARAMS, { ...ctx(), calling: notCalling });
    expect(notCalling).not.toHaveBeenCalled();
  });

  it('makes no call when announcing it fails (the engine gave the attempt up)', async () => {
    const { ecs, action } = setup(3);
    await expect(action.run(PARAMS, { ...ctx(), calling: () => Promise.reject(new Error('given up')) })).rejects.toThrow('given up');
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('leaves a service scaled to zero alone', async () => {
    const { ecs, action } = setup(0);
    expect((await action.run(PARAMS, ctx())).output).toMatchObject({ skipped: true, desiredCount: 0 });
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('reconcile reports the desired count and never calls UpdateService', async () => {
    const { ecs, action } = setup(6);
    const result = await action.reconcile!(PARAMS, ctx());
    expect(result.output).toEqual({ reconciled: true, desiredCount: 6, runningCount: 1 });
    expect(result.summary).toBe('prod/checkout: an earlier attempt was interrupted; desired count is now 6 (not changed again)');
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('fails for good, naming ecs:UpdateService, when access is denied', async () => {
    const { ecs, action } = setup(3);
    ecs.on(UpdateServiceCommand).rejects(
      new AccessDeniedException({ message: 'User: arn:aws:sts::123456789012:assumed-role/responder/t is not authorized to perform: ecs:UpdateService', $metadata: { httpStatusCode: 400 } }),
    );
    const error = await failure(action.run(PARAMS, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toMatch(/^access denied: the role Responder runs as needs ecs:UpdateService on ECS service prod\/checkout \(AWS: AccessDeniedException: User: .* is not authorized/);
  });

  it('fails for good, naming application-autoscaling:DescribeScalableTargets, when that is denied', async () => {
    const { aas, ecs, action } = setup(3);
    // Not a modelled error of the client: the SDK gives a plain ServiceException with this name.
    aas.on(DescribeScalableTargetsCommand).rejects(Object.assign(new Error('User is not authorized to perform: application-autoscaling:DescribeScalableTargets'), { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } }));
    const error = await failure(action.run(PARAMS, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toContain('needs application-autoscaling:DescribeScalableTargets on scalable target service/prod/checkout');
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it('fails for good, naming the service, on ServiceNotFoundException', async () => {
    const { ecs, action } = setup(3);
    ecs.on(UpdateServiceCommand).rejects(new ServiceNotFoundException({ message: 'Service not found.', $metadata: { httpStatusCode: 400 } }));
    const error = await failure(action.run(PARAMS, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toBe('ECS service "checkout" not found in cluster "prod" (ServiceNotFoundException: Service not found.)');
  });

  it('fails for good on a validation error', async () => {
    const { ecs, action } = setup(3);
    ecs.on(UpdateServiceCommand).rejects(new InvalidParameterException({ message: 'desiredCount too high', $metadata: { httpStatusCode: 400 } }));
    const error = await failure(action.run(PARAMS, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toBe('ecs:UpdateService on ECS service prod/checkout was refused: InvalidParameterException: desiredCount too high');
  });

  it('a 5xx after the SDK retries may have changed the service: a plain error, so the retry reconciles', async () => {
    const { ecs, action } = setup(3);
    ecs.on(UpdateServiceCommand).rejects(new ServerException({ message: 'internal', $metadata: { httpStatusCode: 500, attempts: 5 } }));
    const error = await failure(action.run(PARAMS, ctx()));
    expect(error).not.toBeInstanceOf(PermanentActionError);
    expect((error as { notApplied?: boolean }).notApplied).toBeUndefined();
    expect(error.message).toBe('ecs:UpdateService on ECS service prod/checkout failed after 5 attempts: ServerException: internal');
  });

  it('a throttled UpdateService did not happen: notApplied, so the retry may call again', async () => {
    const { ecs, action } = setup(3);
    ecs.on(UpdateServiceCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400, attempts: 5 } }));
    const error = await failure(action.run(PARAMS, ctx()));
    expect(error).toBeInstanceOf(NotAppliedError);
    expect((error as NotAppliedError).notApplied).toBe(true);
  });
});

describe('ecs.scale-up with from (the desired count the plan starts from)', () => {
  const FROM = { ...PARAMS, from: 4 };
  const updates = (ecs: ReturnType<typeof setup>['ecs']) => ecs.commandCalls(UpdateServiceCommand).map((c) => c.args[0].input);

  it('plans the exact numbers without calling AWS', () => {
    const { ecs, aas, action } = setup(4);
    expect(action.plan(FROM)).toEqual({ summary: 'UpdateService prod/checkout desiredCount 4 → 8', resource: 'ecs:prod/checkout' });
    expect(action.plan({ ...PARAMS, factor: 1.5, from: 5 }).summary).toBe('UpdateService prod/checkout desiredCount 5 → 8');
    expect(ecs.calls()).toHaveLength(0);
    expect(aas.calls()).toHaveLength(0);
  });

  it('says so in the plan when max_tasks caps the target', () => {
    const { action } = setup(20);
    expect(action.plan({ ...PARAMS, from: 20 }).summary).toBe('UpdateService prod/checkout desiredCount 20 → 24 (capped at max_tasks 24)');
  });

  it('plans no call when the approved count is already at or above the target, or 0', () => {
    expect(scaleUpPlanSummary(scaleUpParams({ ...PARAMS, from: 30 }))).toBe('no UpdateService on prod/checkout: desiredCount 30 is already ≥ the target 24 (capped at max_tasks 24)');
    expect(scaleUpPlanSummary(scaleUpParams({ ...PARAMS, factor: 1, from: 4 }))).toBe('no UpdateService on prod/checkout: desiredCount 4 is already ≥ the target 4');
    expect(scaleUpPlanSummary(scaleUpParams({ ...PARAMS, from: 0 }))).toBe('no UpdateService on prod/checkout: desiredCount 0 (a service scaled to zero is not scaled up automatically)');
  });

  it('says in the plan when there is nothing to do (from at or above the catalog max, or 0), so that nobody is asked to approve it', () => {
    const { action } = setup(24);
    expect(action.plan({ ...PARAMS, from: 24 })).toMatchObject({ nothingToDo: 'no UpdateService on prod/checkout: desiredCount 24 is already ≥ the target 24 (capped at max_tasks 24)' });
    expect(action.plan({ ...PARAMS, from: 30 }).nothingToDo).toMatch(/^no UpdateService on prod\/checkout: desiredCount 30 is already/);
    expect(action.plan({ ...PARAMS, from: 0 }).nothingToDo).toMatch(/desiredCount 0/);
    expect(action.plan({ ...PARAMS, from: 23 }).nothingToDo).toBeUndefined();
    expect(action.plan(PARAMS).nothingToDo).toBeUndefined();
  });

  it('treats a null or missing from as not given: the formula plan, as before', () => {
    const formula = "UpdateService prod/checkout desiredCount → min(24, ceil(current × 2)), at most Application Auto Scaling's max capacity";
    expect(scaleUpPlanSummary(scaleUpParams({ ...PARAMS, from: null }))).toBe(formula);
    expect(scaleUpPlanSummary(scaleUpParams({ ...PARAMS, from: undefined }))).toBe(formula);
  });

  it.each([[-1], [2.5], ['4'], [10_001]])('refuses from = %p when planning', (from) => {
    const { action } = setup(4);
    expect(() => action.plan({ ...PARAMS, from })).toThrow(PermanentActionError);
    expect(() => action.plan({ ...PARAMS, from })).toThrow(/"from" must be a whole number from 0 to 10000/);
  });

  it('sets exactly the approved target', async () => {
    const { ecs, state, action } = setup(4);
    const result = await action.run(FROM, ctx());
    expect(updates(ecs)).toEqual([{ cluster: CLUSTER, service: SERVICE, desiredCount: 8 }]);
    expect(state.desiredCount).toBe(8);
    expect(result.output).toMatchObject({ from: 4, to: 8, desiredCount: 8, plannedFrom: 4, approvedTarget: 8, target: 8, cappedBy: null });
    expect(result.summary).toBe('scaled prod/checkout from 4 to 8 desired tasks');
  });

  it('sets the approved target, not one recomputed from a live count that grew meanwhile', async () => {
    const { ecs, action } = setup(6);
    const result = await action.run(FROM, ctx());
    expect(updates(ecs)).toEqual([{ cluster: CLUSTER, service: SERVICE, desiredCount: 8 }]); // not ceil(6 × 2) = 12
    expect(result.summary).toBe('scaled prod/checkout from 6 to 8 desired tasks; the plan started from 4, the service was at 6 when the step ran');
  });

  it('sets the approved target when the service was scaled down below from meanwhile, and says so', async () => {
    const { ecs, state, action } = setup(2);
    const result = await action.run(FROM, ctx());
    expect(updates(ecs)).toEqual([{ cluster: CLUSTER, service: SERVICE, desiredCount: 8 }]); // not ceil(2 × 2) = 4
    expect(state.desiredCount).toBe(8);
    expect(result.output).toMatchObject({ from: 2, to: 8, plannedFrom: 4, approvedTarget: 8 });
    expect(result.summary).toBe('scaled prod/checkout from 2 to 8 desired tasks; the plan started from 4 but the service was scaled down to 2 since: set to the approved target');
  });

  it('is a skip, not a call, when the live count is already at or above the target', async () => {
    for (const live of [8, 11]) {
      const { ecs, action } = setup(live);
      const result = await action.run(FROM, ctx());
      expect(result.output).toMatchObject({ skipped: true, reason: `already at ${live} desired tasks (≥ target 8)`, desiredCount: live, target: 8 });
      expect(result.summary).toBe(`prod/checkout: already at ${live} desired tasks (≥ target 8), not scaled`);
      expect(updates(ecs)).toHaveLength(0);
    }
  });

  it('is safe to run twice: the second run finds the approved target reached and makes no call', async () => {
    const { ecs, state, action } = setup(4);
    expect((await action.run(FROM, ctx())).output).toMatchObject({ from: 4, to: 8 });
    expect((await action.run(FROM, ctx())).output).toMatchObject({ skipped: true, reason: 'already at 8 desired tasks (≥ target 8)' });
    expect(updates(ecs)).toHaveLength(1);
    expect(state.desiredCount).toBe(8);
  });

  it('stops at the catalog max_tasks it planned with', async () => {
    const { ecs, action } = setup(20);
    const result = await action.run({ ...PARAMS, from: 20 }, ctx());
    expect(updates(ecs)).toEqual([{ cluster: CLUSTER, service: SERVICE, desiredCount: 24 }]);
    expect(result.summary).toBe('scaled prod/checkout from 20 to 24 desired tasks, capped at max_tasks 24');
  });

  it("caps the approved target at Application Auto Scaling's max capacity, and says so", async () => {
    const { ecs, action } = setup(4, 6);
    const result = await action.run(FROM, ctx());
    expect(updates(ecs)).toEqual([{ cluster: CLUSTER, service: SERVICE, desiredCount: 6 }]);
    expect(result.output).toMatchObject({ to: 6, approvedTarget: 8, target: 6, cappedBy: 'autoscaling', limits: { autoscalingMax: 6 } });
    expect(result.summary).toBe('scaled prod/checkout from 4 to 6 desired tasks, capped by Application Auto Scaling max capacity 6 (approved 8)');
  });

  it("is a skip when Application Auto Scaling's max capacity is at or below the live count", async () => {
    const { ecs, action } = setup(4, 3);
    const result = await action.run(FROM, ctx());
    expect(result.output).toMatchObject({ skipped: true, reason: 'already at 4 desired tasks (≥ target 3)', cappedBy: 'autoscaling' });
    expect(result.summary).toBe('prod/checkout: already at 4 desired tasks (≥ target 3), capped by Application Auto Scaling max capacity 3 (approved 8), not scaled');
    expect(updates(ecs)).toHaveLength(0);
  });

  it('makes no call when the approved plan was no call, even if the count dropped since', async () => {
    const { ecs, action } = setup(10);
    const result = await action.run({ ...PARAMS, from: 30 }, ctx());
    expect(result.output).toMatchObject({ skipped: true, desiredCount: 10, approvedTarget: 24 });
    expect(result.summary).toBe('prod/checkout: the approved plan changes nothing: it started from 30 desired tasks, already ≥ the target 24, not scaled');
    expect(updates(ecs)).toHaveLength(0);
  });

  it('still leaves a service scaled to zero alone', async () => {
    const { ecs, action } = setup(0);
    expect((await action.run(FROM, ctx())).output).toMatchObject({ skipped: true, desiredCount: 0 });
    expect(updates(ecs)).toHaveLength(0);
  });

  it('still fails for good on a service that is not ACTIVE, before any call', async () => {
    const { ecs, action } = setup(4);
    ecs.on(DescribeServicesCommand).resolves({ services: [{ serviceName: SERVICE, status: 'DRAINING', desiredCount: 4, runningCount: 4, pendingCount: 0, deployments: [] }], failures: [] });
    const error = await failure(action.run(FROM, ctx()));
    expect(error).toBeInstanceOf(PermanentActionError);
    expect(error.message).toBe('ecs.scale-up: ECS service prod/checkout is DRAINING, not ACTIVE: it cannot be scaled');
    expect(updates(ecs)).toHaveLength(0);
  });

  it('reconcile reports the count against the approved target and never calls UpdateService', async () => {
    const { ecs, action } = setup(4);
    const result = await action.reconcile!(FROM, ctx());
    expect(result.output).toEqual({ reconciled: true, desiredCount: 4, runningCount: 1, plannedFrom: 4, approvedTarget: 8 });
    expect(result.summary).toBe('prod/checkout: an earlier attempt was interrupted; desired count is now 4, approved target 8 (not changed again)');
    expect(updates(ecs)).toHaveLength(0);
  });
});

/**
 * The real SDK client against a local stand-in for ECS: each attempt the SDK's retry makes counts
 * in deciding whether UpdateService may have taken effect.
 */
describe('EcsAdapter.setDesiredCount, attempt by attempt', () => {
  let server: Server;
  let url: string;
  let updateAnswers: Array<{ status: number; type?: string }>;
  let updateCalls: number;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      req.resume();
      req.on('end', () => {
        const send = (status: number, body: unknown, type?: string) => {
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(type ? { 'x-amzn-errortype': type } : {}) });
          res.end(JSON.stringify(body));
        };
        if (target.endsWith('.UpdateService')) {
          const answer = updateAnswers[Math.min(updateCalls++, updateAnswers.length - 1)];
          if (answer.status === 200) return send(200, { service: { serviceName: SERVICE, desiredCount: 6 } });
          return send(answer.status, { __type: answer.type, message: `${answer.type} from the stand-in` }, answer.type);
        }
        send(400, { __type: 'InvalidAction', message: target }, 'InvalidAction');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    updateCalls = 0;
  });

  const adapter = (endpoint: string) =>
    new EcsAdapter({ client: new ECSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' }, maxAttempts: 2 }) });

  it('throttled on every attempt: AWS refused each one, so it is notApplied', async () => {
    updateAnswers = [{ status: 400, type: 'ThrottlingException' }];
    const ecs = adapter(url);
    const error = await failure(ecs.setDesiredCount(CLUSTER, SERVICE, 6));
    ecs.close();
    expect(updateCalls).toBe(2);
    expect(error).toBeInstanceOf(NotAppliedError);
    expect(error.message).toBe('ecs:UpdateService on ECS service prod/checkout failed after 2 attempts: ThrottlingException: ThrottlingException from the stand-in (not applied: retrying is safe)');
  });

  it('a 500 and then a throttle: the first attempt may have landed, so it is not notApplied', async () => {
    updateAnswers = [{ status: 500, type: 'ServerException' }, { status: 400, type: 'ThrottlingException' }];
    const ecs = adapter(url);
    const error = await failure(ecs.setDesiredCount(CLUSTER, SERVICE, 6));
    ecs.close();
    expect(updateCalls).toBe(2);
    expect(error).not.toBeInstanceOf(NotAppliedError);
    expect(error).not.toBeInstanceOf(PermanentActionError);
    expect((error as { notApplied?: boolean }).notApplied).toBeUndefined();
  });

  it('a 500 and then success resolves with the accepted count', async () => {
    updateAnswers = [{ status: 500, type: 'ServerException' }, { status: 200 }];
    const ecs = adapter(url);
    await expect(ecs.setDesiredCount(CLUSTER, SERVICE, 6)).resolves.toMatchObject({ desiredCount: 6 });
    ecs.close();
  });

  it('nothing listening (connection refused): nothing was sent, so it is notApplied', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const ecs = adapter(`http://127.0.0.1:${port}`);
    const error = await failure(ecs.setDesiredCount(CLUSTER, SERVICE, 6));
    ecs.close();
    expect(error).toBeInstanceOf(NotAppliedError);
  });
});
