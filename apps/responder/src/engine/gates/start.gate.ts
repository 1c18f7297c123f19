import type { RunStore } from '@responder/store';
import { stepEvent } from '../decider/prepare-step';
import type { Gate, GateOutcome, StepCall } from './gate';

/**
 * Moves the step to running (step.started), or, when its job runs again after a crash, keeps it
 * running (step.resumed), counting the attempt. A step decided meanwhile is gone: nothing follows.
 * A running step with a checkpoint (its job was put back to resume later) carries on silently.
 */
export class StartGate implements Gate {
  readonly name = 'start';

  constructor(private readonly runs: Pick<RunStore, 'transition'>) {}

  async pass(call: StepCall, next: () => Promise<GateOutcome>): Promise<GateOutcome> {
    const { run, step, state: before } = call;
    // Put back on purpose (ActionAgain), not after a crash: it carries on, the same attempt.
    if (before.status === 'running' && before.checkpointJson) {
      // Held meanwhile (the kill switch, a lock): that reason no longer holds.
      if (before.reason !== undefined) {
        const state = await this.runs.transition(run.id, step.id, ['running'], { reason: undefined });
        if (!state) return { kind: 'gone' };
        call.state = state;
      }
      call.started = true;
      return next();
    }
    const attempts = (before.attempts ?? 0) + 1;
    const now = new Date().toISOString();
    const state =
      before.status === 'queued'
        ? await this.runs.transition(run.id, step.id, ['queued'], { status: 'running', reason: undefined, startedAt: now, attempts }, stepEvent('step.started', { action: step.action }))
        : await this.runs.transition(run.id, step.id, ['running'], { reason: undefined, attempts }, stepEvent('step.resumed', { attempt: attempts }));
    if (!state) return { kind: 'gone' };
    call.state = state;
    call.started = true;
    return next();
  }
}
