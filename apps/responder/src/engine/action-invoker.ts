import { type AnyAction, type ActionContext, type ActionOutcome, PermanentActionError, type RunHead } from '@responder/domain';
import type { RunbookStep } from '@responder/runbooks';
import { LazySignal } from './lazy-signal';

/** How an action is called: the key a retry shares, and the ledger's hooks (mutating steps). */
export interface Invocation {
  idempotencyKey: string;
  beforeCall?: () => Promise<void>;
  reconcile?: boolean;
  /** The state of the action's last "not yet" (ActionContext.checkpoint). */
  checkpoint?: Record<string, unknown>;
  /** What is left of the step's timeout (a resumed step's earlier runs used the rest); the whole timeout by default. */
  timeoutMs?: number;
}

/**
 * Calls a step's action within the step's timeout, aborting it (its signal) when it overruns. A
 * step resumed from a checkpoint whose timeout has passed fails for good: running it again cannot
 * give it its time back.
 */
export async function invokeAction(run: RunHead, step: RunbookStep, action: AnyAction, params: Record<string, unknown>, invocation: Invocation, dryRun: boolean): Promise<ActionOutcome> {
  const timeoutMs = invocation.timeoutMs ?? step.timeoutMs;
  if (timeoutMs <= 0) throw new PermanentActionError(`${step.action} did not finish within ${step.timeoutMs} ms`);
  return withTimeout(step, timeoutMs, (signal) => {
    const ctx = actionContext(run, step, signal, invocation, dryRun);
    if (invocation.reconcile && action.reconcile) return action.reconcile(params, ctx);
    const { beforeCall } = invocation;
    if (beforeCall && !action.announcesCall) return beforeCall().then(() => action.run(params, ctx));
    return action.run(params, ctx);
  });
}

async function withTimeout<T>(step: RunbookStep, timeoutMs: number, fn: (signal: LazySignal) => Promise<T>): Promise<T> {
  const signal = new LazySignal();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`${step.action} did not finish within ${step.timeoutMs} ms`);
      signal.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([fn(signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function actionContext(run: RunHead, step: RunbookStep, signal: LazySignal, invocation: Invocation, dryRun: boolean): ActionContext {
  return {
    // A reconcile reads the real state: it announces no call.
    calling: invocation.reconcile ? undefined : invocation.beforeCall,
    incidentId: run.incidentId,
    runId: run.id,
    stepId: step.id,
    idempotencyKey: invocation.idempotencyKey,
    dryRun,
    ...(invocation.checkpoint ? { checkpoint: invocation.checkpoint } : {}),
    // Made when the action first reads it: most diagnostics finish without aborting anything.
    get signal() {
      return signal.signal;
    },
  };
}
