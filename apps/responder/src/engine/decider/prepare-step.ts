import { type AnyAction, type ActionPlan, type CatalogService, autonomyOf } from '@responder/domain';
import { type RunbookStep, checkWhen, paramsHash, policyGrants, renderParams } from '@responder/runbooks';
import type { StepMove } from '@responder/store';

/** A step's move decided by the decider, and what follows once it applied. */
export interface Planned {
  step: RunbookStep;
  move: StepMove;
  /** enqueue: the step is queued, add its job; timeout: it waits for approval, schedule its timeout. */
  then?: 'enqueue' | 'timeout';
  /** The step settled without running (skipped, failed to plan): its dependents may be ready. */
  settles: boolean;
}

/** What deciding a step needs besides the run: the engine's mode, the actions, the approvers. */
export interface DeciderEnv {
  mode: 'live' | 'dry-run';
  /** The action a step calls (a mutating step's plan() says what it would do). */
  action(step: RunbookStep): AnyAction;
  /** Who may approve a step on a service: its `approvers`, or the service's. */
  approvers(step: RunbookStep, service: string | null): string[];
}

/** The context's (non-enumerable) key for the repeat rule's answers: action → why a person decides (run-context.ts). */
export const REPEATED_MITIGATIONS = 'repeatedMitigations';

/** Why a person must decide on this action (the repeat rule), if they must. */
export function repeatedMitigationOf(context: Record<string, unknown>, action: string): string | undefined {
  return (context[REPEATED_MITIGATIONS] as Record<string, string> | undefined)?.[action];
}

export function stepEvent(type: string, data: Record<string, unknown>): { type: string; data: Record<string, unknown> } {
  return { type, data };
}

export function skipMove(step: RunbookStep, reason: string, at: string): Planned {
  return { step, settles: true, move: { stepId: step.id, from: ['pending'], patch: { status: 'skipped', reason, finishedAt: at }, event: stepEvent('step.skipped', { reason }) } };
}

/**
 * A step whose needs are settled: skipped (by the catalog's autonomy, its `when`, or a plan with
 * nothing to do), failed to plan, queued, or waiting for approval. Pure: `context` is the run's
 * expression context; `at` is when (the context's `now`).
 */
export function prepareStep(step: RunbookStep, context: Record<string, unknown>, env: DeciderEnv): Planned {
  const at = typeof context.now === 'string' ? context.now : new Date().toISOString();
  const from: StepMove['from'] = ['pending'];
  const skip = (reason: string) => skipMove(step, reason, at);
  // The catalog's word on a mutating action comes before the runbook's: a denied or `off` action
  // is never proposed, whatever its `when` or approval say.
  const autonomy = step.mutating ? autonomyOf(context.service as CatalogService | null, step.action) : null;
  if (autonomy?.denied) return skip(autonomy.why);
  if (autonomy?.level === 'off') return skip(`${autonomy.why}: never proposed`);
  let params: Record<string, unknown>;
  let plan: ActionPlan | undefined;
  try {
    const when = checkWhen(step, context);
    if (!when.run) return skip(when.reason);
    params = renderParams(step, context);
    if (step.mutating) plan = env.action(step).plan(params);
  } catch (err) {
    const error = `could not plan: ${(err as Error).message}`;
    return { step, settles: true, move: { stepId: step.id, from, patch: { status: 'failed', error, finishedAt: at }, event: stepEvent('step.failed', { error }) } };
  }
  // A call that would change nothing is not put to people to approve.
  if (plan?.nothingToDo) return skip(`nothing to do: ${plan.nothingToDo}`);
  const { json, hash } = paramsText(step, params);
  const base = { paramsJson: json, paramsHash: hash, plan: plan?.summary, resource: plan?.resource };
  // The repeat rule: a mitigation that "succeeded" twice within a day and did not hold is not run
  // a third time on its own: `auto` becomes `ask`, saying why.
  const repeated = step.mutating ? repeatedMitigationOf(context, step.action) : undefined;
  const level = repeated && (autonomy?.level ?? 'auto') === 'auto' ? 'ask' : (autonomy?.level ?? 'auto');
  if (!step.mutating || (step.approval.kind === 'none' && level === 'auto')) {
    const approval = step.mutating ? 'not_required' : undefined;
    return {
      step,
      settles: false,
      then: 'enqueue',
      move: { stepId: step.id, from, patch: { ...base, status: 'queued', approval, queuedAt: at }, event: stepEvent('step.queued', { action: step.action, params, plan: plan?.summary }) },
    };
  }
  if (level === 'auto' && policyGrants(step, context)) {
    const policy = step.approval.kind === 'policy' ? step.approval.name : '';
    return {
      step,
      settles: false,
      then: 'enqueue',
      move: {
        stepId: step.id,
        from,
        patch: { ...base, status: 'queued', approval: 'policy', approvedBy: `policy:${policy}`, queuedAt: at },
        event: stepEvent('approval.granted', { by: `policy:${policy}`, policy, plan: plan?.summary, params, paramsHash: base.paramsHash }),
      },
    };
  }
  // Why people are asked, for the plan shown in the API and Slack.
  const why = repeated
    ? repeated
    : level === 'ask'
      ? `${autonomy!.why}: a person approves`
      : step.approval.kind === 'policy'
        ? `policy ${step.approval.name} does not hold${step.approval.description ? ` (${step.approval.description})` : ''}`
        : 'the runbook requires approval';
  return {
    step,
    settles: false,
    then: 'timeout',
    move: {
      stepId: step.id,
      from,
      patch: { ...base, status: 'awaiting_approval', approval: 'pending', approvalWhy: why, approvals: [], approversNeeded: step.twoPerson ? 2 : 1, requestedAt: at },
      event: stepEvent('approval.requested', {
        plan: plan?.summary,
        params,
        paramsHash: base.paramsHash,
        why,
        approvers: env.approvers(step, (context.service as { name?: string } | null)?.name ?? null),
        twoPerson: step.twoPerson,
      }),
    },
  };
}

const constantParams = new WeakMap<RunbookStep, { json: string; hash: string }>();

/** The parameters' JSON and hash; computed once for a step whose `with` reads nothing (they never change). */
function paramsText(step: RunbookStep, params: Record<string, unknown>): { json: string; hash: string } {
  const cached = constantParams.get(step);
  if (cached) return cached;
  const text = { json: JSON.stringify(params), hash: paramsHash(params) };
  if (step.with.references().length === 0) constantParams.set(step, text);
  return text;
}
