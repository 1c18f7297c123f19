import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type Catalog, formatSourceProblem, parseCatalog } from '@responder/domain';
import { testActionDescriptors } from '../../../test/support/test-actions';
import { loadRunbooks } from './loader';
import { type Runbook, DEFAULT_TIMEOUT_MS, parseDuration, parseRunbook } from './runbook';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'runbooks');
const BAD = join(FIXTURES, 'bad');
const OK = join(FIXTURES, 'ok');

function catalog(): Catalog {
  const r = parseCatalog('service-catalog.yaml', readFileSync(join(OK, 'service-catalog.yaml'), 'utf8'));
  if (!r.ok) throw new Error(r.problems.map(formatSourceProblem).join('\n'));
  return r.value;
}

function parse(text: string, withCatalog = false): Runbook {
  const r = parseRunbook('rb.yaml', text, testActionDescriptors, withCatalog ? { catalog: catalog() } : {});
  if (!r.ok) throw new Error(r.problems.map(formatSourceProblem).join('\n'));
  return r.value;
}

function problems(text: string, withCatalog = false): string[] {
  const r = parseRunbook('rb.yaml', text, testActionDescriptors, withCatalog ? { catalog: catalog() } : {});
  return r.ok ? [] : r.problems.map(formatSourceProblem);
}

