import type { RunRecord, StepState } from '@responder/domain';
import type { Runbook } from '@responder/runbooks';
import type { StepMove } from '@responder/store';
import { MAX_REPLANS, Replanner } from './replanner';

const runbook = {
  name: 'rb',
  steps: [
    { id: 'deploy', action: 'deploy.recent', mutating: false, needs: [] },
    { id: 'skipped', action: 'aurora.health', mutating: false, needs: [] },
    { id: 'diagnose', action: 'diagnose', mutating: false, needs: ['deploy', 'skipped'] },
    { id: 'rollback', action: 'deploy.rollback', mutating: true, needs: ['deploy', 'diagnose'] },
    { id: 'scale-up', action: 'ecs.scale-up', mutating: true, needs: ['rollback', 'diagnose'] },
    { id: 'unrelated', action: 'logs.errors', mutating: false, needs: [] },
  ],
} as unknown as Runbook;

const state = (status: StepState['status'], extra: Partial<StepState> = {}): StepState => ({ status, action: 'a', mutating: false, attempts: 1, approvals: [], ...extra });

function setup(rollback: Partial<StepState>) {
  const record: RunRecord = {
    id: 'run_1',
    incidentId: 'inc_1',
    runbook: 'rb',
    status: 'running',
    inputsJson: '{}',
    trigger: 'alarm',
    createdAt: '',
    steps: {
      deploy: state('succeeded'),
      skipped: state('skipped'),
      diagnose: state('succeeded'),
      rollback: state('running', { mutating: true, plan: 'roll back :2 → :1', paramsHash: 'h1', ...rollback }),
      'scale-up': state('succeeded', { mutating: true }),
      unrelated: state('succeeded'),
    },
  };
  const moves: StepMove[][] = [];
  const runs = {
    getRun: jest.fn(() => Promise.resolve(record)),
    moveSteps: jest.fn((_id: string, m: StepMove[]) => {
      moves.push(m);
      return Promise.resolve({ applied: m.map(() => true), statuses: {}, runStatus: 'running' as const });
    }),
  };
  const queue = { forgetStep: jest.fn(() => Promise.resolve()), cancelApprovalTimeout: jest.fn(() => Promise.resolve()) };
  const coordinator = { advance: jest.fn(() => Promise.resolve()) };
  const registry = { runbookOf: () => runbook };
  const replanner = new Replanner(registry as never, coordinator as never, runs as never, queue as never);
  return { replanner, moves, queue, coordinator, record };
}

describe('Replanner', () => {
  it('puts a stale step back to pending (approvals dropped, replans + 1) with its read-only evidence, in one call, then moves the run on', async () => {
    const { replanner, moves, queue, coordinator, record } = setup({ approvals: [{ by: 'alice', at: 't', paramsHash: 'h1' }] });
    expect(await replanner.stale(record, 'rollback', 'now runs :3', ['running'], 'call')).toBe(true);
    const [call] = moves;
    expect(call[0]).toMatchObject({ stepId: 'rollback', from: ['running'], patch: { status: 'pending', replans: 1, replanReason: 'now runs :3', approvals: [] } });
    expect(call[0].event).toEqual({ type: 'approval.stale', data: expect.objectContaining({ reason: 'now runs :3', plan: 'roll back :2 → :1', paramsHash: 'h1', replans: 1, trigger: 'call', replanned: true }) });
    // Its ancestors that are evidence (not the mutating scale-up, not a step it does not need) run again.
    expect(call.slice(1).map((m) => m.stepId).sort()).toEqual(['deploy', 'diagnose', 'skipped']);
    expect(call.slice(1).every((m) => m.after === 0 && m.patch.status === 'pending' && m.event?.type === 'step.rerun')).toBe(true);
    expect(queue.forgetStep.mock.calls.map((c: unknown[]) => c[1]).sort()).toEqual(['deploy', 'diagnose', 'skipped']);
    expect(queue.cancelApprovalTimeout).toHaveBeenCalledWith('run_1', 'rollback');
    expect(coordinator.advance).toHaveBeenCalledWith('run_1');
  });

  it(`fails the step with the reason once its plan went stale ${MAX_REPLANS} times, instead of planning it again`, async () => {
    const { replanner, moves, queue, record } = setup({ replans: MAX_REPLANS });
    expect(await replanner.stale(record, 'rollback', 'now runs :6', ['running'], 'call')).toBe(true);
    expect(moves[0][0]).toMatchObject({ stepId: 'rollback', patch: { status: 'failed', error: `the plan was found stale ${MAX_REPLANS} times; not planned again (a person should look): now runs :6` } });
    expect(moves[0].some((m) => m.patch.status === 'pending')).toBe(false);
    expect(queue.forgetStep).not.toHaveBeenCalled();
  });

  it('does nothing when the step moved on meanwhile', async () => {
    const { replanner, moves, coordinator, record } = setup({ status: 'succeeded' });
    expect(await replanner.stale(record, 'rollback', 'x', ['running'], 'call')).toBe(false);
    expect(moves).toEqual([]);
    expect(coordinator.advance).not.toHaveBeenCalled();
  });
});
