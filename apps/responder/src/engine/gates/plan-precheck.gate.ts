import type { PlanCheck, RunHead, StepStatus } from '@responder/domain';
import type { RunbookStep } from '@responder/runbooks';
import type { RunStore } from '@responder/store';
import type { Gate, GateOutcome, StepCall } from './gate';

/** What the plan pre-check needs: the action's check, and what to do with its answer (engine/replanner.ts). */
export interface PlanRecheck {
  check(action: StepCall['action'], step: RunbookStep, paramsJson: string | undefined): Promise<PlanCheck | null>;
  checked(run: RunHead, step: RunbookStep, what: string, trigger: 'call'): Promise<void>;
  stale(run: RunHead, stepId: string, reason: string, from: StepStatus[], trigger: 'call'): Promise<boolean>;
}

/**
 * Right before a mutating call, re-reads what its plan was made on (Action.precheck): the service
 * still on the plan's `from`, the count still the plan's base, the writer still down. When that
 * still holds: `plan.checked` on the timeline, and the call goes on. When not, the approval given
 * is for a world that is gone: the step is re-planned (its evidence gathered again, approval asked
 * anew; see Replanner) and this job ends without calling (`gone`). A step resumed after its call
 * may have been made (ledger `calling` or `done`) is not checked: its own call changed the world,
 * and the ledger reconciles it.
 */
export class PlanPrecheckGate implements Gate {
  readonly name = 'plan pre-check';

  constructor(
    private readonly runs: Pick<RunStore, 'ledger'>,
    private readonly recheck: PlanRecheck,
  ) {}

  async pass(call: StepCall, next: () => Promise<GateOutcome>): Promise<GateOutcome> {
    const { run, step, action } = call;
    if (!action.precheck) return next();
    const ledgerState = (await this.runs.ledger(`${run.id}:${step.id}`)).state;
    if (ledgerState === 'calling' || ledgerState === 'done') return next();
    const check = await this.recheck.check(action, step, call.state.paramsJson);
    if (!check) return next();
    if (check.holds) {
      await this.recheck.checked(run, step, check.checked, 'call');
      return next();
    }
    await this.recheck.stale(run, step.id, check.reason, ['running'], 'call');
    return { kind: 'gone' };
  }
}
