import { formatSourceProblem } from '@responder/domain';
import { parseRunbook } from '@responder/runbooks';
import { testActionDescriptors } from '../../../../../test/support/test-actions';
import { type DeciderEnv, REPEATED_MITIGATIONS, prepareStep } from './prepare-step';

const parsed = parseRunbook('rb.yaml', 'name: rb\ntriggers: { services: [web] }\nsteps:\n  - { id: fix, action: test.mutate, with: { target: x }, approval: none }\n', testActionDescriptors);
if (!parsed.ok) throw new Error(parsed.problems.map(formatSourceProblem).join('\n'));
const step = parsed.value.steps[0];
const env: DeciderEnv = {
  mode: 'live',
  action: () => ({ id: 'test.mutate', mutating: true, description: '', plan: () => ({ summary: 'set x' }), run: () => Promise.resolve({ output: {} }) }),
  approvers: () => ['oncall'],
};
const service = { name: 'web', autonomy: { 'test.mutate': 'auto' }, deny: [] };

describe('prepareStep and the repeat rule', () => {
  it('runs an unattended mutation on its own when the catalog says auto and nothing repeats', () => {
    const planned = prepareStep(step, { now: '2026-01-01T00:00:00.000Z', service }, env);
    expect(planned.move.patch).toMatchObject({ status: 'queued', approval: 'not_required' });
  });

  it('asks a person instead when the same mitigation already "succeeded" twice within a day, showing why', () => {
    const why = 'test.mutate on web already "succeeded" 2 times in the last 24 h (…) and the alarm came back each time: a person decides whether to run it again';
    const context: Record<string, unknown> = { now: '2026-01-01T00:00:00.000Z', service };
    Object.defineProperty(context, REPEATED_MITIGATIONS, { value: { 'test.mutate': why }, enumerable: false });
    const planned = prepareStep(step, context, env);
    expect(planned.then).toBe('timeout');
    expect(planned.move.patch).toMatchObject({ status: 'awaiting_approval', approval: 'pending', approvalWhy: why });
    expect(planned.move.event).toMatchObject({ type: 'approval.requested', data: expect.objectContaining({ why }) });
  });
});
