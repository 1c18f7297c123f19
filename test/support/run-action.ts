import { type ActionAgain, type ActionContext, type ActionOutcome, type ActionResult, isAgain } from '@responder/domain';

/**
 * Runs an action the way the engine does, without the engine: while it answers "not yet"
 * (ActionAgain), waits `afterMs` and calls it again with the state it left as `ctx.checkpoint`.
 * Returns its result and every "not yet" on the way (for specs of the checkpoint logic).
 */
export async function runToEnd(
  action: { run(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionOutcome> },
  params: Record<string, unknown>,
  ctx: ActionContext,
  options: { maxRuns?: number } = {},
): Promise<{ result: ActionResult; agains: ActionAgain['again'][] }> {
  const agains: ActionAgain['again'][] = [];
  let checkpoint = ctx.checkpoint;
  for (let i = 0; i < (options.maxRuns ?? 1000); i++) {
    const outcome = await action.run(params, { ...ctx, ...(checkpoint ? { checkpoint } : {}) });
    if (!isAgain(outcome)) return { result: outcome, agains };
    agains.push(outcome.again);
    // Through JSON, as the step keeps it.
    checkpoint = JSON.parse(JSON.stringify(outcome.again.state)) as Record<string, unknown>;
    await new Promise((resolve) => setTimeout(resolve, outcome.again.afterMs));
  }
  throw new Error(`${String((action as { id?: string }).id)} still said "not yet" after ${options.maxRuns ?? 1000} runs`);
}

/** The outcome as a result, failing the spec when it is a "not yet". */
export function resultOf(outcome: ActionOutcome): ActionResult {
  if (isAgain(outcome)) throw new Error(`expected a result, got "not yet" (${JSON.stringify(outcome.again)})`);
  return outcome;
}