describe('runbook files', () => {
  describe('bad fixtures: each reports the error its first line names, and only that', () => {
    const loaded = loadRunbooks(BAD, testActionDescriptors);
    const files = readdirSync(BAD).filter((f) => f.endsWith('.yaml'));

    it('has fixtures, and none of them loads', () => {
      expect(files.length).toBeGreaterThanOrEqual(20);
      expect(loaded.runbooks).toEqual([]);
    });

    describe.each(files)('%s', (file) => {
      it('fails with its expected file:line:column: message', () => {
        const expected = /^# expect: (.+)$/m.exec(readFileSync(join(BAD, file), 'utf8'))?.[1];
        expect(expected).toMatch(new RegExp(`^${file.replace(/\./g, '\\.')}:\\d+:\\d+: \\S`));
        const found = loaded.problems.filter((p) => basename(p.file) === file).map((p) => formatSourceProblem({ ...p, file: basename(p.file) }));
        expect(found).toHaveLength(1);
        const [position, message] = [expected!.slice(0, expected!.indexOf(': ') + 2), expected!.slice(expected!.indexOf(': ') + 2)];
        expect(found[0].startsWith(position)).toBe(true);
        expect(found[0]).toContain(message);
      });
    });
  });

  describe('ok fixtures', () => {
    it('all load, with the catalog, and the catalog file is not taken for a runbook', () => {
      const loaded = loadRunbooks(OK, testActionDescriptors, { catalog: catalog() });
      expect(loaded.problems.map(formatSourceProblem)).toEqual([]);
      expect(loaded.runbooks.map((r) => r.name)).toEqual(['everything', 'manual-restart']);
    });

    it('compiles every feature of everything.yaml', () => {
      const rb = parse(readFileSync(join(OK, 'everything.yaml'), 'utf8'), true);
      expect(rb.triggers).toEqual({ services: ['checkout', 'pay*'], alarms: ['*-5xx', '*-down'], manualOnly: false });
      expect(rb.inputs).toEqual({ scale_factor: { default: 2, description: 'multiply the running task count by this' }, reason: { default: 'automated response' } });
      expect(rb.policies['recent-deploy'].when.references()).toEqual([
        ['steps', 'deploy', 'output', 'minutes_before_onset'],
        ['service', 'limits', 'autoRollbackWindowMinutes'],
      ]);
      expect(rb.location).toEqual({ file: 'rb.yaml', line: 2, column: 7 });

      const step = (id: string) => rb.steps.find((s) => s.id === id)!;
      expect(rb.steps.map((s) => s.id)).toEqual(['alb', 'deploy', 'check-logs', 'pause', 'rollback', 'scale-up', 'tell']);
      expect(step('alb')).toMatchObject({
        index: 0,
        action: 'test.diagnose',
        mutating: false,
        needs: [],
        when: null,
        approval: { kind: 'none' },
        approvers: null,
        twoPerson: false,
        timeoutMs: 30_000,
        retries: { attempts: 3, backoff: 'exponential', delayMs: 2000 },
        onFailure: 'abort',
        location: { file: 'rb.yaml', line: 20, column: 9 },
      });
      expect(step('deploy')).toMatchObject({ timeoutMs: 45_000, onFailure: 'continue', retries: { attempts: 1 } });
      expect(step('pause')).toMatchObject({ action: 'wait', needs: ['alb'], timeoutMs: DEFAULT_TIMEOUT_MS });
      const rollback = step('rollback');
      expect(rollback).toMatchObject({ mutating: true, needs: ['alb', 'deploy'], approvers: ['checkout-oncall'], timeoutMs: 15 * 60_000 });
      expect(rollback.approval).toMatchObject({ kind: 'policy', name: 'recent-deploy', description: 'the alarm fired within the rollback window of a deploy' });
      expect(rollback.when?.source).toBe('steps.deploy.output.correlated == true && steps.alb.output.unhealthy > 0');
      expect(step('scale-up')).toMatchObject({ approval: { kind: 'required' }, twoPerson: true, timeoutMs: 90 * 60_000 });

      const context = {
        service: catalog().services.checkout,
        steps: { alb: { status: 'succeeded', output: { running: 5, unhealthy: 2 } }, deploy: { status: 'failed' } },
        inputs: { scale_factor: 2, reason: 'test' },
        mode: 'live',
        now: '2026-11-20T17:10:00.000Z',
        alarm: { name: 'checkout-alb-5xx' },
      };
      expect(step('alb').with.render(context)).toEqual({
        target_groups: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/73e2d6bc24d8a067'],
        first: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/checkout-blue/73e2d6bc24d8a067',
        labels: { service: 'checkout', mode: 'live' },
      });
      expect(step('scale-up').with.render(context)).toEqual({ desired: 10, note: 'scaling at 2026-11-20T17:10:00.000Z' });
      expect(step('scale-up').when?.evaluate(context)).toBe(true);
      expect(rollback.when?.evaluate(context)).toBe(false);
    });
  });

  describe('checks', () => {
    it('lets a mutating step run unattended only when it says so (approval: none)', () => {
      expect(problems('name: x\nsteps:\n  - { id: a, action: test.mutate, approval: none }\n')).toEqual([]);
      expect(problems('name: x\nsteps:\n  - { id: a, action: test.diagnose, approval: none }\n')).toEqual([]);
    });

    it('accepts needs as a single step id and when as a boolean', () => {
      const rb = parse('name: x\nsteps:\n  - { id: a, action: note, with: { text: hi } }\n  - { id: b, action: wait, needs: a, when: false, with: { seconds: 1 } }\n');
      expect(rb.steps[1].needs).toEqual(['a']);
      expect(rb.steps[1].when?.evaluate({})).toBe(false);
    });

    it('lets a step read any step it needs transitively', () => {
      expect(
        problems(`name: x
steps:
  - { id: a, action: test.diagnose }
  - { id: b, action: test.diagnose, needs: [a] }
  - { id: c, action: note, needs: [b], with: { text: "\${{ steps.a.output.x }} \${{ steps.b.status }}" } }
`),
      ).toEqual([]);
    });

    it('points inside a quoted string, counting escapes, and at a block scalar when it spans lines', () => {
      const double = problems('name: x\nsteps:\n  - id: a\n    action: test.diagnose\n    when: "\\"q\\" == 1 &&"\n');
      expect(double).toEqual(['rb.yaml:5:25: steps[0].when: condition does not parse: expected an operand after "&&"']);
      const single = problems("name: x\nsteps:\n  - id: a\n    action: test.diagnose\n    when: '''q'' == nope.x'\n");
      expect(single).toEqual(['rb.yaml:5:21: steps[0].when: unknown name "nope": the context has incident, alarm, alarms, service, inputs, steps, mode, now']);
      const block = problems('name: x\nsteps:\n  - id: a\n    action: test.diagnose\n    when: >\n      mode == "live"\n      && nope\n');
      expect(block[0]).toMatch(/^rb\.yaml:5:11: steps\[0\]\.when: unknown name "nope"/);
    });

    it('checks a policy against the steps of the runbook, and each step that uses it against its needs', () => {
      expect(problems('name: x\npolicies:\n  p: { when: "steps.ghost.output.ok" }\nsteps:\n  - { id: a, action: test.mutate, approval: { policy: p } }\n')).toEqual([
        'rb.yaml:3:21: policies.p.when: steps.ghost: there is no step "ghost" in this runbook',
      ]);
      expect(
        problems('name: x\npolicies:\n  p: { when: "steps.a.output.ok" }\nsteps:\n  - { id: a, action: test.diagnose }\n  - { id: b, action: test.mutate, needs: [a], approval: { policy: p } }\n'),
      ).toEqual([]);
    });

    it('reports several problems of one file at once, in file order', () => {
      const found = problems('name: x\nsteps:\n  - { id: a, action: ecs.reboot }\n  - { id: b, action: test.mutate, needs: [zz] }\n');
      expect(found).toEqual([
        'rb.yaml:3:22: steps[0].action: unknown action "ecs.reboot" (known actions: diagnose, note, test.diagnose, test.mutate, wait)',
        'rb.yaml:4:22: steps[1].action: step "b" runs "test.mutate", which changes production, and has no approval setting: add approval: required, approval: { policy: <name> }, or approval: none to run it unattended',
        'rb.yaml:4:43: steps[1].needs[0]: unknown step "zz" in needs',
      ]);
    });

    it('checks approver groups and exact service names against the catalog when given one', () => {
      const text = 'name: x\ntriggers: { services: [checkout, chekout, "pay*"] }\nsteps:\n  - { id: a, action: test.mutate, approval: required, approvers: [checkout-oncall, ghosts] }\n';
      expect(problems(text)).toEqual([]);
      expect(problems(text, true)).toEqual([
        'rb.yaml:2:34: triggers.services[1]: no service "chekout" in the service catalog (did you mean "checkout"?)',
        'rb.yaml:4:84: steps[0].approvers[1]: unknown approver group "ghosts" (not in the catalog\'s approverGroups)',
      ]);
    });

    it('refuses a step whose action the catalog denies for a service the runbook names exactly (a glob is left to run time)', () => {
      const denying = parseCatalog('service-catalog.yaml', 'services:\n  ledger: { alarms: { names: [l] }, deny: [test.mutate] }\n');
      if (!denying.ok) throw new Error('bad catalog');
      const check = (text: string) => {
        const r = parseRunbook('rb.yaml', text, testActionDescriptors, { catalog: denying.value });
        return r.ok ? [] : r.problems.map(formatSourceProblem);
      };
      const steps = 'steps:\n  - { id: look, action: test.diagnose }\n  - { id: fix, action: test.mutate, approval: required }\n';
      expect(check(`name: x\ntriggers: { services: [ledger] }\n${steps}`)).toEqual([
        'rb.yaml:5:24: steps[1].action: step "fix" runs "test.mutate", which the service catalog denies for service "ledger" (services.ledger.deny): it would never run',
      ]);
      expect(check(`name: x\ntriggers: { services: ["*"] }\n${steps}`)).toEqual([]);
    });

    it('names the fields of the context it knows', () => {
      expect(problems('name: x\nsteps:\n  - { id: a, action: test.diagnose, when: "incident.opened_at > now" }\n')[0]).toContain(
        'incident has no field "opened_at" (it has id, service, title, status, routed, openedAt, onsetAt)',
      );
      expect(problems('name: x\nsteps:\n  - { id: a, action: test.diagnose, when: "mode.x" }\n')[0]).toContain('mode is a string: it has no field "x"');
      expect(problems('name: x\nsteps:\n  - { id: a, action: test.diagnose, when: "alarms[0].name == service.ecs.cluster" }\n')).toEqual([]);
    });

    it('rejects an empty file and a file that is not a mapping', () => {
      expect(problems('')).toEqual(['rb.yaml:1:1: the file is empty: expected a runbook (name, steps, …)']);
      expect(problems('- a\n')[0]).toMatch(/^rb\.yaml:1:1: expected object, received array/);
    });
  });

  describe('durations', () => {
    it.each([
      ['30s', 30_000],
      ['15m', 900_000],
      ['1h', 3_600_000],
      ['1h30m', 5_400_000],
      ['500ms', 500],
      ['1.5s', 1500],
      [45, 45_000],
      [0.25, 250],
    ])('%p is %d ms', (value, ms) => {
      expect(parseDuration(value)).toEqual({ ok: true, ms });
    });

    it.each(['15 minutes', '', '10', 'm', '-1s', '0s', 0, -5, true, null, '2d', '25h'])('rejects %p', (value) => {
      expect(parseDuration(value).ok).toBe(false);
    });
  });
});
