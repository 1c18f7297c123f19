import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildStacks } from '../lib/app';
import { QUEUE_URL_PLACEHOLDER, computeTaskPolicy } from '../lib/task-policy';

/**
 * The security properties of both stacks, read from the synthesized templates: what a reviewer
 * would check by hand before letting the service into an account.
 */

type Json = Record<string, any>;

const REPO_RUNBOOKS = resolve(__dirname, '..', '..', 'runbooks');
const SECRET_NAMES = ['INGEST_API_KEY', 'API_TOKEN', 'REDIS_AUTH_TOKEN'];

function synth(context: Record<string, string> = {}) {
  const app = new App({ context: { region: 'us-east-1', ...context } });
  const stacks = buildStacks(app);
  return { app, sqs: Template.fromStack(stacks.sqs), api: Template.fromStack(stacks.apiDestination) };
}

const only = (t: Template, type: string): Json => {
  const all = t.findResources(type);
  assert.equal(Object.keys(all).length, 1, `one ${type}`);
  return Object.values(all)[0];
};
const logicalId = (t: Template, type: string): string => Object.keys(t.findResources(type))[0];

const container = (t: Template): Json => (only(t, 'AWS::ECS::TaskDefinition').Properties.ContainerDefinitions as Json[])[0];

/** The statements of the policies attached to the task role (the role the task definition names). */
function taskRoleStatements(t: Template): Json[] {
  const roleId = (only(t, 'AWS::ECS::TaskDefinition').Properties.TaskRoleArn as Json)['Fn::GetAtt'][0] as string;
  const role = t.findResources('AWS::IAM::Role')[roleId];
  assert.equal(role.Properties.ManagedPolicyArns, undefined, 'no managed policies on the task role');
  assert.equal(role.Properties.Policies, undefined, 'no inline policies on the task role besides the generated one');
  const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p: Json) =>
    (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId),
  ) as Json[];
  assert.equal(policies.length, 1, 'exactly one policy on the task role');
  return policies[0].Properties.PolicyDocument.Statement as Json[];
}

const base = synth();

