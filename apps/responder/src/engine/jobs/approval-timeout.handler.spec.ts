import { formatSourceProblem, type StepState } from '@responder/domain';
import { parseRunbook } from '@responder/runbooks';
import type { RunStore } from '@responder/store';
import { testActionDescriptors } from '../../../../../test/support/test-actions';
import type { QueuedJob } from '../../queue';
import type { RunCoordinator } from '../run-coordinator';
import type { RunbookRegistry } from '../runbook-registry';
import type { JobOf } from './job-handler';
import { ApprovalTimeoutHandler } from './approval-timeout.handler';

const parsed = parseRunbook('rb.yaml', 'name: rb\ntriggers: { services: [web] }\nsteps:\n  - { id: fix, action: test.mutate, approval: required, timeout: 10m, with: { target: a } }\n', testActionDescriptors);
if (!parsed.ok) throw new Error(parsed.problems.map(formatSourceProblem).join('\n'));
const runbook = parsed.value;
const TEN_MINUTES = 10 * 60_000;

function setup(state: Partial<StepState>) {
  const transition = jest.fn(() => Promise.resolve(true));
  const advance = jest.fn(() => Promise.resolve());
  const runs = {
    getRunStep: () => Promise.resolve({ id: 'run_1', incidentId: 'inc_1', runbook: 'rb', service: 'web', status: 'running', inputsJson: '{}', trigger: 'alarm', steps: { fix: { action: 'test.mutate', mutating: true, ...state } } }),
    transition,
  } as unknown as RunStore;
  const registry = { runbookOf: () => runbook } as unknown as RunbookRegistry;
  const handler = new ApprovalTimeoutHandler(runs, registry, { advance } as unknown as RunCoordinator);
  const holdFor = jest.fn(() => Promise.reject(new Error('held')));
  const job = { data: { runId: 'run_1', stepId: 'fix' }, holdFor } as unknown as QueuedJob<JobOf<'approval-timeout'>>;
  return { handler, job, transition, advance, holdFor };
}

describe('the approval timeout', () => {
  it('times out a step whose current request is older than its timeout', async () => {
    const { handler, job, transition, advance, holdFor } = setup({ status: 'awaiting_approval', requestedAt: new Date(Date.now() - TEN_MINUTES - 1000).toISOString() });
    await handler.handle(job);
    expect(transition).toHaveBeenCalledWith('run_1', 'fix', ['awaiting_approval'], expect.objectContaining({ status: 'timed_out' }), expect.anything());
    expect(advance).toHaveBeenCalledWith('run_1');
    expect(holdFor).not.toHaveBeenCalled();
  });

  it('puts itself back, without timing anything out, when the request was made again since it was scheduled (a re-plan)', async () => {
    const { handler, job, transition, holdFor } = setup({ status: 'awaiting_approval', requestedAt: new Date(Date.now() - 60_000).toISOString() });
    await expect(handler.handle(job)).rejects.toThrow('held');
    expect(transition).not.toHaveBeenCalled();
    const [[ms]] = holdFor.mock.calls as unknown as [[number, string]];
    // What is left of the new request's ten minutes: about nine.
    expect(ms).toBeGreaterThan(TEN_MINUTES - 60_000 - 5_000);
    expect(ms).toBeLessThanOrEqual(TEN_MINUTES - 60_000);
  });

  it('leaves a step that no longer waits for approval alone (the transition refuses it)', async () => {
    const { handler, job, transition, advance, holdFor } = setup({ status: 'queued' });
    transition.mockResolvedValueOnce(false);
    await handler.handle(job);
    expect(holdFor).not.toHaveBeenCalled();
    expect(advance).not.toHaveBeenCalled();
  });
});
