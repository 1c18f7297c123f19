import { type Action, type StepState } from '@responder/domain';
import type { RunbookStep } from '@responder/runbooks';
import type { GateOutcome, StepCall } from '../../apps/responder/src/engine/gates';

/** A mutating step on its way through the gates, for the gates' unit specs. */
export function stepCall(overrides: Partial<StepCall> = {}, action: Partial<Action> = {}): StepCall {
  const step = { id: 'fix', action: 'test.mutate', mutating: true, timeoutMs: 5000, needs: [] } as unknown as RunbookStep;
  const state: StepState = { status: 'queued', action: 'test.mutate', mutating: true, attempts: 0, approvals: [], paramsJson: '{"target":"x"}', plan: 'set x', resource: 'test:x' };
  return {
    run: { id: 'run_1', incidentId: 'inc_1', runbook: 'rb', service: 'web', status: 'running', inputsJson: '{}' },
    step,
    action: { id: 'test.mutate', mutating: true, description: 'test', plan: () => ({ summary: 'set x' }), run: () => Promise.resolve({ output: {} }), ...action },
    state,
    paused: null,
    resource: 'test:x',
    started: false,
    invocation: { idempotencyKey: 'run_1:fix' },
    ...overrides,
  };
}

/** A `next` that records it was called and answers `outcome` (or throws `error`). */
export function nextStep(outcome: GateOutcome = { kind: 'done', result: { output: { ok: true } } }, error?: Error) {
  return jest.fn(() => (error ? Promise.reject(error) : Promise.resolve(outcome)));
}
