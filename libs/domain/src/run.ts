/**
 * Runs and their steps, as every part reads them: the engine moves them, the store keeps them
 * (libs/store), the API, Slack and the RCA show them. Types only, and the one set of terminal
 * statuses.
 */

export type StepStatus =
  | 'pending'
  | 'awaiting_approval'
  | 'queued'
  | 'running'
  | 'succeeded'
  /** A mutating step in dry-run mode: planned and reported, never called (nothing changed). */
  | 'dry-run'
  | 'failed'
  | 'skipped'
  | 'rejected'
  | 'timed_out'
  | 'cancelled';

export const TERMINAL_STEP_STATUSES: ReadonlySet<StepStatus> = new Set(['succeeded', 'dry-run', 'failed', 'skipped', 'rejected', 'timed_out', 'cancelled']);

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'aborted';

export interface Approval {
  /** The person (catalog person id, or the one name of a person the catalog does not declare). */
  by: string;
  at: string;
  paramsHash: string;
  /** The channel: a Slack button, or the API (and CLI) with a personal token or an OIDC token. */
  via?: 'slack' | 'token' | 'oidc';
  /** The name the credential carried (a Slack user id, a token's user), when it is not `by`. */
  as?: string;
}

/** How an approval came: stored with it and on its timeline entry. */
export type ApprovalDetail = Pick<Approval, 'via' | 'as'>;

/**
 * A step's state as stored. Params and output are JSON strings so that Redis' Lua (whose cjson
 * turns an empty array into an empty object) never rewrites them.
 */
export interface StepState {
  status: StepStatus;
  action: string;
  mutating: boolean;
  attempts?: number;
  paramsJson?: string;
  paramsHash?: string;
  /** What a mutating step will do, for approvers ("UpdateService prod/checkout desiredCount 4 → 8"). */
  plan?: string;
  resource?: string;
  approval?: 'pending' | 'granted' | 'rejected' | 'timed_out' | 'policy' | 'not_required';
  approvedBy?: string;
  approvals?: Approval[];
  approversNeeded?: number;
  /** Why people are asked (the catalog's autonomy, a policy that does not hold, the runbook). */
  approvalWhy?: string;
  requestedAt?: string;
  queuedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  outputJson?: string;
  summary?: string;
  error?: string;
  reason?: string;
  dryRun?: boolean;
  /** How many times the plan of this mutating step was found stale before its call and made again. */
  replans?: number;
  /** Why its last plan was found stale (set while it is re-planned, and kept after). */
  replanReason?: string;
  /**
   * A running step whose action said "not yet" (ActionAgain): its state, as JSON text. Its job is
   * delayed, not holding a worker; the next run of the job resumes from it.
   */
  checkpointJson?: string;
  /** A mutating step with a goal: whether its goal was met after the call (libs/domain/src/goal.ts). */
  goal?: 'met' | 'missed';
}

/** What a step left for the steps after it: its output (JSON text), or why it failed or was skipped. */
export type StepResultText = Pick<StepState, 'outputJson' | 'error' | 'reason'>;

/** What the engine needs of a run to move its steps on (without the steps' states). */
export interface RunHead {
  id: string;
  incidentId: string;
  runbook: string;
  /** The incident's service when the run was planned ('' for an unrouted incident). */
  service?: string;
  status: RunStatus;
  inputsJson: string;
}

export interface RunRecord extends RunHead {
  trigger: string;
  createdAt: string;
  finishedAt?: string;
  steps: Record<string, StepState>;
}

/** stepId → status. */
export type StepStatusMap = Record<string, StepStatus>;

/** The kill switch, when on: who paused automation, why, and when. */
export interface Pause {
  by: string;
  reason?: string;
  at: string;
}
