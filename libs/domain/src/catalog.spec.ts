import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CatalogMatcher, type Catalog, autonomyOf, globToRegExp, parseCatalog } from './catalog';
import { formatSourceProblem } from './yaml-source';

const EXAMPLE = join(__dirname, '..', '..', '..', 'runbooks', 'service-catalog.yaml');
const arn = (name: string) => `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${name}`;

function parse(text: string): Catalog {
  const r = parseCatalog('catalog.yaml', text);
  if (!r.ok) throw new Error(r.problems.map(formatSourceProblem).join('\n'));
  return r.value;
}
function problems(text: string): string[] {
  const r = parseCatalog('catalog.yaml', text);
  return r.ok ? [] : r.problems.map(formatSourceProblem);
}

describe('service catalog', () => {
  it('parses the shipped example with its defaults filled in', () => {
    const catalog = parse(readFileSync(EXAMPLE, 'utf8'));
    expect(Object.keys(catalog.services)).toEqual(['checkout', 'payments']);
    expect(catalog.services.checkout.ecs).toEqual({ cluster: 'prod', service: 'checkout' });
    expect(catalog.services.payments.autonomy).toEqual({});
    expect(catalog.services.payments.deny).toEqual([]);
    expect(catalog.services.payments.limits).toEqual({ minTasks: 1, maxTasks: 12, scaleUpFactor: 2, cooldownMinutes: 10, autoRollbackWindowMinutes: 30, autoRollbackMinConfidence: 0.8 });
  });

  it('matches an exact ARN before an exact name before a pattern', () => {
    const matcher = new CatalogMatcher(
      parse(`
services:
  by-pattern: { alarms: { patterns: ["api-*"] } }
  by-name: { alarms: { names: [api-5xx] } }
  by-arn: { alarms: { arns: ["${arn('api-5xx')}"] } }
`),
    );
    expect(matcher.match({ alarmName: 'api-5xx', alarmArn: arn('api-5xx') })).toMatchObject({ service: { name: 'by-arn' }, matchedBy: 'arn' });
    expect(matcher.match({ alarmName: 'api-5xx', alarmArn: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:api-5xx' })).toMatchObject({
      service: { name: 'by-name' },
      matchedBy: 'name',
    });
    expect(matcher.match({ alarmName: 'api-latency', alarmArn: arn('api-latency') })).toMatchObject({ service: { name: 'by-pattern' }, matchedBy: 'pattern' });
    expect(matcher.match({ alarmName: 'db-cpu', alarmArn: arn('db-cpu') })).toBeNull();
  });

  it('takes the first pattern in file order when two match', () => {
    const matcher = new CatalogMatcher(parse(`services:\n  first: { alarms: { patterns: ["*-5xx"] } }\n  second: { alarms: { patterns: ["api-*"] } }\n`));
    expect(matcher.match({ alarmName: 'api-5xx', alarmArn: arn('api-5xx') })?.service.name).toBe('first');
  });

  it('reads globs literally apart from * and ?', () => {
    expect(globToRegExp('checkout.api-*').test('checkout.api-5xx')).toBe(true);
    expect(globToRegExp('checkout.api-*').test('checkoutXapi-5xx')).toBe(false);
    expect(globToRegExp('db-?').test('db-1')).toBe(true);
    expect(globToRegExp('db-?').test('db-10')).toBe(false);
  });

  it('locates a schema error at its line and column', () => {
    expect(problems(`services:\n  checkout:\n    alarms: { names: [a] }\n    limits: { maxTasks: many }\n`)).toEqual([
      'catalog.yaml:4:25: services.checkout.limits.maxTasks: expected number, received string',
    ]);
  });

  it('takes autoRollbackMinConfidence from 0 to 1 only', () => {
    expect(parse(`services:\n  checkout:\n    alarms: { names: [a] }\n    limits: { autoRollbackMinConfidence: 0.9 }\n`).services.checkout.limits.autoRollbackMinConfidence).toBe(0.9);
    expect(problems(`services:\n  checkout:\n    alarms: { names: [a] }\n    limits: { autoRollbackMinConfidence: 80 }\n`)).toEqual([
      expect.stringMatching(/^catalog\.yaml:4:\d+: services\.checkout\.limits\.autoRollbackMinConfidence: .*<=1/),
    ]);
  });

  it('rejects an unknown field, an unknown approver group and an alarm claimed twice', () => {
    const found = problems(`
approverGroups:
  oncall: { slackUsers: [U01ABC] }
services:
  a: { alarms: { names: [x] }, approvers: [oncall, ghosts] }
  b: { alarms: { names: [x] }, ecs: { cluster: prod, service: b, region: us-east-1 } }
`);
    expect(found.join('\n')).toContain('services.b.ecs: Unrecognized key: "region"');
    const crossChecked = problems(`
approverGroups:
  oncall: { slackUsers: [U01ABC] }
services:
  a: { alarms: { names: [x] }, approvers: [oncall, ghosts] }
  b: { alarms: { names: [x] } }
`).join('\n');
    expect(crossChecked).toContain('catalog.yaml:5:52: services.a.approvers[1]: unknown approver group "ghosts"');
    expect(crossChecked).toContain('catalog.yaml:6:26: services.b.alarms.names[0]: alarm name x is already claimed by service "a"');
  });

  it('reads autonomy per action (or one level for all) and a deny list; ask is the default', () => {
    const c = parse(`
services:
  a: { alarms: { names: [a] }, autonomy: { deploy.rollback: auto, aurora.failover: off, "*": ask }, deny: [ecs.scale-up] }
  b: { alarms: { names: [b] }, autonomy: auto }
  c: { alarms: { names: [c] } }
`);
    expect(autonomyOf(c.services.a, 'deploy.rollback')).toEqual({ denied: false, level: 'auto', why: 'autonomy auto for deploy.rollback on service a (catalog)' });
    expect(autonomyOf(c.services.a, 'aurora.failover')).toMatchObject({ level: 'off' });
    expect(autonomyOf(c.services.a, 'ecs.scale-up')).toEqual({ denied: true, why: 'ecs.scale-up is on the deny list of service a in the catalog: never run' });
    expect(autonomyOf(c.services.a, 'other.action')).toMatchObject({ level: 'ask', why: 'autonomy ask for every action on service a (catalog)' });
    expect(autonomyOf(c.services.b, 'deploy.rollback')).toMatchObject({ level: 'auto' });
    expect(autonomyOf(c.services.c, 'deploy.rollback')).toMatchObject({ denied: false, level: 'ask', why: expect.stringContaining('the default') });
    expect(autonomyOf(null, 'deploy.rollback')).toMatchObject({ denied: false, level: 'ask' });
  });

  it('refuses an unknown autonomy level where it is written, and (given the actions) an action that is unknown or read-only', () => {
    expect(problems('services:\n  a: { alarms: { names: [a] }, autonomy: { deploy.rollback: yes } }\n')).toEqual([
      'catalog.yaml:2:61: services.a.autonomy.deploy.rollback: expected off, ask or auto, got "yes"',
    ]);
    expect(problems('services:\n  a: { alarms: { names: [a] }, autonomy: always }\n')[0]).toMatch(/^catalog\.yaml:2:42: services\.a\.autonomy(\.\*)?: expected off, ask or auto, got "always"$/);
    const actions = new Map([
      ['deploy.rollback', { id: 'deploy.rollback', mutating: true, description: '' }],
      ['alb.target-health', { id: 'alb.target-health', mutating: false, description: '' }],
    ]);
    const r = parseCatalog('catalog.yaml', 'services:\n  a: { alarms: { names: [a] }, autonomy: { deploy.rolback: auto }, deny: [alb.target-health] }\n', { actions });
    expect(r.ok ? [] : r.problems.map(formatSourceProblem)).toEqual([
      'catalog.yaml:2:60: services.a.autonomy.deploy.rolback: unknown action "deploy.rolback" (mutating actions: deploy.rollback)',
      'catalog.yaml:2:75: services.a.deny[0]: "alb.target-health" is read-only: autonomy and deny apply to mutating actions',
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    expect(problems('services:\n  a: { alarms: [\n')[0]).toMatch(/^catalog\.yaml:\d+:\d+: /);
  });

  it('accepts an empty file as an empty catalog', () => {
    expect(parse('')).toEqual({ services: {}, approverGroups: {} });
  });
});
