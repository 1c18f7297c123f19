import { redactSecrets } from '@responder/domain';
import type { KnownBlock, SectionBlock } from '@slack/types';

/** What every builder returns: `text` is the notification and fallback text, `blocks` what Slack shows. */
export type SlackMessage = { text: string; blocks: KnownBlock[] };

/** Slack's limits (https://docs.slack.dev/reference/block-kit). */
export const LIMITS = {
  blocks: 50,
  sectionText: 3000,
  field: 2000,
  fields: 10,
  header: 150,
  contextElements: 10,
  buttonValue: 2000,
  buttonText: 75,
  confirmTitle: 100,
  confirmText: 300,
  blockId: 255,
  /** The notification text: Slack accepts far more, but a notification shows a line or two. */
  fallback: 300,
} as const;

/** Slack reads `&`, `<` and `>` as markup (`<!channel>`, `<@U…>`, links): untrusted text must not. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Free text from outside (alarm reasons, step summaries, errors, outputs): secrets masked, then escaped. */
export function safe(text: string): string {
  return escapeMrkdwn(redactSecrets(text));
}

/** For plain_text objects, which Slack does not parse: masked, not escaped (an escape would show as `&amp;`). */
export function safePlain(text: string): string {
  return redactSecrets(text);
}

/**
 * At most `max` characters, with `…` when cut. The cut never splits an escape (`&amp;`), a mention
 * (`<@U1>`) or a surrogate pair, which Slack would render as garbage or reject.
 */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 1) return '…'.slice(0, Math.max(0, max));
  let cut = text.slice(0, max - 1);
  cut = cut.replace(/&[a-z]{0,4}$/i, '').replace(/<[^<>]*$/, '');
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** Free text as mrkdwn, cut to `max`: whitespace runs collapsed so a stack trace stays one line. */
export function safeLine(text: string, max: number): string {
  return truncate(safe(text.replace(/\s+/g, ' ').trim()), max);
}

/**
 * Inline code for names (step ids, alarm names, signatures). A backtick inside would end the code
 * span early and let the rest be read as markup, so it becomes a look-alike.
 */
export function code(text: string, max = 300): string {
  const inner = truncate(safe(text.replace(/\s+/g, ' ').trim()).replace(/`/g, 'ˋ'), max);
  return inner === '' ? '' : `\`${inner}\``;
}

/** A fenced block for JSON and samples; a ``` inside would close the fence early. */
export function codeBlock(text: string, max: number): string {
  return `\`\`\`${truncate(safe(text).replace(/`/g, 'ˋ'), max - 6)}\`\`\``;
}

const SLACK_USER = /^[UW][A-Z0-9]{6,}$/;
const SLACK_GROUP = /^S[A-Z0-9]{6,}$/;

/**
 * Who approved, as Slack shows it: a Slack user id pings the user, a user group id the group,
 * `policy:<name>` names the policy that approved on its own, anything else (an e-mail, an SSO
 * name from the HTTP API) stays text.
 */
export function mention(approver: string): string {
  const who = approver.trim();
  if (SLACK_USER.test(who)) return `<@${who}>`;
  if (SLACK_GROUP.test(who)) return `<!subteam^${who}>`;
  if (who.startsWith('policy:')) return `policy _${safe(who.slice('policy:'.length))}_`;
  return safe(who);
}

const CHANNEL: Record<'slack' | 'token' | 'oidc', string> = { slack: 'in Slack', token: 'API, personal token', oidc: 'API, OIDC' };

/** A person who approved and how: "<@U0ALICE01> (API, personal token)"; no channel when none was recorded. */
export function approverText(approval: { by: string; via?: 'slack' | 'token' | 'oidc' }): string {
  return `${mention(approval.by)}${approval.via ? ` (${CHANNEL[approval.via]})` : ''}`;
}

export function isPolicy(approver: string | undefined): boolean {
  return approver?.trim().startsWith('policy:') ?? false;
}

/** "45s", "3m 20s", "1h 05m", "2d 3h": coarser as it grows, since on-call reads it at a glance. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(Number.isFinite(ms) ? ms / 1000 : 0));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Milliseconds from `from` to `to` (ISO times); null when either is missing or unreadable. */
export function between(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from || !to) return null;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isNaN(ms) ? null : ms;
}

/** "2026-11-22 18:03 UTC": one zone for everyone in the channel, whatever their own. */
export function utc(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return safe(iso);
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "18:03 UTC", for times within the incident (the day is in the onset field). */
export function clock(iso: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return safe(iso);
  return `${new Date(t).toISOString().slice(11, 16)} UTC`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** "a, b and c". */
export function joinAnd(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMITS.header), emoji: true } };
}

export function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } };
}

export function fields(items: readonly string[]): SectionBlock {
  return { type: 'section', fields: items.slice(0, LIMITS.fields).map((t) => ({ type: 'mrkdwn', text: truncate(t, LIMITS.field) })) };
}

export function context(...texts: string[]): KnownBlock {
  return {
    type: 'context',
    elements: texts
      .filter((t) => t !== '')
      .slice(0, LIMITS.contextElements)
      .map((t) => ({ type: 'mrkdwn', text: truncate(t, LIMITS.sectionText) })),
  };
}

export function divider(): KnownBlock {
  return { type: 'divider' };
}

/**
 * Lines packed into as few section blocks as fit Slack's 3000 characters each, at most `maxBlocks`
 * of them; what does not fit is counted in a last line instead of being dropped silently.
 */
export function packLines(lines: readonly string[], maxBlocks: number, more: (n: number) => string = (n) => `_…and ${plural(n, 'more line')}_`): SectionBlock[] {
  const max = LIMITS.sectionText;
  const chunks: string[][] = [];
  let size = 0;
  for (const raw of lines) {
    const line = truncate(raw, max);
    const current = chunks.at(-1);
    if (current && size + 1 + line.length <= max) {
      current.push(line);
      size += 1 + line.length;
    } else {
      chunks.push([line]);
      size = line.length;
    }
  }
  if (chunks.length > maxBlocks) {
    const kept = chunks.slice(0, Math.max(1, maxBlocks));
    const shown = kept.reduce((n, c) => n + c.length, 0);
    const last = kept[kept.length - 1];
    const note = more(lines.length - shown);
    // Make room for the note in the last kept block by dropping its last lines.
    let dropped = 0;
    while (last.length > 1 && last.join('\n').length + 1 + note.length > max) {
      last.pop();
      dropped++;
    }
    last.push(dropped > 0 ? more(lines.length - shown + dropped) : note);
    return kept.map((c) => section(c.join('\n')));
  }
  return chunks.map((c) => section(c.join('\n')));
}

/** The notification text: one short line. Slack parses it as mrkdwn, so callers pass escaped text. */
export function fallback(text: string): string {
  return truncate(text.replace(/\s+/g, ' ').trim(), LIMITS.fallback);
}
