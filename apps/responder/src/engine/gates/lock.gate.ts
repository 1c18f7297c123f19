import type { RunStore } from '@responder/store';
import type { Gate, GateOutcome, StepCall } from './gate';

/** Held beyond the step's timeout by this much, in case the step overruns it. */
const LOCK_MARGIN_MS = 60_000;

/**
 * One mutating step at a time per resource, across runs, incidents and replicas: a step whose
 * resource is locked is held. Released as soon as the step's outcome is known, before what follows
 * it is queued (the next step may want the same resource). Not taken in dry-run: nothing changes.
 */
export class LockGate implements Gate {
  readonly name = 'lock';

  constructor(
    private readonly runs: Pick<RunStore, 'acquireLock' | 'releaseLock'>,
    private readonly mode: 'live' | 'dry-run',
  ) {}

  async pass(call: StepCall, next: () => Promise<GateOutcome>): Promise<GateOutcome> {
    if (this.mode !== 'live') return next();
    const lock = await this.runs.acquireLock(call.resource, `${call.run.id}/${call.step.id}`, call.step.timeoutMs + LOCK_MARGIN_MS);
    if (!lock) return { kind: 'held', reason: `waiting for the lock on ${call.resource}` };
    try {
      return await next();
    } finally {
      await this.runs.releaseLock(call.resource, lock);
    }
  }
}
