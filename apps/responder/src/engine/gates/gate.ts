import { type AnyAction, type Pause, type RunHead, type StepState } from '@responder/domain';
import type { RunbookStep } from '@responder/runbooks';

/** What an action returned (or, for a dry run, what it would have done). */
export interface StepResult {
  output: Record<string, unknown>;
  summary?: string;
  dryRun?: boolean;
  /** Its goal was verified and met after the call (goal.gate.ts). */
  goal?: 'met';
}

/** How a mutating step's pass through the gates ended. */
export type GateOutcome =
  /** The action ran (or its result is known without calling: a dry run, a ledger that has it). */
  | { kind: 'done'; result: StepResult }
  /** The step ends skipped, without a call (e.g. the cooldown). */
  | { kind: 'skipped'; reason: string }
  /** Not now: the job is put back and looks again in a second (e.g. the kill switch, the lock). */
  | { kind: 'held'; reason: string }
  /** The step was decided meanwhile (another worker moved it): nothing is recorded. */
  | { kind: 'gone' }
  /**
   * Not yet (ActionAgain): the state is kept on the step, and its job runs again after `afterMs`
   * without holding a worker meanwhile; the step stays running.
   */
  | { kind: 'again'; afterMs: number; state: Record<string, unknown> };

/** A mutating step on its way through the gates to its action. */
export interface StepCall {
  readonly run: RunHead;
  readonly step: RunbookStep;
  readonly action: AnyAction;
  /** The step's state: as read when its job began, then as the start gate left it (running). */
  state: StepState;
  /** The kill switch, as read with the step. */
  readonly paused: Pause | null;
  /** What the lock (and an unrouted incident's cooldown) is about: the plan's resource. */
  readonly resource: string;
  /** Set by the start gate once the step is running: an error after it is the step's, before it the job's. */
  started: boolean;
  /** How the action is called; the ledger gate sets these. */
  invocation: {
    idempotencyKey: string;
    /** Called right before the request that changes production (see Action.announcesCall). */
    beforeCall?: () => Promise<void>;
    /** Ask the action for the real state instead of calling it (the call may have been made). */
    reconcile?: boolean;
    /** The state the action's last "not yet" left on the step (ActionContext.checkpoint). */
    checkpoint?: Record<string, unknown>;
    /** How long this run of the action may take: the step's timeout minus what its earlier runs used. */
    timeoutMs?: number;
  };
}

/**
 * One check a mutating step passes before (and around) its action. A gate either answers itself
 * (held, skipped, gone, or a result it already knows) or calls `next()`, the rest of the chain and
 * finally the action, and may act on its outcome or error (release a lock, record the call).
 * Errors thrown by a gate or the action after the start gate are the step's: retried, or the
 * step's failure. Adding a gate is one file and one line in gates/index.ts (see engine/README.md).
 */
export interface Gate {
  /** A short name, for logs and the README's list. */
  readonly name: string;
  pass(call: StepCall, next: () => Promise<GateOutcome>): Promise<GateOutcome>;
}

/** The step's parameters, as planned (and approved). */
export function paramsOf(call: StepCall): Record<string, unknown> {
  return JSON.parse(call.state.paramsJson ?? '{}') as Record<string, unknown>;
}

/** The chain: each gate in order, then the action. */
export function runGates(gates: readonly Gate[], call: StepCall, action: (call: StepCall) => Promise<GateOutcome>): Promise<GateOutcome> {
  const at = (i: number): Promise<GateOutcome> => (i < gates.length ? gates[i].pass(call, () => at(i + 1)) : action(call));
  return at(0);
}
