import type { Gate, GateOutcome, StepCall } from './gate';

/** While automation is paused no mutating step starts: it is held (the job looks again every second). */
export class KillSwitchGate implements Gate {
  readonly name = 'kill switch';

  pass(call: StepCall, next: () => Promise<GateOutcome>): Promise<GateOutcome> {
    if (call.paused) return Promise.resolve({ kind: 'held', reason: `automation paused by ${call.paused.by}` });
    return next();
  }
}