describe('the SQS stack (reference setup)', () => {
  const t = base.sqs;

  it('runs the service in private subnets with no public IP', () => {
    const svc = only(t, 'AWS::ECS::Service');
    const vpcConfig = svc.Properties.NetworkConfiguration.AwsvpcConfiguration as Json;
    assert.equal(vpcConfig.AssignPublicIp, 'DISABLED');
    const subnets = t.findResources('AWS::EC2::Subnet');
    for (const ref of vpcConfig.Subnets as Json[]) {
      const subnet = subnets[ref.Ref as string];
      const type = (subnet.Properties.Tags as Json[]).find((tag) => tag.Key === 'aws-cdk:subnet-type')?.Value;
      assert.equal(type, 'Private', `${ref.Ref} is a private subnet`);
      assert.notEqual(subnet.Properties.MapPublicIpOnLaunch, true);
    }
    assert.equal(svc.Properties.LaunchType, 'FARGATE');
    // Nothing inbound at all: no load balancer, and the task's security group has no ingress rule.
    assert.deepEqual(t.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer'), {});
    const taskSg = (vpcConfig.SecurityGroups as Json[])[0]['Fn::GetAtt'][0] as string;
    assert.equal((t.findResources('AWS::EC2::SecurityGroup')[taskSg]).Properties.SecurityGroupIngress, undefined);
    assert.deepEqual(
      Object.values(t.findResources('AWS::EC2::SecurityGroupIngress')).filter((r: Json) => r.Properties.GroupId?.['Fn::GetAtt']?.[0] === taskSg),
      [],
    );
  });

  it('uses ElastiCache Redis with TLS in transit, AUTH from Secrets Manager, encryption at rest and Multi-AZ failover', () => {
    const rg = only(t, 'AWS::ElastiCache::ReplicationGroup').Properties as Json;
    assert.equal(rg.TransitEncryptionEnabled, true);
    assert.equal(rg.TransitEncryptionMode, 'required');
    assert.equal(rg.AtRestEncryptionEnabled, true);
    assert.equal(rg.MultiAZEnabled, true);
    assert.equal(rg.AutomaticFailoverEnabled, true);
    assert.ok((rg.NumCacheClusters as number) >= 2, 'a replica to fail over to');
    // The token is a dynamic reference to the generated secret, never a literal.
    const token = JSON.stringify(rg.AuthToken);
    assert.match(token, /\{\{resolve:secretsmanager:/);
    assert.match(token, /RedisAuthToken/);
    const params = only(t, 'AWS::ElastiCache::ParameterGroup').Properties as Json;
    assert.equal(params.Properties['maxmemory-policy'], 'noeviction');
    const subnetGroup = only(t, 'AWS::ElastiCache::SubnetGroup').Properties as Json;
    const subnets = t.findResources('AWS::EC2::Subnet');
    for (const ref of subnetGroup.SubnetIds as Json[]) {
      const tags = (subnets[ref.Ref as string]).Properties.Tags as Json[];
      assert.equal(tags.find((tag) => tag.Key === 'aws-cdk:subnet-type')?.Value, 'Isolated');
    }
  });

  it('gives the service its secrets as ECS secrets, never as plain environment, and builds a rediss:// URL', () => {
    const c = container(t);
    const secrets = (c.Secrets as Json[]).map((s) => s.Name as string).sort();
    assert.deepEqual(secrets, [...SECRET_NAMES].sort());
    for (const s of c.Secrets as Json[]) assert.ok(s.ValueFrom.Ref, `${s.Name as string} comes from a Secrets Manager secret`);
    const env = (c.Environment as Json[]).map((e) => e.Name as string);
    for (const name of env) assert.doesNotMatch(name, /TOKEN|KEY|SECRET|PASSWORD/, `${name} is plain environment`);
    assert.ok(env.includes('SQS_QUEUE_URL'));
    assert.deepEqual(c.EntryPoint, ['sh', '-c']);
    assert.match((c.Command as string[])[0], /^REDIS_URL="rediss:\/\/:\$REDIS_AUTH_TOKEN@\$REDIS_ENDPOINT" exec env -u REDIS_AUTH_TOKEN /);
    assert.equal(c.ReadonlyRootFilesystem, true);
  });

  it('gives the task role exactly the policy iam-policy computes from the runbooks and the catalog, with the SQS statement on the queue', () => {
    const statements = taskRoleStatements(t);
    const expected = computeTaskPolicy({ runbooksDir: REPO_RUNBOOKS, sqsIntake: true }).policy.Statement;
    const queueId = Object.keys(t.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }))[0];
    assert.equal(statements.length, expected.length);
    expected.forEach((e, i) => {
      const s = statements[i];
      assert.equal(s.Sid, e.Sid);
      assert.equal(s.Effect, 'Allow');
      assert.deepEqual([s.Action].flat(), e.Action);
      const resources = [s.Resource].flat();
      if (e.Sid === 'SqsIntakeQueue') assert.deepEqual(resources, [{ 'Fn::GetAtt': [queueId, 'Arn'] }]);
      else assert.deepEqual(resources, [e.Resource].flat());
    });
    // Least privilege: no action wildcard, every action one a runbook step (or the SQS intake) needs.
    for (const s of statements) for (const a of [s.Action].flat() as string[]) assert.doesNotMatch(a, /\*/);
    const actions = statements.flatMap((s) => [s.Action].flat());
    assert.ok(actions.includes('ecs:UpdateService') && actions.includes('sqs:ReceiveMessage'));
    // The shipped catalog scopes the mutating calls to its resources.
    const ecs = statements.find((s) => s.Sid === 'EcsServices')!;
    assert.deepEqual(ecs.Resource, ['arn:aws:ecs:us-east-1:123456789012:service/prod/checkout', 'arn:aws:ecs:us-east-1:123456789012:service/prod/payments']);
  });

  it('matches what the CLI prints (`iam-policy`, with the queue as SQS_QUEUE_URL)', () => {
    const root = resolve(__dirname, '..', '..');
    const cli = spawnSync(join(root, 'node_modules/.bin/tsx'), ['apps/cli/src/main.ts', 'iam-policy', 'runbooks'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, SQS_QUEUE_URL: QUEUE_URL_PLACEHOLDER, AWS_REGION: 'us-east-1' },
    });
    assert.equal(cli.status, 0, cli.stderr);
    // CloudFormation writes a one-element list as a scalar: compare lists.
    const printed = (JSON.parse(cli.stdout) as { Statement: Json[] }).Statement.map((s): Json => ({ ...s, Resource: [s.Resource].flat() }));
    const queueId = Object.keys(t.findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: Match.anyValue() } }))[0];
    const synthesized = taskRoleStatements(t).map((s) => ({
      Sid: s.Sid,
      Effect: s.Effect,
      Action: [s.Action].flat(),
      Resource: s.Sid === 'SqsIntakeQueue' ? printed.find((p) => p.Sid === 'SqsIntakeQueue')?.Resource : [s.Resource].flat(),
    }));
    assert.deepEqual(synthesized, printed);
    assert.deepEqual(taskRoleStatements(t).find((s) => s.Sid === 'SqsIntakeQueue')?.Resource, { 'Fn::GetAtt': [queueId, 'Arn'] });
  });

  it('routes CloudWatch alarm state changes to an encrypted queue with a dead-letter queue, which only that rule may send to', () => {
    const rule = only(t, 'AWS::Events::Rule').Properties as Json;
    assert.deepEqual(rule.EventPattern, { source: ['aws.cloudwatch'], 'detail-type': ['CloudWatch Alarm State Change'] });
    const ruleId = logicalId(t, 'AWS::Events::Rule');
    const queues = t.findResources('AWS::SQS::Queue') as Record<string, Json>;
    assert.equal(Object.keys(queues).length, 2);
    const [intakeId, intake] = Object.entries(queues).find(([, q]) => q.Properties.RedrivePolicy)!;
    const dlqId = Object.keys(queues).find((id) => id !== intakeId)!;
    assert.deepEqual(intake.Properties.RedrivePolicy, { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 });
    for (const q of Object.values(queues)) assert.equal(q.Properties.SqsManagedSseEnabled, true);
    const target = (rule.Targets as Json[])[0];
    assert.deepEqual(target.Arn, { 'Fn::GetAtt': [intakeId, 'Arn'] });
    assert.deepEqual(target.DeadLetterConfig, { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } });

    const policy = Object.values(t.findResources('AWS::SQS::QueuePolicy')).find((p: Json) => (p.Properties.Queues as Json[])[0].Ref === intakeId) as Json;
    const allows = (policy.Properties.PolicyDocument.Statement as Json[]).filter((s) => s.Effect === 'Allow');
    assert.equal(allows.length, 1);
    assert.deepEqual(allows[0].Principal, { Service: 'events.amazonaws.com' });
    assert.deepEqual(allows[0].Condition, { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } });
    const denies = (policy.Properties.PolicyDocument.Statement as Json[]).filter((s) => s.Effect === 'Deny');
    assert.deepEqual(denies[0].Condition, { Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('has VPC endpoints for the AWS APIs the service calls, reachable from the tasks only', () => {
    const names = Object.values(t.findResources('AWS::EC2::VPCEndpoint')).map((e: Json) => JSON.stringify(e.Properties.ServiceName));
    for (const svc of ['ecs', 'elasticloadbalancing', 'monitoring', 'logs', 'codedeploy', 'rds', 'sqs', 'cloudtrail', 'secretsmanager', 'application-autoscaling', 'ecr.api', 'ecr.dkr', 'sts', 's3']) {
      assert.ok(names.some((n) => n.includes(`.${svc}"`)), `endpoint for ${svc}`);
    }
  });

  it('passes no Slack settings without the Slack secrets, and both tokens as ECS secrets with them', () => {
    const env = (container(t).Environment as Json[]).map((e) => e.Name as string);
    assert.ok(!env.some((n) => n.startsWith('SLACK_')));
    const arn = (name: string) => `arn:aws:secretsmanager:us-east-1:111122223333:secret:responder/${name}-AbCdEf`;
    const withSlack = synth({ slackBotTokenSecretArn: arn('slack-bot'), slackAppTokenSecretArn: arn('slack-app'), slackChannel: '#incidents' }).sqs;
    const c = container(withSlack);
    const secrets = Object.fromEntries((c.Secrets as Json[]).map((s) => [s.Name as string, s.ValueFrom as unknown]));
    assert.equal(secrets.SLACK_BOT_TOKEN, arn('slack-bot'));
    assert.equal(secrets.SLACK_APP_TOKEN, arn('slack-app'));
    assert.equal(secrets.SLACK_SIGNING_SECRET, undefined, 'Socket Mode: no signing secret, nothing inbound');
    assert.deepEqual((c.Environment as Json[]).find((e) => e.Name === 'SLACK_CHANNEL')?.Value, '#incidents');
  });
});

