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
import { ecsScaleUpAction, scaleUpTarget } from './ecs-scale-up.action';

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
    return { service: { serviceName: SERVICE, desiredCount: input.desiredCount } };
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
    expect(result.output).toMatchObject({ from: 3, to: 6, desiredCount: 6, cappedBy: null });
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
    await expect(ecs.setDesiredCount(CLUSTER, SERVICE, 6)).resolves.toBe(6);
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
