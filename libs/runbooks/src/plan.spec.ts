import { ExpressionError, type Incident, formatSourceProblem } from '@responder/domain';
import { testActionDescriptors } from '../../../test/support/test-actions';
import {
  type StepStatuses,
  buildContext,
  canonicalJson,
  checkWhen,
  dependents,
  isFailure,
  isTerminal,
  paramsHash,
  policyGrants,
  readySteps,
  renderParams,
  resolveInputs,
  runState,
  stepReads,
  topologicalOrder,
  triggerMatches,
} from './plan';
import { type Runbook, parseRunbook } from './runbook';

function runbook(text: string): Runbook {
  const r = parseRunbook('rb.yaml', text, testActionDescriptors);
  if (!r.ok) throw new Error(r.problems.map(formatSourceProblem).join('\n'));
  return r.value;
}

const withTriggers = (triggers: string) => runbook(`name: t\n${triggers}\nsteps:\n  - { id: a, action: test.diagnose }\n`);

// alb and deploy start at once; rollback and scale-up are alternatives; report joins them.
const branching = runbook(`
name: branching
inputs:
  factor: { default: 2 }
policies:
  small: { when: "steps.alb.output.unhealthy < 3" }
steps:
  - { id: alb, action: test.diagnose }
  - { id: deploy, action: test.diagnose, on_failure: continue }
  - id: rollback
    action: test.mutate
    needs: [alb, deploy]
    when: steps.deploy.output.correlated == true
    approval: { policy: small }
    with: { deployment: "\${{ steps.deploy.output.id }}", tasks: "\${{ steps.alb.output.unhealthy * inputs.factor }}" }
  - { id: scale-up, action: test.mutate, needs: [alb, deploy], when: "steps.deploy.output.correlated != true", approval: required }
  - id: report
    action: note
    needs: [rollback, scale-up]
    when: steps.rollback.status == 'succeeded' || steps.scale-up.status == 'succeeded'
    with: { text: done }
  - { id: after-report, action: note, needs: [report], with: { text: after } }
`);

const ids = (decisions: ReturnType<typeof readySteps>) => decisions.map((d) => (d.decision === 'run' ? d.step.id : `${d.step.id} (skip: ${d.reason})`));

