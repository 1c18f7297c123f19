import { type Gate, type GateOutcome, type StepCall, paramsOf } from './gate';

/** In dry-run the step ends as `dry-run` with what it would have called; nothing past this gate runs. */
export class DryRunGate implements Gate {
  readonly name = 'dry-run';

  constructor(private readonly mode: 'live' | 'dry-run') {}

  pass(call: StepCall, next: () => Promise<GateOutcome>): Promise<GateOutcome> {
    if (this.mode !== 'dry-run') return next();
    const { state, step } = call;
    return Promise.resolve({
      kind: 'done',
      result: { output: { dryRun: true, wouldCall: state.plan, params: paramsOf(call) }, summary: `dry run: would ${state.plan ?? step.action}`, dryRun: true },
    });
  }
}
