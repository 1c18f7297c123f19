import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GOAL_CHECK_IAM, awsActions } from '@responder/aws/actions';
import { type Catalog, parseCatalog } from '@responder/domain';
import { type Runbook, knownActions, parseRunbook } from '@responder/runbooks';
import { RESOURCE_SCOPES, buildIamPolicy, sqsQueueArn } from './iam-policy';

const ROOT = join(__dirname, '..', '..', '..');
const actions = knownActions(awsActions({ region: 'us-east-1' }));

function catalogOf(text: string): Catalog {
  const parsed = parseCatalog('service-catalog.yaml', text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}
const shippedCatalog = catalogOf(readFileSync(join(ROOT, 'runbooks', 'service-catalog.yaml'), 'utf8'));

function runbook(steps: string[], catalog: Catalog = shippedCatalog): Runbook {
  const text = `name: t\ntriggers: { services: [checkout] }\nsteps:\n${steps.map((s) => `  - ${s}\n`).join('')}`;
  const parsed = parseRunbook('t.yaml', text, actions, { catalog });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.value;
}

const albOnly = runbook(['{ id: alb, action: alb.target-health, with: { target_groups: "${{ service.loadBalancer.targetGroups }}" } }']);
const scaleAndLogs = runbook([
  '{ id: scale, action: ecs.scale-up, with: { cluster: "${{ service.ecs.cluster }}", service: "${{ service.ecs.service }}", max_tasks: 8, factor: 2 }, approval: required }',
  '{ id: logs, action: logs.errors, with: { log_groups: "${{ service.logGroups }}", since: "${{ incident.onsetAt }}" } }',
]);

const allActions = (p: ReturnType<typeof buildIamPolicy>['policy']) => p.Statement.flatMap((s) => s.Action).sort();

describe('buildIamPolicy', () => {
  it('alb.target-health alone: exactly its two elasticloadbalancing actions, on "*"', () => {
    const { policy, warnings } = buildIamPolicy({ runbooks: [albOnly], actions, catalog: shippedCatalog });
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'NoResourceLevelPermissions', Effect: 'Allow', Action: ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth'], Resource: '*' },
      ],
    });
    expect(warnings).toEqual([]);
  });

  it('ecs.scale-up and logs.errors: scoped to the catalog services and log groups; nothing of unused actions', () => {
    const { policy, warnings } = buildIamPolicy({ runbooks: [scaleAndLogs], actions, catalog: shippedCatalog });
    expect(warnings).toEqual([]);
    const ecs = policy.Statement.find((s) => s.Sid === 'EcsServices');
    expect(ecs).toEqual({
      Sid: 'EcsServices',
      Effect: 'Allow',
      Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
      Resource: ['arn:aws:ecs:us-east-1:123456789012:service/prod/checkout', 'arn:aws:ecs:us-east-1:123456789012:service/prod/payments'],
    });
    expect(policy.Statement.find((s) => s.Sid === 'LogGroups')?.Resource).toEqual([
      'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/prod/checkout:*',
      'arn:aws:logs:us-east-1:123456789012:log-group:/ecs/prod/payments:*',
    ]);
    // What the two actions declare, and what the scale-up's default goal checks read after it.
    const goalChecks = scaleAndLogs.steps[0].goal!.checks;
    expect(goalChecks).toEqual(['running-reached-desired', 'alarms-ok']);
    const declared = [...new Set([...actions.get('ecs.scale-up')!.iam!, ...actions.get('logs.errors')!.iam!, ...goalChecks.flatMap((c) => GOAL_CHECK_IAM[c])])].sort();
    expect(allActions(policy)).toEqual(declared);
    expect(allActions(policy)).toContain('cloudwatch:DescribeAlarms');
    expect(policy.Statement.map((s) => s.Sid)).toEqual(['EcsServices', 'LogGroups', 'NoResourceLevelPermissions']);
  });

  it("adds the reads of a mitigation's goal checks, and nothing for goal: none", () => {
    const rollback = (goal: string) =>
      runbook([
        `{ id: rollback, action: deploy.rollback, with: { cluster: prod, service: checkout, from_task_definition: a, to_task_definition: b }, approval: required, goal: ${goal} }`,
      ]);
    const withGoal = allActions(buildIamPolicy({ runbooks: [rollback('{ checks: [alarms-ok, targets-healthy] }')], actions, catalog: shippedCatalog }).policy);
    const without = allActions(buildIamPolicy({ runbooks: [rollback('none')], actions, catalog: shippedCatalog }).policy);
    expect(withGoal.filter((a) => !without.includes(a))).toEqual(
      ['cloudwatch:DescribeAlarms', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth'].filter((a) => !actions.get('deploy.rollback')!.iam!.includes(a)),
    );
    expect(without).toEqual([...new Set(actions.get('deploy.rollback')!.iam)].sort());
  });

  it('is deterministic: the same policy whatever the runbook and catalog order', () => {
    const reversed: Catalog = { ...shippedCatalog, services: Object.fromEntries(Object.entries(shippedCatalog.services).reverse()) };
    const a = buildIamPolicy({ runbooks: [albOnly, scaleAndLogs], actions, catalog: shippedCatalog });
    const b = buildIamPolicy({ runbooks: [scaleAndLogs, albOnly], actions, catalog: reversed });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it('the SQS intake: its three actions on the queue ARN from SQS_QUEUE_URL', () => {
    const { policy } = buildIamPolicy({ runbooks: [], actions, sqsQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/210987654321/responder-alarms' });
    expect(policy.Statement).toEqual([
      { Sid: 'SqsIntakeQueue', Effect: 'Allow', Action: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'], Resource: ['arn:aws:sqs:eu-west-1:210987654321:responder-alarms'] },
    ]);
  });

  it('with no ARN in the catalog: the account is unknown, so "*" and a warning; --region/--account scope it again', () => {
    const bare = catalogOf('services:\n  checkout:\n    alarms: { names: [x] }\n    ecs: { cluster: prod, service: checkout }\n    logGroups: [/ecs/prod/checkout]\n');
    const rb = runbook(['{ id: scale, action: ecs.scale-up, with: { cluster: prod, service: checkout, max_tasks: 8, factor: 2 }, approval: required }'], bare);
    const unknown = buildIamPolicy({ runbooks: [rb], actions, catalog: bare, defaultRegion: 'us-west-2' });
    expect(unknown.policy.Statement[0]).toMatchObject({ Sid: 'EcsServices', Resource: '*' });
    expect(unknown.warnings).toEqual([expect.stringMatching(/^warning: EcsServices .*unknown account .*--account/)]);

    const given = buildIamPolicy({ runbooks: [rb], actions, catalog: bare, region: 'eu-central-1', account: '111122223333' });
    expect(given.warnings).toEqual([]);
    expect(given.policy.Statement[0].Resource).toEqual(['arn:aws:ecs:eu-central-1:111122223333:service/prod/checkout']);
  });

  it('with no catalog: scoped actions fall back to "*" with a warning', () => {
    const { policy, warnings } = buildIamPolicy({ runbooks: [scaleAndLogs], actions });
    expect(policy.Statement.every((s) => s.Resource === '*')).toBe(true);
    expect(warnings).toHaveLength(2);
  });

  it('an IAM action that changes something is in the scope table (only reads may stay on "*")', () => {
    const unscoped = [...actions.values()].flatMap((a) => a.iam ?? []).filter((a) => RESOURCE_SCOPES[a] === undefined);
    // Lookup: cloudtrail:LookupEvents, a read that takes no resource-level permission.
    for (const a of unscoped) expect(a).toMatch(/^[a-z0-9-]+:(Describe|List|Get|Lookup)/);
  });
});

describe('sqsQueueArn', () => {
  it('reads region, account and name from the standard, legacy and local forms', () => {
    const fallback = { partition: 'aws', region: 'us-east-1' };
    expect(sqsQueueArn('https://sqs.us-east-2.amazonaws.com/123456789012/q.fifo', fallback)).toBe('arn:aws:sqs:us-east-2:123456789012:q.fifo');
    expect(sqsQueueArn('https://ap-south-1.queue.amazonaws.com/123456789012/q', fallback)).toBe('arn:aws:sqs:ap-south-1:123456789012:q');
    expect(sqsQueueArn('http://localhost:5000/123456789012/q', fallback)).toBe('arn:aws:sqs:us-east-1:123456789012:q');
    expect(sqsQueueArn('http://localhost:5000/q', fallback)).toBeUndefined();
  });
});
