import { type Action, type Incident, formatSourceProblem, type StepStatusMap } from '@responder/domain';
import { type Runbook, buildContext, parseRunbook } from '@responder/runbooks';
import { testActionDescriptors } from '../../../../../test/support/test-actions';
import { type DeciderEnv, type Planned, decideRun, planReady } from './step-decider';

function runbook(text: string): Runbook {
  const r = parseRunbook('rb.yaml', text, testActionDescriptors);
  if (!r.ok) throw new Error(r.problems.map(formatSourceProblem).join('\n'));
  return r.value;
}

const mutate: Action = {
  id: 'test.mutate',
  mutating: true,
  description: 'test',
  plan: (params) => (params.target === 'same' ? { summary: 'nothing', nothingToDo: 'already there' } : { summary: `set ${String(params.target)}`, resource: `test:${String(params.target)}` }),
  run: () => Promise.resolve({ output: {} }),
};
const env = (mode: DeciderEnv['mode'] = 'live'): DeciderEnv => ({ mode, action: () => mutate, approvers: (step, service) => step.approvers ?? (service ? [`${service}-oncall`] : []) });

const incident: Incident = { id: 'inc_1', status: 'open', service: 'web', routed: true, title: 't', openedAt: '', resolvedAt: null, onsetAt: '', alarms: [] };
const AT = '2026-01-01T00:00:00.000Z';
function context(statuses: StepStatusMap, autonomy: Record<string, string> = {}, outputs: Record<string, Record<string, unknown>> = {}) {
  const steps = Object.fromEntries(Object.entries(statuses).map(([id, status]) => [id, { status, output: outputs[id] }]));
  const service = { name: 'web', autonomy, deny: [] } as never;
  return buildContext({ incident, service, inputs: {}, steps, mode: 'live', now: AT });
}
const pending = (rb: Runbook): StepStatusMap => Object.fromEntries(rb.steps.map((s) => [s.id, 'pending']));
const byStep = (planned: Planned[]) => Object.fromEntries(planned.map((p) => [p.step.id, p]));

/** decideRun then planReady, as the coordinator does. */
function next(rb: Runbook, statuses: StepStatusMap, ctx = context(statuses), mode: DeciderEnv['mode'] = 'live') {
  const decision = decideRun(rb, statuses, AT);
  if (decision.kind !== 'ready') return decision;
  return byStep(planReady(rb, decision.decisions, ctx, statuses, env(mode), AT));
}

const PARALLEL = runbook(`
name: p
steps:
  - { id: a, action: test.diagnose, with: { value: 1 } }
  - { id: b, action: test.diagnose }
  - { id: sum, action: test.diagnose, needs: [a, b], with: { value: "\${{ steps.a.output.value + 1 }}" } }
  - { id: never, action: test.diagnose, needs: [a], when: "steps.a.output.value > 5" }
`);