describe('the API-destination stack (variant)', () => {
  const t = base.api;

  it('terminates HTTPS on the ALB with the given certificate and forwards only POST /events/eventbridge', () => {
    const listener = only(t, 'AWS::ElasticLoadBalancingV2::Listener').Properties as Json;
    assert.equal(listener.Protocol, 'HTTPS');
    assert.equal(listener.Port, 443);
    assert.deepEqual(listener.Certificates, [{ CertificateArn: { Ref: 'CertificateArn' } }]);
    assert.match(listener.SslPolicy as string, /TLS13/);
    assert.equal((listener.DefaultActions as Json[])[0].Type, 'fixed-response');
    assert.equal((listener.DefaultActions as Json[])[0].FixedResponseConfig.StatusCode, '404');
    const rule = only(t, 'AWS::ElasticLoadBalancingV2::ListenerRule').Properties as Json;
    const conditions = Object.fromEntries((rule.Conditions as Json[]).map((c) => [c.Field as string, c]));
    assert.deepEqual(conditions['path-pattern'].PathPatternConfig.Values, ['/events/eventbridge']);
    assert.deepEqual(conditions['http-request-method'].HttpRequestMethodConfig.Values, ['POST']);
    const tg = only(t, 'AWS::ElasticLoadBalancingV2::TargetGroup').Properties as Json;
    assert.equal(tg.HealthCheckPath, '/ready');
    const alb = only(t, 'AWS::ElasticLoadBalancingV2::LoadBalancer').Properties as Json;
    const attrs = Object.fromEntries((alb.LoadBalancerAttributes as Json[]).map((a) => [a.Key as string, a.Value as unknown]));
    assert.equal(attrs['routing.http.drop_invalid_header_fields.enabled'], 'true');
    assert.equal(attrs['access_logs.s3.enabled'], 'true');
    // Still no public IP on the tasks.
    assert.equal(only(t, 'AWS::ECS::Service').Properties.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp, 'DISABLED');
  });

  it('sends alarms through an API destination whose connection takes the API key from Secrets Manager', () => {
    const conn = only(t, 'AWS::Events::Connection').Properties as Json;
    assert.equal(conn.AuthorizationType, 'API_KEY');
    assert.equal(conn.AuthParameters.ApiKeyAuthParameters.ApiKeyName, 'x-api-key');
    assert.match(JSON.stringify(conn.AuthParameters.ApiKeyAuthParameters.ApiKeyValue), /\{\{resolve:secretsmanager:.*IngestApiKey/);
    const dest = only(t, 'AWS::Events::ApiDestination').Properties as Json;
    assert.equal(dest.HttpMethod, 'POST');
    assert.match(JSON.stringify(dest.InvocationEndpoint), /https:\/\/.*IntakeDomainName.*\/events\/eventbridge/);
    const rule = only(t, 'AWS::Events::Rule').Properties as Json;
    const target = (rule.Targets as Json[])[0];
    assert.deepEqual(target.Arn, { 'Fn::GetAtt': [logicalId(t, 'AWS::Events::ApiDestination'), 'Arn'] });
    assert.ok(target.DeadLetterConfig.Arn, 'failed deliveries go to a dead-letter queue');
    assert.equal(only(t, 'AWS::SQS::Queue').Properties.SqsManagedSseEnabled, true);
  });

  it('has no SQS intake: no queue URL for the service and no SQS permission on its role', () => {
    const env = (container(t).Environment as Json[]).map((e) => e.Name as string);
    assert.ok(!env.includes('SQS_QUEUE_URL'));
    const actions = taskRoleStatements(t).flatMap((s) => [s.Action].flat() as string[]);
    assert.ok(!actions.some((a) => a.startsWith('sqs:')));
    assert.deepEqual(taskRoleStatements(t).map((s) => s.Sid), computeTaskPolicy({ runbooksDir: REPO_RUNBOOKS, sqsIntake: false }).policy.Statement.map((s) => s.Sid));
  });
});

describe('the task policy follows the runbooks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'responder-infra-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('grants only what a smaller set of runbooks needs', () => {
    // One diagnostic runbook: the role shrinks to its two Describe calls (plus the SQS intake).
    const shipped = readFileSync(join(REPO_RUNBOOKS, 'service-catalog.yaml'), 'utf8');
    writeFileSync(join(dir, 'service-catalog.yaml'), shipped);
    writeFileSync(
      join(dir, 'targets.yaml'),
      ['name: targets', 'description: target health only', 'triggers:', '  services: ["*"]', 'steps:', '  - id: alb', '    action: alb.target-health', '    with: { target_groups: "${{ service.loadBalancer.targetGroups }}" }', ''].join('\n'),
    );
    const t = synth({ runbooksDir: dir }).sqs;
    const statements = taskRoleStatements(t);
    assert.deepEqual(
      statements.map((s) => [s.Sid, [s.Action].flat()]),
      [
        ['SqsIntakeQueue', ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']],
        ['NoResourceLevelPermissions', ['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth']],
      ],
    );
  });

  it('refuses to synthesize invalid runbooks, naming the problem', () => {
    writeFileSync(join(dir, 'broken.yaml'), 'name: broken\ntriggers:\n  services: ["*"]\nsteps:\n  - id: x\n    action: no.such-action\n');
    assert.throws(() => synth({ runbooksDir: dir }), /have problems[\s\S]*broken\.yaml/);
  });
});

describe('context', () => {
  it('needs both Slack secrets or neither', () => {
    assert.throws(() => synth({ slackBotTokenSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:x-AbCdEf' }), /give both/);
  });
  it('rejects an unknown mode', () => {
    assert.throws(() => synth({ mode: 'yolo' }), /context mode: expected live or dry-run, got "yolo"/);
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  it('reports no violation on either stack, and every acknowledged rule has its reason', () => {
    const app = new App({ context: { region: 'us-east-1' } });
    buildStacks(app);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as Json;
    const nag = (report.pluginReports as Json[]).find((r) => r.pluginName === 'AwsSolutions')!;
    assert.deepEqual(nag.violations, []);
    assert.equal(nag.conclusion, 'success');

    // Acknowledgments live in construct metadata: each names its rule and why it does not apply.
    const acknowledged = app.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data as Record<string, string>))
      .flatMap((d) => Object.entries(d))
      .filter(([id]) => id.startsWith('AwsSolutions::'));
    for (const [id, reason] of acknowledged) assert.ok(reason.length >= 40, `${id}: a real reason, got "${reason}"`);
    const rules = [...new Set(acknowledged.map(([id]) => id.replace(/^AwsSolutions::/, '').replace(/\[.*$/, '')))].sort();
    // A new acknowledgment is a decision: add it here on purpose.
    assert.deepEqual(rules, ['AwsSolutions-EC23', 'AwsSolutions-ECS2', 'AwsSolutions-IAM5', 'AwsSolutions-S1', 'AwsSolutions-SMG4', 'AwsSolutions-SQS3']);
    // IAM5 is acknowledged finding by finding, never wholesale.
    assert.ok(acknowledged.filter(([id]) => id.includes('IAM5')).every(([id]) => /IAM5\[Resource::/.test(id)));
  });

  it('does fail on a resource that breaks a rule (the checks really run here)', () => {
    const app = new App();
    const stack = new Stack(app, 'Bad');
    new sqs.Queue(stack, 'NoDlq', { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    assert.throws(() => app.synth(), /Validation failed|AwsSolutions-SQS3/);
  });
});
