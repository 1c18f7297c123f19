import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BlockAction, ButtonAction, SlashCommand } from '@slack/bolt';

/**
 * What Slack sends to a Request URL, for tests that click buttons and type slash commands against
 * the real service: signed headers and bodies built from captured payloads in
 * test/fixtures/slack/, with only the fields a test cares about replaced.
 */

const FIXTURES = join(__dirname, '..', 'fixtures', 'slack');
const FORM = 'application/x-www-form-urlencoded';

export interface SlackSignedHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
  'content-type': string;
  [name: string]: string;
}

/**
 * Slack's v0 signature over `v0:<ts>:<raw body>`. Bolt refuses timestamps more than five minutes
 * away, so pass an old `timestampSec` to test that refusal.
 */
export function signSlackRequest(
  signingSecret: string,
  rawBody: string,
  timestampSec = Math.floor(Date.now() / 1000),
  contentType = FORM,
): SlackSignedHeaders {
  const digest = createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${rawBody}`).digest('hex');
  return {
    'x-slack-signature': `v0=${digest}`,
    'x-slack-request-timestamp': String(timestampSec),
    'content-type': contentType,
  };
}

export interface BlockActionsOptions {
  userId?: string;
  userName?: string;
  actionId?: string;
  value?: string;
  blockId?: string;
  channelId?: string;
  messageTs?: string;
  responseUrl?: string;
  /** The blocks of the message the button sits in (Slack sends the message as it was shown). */
  messageBlocks?: unknown[];
  messageText?: string;
  teamId?: string;
}

/** A `block_actions` payload for one button click on a message (the object Slack JSON-encodes). */
export function blockActionsPayload(options: BlockActionsOptions = {}): BlockAction<ButtonAction> {
  const payload = JSON.parse(readFileSync(join(FIXTURES, 'block-actions.json'), 'utf8')) as BlockAction<ButtonAction>;
  // The fixture has every one of these; the non-null assertions only narrow Bolt's optional types.
  const { user, container } = payload;
  const channel = payload.channel!;
  const message = payload.message!;
  const team = payload.team!;
  const action = payload.actions[0];
  if (options.userId !== undefined) user.id = options.userId;
  if (options.userName !== undefined) user.username = user.name = options.userName;
  if (options.teamId !== undefined) user.team_id = team.id = message.team = options.teamId;
  if (options.channelId !== undefined) container.channel_id = channel.id = options.channelId;
  if (options.messageTs !== undefined) container.message_ts = message.ts = options.messageTs;
  if (options.messageBlocks !== undefined) message.blocks = options.messageBlocks;
  if (options.messageText !== undefined) message.text = options.messageText;
  if (options.responseUrl !== undefined) payload.response_url = options.responseUrl;
  if (options.actionId !== undefined) action.action_id = options.actionId;
  if (options.blockId !== undefined) action.block_id = options.blockId;
  if (options.value !== undefined) action.value = options.value;
  action.action_ts = slackTs(Date.now());
  payload.trigger_id = `${Date.now()}.1234567890123.${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}`;
  return payload;
}

/** The body Slack POSTs for a button click: form-encoded `payload=<JSON>`. */
export function blockActionsBody(options: BlockActionsOptions = {}): string {
  return new URLSearchParams({ payload: JSON.stringify(blockActionsPayload(options)) }).toString();
}

export interface SlashCommandOptions {
  command?: string;
  text?: string;
  userId?: string;
  userName?: string;
  channelId?: string;
  channelName?: string;
  /** null: a command without response_url (Slack sends some so). */
  responseUrl?: string | null;
  teamId?: string;
}

/** The fields of a slash command (a form body over HTTP, the same fields as JSON in Socket Mode). */
export function slashCommandPayload(options: SlashCommandOptions = {}): SlashCommand {
  const fields = new URLSearchParams(readFileSync(join(FIXTURES, 'slash-command.txt'), 'utf8').trim());
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined) fields.set(name, value);
  };
  set('command', options.command);
  set('text', options.text);
  set('user_id', options.userId);
  set('user_name', options.userName);
  set('channel_id', options.channelId);
  set('channel_name', options.channelName);
  if (options.responseUrl === null) fields.delete('response_url');
  else set('response_url', options.responseUrl);
  set('team_id', options.teamId);
  fields.set('trigger_id', `${Date.now()}.1234567890123.${Math.random().toString(16).slice(2).padEnd(32, '0').slice(0, 32)}`);
  return Object.fromEntries(fields) as SlashCommand;
}

/** The form body Slack POSTs for `/incident …`. */
export function slashCommandBody(options: SlashCommandOptions = {}): string {
  return new URLSearchParams(slashCommandPayload(options) as Record<string, string>).toString();
}

function slackTs(ms: number): string {
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}