describe('the step decider', () => {
  it('queues the steps whose needs are done, with their parameters, and leaves the others pending', () => {
    const moves = next(PARALLEL, pending(PARALLEL)) as Record<string, Planned>;
    expect(Object.keys(moves)).toEqual(['a', 'b']);
    expect(moves.a).toMatchObject({ then: 'enqueue', settles: false, move: { stepId: 'a', from: ['pending'], patch: { status: 'queued', paramsJson: '{"value":1}', queuedAt: AT }, event: { type: 'step.queued' } } });
  });

  it('waits while a need is still running, then renders from its output or skips on a false when', () => {
    expect(decideRun(PARALLEL, { a: 'succeeded', b: 'running', sum: 'pending', never: 'pending' })).toMatchObject({ kind: 'ready', toRun: [expect.objectContaining({ id: 'never' })] });
    const statuses: StepStatusMap = { a: 'succeeded', b: 'succeeded', sum: 'pending', never: 'pending' };
    const moves = next(PARALLEL, statuses, context(statuses, {}, { a: { value: 1 } })) as Record<string, Planned>;
    expect(moves.sum.move.patch).toMatchObject({ status: 'queued', paramsJson: '{"value":2}' });
    expect(moves.never).toMatchObject({ settles: true, move: { patch: { status: 'skipped', reason: 'when was false: steps.a.output.value > 5' } } });
    expect(decideRun(PARALLEL, { a: 'running', b: 'running', sum: 'pending', never: 'pending' })).toEqual({ kind: 'wait' });
  });

  it('finishes the run: succeeded, failed with the failed steps, or aborted once the waiting steps are cancelled', () => {
    const rb = runbook(`
name: f
steps:
  - { id: a, action: test.diagnose, on_failure: continue }
  - { id: b, action: test.diagnose }
  - { id: fix, action: test.mutate, with: { target: x }, approval: required }
`);
    expect(decideRun(rb, { a: 'succeeded', b: 'skipped', fix: 'succeeded' })).toEqual({ kind: 'finish', status: 'succeeded', data: {} });
    expect(decideRun(rb, { a: 'failed', b: 'succeeded', fix: 'succeeded' })).toMatchObject({ kind: 'finish', status: 'failed', data: { failedSteps: expect.arrayContaining(['a']) } });
    const cancel = decideRun(rb, { a: 'running', b: 'failed', fix: 'awaiting_approval' }, AT);
    expect(cancel).toEqual({
      kind: 'cancel',
      moves: [{ stepId: 'fix', from: ['pending', 'awaiting_approval'], patch: { status: 'cancelled', reason: 'run aborted: b failed', finishedAt: AT }, event: { type: 'step.cancelled', data: { reason: 'run aborted: b failed' } } }],
    });
    expect(decideRun(rb, { a: 'running', b: 'failed', fix: 'cancelled' })).toEqual({ kind: 'wait' });
    expect(decideRun(rb, { a: 'succeeded', b: 'failed', fix: 'cancelled' })).toEqual({ kind: 'finish', status: 'aborted', data: { abortedBy: 'b' } });
  });

  describe('mutating steps', () => {
    const rb = runbook(`
name: m
policies:
  always: { description: always, when: true }
steps:
  - { id: asked, action: test.mutate, with: { target: a }, approval: required, two_person: true }
  - { id: granted, action: test.mutate, with: { target: b }, approval: { policy: always } }
  - { id: unattended, action: test.mutate, with: { target: c }, approval: none }
  - { id: noop, action: test.mutate, with: { target: same }, approval: required }
`);

    it('asks people with the plan and who may approve, grants by policy, queues an unattended step, and skips a call that changes nothing', () => {
      const moves = next(rb, pending(rb), context(pending(rb), { '*': 'auto' })) as Record<string, Planned>;
      expect(moves.asked).toMatchObject({
        then: 'timeout',
        move: { patch: { status: 'awaiting_approval', plan: 'set a', resource: 'test:a', approversNeeded: 2, approvalWhy: 'the runbook requires approval' }, event: { type: 'approval.requested', data: { approvers: ['web-oncall'], twoPerson: true } } },
      });
      expect(moves.granted.move).toMatchObject({ patch: { status: 'queued', approval: 'policy', approvedBy: 'policy:always' }, event: { type: 'approval.granted' } });
      expect(moves.unattended.move.patch).toMatchObject({ status: 'queued', approval: 'not_required' });
      expect(moves.noop.move.patch).toMatchObject({ status: 'skipped', reason: 'nothing to do: already there' });
    });

    it("follows the catalog's autonomy before the runbook: ask puts every change to people, off never proposes it", () => {
      const asked = next(rb, pending(rb), context(pending(rb), {})) as Record<string, Planned>;
      expect(asked.unattended.move.patch).toMatchObject({ status: 'awaiting_approval', approvalWhy: expect.stringMatching(/: a person approves$/) });
      const off = next(rb, pending(rb), context(pending(rb), { 'test.mutate': 'off' })) as Record<string, Planned>;
      expect(off.granted.move.patch).toMatchObject({ status: 'skipped', reason: 'autonomy off for test.mutate on service web (catalog): never proposed' });
    });

    it('fails a step that cannot be planned, and says in dry-run why a step after a dry-run step is skipped', () => {
      const broken = runbook(`
name: b
steps:
  - { id: fix, action: test.mutate, with: { target: x }, approval: none }
  - { id: after, action: test.diagnose, needs: [fix] }
`);
      const failing: DeciderEnv = { ...env(), action: () => ({ ...mutate, plan: () => { throw new Error('no target'); } }) };
      const d = decideRun(broken, pending(broken), AT);
      if (d.kind !== 'ready') throw new Error(d.kind);
      expect(planReady(broken, d.decisions, context(pending(broken), { '*': 'auto' }), pending(broken), failing, AT)[0].move.patch).toMatchObject({ status: 'failed', error: 'could not plan: no target' });
      const statuses: StepStatusMap = { fix: 'dry-run', after: 'pending' };
      const after = next(broken, statuses, context(statuses), 'dry-run') as Record<string, Planned>;
      expect(after.after.move.patch.reason).toBe('dry run: fix was not really done (nothing changed in production), so this step has nothing to follow; needs fix which was a dry run (nothing changed)');
    });
  });
});
