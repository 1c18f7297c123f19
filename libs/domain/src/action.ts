/**
 * A runbook action (a strategy, found by name in a registry). Every action says whether it changes
 * production; the engine gates mutating ones (approval, lock, cooldown, idempotency, dry-run).
 * Adding an action is one file implementing this interface plus one line in the registry.
 */
export interface ActionDescriptor {
  /** The name runbooks use in `action:` (e.g. "ecs.scale-up", "wait"). */
  id: string;
  mutating: boolean;
  description: string;
  /** IAM actions it calls, for the README / `cli iam`. */
  iam?: string[];
  /** Mutating actions: run() awaits `ctx.calling()` right before its changing request. */
  announcesCall?: boolean;
}

export interface ActionContext {
  incidentId: string;
  runId: string;
  stepId: string;
  /** Stable per step execution: the same on a retry or after a crash. */
  idempotencyKey: string;
  signal: AbortSignal;
  dryRun: boolean;
  /**
   * Given to mutating actions that declare `announcesCall`: awaited right before the request that
   * changes production, once its reads are done. It records that the call starts, so that an
   * attempt that died before it is known not to have called (and is simply called again), and
   * one that died after it is reconciled. Without `announcesCall` the engine records it right
   * before `run`.
   */
  calling?: () => Promise<void>;
  /**
   * The state this step's action answered with when it last said "not yet" (`ActionAgain`):
   * absent on its first run. The engine keeps it on the step, so a resumed job (another worker,
   * another replica, a restart) carries on from it instead of starting over.
   */
  checkpoint?: Record<string, unknown>;
}

/** What a mutating action will do, shown to approvers and recorded (and all a dry run does). */
export interface ActionPlan {
  /** One line a human can approve, e.g. "UpdateService prod/checkout desiredCount 4 → 8". */
  summary: string;
  /** The resource a lock is taken on (one mutating action per resource at a time), e.g. "ecs:prod/checkout". */
  resource?: string;
  /**
   * Set when the call would change nothing (e.g. the service is already at the most tasks it may
   * have): why. The step is then skipped with it, and nobody is asked to approve.
   */
  nothingToDo?: string;
}

export interface ActionResult {
  output: Record<string, unknown>;
  /** A one-line summary for the timeline and Slack. */
  summary?: string;
}

/**
 * "Not yet: call me again in `afterMs`": what an action that waits (a `wait`, a poll until
 * recovery) answers instead of sleeping, so that no worker is held while it waits. The engine
 * stores `state` on the step (small: a deadline, a count), puts the job back for `afterMs`, and
 * calls the action again with `ctx.checkpoint = state`. The step stays running meanwhile; its
 * timeout counts from its start, across these runs. Read-only actions only.
 */
export interface ActionAgain {
  again: {
    afterMs: number;
    state: Record<string, unknown>;
  };
}

/** What `run` answers: a result, or "not yet" (read-only actions that wait). */
export type ActionOutcome = ActionResult | ActionAgain;

export function isAgain(outcome: ActionOutcome): outcome is ActionAgain {
  return 'again' in outcome;
}

/**
 * An action. `Out` is what `run` answers: a result (most actions), or a result or "not yet"
 * (`ActionOutcome`: the actions that wait). The engine and the registries hold `AnyAction`.
 */
export interface Action<Out extends ActionOutcome = ActionResult> extends ActionDescriptor {
  /** Describes the call for approval and dry-run. Pure: no side effect. */
  plan(params: Record<string, unknown>): ActionPlan;
  run(params: Record<string, unknown>, ctx: ActionContext): Promise<Out>;
  /**
   * For mutating actions: called instead of `run` when an earlier attempt recorded that its call
   * started and never recorded the outcome (a crash or retry between the call and its record).
   * Looks at the real state and reports it; must not repeat the change.
   */
  reconcile?(params: Record<string, unknown>, ctx: ActionContext): Promise<ActionResult>;
  /**
   * For mutating actions: re-reads what the plan was made on (the service's task definition, its
   * desired count, the cluster's writer) right before the call, and says whether it still holds.
   * When it does not, the engine re-plans the step from fresh evidence instead of calling it.
   * Read-only; never changes anything.
   */
  precheck?(params: Record<string, unknown>, ctx: PrecheckContext): Promise<PlanCheck>;
}

export interface PrecheckContext {
  signal: AbortSignal;
}

/** Whether the world a plan was made on still holds: what was checked, or why not. */
export type PlanCheck = { holds: true; checked: string } | { holds: false; reason: string };

/** Any action, as the engine and the registries hold them: it may answer "not yet". */
export type AnyAction = Action<ActionOutcome>;

/** An error an action throws when retrying cannot help (AccessDenied, validation). */
export class PermanentActionError extends Error {
  override readonly name = 'PermanentActionError';
}
