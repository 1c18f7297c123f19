import { type Action, type ActionContext, type RunHead } from '@responder/domain';
import type { RunbookStep } from '@responder/runbooks';
import type { StepResult } from './gates';
import { LazySignal } from './lazy-signal';

/** How an action is called: the key a retry shares, and the ledger's hooks (mutating steps). */
export interface Invocation {
  idempotencyKey: string;
  beforeCall?: () => Promise<void>;
  reconcile?: boolean;
}

/** Calls a step's action within the step's timeout, aborting it (its signal) when it overruns. */
export async function invokeAction(run: RunHead, step: RunbookStep, action: Action, params: Record<string, unknown>, invocation: Invocation, dryRun: boolean): Promise<StepResult> {
  return withTimeout(step, (signal) => {
    const ctx = actionContext(run, step, signal, invocation, dryRun);
    if (invocation.reconcile && action.reconcile) return action.reconcile(params, ctx);
    const { beforeCall } = invocation;
    if (beforeCall && !action.announcesCall) return beforeCall().then(() => action.run(params, ctx));
    return action.run(params, ctx);
  });
}

async function withTimeout<T>(step: RunbookStep, fn: (signal: LazySignal) => Promise<T>): Promise<T> {
  const signal = new LazySignal();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`${step.action} did not finish within ${step.timeoutMs} ms`);
      signal.abort(error);
      reject(error);
    }, step.timeoutMs);
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
    // Made when the action first reads it: most diagnostics finish without aborting anything.
    get signal() {
      return signal.signal;
    },
  };
}
