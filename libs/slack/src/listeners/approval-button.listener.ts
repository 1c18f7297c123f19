import type { App, BlockButtonAction, Logger, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { SlackHandlers } from '../ports';
import { APPROVE_ACTION_ID, REJECT_ACTION_ID } from '../view';
import { parseButtonValue } from './button-value';

/**
 * Approve and Reject buttons. The click is stored in Redis first and acknowledged after (a Redis
 * write is well inside Slack's 3 s): Slack shows a click as accepted only once it cannot be lost.
 * If storing fails there is no ack, and Slack tells the user the click did not go through.
 */
export function registerApprovalButtons(app: App, handlers: SlackHandlers, logger: Logger): void {
  for (const [actionId, verb] of [
    [APPROVE_ACTION_ID, 'approve'],
    [REJECT_ACTION_ID, 'reject'],
  ] as const) {
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action }: SlackActionMiddlewareArgs<BlockButtonAction>) => {
      const value = parseButtonValue(action.value);
      if (!value) {
        await ack();
        logger.warn(`ignored a ${verb} click by ${body.user.id} with a malformed button value`);
        return;
      }
      const click = {
        verb,
        value,
        userId: body.user.id,
        channelId: body.channel?.id ?? body.container?.channel_id as string | undefined,
        messageTs: body.message?.ts ?? body.container?.message_ts as string | undefined,
      };
      await handlers.clickReceived(click, `${body.user.id}-${action.action_ts ?? body.trigger_id}`);
      await ack();
    });
  }
}
