import {
  AccessDeniedException,
  ClusterNotFoundException,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  ServerException,
  type Service,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { type ActionContext, PermanentActionError } from '@responder/domain';
import { EcsAdapter, type StoppedTask } from '../ecs.adapter';
import { ecsServiceStatusAction, type EcsServiceStatusOutput, foldReason, groupStoppedTasks, isOomKill } from './ecs-service-status.action';

const CLUSTER = 'prod';
const SERVICE = 'checkout';
const TD = (rev: number) => `arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:${rev}`;
const TG = (suffix: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/${suffix}`;
const OOM_REASON = 'OutOfMemoryError: Container killed due to memory usage';

const ctx = (): ActionContext => ({
  incidentId: 'inc-1',
  runId: 'run-1',
  stepId: 'ecs',
  idempotencyKey: 'run-1:ecs',
  signal: new AbortController().signal,
  dryRun: false,
});

let seq = 0;
const taskArn = () => `arn:aws:ecs:us-east-1:123456789012:task/prod/${(seq++).toString(16).padStart(32, '0')}`;

function stoppedTask(overrides: Partial<Task> = {}): Task {
  return {
    taskArn: taskArn(),
    group: `service:${SERVICE}`,
    taskDefinitionArn: TD(42),
    desiredStatus: 'STOPPED',
    lastStatus: 'STOPPED',
    stopCode: 'EssentialContainerExited',
    stoppedReason: 'Essential container in task exited',
    stoppedAt: new Date('2026-11-20T17:00:00Z'),
    containers: [{ name: 'app', exitCode: 1 }],
    ...overrides,
  };
}

function service(overrides: Partial<Service> = {}): Service {
  return {
    serviceName: SERVICE,
    serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/${CLUSTER}/${SERVICE}`,
    status: 'ACTIVE',
    desiredCount: 6,
    runningCount: 2,
    pendingCount: 1,
    launchType: 'FARGATE',
    taskDefinition: TD(42),
    deploymentController: { type: 'ECS' },
    deployments: [
      {
        id: 'ecs-svc/2',
        status: 'PRIMARY',
        taskDefinition: TD(42),
        desiredCount: 6,
        runningCount: 2,
        pendingCount: 1,
        failedTasks: 5,
        rolloutState: 'IN_PROGRESS',
        rolloutStateReason: 'ECS deployment ecs-svc/2 in progress.',
        createdAt: new Date('2026-11-20T16:50:00Z'),
        updatedAt: new Date('2026-11-20T17:01:00Z'),
      },
      { id: 'ecs-svc/1', status: 'ACTIVE', taskDefinition: TD(41), desiredCount: 6, runningCount: 0, pendingCount: 0, failedTasks: 0, rolloutState: 'COMPLETED' },
    ],
    events: Array.from({ length: 15 }, (_, i) => ({ id: `e${i}`, createdAt: new Date(Date.UTC(2026, 10, 20, 17, 0, 59 - i)), message: `(service checkout) event ${i}` })),
    ...overrides,
  };
}

function setup() {
  const client = new ECSClient({ region: 'us-east-1' });
  const ecs = mockClient(client);
  const action = ecsServiceStatusAction(new EcsAdapter({ client }));
  return { ecs, action };
}

async function runStatus(action: ReturnType<typeof setup>['action'], params: Record<string, unknown> = { cluster: CLUSTER, service: SERVICE }) {
  const result = await action.run(params, ctx());
  return { output: result.output as EcsServiceStatusOutput, summary: result.summary ?? '' };
}

describe('foldReason', () => {
  it.each([
    [`Task failed ELB health checks in (target-group ${TG('73e2d6bc24d8a067')})`, 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:<id>:targetgroup/checkout-blue/<id>)'],
    ['Scaling activity initiated by (deployment ecs-svc/4163029813377459104)', 'Scaling activity initiated by (deployment ecs-svc/<id>)'],
    ['CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed open: unexpected status code https://10.0.3.17:443/v2/app/manifests/sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08: 403', 'CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed open: unexpected status code https://<ip>:443/v2/app/manifests/sha256:<id>: 403'],
    ['Task 5f8b1c34-7d3e-4b6e-9c2a-0e1f2a3b4c5d stopped', 'Task <id> stopped'],
    [OOM_REASON, OOM_REASON],
  ])('%s', (raw, folded) => {
    expect(foldReason(raw)).toBe(folded);
  });
});

