import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
// The built command line, as it runs in the image (npm test builds it before jest runs).
const CLI = join(ROOT, 'bin', 'responder');
// The same CLI with the test actions known too: the fixtures name test.diagnose / test.mutate.
const CLI_WITH_TEST_ACTIONS = join(ROOT, 'test', 'support', 'cli-with-test-actions.ts');
const FIXTURES = 'test/fixtures/runbooks';

function cli(entry: string, args: string[], env: Record<string, string> = {}) {
  const [cmd, argv] = entry.endsWith('.ts') ? [TSX, [entry, ...args]] : [entry, args];
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('responder runbook validate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-runbooks-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts the valid fixtures and their service catalog: exit 0 and a one-line summary', () => {
    const r = cli(CLI_WITH_TEST_ACTIONS, ['runbook', 'validate', `${FIXTURES}/ok`]);
    expect(r.stdout).toBe('2 runbooks valid, service catalog valid\n');
    expect(r.code).toBe(0);
  });

  it('prints every problem of the bad fixtures as file:line:column: message, and exits 1', () => {
    const r = cli(CLI_WITH_TEST_ACTIONS, ['runbook', 'validate', `${FIXTURES}/bad`]);
    expect(r.code).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    const files = readdirSync(join(ROOT, FIXTURES, 'bad')).filter((f) => f.endsWith('.yaml'));
    expect(lines[lines.length - 1]).toBe(`${files.length} problems in ${files.length} files`);
    for (const file of files) {
      const expected = /^# expect: (.+)$/m.exec(readFileSync(join(ROOT, FIXTURES, 'bad', file), 'utf8'))![1];
      const position = expected.slice(0, expected.indexOf(': ') + 2);
      const line = lines.find((l) => l.startsWith(`${FIXTURES}/bad/${position}`));
      expect(line).toContain(expected.slice(position.length));
    }
  });

  it('validates against the real actions: a fixture action the service does not have is an error', () => {
    const r = cli(CLI, ['runbook', 'validate', `${FIXTURES}/ok`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${FIXTURES}/ok/manual.yml:6:13: steps[0].action: unknown action "test.mutate" (known actions: `);
    // the CLI knows the built-in and the AWS actions
    expect(r.stdout).toMatch(/known actions: alb\.target-health, [^)]*ecs\.scale-up, [^)]*note, [^)]*wait\)/);
    expect(r.stdout).toMatch(/\n6 problems in 2 files\n$/);
  });

  it('reads RUNBOOKS_DIR by default, and checks runbooks against the catalog there', () => {
    copyFileSync(join(ROOT, FIXTURES, 'ok', 'service-catalog.yaml'), join(dir, 'service-catalog.yaml'));
    writeFileSync(join(dir, 'pause.yaml'), 'name: pause\ntriggers: { services: [checkout] }\nsteps:\n  - { id: wait, action: wait, with: { seconds: 5 } }\n');
    expect(cli(CLI, ['runbook', 'validate'], { RUNBOOKS_DIR: dir })).toMatchObject({ code: 0, stdout: '1 runbook valid, service catalog valid\n' });

    writeFileSync(join(dir, 'typo.yaml'), 'name: typo\ntriggers: { services: [chekout] }\nsteps:\n  - { id: wait, action: wait, with: { seconds: 5 } }\n');
    const r = cli(CLI, ['runbook', 'validate'], { RUNBOOKS_DIR: dir });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${join(dir, 'typo.yaml')}:2:24: triggers.services[0]: no service "chekout" in the service catalog (did you mean "checkout"?)\n1 problem in 1 file\n`);
  });

  it('reports an invalid service catalog', () => {
    const bad = mkdtempSync(join(tmpdir(), 'cli-catalog-'));
    try {
      writeFileSync(join(bad, 'service-catalog.yaml'), 'services:\n  a: { alarms: { names: [x] }, limits: { maxTasks: many } }\n');
      const r = cli(CLI, ['runbook', 'validate', bad]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('service-catalog.yaml:2:52: services.a.limits.maxTasks: expected number, received string');
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });

  it('refuses an unknown autonomy value, an unknown action in autonomy or deny, and a denied action a runbook for that service uses', () => {
    const d = mkdtempSync(join(tmpdir(), 'cli-autonomy-'));
    try {
      writeFileSync(
        join(d, 'service-catalog.yaml'),
        'services:\n  a: { alarms: { names: [x] }, autonomy: { ecs.scale-up: sometimes } }\n  b: { alarms: { names: [y] }, autonomy: { ecs.reboot: off }, deny: [deploy.rollback, alb.target-health] }\n',
      );
      let r = cli(CLI, ['runbook', 'validate', d]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('service-catalog.yaml:2:58: services.a.autonomy.ecs.scale-up: expected off, ask or auto, got "sometimes"');
      writeFileSync(join(d, 'service-catalog.yaml'), 'services:\n  b: { alarms: { names: [y] }, autonomy: { ecs.reboot: off }, deny: [deploy.rollback, alb.target-health] }\n');
      r = cli(CLI, ['runbook', 'validate', d]);
      expect(r.stdout).toContain('service-catalog.yaml:2:56: services.b.autonomy.ecs.reboot: unknown action "ecs.reboot" (mutating actions: aurora.failover, deploy.rollback, ecs.scale-up)');
      expect(r.stdout).toContain('service-catalog.yaml:2:87: services.b.deny[1]: "alb.target-health" is read-only: autonomy and deny apply to mutating actions');
      writeFileSync(join(d, 'service-catalog.yaml'), 'services:\n  b: { alarms: { names: [y] }, deny: [deploy.rollback] }\n');
      writeFileSync(join(d, 'undo.yaml'), 'name: undo\ntriggers: { services: [b] }\nsteps:\n  - { id: back, action: deploy.rollback, with: { cluster: c, service: s }, approval: required }\n');
      r = cli(CLI, ['runbook', 'validate', d]);
      expect(r).toMatchObject({ code: 1 });
      expect(r.stdout).toBe(
        `${join(d, 'undo.yaml')}:4:25: steps[0].action: step "back" runs "deploy.rollback", which the service catalog denies for service "b" (services.b.deny): it would never run\n1 problem in 1 file\n`,
      );
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('fails on a folder that does not exist, and on an unknown command with its usage', () => {
    expect(cli(CLI, ['runbook', 'validate', join(dir, 'nope')])).toMatchObject({ code: 1, stdout: `${join(dir, 'nope')}:1:1: no such directory\n1 problem in 1 file\n` });
    const r = cli(CLI, ['runbook', 'check']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'check'");
    expect(r.stderr).toContain('responder --help lists the commands');
  });
});

describe('responder iam-policy', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cli-iam-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A folder with the shipped catalog and the runbooks given (file name → YAML). */
  function folder(name: string, runbooks: Record<string, string>): string {
    const d = join(dir, name);
    mkdirSync(d);
    copyFileSync(join(ROOT, 'runbooks', 'service-catalog.yaml'), join(d, 'service-catalog.yaml'));
    for (const [file, text] of Object.entries(runbooks)) writeFileSync(join(d, file), text);
    return d;
  }
  const NO_SQS = { SQS_QUEUE_URL: '', AWS_REGION: '' };
  type Policy = { Version: string; Statement: Array<{ Sid: string; Effect: string; Action: string[]; Resource: string | string[] }> };
  const actionsOf = (p: Policy) => p.Statement.flatMap((s) => s.Action).sort();

  it('alb.target-health only: exactly its two elasticloadbalancing actions', () => {
    const d = folder('alb', {
      'alb.yaml': 'name: alb\ntriggers: { services: [checkout] }\nsteps:\n  - { id: alb, action: alb.target-health, with: { target_groups: "${{ service.loadBalancer.targetGroups }}" } }\n',
    });
    const r = cli(CLI, ['iam-policy', d], NO_SQS);
    expect(r.code).toBe(0);
    const policy = JSON.parse(r.stdout) as Policy;
    expect(policy.Version).toBe('2012-10-17');
    expect(actionsOf(policy)).toEqual(['elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetHealth']);
  });

  it('the runbooks/README.md example: ECS scoped to the checkout service ARN with UpdateService, nothing of unused actions', () => {
    const readme = readFileSync(join(ROOT, 'runbooks', 'README.md'), 'utf8');
    const example = /### A complete example\n\n```yaml\n([\s\S]*?)```/.exec(readme)![1];
    const d = folder('readme', { 'production-down.yaml': example });
    const r = cli(CLI, ['iam-policy', d], NO_SQS);
    expect(r.code).toBe(0);
    const policy = JSON.parse(r.stdout) as Policy;
    const ecs = policy.Statement.find((s) => s.Action.includes('ecs:UpdateService'))!;
    expect(ecs.Resource).toContain('arn:aws:ecs:us-east-1:123456789012:service/prod/checkout');
    expect(ecs.Resource).not.toContain('*');
    // the example uses alb.target-health, deploy.recent, deploy.rollback, ecs.scale-up: no logs, metrics, tasks or SQS
    const actions = actionsOf(policy);
    for (const unused of ['logs:FilterLogEvents', 'cloudwatch:GetMetricData', 'ecs:DescribeTasks', 'ecs:ListTasks', 'sqs:ReceiveMessage']) expect(actions).not.toContain(unused);
    expect(policy.Statement.find((s) => s.Action.includes('codedeploy:CreateDeployment'))?.Resource).toEqual([
      'arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:AppECS-prod-checkout/DgpECS-prod-checkout',
    ]);
  });

  it('the shipped runbooks: cloudtrail:LookupEvents for changes.recent, on "*" (it takes no resource-level permission)', () => {
    const r = cli(CLI, ['iam-policy', join(ROOT, 'runbooks')], NO_SQS);
    expect(r.code).toBe(0);
    const policy = JSON.parse(r.stdout) as Policy;
    expect(policy.Statement.find((s) => s.Action.includes('cloudtrail:LookupEvents'))).toMatchObject({ Sid: 'NoResourceLevelPermissions', Resource: '*' });
  });

  it('adds the SQS intake on its queue when SQS_QUEUE_URL is set, and warns on stderr when it cannot scope', () => {
    const d = folder('sqs', {});
    const r = cli(CLI, ['iam-policy', d], { SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/responder-alarms' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'SqsIntakeQueue', Effect: 'Allow', Action: ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage'], Resource: ['arn:aws:sqs:us-east-1:123456789012:responder-alarms'] },
      ],
    });

    const bare = join(dir, 'bare');
    mkdirSync(bare);
    writeFileSync(join(bare, 'service-catalog.yaml'), 'services:\n  a:\n    alarms: { names: [x] }\n    logGroups: [/ecs/a]\n');
    writeFileSync(join(bare, 'logs.yaml'), 'name: logs\nsteps:\n  - { id: logs, action: logs.errors, with: { log_groups: "${{ service.logGroups }}", since: "${{ incident.onsetAt }}" } }\n');
    const w = cli(CLI, ['iam-policy', bare, '--region', 'eu-west-1'], NO_SQS);
    expect(w.code).toBe(0);
    expect(JSON.parse(w.stdout)).toMatchObject({ Statement: [{ Sid: 'LogGroups', Action: ['logs:FilterLogEvents'], Resource: '*' }] });
    expect(w.stderr).toMatch(/warning: LogGroups .*unknown account/);
    const given = cli(CLI, ['iam-policy', bare, '--region', 'eu-west-1', '--account', '111122223333'], NO_SQS);
    expect(JSON.parse(given.stdout)).toMatchObject({ Statement: [{ Resource: ['arn:aws:logs:eu-west-1:111122223333:log-group:/ecs/a:*'] }] });
  });

  it('refuses invalid runbooks (exit 1, problems on stderr) and bad flags (exit 2)', () => {
    const r = cli(CLI, ['iam-policy', `${FIXTURES}/ok`]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('unknown action "test.mutate"');
    expect(cli(CLI, ['iam-policy', '--account', 'x']).code).toBe(2);
  });
});
