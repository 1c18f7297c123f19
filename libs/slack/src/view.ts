import type { IncidentAlarm, RunStatus, StepStatus } from '@responder/domain';

/**
 * What the Slack message builders render: plain data, read from the stores by the reporter
 * (apps/responder/src/slack). Builders are pure functions of a view, so a view at a given moment
 * always renders the same Block Kit JSON (snapshot tests).
 */
export interface IncidentView {
  id: string;
  status: 'open' | 'resolved';
  /** The catalog service, or null for an unrouted incident. */
  service: string | null;
  title: string;
  /** UTC ISO times. */
  onsetAt: string;
  openedAt: string;
  resolvedAt: string | null;
  alarms: IncidentAlarm[];
  runs: RunView[];
  /** live or dry-run (mutating steps are planned and reported, never called). */
  mode: 'live' | 'dry-run';
  /** The kill switch, when on. */
  paused: { by: string; at: string; reason?: string } | null;
  /** The moment the view was read: elapsed times are measured to it (or to resolvedAt). */
  now: string;
}

export interface RunView {
  id: string;
  runbook: string;
  status: RunStatus;
  trigger: string;
  steps: StepView[];
}

/** A step's status, as the store keeps it. */
export type StepViewStatus = StepStatus;

export interface StepView {
  id: string;
  action: string;
  mutating: boolean;
  status: StepViewStatus;
  /** What a mutating step will do: "UpdateService prod/checkout desiredCount 4 → 8". */
  plan?: string;
  params?: Record<string, unknown>;
  paramsHash?: string;
  approval?: 'pending' | 'granted' | 'rejected' | 'timed_out' | 'policy' | 'not_required';
  /** Who approved or rejected (a Slack user id, a catalog user name, or `policy:<name>`). */
  approvedBy?: string;
  /** One per person; `by` is the person's Slack user id when the catalog knows it (so Slack shows their name), `via` the channel. */
  approvals: Array<{ by: string; at: string; via?: 'slack' | 'token' | 'oidc' }>;
  approversNeeded: number;
  /** Why people are asked (the catalog's autonomy, a policy that does not hold, the runbook). */
  approvalWhy?: string;
  /** Who may approve: Slack user ids and user group ids from the catalog. */
  approvers: { slackUsers: string[]; slackUserGroups: string[] };
  requestedAt?: string;
  startedAt?: string;
  finishedAt?: string;
  summary?: string;
  error?: string;
  reason?: string;
  output?: Record<string, unknown>;
  dryRun?: boolean;
  /** How many times its plan was found stale before the call and made again, and the last reason. */
  replans?: number;
  replanReason?: string;
  /** A mutating step's goal, once verified: met, or missed (the call was made, the goal not reached). */
  goal?: 'met' | 'missed';
}

/** What a button carries: enough to find the step, and the hash of the plan the user saw. */
export interface ApprovalButtonValue {
  incidentId: string;
  runId: string;
  step: string;
  paramsHash: string;
}

export const APPROVE_ACTION_ID = 'responder_approve';
export const REJECT_ACTION_ID = 'responder_reject';
