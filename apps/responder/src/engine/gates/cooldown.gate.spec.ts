import { PermanentActionError } from '@responder/domain';
import type { Cooldown } from '@responder/store';
import { nextStep, stepCall } from '../../../../../test/support/step-call';
import { CooldownGate, type CooldownLookup } from './cooldown.gate';

function setup(ledgerState: string | undefined, held: Cooldown | null = null) {
  const ledger: Record<string, string> = ledgerState === undefined ? {} : { state: ledgerState };
  const runs = {
    ledger: jest.fn(() => Promise.resolve(ledger)),
    claimCooldown: jest.fn(() => Promise.resolve(held)),
    restartCooldown: jest.fn(() => Promise.resolve()),
    releaseCooldown: jest.fn(() => Promise.resolve()),
  };
  const lookup: CooldownLookup = { serviceOf: () => Promise.resolve('web'), cooldownMinutes: () => 10, ancestors: () => ['look'] };
  return { runs, gate: new CooldownGate(runs, lookup) };
}

describe('the cooldown gate', () => {
  it('skips a step while the service cools down after another change, saying what changed it', async () => {
    const { gate } = setup(undefined, { data: { action: 'deploy.rollback', runId: 'run_0', step: 'rollback', incidentId: 'inc_0', at: '2026-01-01T00:00:00Z' }, secondsLeft: 42 } as unknown as Cooldown);
    const next = nextStep();
    expect(await gate.pass(stepCall(), next)).toEqual({
      kind: 'skipped',
      reason: 'cooldown: deploy.rollback (step rollback of incident inc_0) changed service web at 2026-01-01T00:00:00Z; 42s left of 10 min before another mutating action on it',
    });
    expect(next).not.toHaveBeenCalled();
  });

  it('claims the service for this step (the steps its run sequences before it exempt) and restarts the cooldown after the change', async () => {
    const { runs, gate } = setup(undefined);
    expect(await gate.pass(stepCall(), nextStep())).toMatchObject({ kind: 'done' });
    expect(runs.claimCooldown).toHaveBeenCalledWith('service:web', 'run_1/fix', ['run_1/look'], 600, expect.objectContaining({ action: 'test.mutate', runId: 'run_1' }));
    expect(runs.restartCooldown).toHaveBeenCalledWith('service:web', 'run_1/fix', 600, expect.any(Object));
  });

  it('does not hold a step resumed after its call was made: it reconciles whatever the cooldown says', async () => {
    const { runs, gate } = setup('calling');
    expect(await gate.pass(stepCall(), nextStep())).toMatchObject({ kind: 'done' });
    expect(runs.claimCooldown).not.toHaveBeenCalled();
  });

  it('releases the service when the call did not take effect', async () => {
    const { runs, gate } = setup(undefined);
    await expect(gate.pass(stepCall(), nextStep(undefined, new PermanentActionError('refused')))).rejects.toThrow('refused');
    expect(runs.releaseCooldown).toHaveBeenCalledWith('service:web', 'run_1/fix');
    expect(runs.restartCooldown).not.toHaveBeenCalled();
  });
});