describe('isOomKill', () => {
  const task = (overrides: Partial<StoppedTask>): StoppedTask => ({ taskArn: 't', taskDefinition: null, stoppedReason: null, stopCode: null, stoppedAt: null, containers: [], ...overrides });

  it('counts an OutOfMemoryError reason, and exit 137 of a container that exited by itself', () => {
    expect(isOomKill(task({ containers: [{ name: 'app', exitCode: 137, reason: OOM_REASON }] }))).toBe(true);
    expect(isOomKill(task({ stopCode: 'EssentialContainerExited', containers: [{ name: 'app', exitCode: 137, reason: null }] }))).toBe(true);
  });

  it('does not count 137 when ECS stopped the task itself (SIGKILL after the stop timeout)', () => {
    expect(isOomKill(task({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: `Task failed ELB health checks in (target-group ${TG('1')})`, containers: [{ name: 'app', exitCode: 137, reason: null }] }))).toBe(false);
    expect(isOomKill(task({ stopCode: 'EssentialContainerExited', containers: [{ name: 'app', exitCode: 1, reason: null }] }))).toBe(false);
  });
});

describe('ecs.service-status', () => {
  it('reports counts, missing tasks, the rollout and the last 10 events', async () => {
    const { ecs, action } = setup();
    ecs.on(DescribeServicesCommand).resolves({ services: [service()], failures: [] });
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    const { output, summary } = await runStatus(action);

    expect(output).toMatchObject({
      cluster: CLUSTER,
      service: SERVICE,
      status: 'ACTIVE',
      desired: 6,
      running: 2,
      pending: 1,
      missing: 4,
      tasksMissing: true,
      launchType: 'FARGATE',
      taskDefinition: TD(42),
      deploymentController: 'ECS',
      rolloutState: 'IN_PROGRESS',
      deploymentInProgress: true,
      stopped: 0,
      stoppedGroups: [],
      oomKills: 0,
      exitCodes: {},
    });
    expect(output.deployments[0]).toEqual({
      id: 'ecs-svc/2',
      status: 'PRIMARY',
      rolloutState: 'IN_PROGRESS',
      rolloutStateReason: 'ECS deployment ecs-svc/2 in progress.',
      taskDefinition: TD(42),
      desiredCount: 6,
      runningCount: 2,
      pendingCount: 1,
      failedTasks: 5,
      createdAt: '2026-11-20T16:50:00.000Z',
      updatedAt: '2026-11-20T17:01:00.000Z',
    });
    expect(output.events).toHaveLength(10);
    expect(output.events[0]).toEqual({ createdAt: '2026-11-20T17:00:59.000Z', message: '(service checkout) event 0' });
    expect(summary).toBe('prod/checkout ACTIVE: 2 of 6 tasks running (4 missing); rollout IN_PROGRESS');
    expect(ecs.commandCalls(DescribeTasksCommand)).toHaveLength(0);
    // The JSON the engine stores must round-trip.
    expect(JSON.parse(JSON.stringify(output))).toEqual(output);
  });

  it('groups stopped tasks by cause, folding ids out of reasons, and detects the OOM kills', async () => {
    const { ecs, action } = setup();
    const oom = (at: string) =>
      stoppedTask({ stoppedAt: new Date(at), containers: [{ name: 'app', exitCode: 137, reason: OOM_REASON }, { name: 'log-router', exitCode: 0 }] });
    const tasks = [
      oom('2026-11-20T17:01:00Z'),
      oom('2026-11-20T17:03:00Z'),
      oom('2026-11-20T17:02:00Z'),
      stoppedTask({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: `Task failed ELB health checks in (target-group ${TG('73e2d6bc24d8a067')})`, containers: [{ name: 'app', exitCode: 137 }] }),
      stoppedTask({ stopCode: 'ServiceSchedulerInitiated', stoppedReason: `Task failed ELB health checks in (target-group ${TG('73e2d6bc24d8a067')})`, containers: [{ name: 'app', exitCode: 137 }] }),
      stoppedTask({ containers: [{ name: 'app', exitCode: 1 }] }),
    ];
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(ListTasksCommand).resolves({ taskArns: tasks.map((t) => t.taskArn!) });
    ecs.on(DescribeTasksCommand).resolves({ tasks });

    const { output, summary } = await runStatus(action);

    expect(output.stopped).toBe(6);
    expect(output.oomKills).toBe(3);
    expect(output.exitCodes).toEqual({ '137': 5, '0': 3, '1': 1 });
    expect(output.stoppedGroups).toEqual([
      {
        reason: 'Essential container in task exited',
        stopCode: 'EssentialContainerExited',
        containers: [`app: ${OOM_REASON} (exit 137)`],
        count: 3,
        oom: true,
        lastStoppedAt: '2026-11-20T17:03:00.000Z',
        taskIds: [expect.any(String), expect.any(String), expect.any(String)],
        link: expect.stringMatching(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/ecs\/v2\/clusters\/prod\/tasks\/[0-9a-f]+\/configuration\?region=us-east-1$/),
      },
      {
        reason: 'Task failed ELB health checks in (target-group arn:aws:elasticloadbalancing:us-east-1:<id>:targetgroup/checkout-blue/<id>)',
        stopCode: 'ServiceSchedulerInitiated',
        containers: ['app: exited (exit 137)'],
        count: 2,
        oom: false,
        lastStoppedAt: '2026-11-20T17:00:00.000Z',
        taskIds: [expect.any(String), expect.any(String)],
        link: expect.stringMatching(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/ecs\/v2\/clusters\/prod\/tasks\/[0-9a-f]+\/configuration\?region=us-east-1$/),
      },
      {
        reason: 'Essential container in task exited',
        stopCode: 'EssentialContainerExited',
        containers: ['app: exited (exit 1)'],
        count: 1,
        oom: false,
        lastStoppedAt: '2026-11-20T17:00:00.000Z',
        taskIds: [expect.any(String)],
        link: expect.stringMatching(/^https:\/\/us-east-1\.console\.aws\.amazon\.com\/ecs\/v2\/clusters\/prod\/tasks\/[0-9a-f]+\/configuration\?region=us-east-1$/),
      },
    ]);
    expect(summary).toBe(`prod/checkout ACTIVE: 2 of 6 tasks running (4 missing); rollout IN_PROGRESS; 6 stopped tasks: 3× app: ${OOM_REASON} (exit 137), 2× app: exited (exit 137), …; 3 OOM kills`);
    expect(ecs.commandCalls(ListTasksCommand)[0].args[0].input).toEqual({ cluster: CLUSTER, serviceName: SERVICE, desiredStatus: 'STOPPED', maxResults: 100 });
    // The newest task of each group is the one linked (its page shows the stopped reason).
    expect(output.stoppedGroups[0].link).toContain(`/tasks/${output.stoppedGroups[0].taskIds[0]}/`);
    expect(output.link).toBe('https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/events?region=us-east-1');
    expect(output.deploymentsLink).toBe('https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/services/checkout/deployments?region=us-east-1');
  });

  it('pages ListTasks and describes tasks in batches of 100, up to max_stopped', async () => {
    const { ecs, action } = setup();
    const tasks = Array.from({ length: 230 }, () => stoppedTask());
    const arns = tasks.map((t) => t.taskArn!);
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(ListTasksCommand)
      .resolvesOnce({ taskArns: arns.slice(0, 100), nextToken: 'p2' })
      .resolvesOnce({ taskArns: arns.slice(100, 200), nextToken: 'p3' })
      .resolvesOnce({ taskArns: arns.slice(200) });
    ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({ tasks: tasks.filter((t) => input.tasks.includes(t.taskArn!)) }));

    const { output } = await runStatus(action, { cluster: CLUSTER, service: SERVICE, max_stopped: 150 });

    expect(output.stopped).toBe(150);
    expect(ecs.commandCalls(ListTasksCommand).map((c) => [c.args[0].input.nextToken, c.args[0].input.maxResults])).toEqual([
      [undefined, 100],
      ['p2', 50],
    ]);
    expect(ecs.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks!.length)).toEqual([100, 50]);
  });

  it('leaves out tasks of other groups (moto ignores ListTasks serviceName)', async () => {
    const { ecs, action } = setup();
    const tasks = [stoppedTask(), stoppedTask({ group: 'service:payments' }), stoppedTask({ group: 'family:checkout' })];
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(ListTasksCommand).resolves({ taskArns: tasks.map((t) => t.taskArn!) });
    ecs.on(DescribeTasksCommand).resolves({ tasks });

    expect((await runStatus(action)).output.stopped).toBe(1);
  });

  it('fails for good, naming the service, when DescribeServices reports it MISSING', async () => {
    const { ecs, action } = setup();
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ arn: 'arn:aws:ecs:us-east-1:123456789012:service/prod/checkout', reason: 'MISSING' }] });
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    const error = await action.run({ cluster: CLUSTER, service: SERVICE }, ctx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(/^ECS service "checkout" not found in cluster "prod"/);
  });

  it('fails for good, naming the cluster, on ClusterNotFoundException', async () => {
    const { ecs, action } = setup();
    ecs.on(DescribeServicesCommand).rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: { httpStatusCode: 400 } }));
    ecs.on(ListTasksCommand).rejects(new ClusterNotFoundException({ message: 'Cluster not found.', $metadata: { httpStatusCode: 400 } }));

    const error = await action.run({ cluster: 'nope', service: SERVICE }, ctx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(/^ECS cluster "nope" not found/);
  });

  it('fails for good, naming the IAM action, when access is denied', async () => {
    const { ecs, action } = setup();
    ecs.on(DescribeServicesCommand).resolves({ services: [service()] });
    ecs.on(ListTasksCommand).rejects(
      new AccessDeniedException({
        message: 'User: arn:aws:sts::123456789012:assumed-role/responder/task is not authorized to perform: ecs:ListTasks on resource: *',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    const error = await action.run({ cluster: CLUSTER, service: SERVICE }, ctx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toMatch(/^access denied: the role Responder runs as needs ecs:ListTasks on ECS service prod\/checkout/);
  });

  it('throws a retryable (not permanent) error when 5xx outlast the SDK retries', async () => {
    const { ecs, action } = setup();
    ecs.on(DescribeServicesCommand).rejects(new ServerException({ message: 'Service unavailable', $metadata: { httpStatusCode: 500, attempts: 5 } }));
    ecs.on(ListTasksCommand).resolves({ taskArns: [] });

    const error = await action.run({ cluster: CLUSTER, service: SERVICE }, ctx()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(PermanentActionError);
    expect((error as Error).message).toBe('ecs:DescribeServices on ECS service prod/checkout failed after 5 attempts: ServerException: Service unavailable');
  });

  it('refuses parameters without a cluster or a service', () => {
    const { action } = setup();
    expect(() => action.plan({ service: SERVICE })).toThrow(PermanentActionError);
    expect(() => action.plan({ cluster: CLUSTER, service: '' })).toThrow('ecs.service-status: "service" must be a non-empty string, got ""');
  });
});

describe('groupStoppedTasks', () => {
  it('puts the largest group first, then the most recent', () => {
    const t = (reason: string, at: string): StoppedTask => ({ taskArn: `arn/x/${at}`, taskDefinition: null, stoppedReason: reason, stopCode: null, stoppedAt: at, containers: [] });
    const groups = groupStoppedTasks([t('a', '2026-01-01T00:00:00Z'), t('b', '2026-01-02T00:00:00Z'), t('c', '2026-01-03T00:00:00Z'), t('c', '2026-01-01T00:00:00Z')]);
    expect(groups.map((g) => [g.reason, g.count])).toEqual([
      ['c', 2],
      ['b', 1],
      ['a', 1],
    ]);
  });
});
