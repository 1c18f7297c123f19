import { nextStep, stepCall } from '../../../../../test/support/step-call';
import { KillSwitchGate } from './kill-switch.gate';

describe('the kill switch gate', () => {
  it('holds a mutating step while automation is paused, saying by whom', async () => {
    const next = nextStep();
    const call = stepCall({ paused: { by: 'alice@example.com', at: '' } });
    expect(await new KillSwitchGate().pass(call, next)).toEqual({ kind: 'held', reason: 'automation paused by alice@example.com' });
    expect(next).not.toHaveBeenCalled();
  });

  it('lets it through otherwise', async () => {
    const next = nextStep();
    expect(await new KillSwitchGate().pass(stepCall(), next)).toMatchObject({ kind: 'done' });
    expect(next).toHaveBeenCalledTimes(1);
  });
});
