import type { PostmortemStatus } from '@responder/domain';
import type { PostmortemResult } from '@responder/store';

/**
 * What Slack's `/incident note`, `/incident postmortem` and `/incident run` ask of the rest of the service. Slack owns this
 * interface and knows nothing of who implements it: the composition root (app.module.ts) binds it
 * to the incidents' notes and postmortems and the runbooks' manual runs, the same services (and
 * checks) the HTTP API uses.
 */
export interface IncidentActions {
  /** The longest note accepted, in characters. */
  readonly noteMaxChars: number;
  /** Adds a person's note (from Slack) to the incident's timeline; false when there is no such incident. */
  addNote(incidentId: string, note: { author: string; text: string }): Promise<boolean>;
  /** Checks a postmortem change as the HTTP API does: the change, or what is wrong with it. */
  parsePostmortem(input: { owner?: string; status?: string }): { ok: true; change: PostmortemChange } | { ok: false; messages: string[] };
  /** Sets the postmortem's owner and/or status, as the typing Slack user. */
  setPostmortem(incidentId: string, change: PostmortemChange, by: string): Promise<PostmortemResult>;
  /** Starts a runbook for a service, in its open incident or one it opens. */
  startRun(request: { runbook: string; service: string; by: string }): Promise<RunStartAnswer>;
}

export interface PostmortemChange {
  owner?: string;
  status?: PostmortemStatus;
}

export type RunStartAnswer =
  | { ok: true; incidentId: string; runId: string; incidentOpened: boolean }
  | { ok: false; code: 'unknown_runbook' | 'unknown_service' | 'bad_inputs'; message: string }
  | { ok: false; code: 'already_running'; message: string; incidentId: string; runId: string };

export const INCIDENT_ACTIONS = Symbol('INCIDENT_ACTIONS');
