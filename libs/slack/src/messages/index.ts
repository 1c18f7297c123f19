export type { SlackMessage } from './format';
export { duration, escapeMrkdwn, mention, safe, truncate, utc } from './format';
export { incidentMessage } from './incident.message';
export { findingMessage } from './finding.message';
export {
  approvalBlockId,
  approvalButtonValue,
  approvalDecidedMessage,
  approvalReminderMessage,
  approvalRequestMessage,
  approvalSupersededMessage,
  approvalSupersededNotice,
  approvalTimedOutMessage,
} from './approval.message';
export { lostIncidentMessage } from './lost.message';
export { goalMissedMessage } from './goal.message';
export { resolutionMessage } from './resolution.message';
export { type StakeholderPhase, stakeholderMessage } from './stakeholder.message';
export { type IncidentListItem, commandHelpMessage, incidentListMessage, incidentStatusMessage } from './command.message';
export { verdictBlock, verdictLines, verdictState } from './verdict.message';
