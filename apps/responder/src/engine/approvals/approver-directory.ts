/**
 * Who is in a Slack user group. Approver groups in the catalog may name a Slack user group
 * (`slackUserGroup`); when Slack is on, its members may approve. Provided by the Slack module.
 */
export interface ApproverDirectory {
  /** Member user ids of a Slack user group; throws when Slack cannot be asked. */
  userGroupMembers(groupId: string): Promise<string[]>;
}

export const APPROVER_DIRECTORY = Symbol('APPROVER_DIRECTORY');
