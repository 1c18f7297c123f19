import type { App, BlockButtonAction, Logger, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { SlackHandlers } from '../ports';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../view';
import { parseButtonValue } from './button-value';

/** Approve and Reject buttons: ack at once (Slack's 3 s limit), then hand the click to the service. */
export function registerApprovalButtons(app: App, handlers: SlackHandlers, logger: Logger): void {
  for (const [actionId, verb] of [
    [APPROVE_ACTION_ID, 'approve'],
    [REJECT_ACTION_ID, 'reject'],
  ] as const) {
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action }: SlackActionMiddlewareArgs<BlockButtonAction>) => {
      await ack();
      const value = parseButtonValue(action.value);
      if (!value) {
        logger.warn(`ignored a ${verb} click by ${body.user.id} with a malformed button value`);
        return;
      }
      await handlers.approvalClicked({
        verb,
        value,
        userId: body.user.id,
        channelId: body.channel?.id ?? body.container?.channel_id as string | undefined,
        messageTs: body.message?.ts ?? body.container?.message_ts as string | undefined,
      });
    });
  }
}