describe('planning', () => {
  describe('triggerMatches', () => {
    it('matches service globs against routed incidents only', () => {
      const rb = withTriggers('triggers: { services: ["checkout", "pay*"] }');
      expect(triggerMatches(rb, { service: 'checkout', alarmNames: [] })).toBe(true);
      expect(triggerMatches(rb, { service: 'payments', alarmNames: [] })).toBe(true);
      expect(triggerMatches(rb, { service: 'search', alarmNames: [] })).toBe(false);
      expect(triggerMatches(withTriggers('triggers: { services: ["*"] }'), { service: null, alarmNames: ['x'] })).toBe(false);
      expect(triggerMatches(withTriggers('triggers: { services: ["*"] }'), { service: 'any', alarmNames: [] })).toBe(true);
    });

    it('matches any incident, routed or not, when services is left out', () => {
      expect(triggerMatches(withTriggers(''), { service: null, alarmNames: [] })).toBe(true);
      expect(triggerMatches(withTriggers('triggers: { manual_only: false }'), { service: 'x', alarmNames: [] })).toBe(true);
    });

    it('matches alarm globs against any alarm of the incident, and needs both lists to match', () => {
      const rb = withTriggers('triggers: { services: [checkout], alarms: ["*-5xx"] }');
      expect(triggerMatches(rb, { service: 'checkout', alarmNames: ['checkout-latency', 'checkout-alb-5xx'] })).toBe(true);
      expect(triggerMatches(rb, { service: 'checkout', alarmNames: ['checkout-latency'] })).toBe(false);
      expect(triggerMatches(rb, { service: 'payments', alarmNames: ['payments-5xx'] })).toBe(false);
    });

    it('never starts a manual-only runbook', () => {
      expect(triggerMatches(withTriggers('triggers: { manual_only: true }'), { service: 'x', alarmNames: ['y'] })).toBe(false);
    });
  });

  describe('the step graph', () => {
    it('finds the steps that need a step', () => {
      expect(dependents(branching, 'deploy').map((s) => s.id)).toEqual(['rollback', 'scale-up']);
      expect(dependents(branching, 'after-report')).toEqual([]);
    });

    it('orders steps after their needs, ties in file order', () => {
      const rb = runbook(`name: o
steps:
  - { id: last, action: test.diagnose, needs: [b, a] }
  - { id: b, action: test.diagnose, needs: [a] }
  - { id: a, action: test.diagnose }
  - { id: c, action: test.diagnose }
`);
      expect(topologicalOrder(rb).map((s) => s.id)).toEqual(['a', 'b', 'last', 'c']);
      expect(topologicalOrder(branching).map((s) => s.id)).toEqual(['alb', 'deploy', 'rollback', 'scale-up', 'report', 'after-report']);
    });
  });

  describe('readySteps and runState', () => {
    it('starts every step without needs at once', () => {
      expect(ids(readySteps(branching, {}))).toEqual(['alb', 'deploy']);
      expect(runState(branching, {})).toEqual({ state: 'running' });
    });

    it('waits until every need is settled, and does not offer a step twice', () => {
      expect(ids(readySteps(branching, { alb: 'succeeded', deploy: 'running' }))).toEqual([]);
      expect(ids(readySteps(branching, { alb: 'succeeded', deploy: 'succeeded' }))).toEqual(['rollback', 'scale-up']);
      expect(ids(readySteps(branching, { alb: 'succeeded', deploy: 'succeeded', rollback: 'awaiting_approval', 'scale-up': 'pending' }))).toEqual(['scale-up']);
    });

    it('counts a failed need with on_failure: continue as done', () => {
      expect(ids(readySteps(branching, { alb: 'succeeded', deploy: 'failed' }))).toEqual(['rollback', 'scale-up']);
    });

    it('skips a step whose need was skipped, unless its when reads that need\'s status', () => {
      const statuses: StepStatuses = { alb: 'succeeded', deploy: 'succeeded', rollback: 'skipped', 'scale-up': 'succeeded' };
      expect(ids(readySteps(branching, statuses))).toEqual(['report']);
      expect(ids(readySteps(branching, { ...statuses, report: 'skipped' }))).toEqual(['after-report (skip: needs report which was skipped)']);
    });

    it('treats a dry-run need as nothing done: a dependent is skipped saying so, unless its when reads that status; the run still ends well', () => {
      const statuses: StepStatuses = { alb: 'succeeded', deploy: 'succeeded', rollback: 'dry-run', 'scale-up': 'skipped' };
      // report's when reads both statuses: it decides itself (steps.rollback.status == 'dry-run' is there to read).
      expect(ids(readySteps(branching, statuses))).toEqual(['report']);
      expect(ids(readySteps(branching, { ...statuses, report: 'dry-run' }))).toEqual(['after-report (skip: needs report which was a dry run (nothing changed))']);
      const done: StepStatuses = { ...statuses, report: 'skipped', 'after-report': 'skipped' };
      expect(runState(branching, done)).toEqual({ state: 'succeeded' });
      expect(isTerminal('dry-run')).toBe(true);
      expect(isFailure('dry-run')).toBe(false);
    });

    it('aborts the run when a step with on_failure: abort fails, is rejected or times out', () => {
      for (const status of ['failed', 'rejected', 'timed_out'] as const) {
        const statuses: StepStatuses = { alb: status, deploy: 'running' };
        expect(readySteps(branching, statuses)).toEqual([]);
        expect(runState(branching, statuses)).toEqual({ state: 'aborted', abortedBy: 'alb', settled: false });
      }
      expect(runState(branching, { alb: 'failed', deploy: 'succeeded', rollback: 'cancelled' })).toEqual({ state: 'aborted', abortedBy: 'alb', settled: true });
    });

    it('tells a clean run from one that continued past failures', () => {
      const done: StepStatuses = { alb: 'succeeded', deploy: 'succeeded', rollback: 'succeeded', 'scale-up': 'skipped', report: 'succeeded', 'after-report': 'succeeded' };
      expect(runState(branching, done)).toEqual({ state: 'succeeded' });
      expect(runState(branching, { ...done, deploy: 'failed' })).toEqual({ state: 'completed_with_failures', failed: ['deploy'] });
    });
  });

  describe('context, conditions and parameters', () => {
    const incident: Incident = {
      id: 'inc_01JD3M4X9QZ0000000',
      status: 'open',
      service: 'checkout',
      routed: true,
      title: 'checkout: checkout-alb-5xx',
      openedAt: '2026-11-20T17:05:00.000Z',
      resolvedAt: null,
      onsetAt: '2026-11-20T17:04:40.989Z',
      alarms: [
        { name: 'checkout-latency', arn: 'arn:l', kind: 'metric', state: 'ALARM', reason: 'r2', stateChangedAt: '2026-11-20T17:06:00.000Z' },
        { name: 'checkout-alb-5xx', arn: 'arn:5', kind: 'metric', state: 'ALARM', reason: 'r1', stateChangedAt: '2026-11-20T17:04:40.989Z' },
      ],
    };
    const context = (steps: Record<string, { status: 'succeeded' | 'failed'; output?: Record<string, unknown> }>) =>
      buildContext({ incident, service: null, inputs: { factor: 3 }, steps, mode: 'dry-run', now: new Date('2026-11-20T17:10:00.000Z') });

    it('builds the documented context, with the alarm that opened the incident', () => {
      expect(context({})).toEqual({
        incident: { id: incident.id, service: 'checkout', title: incident.title, status: 'open', routed: true, openedAt: incident.openedAt, onsetAt: incident.onsetAt },
        alarm: { name: 'checkout-alb-5xx', arn: 'arn:5', kind: 'metric', state: 'ALARM', reason: 'r1', stateChangedAt: '2026-11-20T17:04:40.989Z' },
        alarms: [expect.objectContaining({ name: 'checkout-latency' }), expect.objectContaining({ name: 'checkout-alb-5xx' })],
        service: null,
        inputs: { factor: 3 },
        steps: {},
        mode: 'dry-run',
        now: '2026-11-20T17:10:00.000Z',
      });
    });

    it('resolves inputs from defaults and a manual run\'s overrides', () => {
      expect(resolveInputs(branching)).toEqual({ ok: true, inputs: { factor: 2 } });
      expect(resolveInputs(branching, { factor: 4 })).toEqual({ ok: true, inputs: { factor: 4 } });
      expect(resolveInputs(branching, { factr: 4 })).toEqual({ ok: false, error: 'unknown input "factr" for runbook "branching" (inputs: factor)' });
    });

    it('runs a step when its condition holds, and says why it skips one', () => {
      const rollback = branching.steps[2];
      const ctx = context({ alb: { status: 'succeeded', output: { unhealthy: 2 } }, deploy: { status: 'succeeded', output: { correlated: true, id: 'd-1' } } });
      expect(checkWhen(rollback, ctx)).toEqual({ run: true });
      expect(checkWhen(branching.steps[3], ctx)).toEqual({ run: false, reason: 'when was false: steps.deploy.output.correlated != true' });
      expect(checkWhen(branching.steps[0], ctx)).toEqual({ run: true });
      // A failed diagnostic has no output: the condition is false, not an error.
      expect(checkWhen(rollback, context({ alb: { status: 'succeeded' }, deploy: { status: 'failed' } }))).toMatchObject({ run: false });
    });

    it('throws the ExpressionError of a condition that fails at run time', () => {
      const rb = runbook("name: e\nsteps:\n  - { id: a, action: test.diagnose }\n  - { id: b, action: test.diagnose, needs: [a], when: \"steps.a.output.n > 'x'\" }\n");
      expect(() => checkWhen(rb.steps[1], context({ a: { status: 'succeeded', output: { n: 1 } } }))).toThrow(ExpressionError);
    });

    it('grants a policy approval only when the policy holds', () => {
      const rollback = branching.steps[2];
      expect(policyGrants(rollback, context({ alb: { status: 'succeeded', output: { unhealthy: 2 } } }))).toBe(true);
      expect(policyGrants(rollback, context({ alb: { status: 'succeeded', output: { unhealthy: 5 } } }))).toBe(false);
      expect(policyGrants(rollback, context({}))).toBe(false);
      expect(policyGrants(branching.steps[3], context({ alb: { status: 'succeeded', output: { unhealthy: 2 } } }))).toBe(false);
    });

    it('renders the parameters with their types', () => {
      const ctx = context({ alb: { status: 'succeeded', output: { unhealthy: 2 } }, deploy: { status: 'succeeded', output: { id: 'd-1' } } });
      expect(renderParams(branching.steps[2], ctx)).toEqual({ deployment: 'd-1', tasks: 6 });
    });
  });

  describe('stepReads', () => {
    const set = (reads: ReadonlySet<string> | 'all') => (reads === 'all' ? 'all' : [...reads].sort());
    const readsOf = (id: string) => {
      const r = stepReads(branching.steps.find((s) => s.id === id)!);
      return { outputs: set(r.outputs), statuses: set(r.statuses), incident: r.incident };
    };

    it('lists the outputs and statuses a step reads, from its when, with and approval policy', () => {
      // rollback: when and with read deploy's and alb's outputs, its policy alb's
      expect(readsOf('rollback')).toEqual({ outputs: ['alb', 'deploy'], statuses: ['alb', 'deploy'], incident: false });
      // report reads only statuses: the outputs need not be loaded
      expect(readsOf('report')).toEqual({ outputs: [], statuses: ['rollback', 'scale-up'], incident: false });
      expect(readsOf('after-report')).toEqual({ outputs: [], statuses: [], incident: false });
    });

    it('says when a step reads the incident, or any step (steps whole or by a computed id)', () => {
      const rb = runbook(`
name: reads
inputs:
  which: { default: a }
steps:
  - { id: a, action: test.diagnose }
  - { id: b, action: test.diagnose, needs: [a], with: { n: "\${{ len(alarms) }}", all: "\${{ steps[inputs.which].status }}" } }
  - { id: c, action: test.diagnose, needs: [a], when: "incident.service == 'x'", with: { one: "\${{ steps.a }}" } }
`);
      expect(stepReads(rb.steps[1])).toEqual({ outputs: 'all', statuses: 'all', incident: true });
      expect(stepReads(rb.steps[2])).toEqual({ outputs: new Set(['a']), statuses: new Set(['a']), incident: true });
    });
  });

  describe('paramsHash', () => {
    it('does not depend on key order, at any depth', () => {
      expect(paramsHash({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(paramsHash({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }));
      expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}');
    });

    it('changes with any value, and is 16 hex digits', () => {
      const h = paramsHash({ desiredCount: 8, service: 'checkout' });
      expect(h).toMatch(/^[0-9a-f]{16}$/);
      expect(paramsHash({ desiredCount: 9, service: 'checkout' })).not.toBe(h);
      expect(paramsHash({ desiredCount: '8', service: 'checkout' })).not.toBe(h);
      expect(paramsHash([1, 2])).not.toBe(paramsHash([2, 1]));
    });

    it('leaves out undefined values, as the JSON of the parameters does', () => {
      expect(paramsHash({ a: 1, b: undefined })).toBe(paramsHash({ a: 1 }));
    });
  });
});
