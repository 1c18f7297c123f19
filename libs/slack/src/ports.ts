import type { ApprovalButtonValue } from './view';

/** A click on an Approve or Reject button, as the listeners hand it to the service. */
export interface ApprovalClick {
  verb: 'approve' | 'reject';
  value: ApprovalButtonValue;
  /** The clicking Slack user id: the approver. */
  userId: string;
  channelId?: string;
  messageTs?: string;
}

/** A `/incident …` command. */
export interface IncidentCommand {
  text: string;
  userId: string;
  channelId: string;
}

/** What a listener may answer with: only the clicking or typing user sees it. */
export type Reply = (message: { text: string; blocks?: unknown[] }) => Promise<void>;

/**
 * What the listeners call (ack first, then one call). The service that implements it
 * lives in apps/responder; the listeners know nothing of Nest, Redis or the engine.
 */
export interface SlackHandlers {
  approvalClicked(click: ApprovalClick): Promise<void>;
  incidentCommand(command: IncidentCommand, reply: Reply): Promise<void>;
}
