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
 * What the listeners call (one call each; a click is stored before its ack, a command acks first). The service that implements it
 * lives in apps/responder; the listeners know nothing of Nest, Redis or the engine.
 */
export interface SlackHandlers {
  /**
   * Stores the click durably (resolves once it is in Redis); the listener acknowledges Slack only
   * after that, and the click is then processed (approvalClicked) exactly once, even across a crash.
   * `clickId` identifies the click (its user and action_ts): a click delivered twice is stored once.
   */
  clickReceived(click: ApprovalClick, clickId: string): Promise<void>;
  approvalClicked(click: ApprovalClick & { replayed?: boolean }): Promise<void>;
  incidentCommand(command: IncidentCommand, reply: Reply): Promise<void>;
}
