import type { App, SlackCommandMiddlewareArgs, AllMiddlewareArgs } from '@slack/bolt';
import type { Reply, SlackHandlers } from '../ports';

/**
 * `/incident …`: ack at once, answer through response_url (only the typing user sees it). Slack
 * can send a command without response_url (Bolt then gives no `respond`): the answer goes as an
 * ephemeral message in the command's channel instead of failing.
 */
export function registerIncidentCommand(app: App, handlers: SlackHandlers): void {
  app.command('/incident', async ({ ack, command, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    const reply: Reply =
      typeof respond === 'function' && command.response_url
        ? async (message) => {
            await respond({ response_type: 'ephemeral', text: message.text, ...(message.blocks ? { blocks: message.blocks as never } : {}) });
          }
        : async (message) => {
            await client.chat.postEphemeral({ channel: command.channel_id, user: command.user_id, text: message.text, ...(message.blocks ? { blocks: message.blocks as never } : {}) });
          };
    await handlers.incidentCommand({ text: command.text, userId: command.user_id, channelId: command.channel_id }, reply);
  });
}
