import type { App, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { SlackHandlers } from '../ports';

/** `/incident …`: ack at once, answer through response_url (only the typing user sees it). */
export function registerIncidentCommand(app: App, handlers: SlackHandlers): void {
  app.command('/incident', async ({ ack, command, respond }: SlackCommandMiddlewareArgs) => {
    await ack();
    await handlers.incidentCommand({ text: command.text, userId: command.user_id, channelId: command.channel_id }, async (message) => {
      await respond({ response_type: 'ephemeral', text: message.text, ...(message.blocks ? { blocks: message.blocks as never } : {}) });
    });
  });
}
