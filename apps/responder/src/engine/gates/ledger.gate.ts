import { PermanentActionError } from '@responder/domain';
import type { RunStore } from '@responder/store';
import type { Gate, GateOutcome, StepCall, StepResult } from './gate';

/**
 * The idempotency ledger: a mutating action is called at most once per attempt, and a job resumed
 * after a crash never calls twice. The ledger records the intent, then "calling" right before the
 * request that changes production (the action says when, with ctx.calling, if it announces its
 * call; else right before run), then the outcome. A job that finds only the intent calls (nothing
 * was called); one that finds "calling" without an outcome asks the action to reconcile (read the
 * real state); one that finds the outcome returns it. The last gate before the action: what it
 * records is exactly the call.
 */
export class LedgerGate implements Gate {
  readonly name = 'ledger';

  constructor(private readonly runs: Pick<RunStore, 'ledgerBegin' | 'ledgerCalling' | 'ledgerFinish' | 'appendTimeline'>) {}

  async pass(call: StepCall, next: () => Promise<GateOutcome>): Promise<GateOutcome> {
    const { run, step } = call;
    const key = `${run.id}:${step.id}`;
    const begin = await this.runs.ledgerBegin(key);
    if (begin.kind === 'done') return { kind: 'done', result: JSON.parse(begin.resultJson) as StepResult };
    if (begin.kind === 'uncalled') {
      await this.runs.appendTimeline(run.incidentId, 'step.not_called', {
        runId: run.id,
        step: step.id,
        reason: 'an earlier attempt stopped before it called the action: the call was not made; calling it now',
      });
    }
    call.invocation.idempotencyKey = `${key}#${begin.attempt}`;
    if (begin.kind === 'reconcile') return this.reconcile(call, key, next);

    let called = false;
    let abandoned = false;
    call.invocation.beforeCall = async () => {
      if (called) return;
      const marked = await this.runs.ledgerCalling(key, begin.attempt);
      // Given up meanwhile (timeout): the attempt is recorded as failed, so it must not call now.
      if (!marked || abandoned) throw new Error(`${step.action}: attempt ${begin.attempt} was given up before its call`);
      called = true;
    };
    let outcome: GateOutcome;
    try {
      outcome = await next();
    } catch (err) {
      abandoned = true;
      // Only an error that says the call did not take effect (or one before the call started) lets
      // a retry call again; anything else (a timeout, a dropped connection) may have changed
      // production: the retry reconciles.
      if (!called || err instanceof PermanentActionError || (err as { notApplied?: boolean }).notApplied === true) {
        await this.runs.ledgerFinish(key, { state: 'failed', error: (err as Error).message });
      }
      throw err;
    }
    if (outcome.kind === 'done') await this.runs.ledgerFinish(key, { state: 'done', resultJson: JSON.stringify(outcome.result) });
    return outcome;
  }

  private async reconcile(call: StepCall, key: string, next: () => Promise<GateOutcome>): Promise<GateOutcome> {
    const { run, step } = call;
    await this.runs.appendTimeline(run.incidentId, 'step.reconciling', {
      runId: run.id,
      step: step.id,
      reason: 'the call may have been made: an earlier attempt started it and did not record its outcome',
    });
    if (!call.action.reconcile) {
      throw new PermanentActionError(`${step.action} may have been called (an earlier attempt started the call and was interrupted): its outcome is unknown and it cannot reconcile: check by hand`);
    }
    call.invocation.reconcile = true;
    const outcome = await next();
    if (outcome.kind === 'done') await this.runs.ledgerFinish(key, { state: 'done', resultJson: JSON.stringify(outcome.result) });
    return outcome;
  }
}
