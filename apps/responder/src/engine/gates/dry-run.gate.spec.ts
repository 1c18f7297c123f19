import { nextStep, stepCall } from '../../../../../test/support/step-call';
import { DryRunGate } from './dry-run.gate';

describe('the dry-run gate', () => {
  it('ends the step with what it would have called, calling nothing', async () => {
    const next = nextStep();
    expect(await new DryRunGate('dry-run').pass(stepCall(), next)).toEqual({
      kind: 'done',
      result: { output: { dryRun: true, wouldCall: 'set x', params: { target: 'x' } }, summary: 'dry run: would set x', dryRun: true },
    });
    expect(next).not.toHaveBeenCalled();
  });

  it('lets a live step through', async () => {
    const next = nextStep();
    await new DryRunGate('live').pass(stepCall(), next);
    expect(next).toHaveBeenCalledTimes(1);
  });
});
