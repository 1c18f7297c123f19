import type { IncidentView } from '../view';
import { type SlackMessage, between, code, context, duration, escapeMrkdwn, fallback, packLines, plural, safe, safeLine, section, utc } from './format';
import { incidentMessage } from './incident.message';

export interface IncidentListItem {
  id: string;
  service: string | null;
  title: string;
  status: string;
  openedAt: string;
}

const MAX_LIST_BLOCKS = 45;

/** `/incident list`: one line per incident, with how long it has been open at `now`. */
export function incidentListMessage(items: ReadonlyArray<IncidentListItem>, now: string): SlackMessage {
  if (items.length === 0) return { text: 'No open incidents.', blocks: [section(':large_green_circle: No open incidents.')] };
  const allOpen = items.every((i) => i.status === 'open');
  const lines = [
    `*${allOpen ? plural(items.length, 'open incident') : plural(items.length, 'incident')}*`,
    ...items.map((i) => {
      const open = i.status === 'open';
      const age = duration(between(i.openedAt, now) ?? 0);
      return (
        `${open ? ':red_circle:' : ':large_green_circle:'} ${code(i.id)} *${safe(i.service ?? 'unrouted')}*: ${safeLine(i.title, 150)} · ` +
        `${open ? `open for ${age}` : safe(i.status)} (opened ${utc(i.openedAt)})`
      );
    }),
  ];
  return {
    text: fallback(allOpen ? plural(items.length, 'open incident') : plural(items.length, 'incident')),
    blocks: [...packLines(lines, MAX_LIST_BLOCKS, (n) => `_…and ${plural(n, 'more incident')}_`), context(`${code('/incident status <id>')} for one of them`)],
  };
}

/** `/incident status <id>`: the incident message itself, as it reads now. */
export function incidentStatusMessage(view: IncidentView): SlackMessage {
  return incidentMessage(view);
}

const COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ['list', 'the open incidents'],
  ['status <id>', 'where an incident stands: alarms, runbook steps, approvals'],
  ['rca <id>', 'the RCA draft (markdown) written from the timeline'],
  ['note <id> <text>', 'add a note to the timeline (it goes into the RCA)'],
  ['postmortem <id> owner @user', "set who owns the postmortem (shown at the top of the RCA)"],
  ['postmortem <id> status <draft|review|published>', "move the postmortem along; the thread gets the new RCA version"],
  ['pause [reason]', 'kill switch on: no step that changes production starts, on any replica; diagnostics go on'],
  ['resume', 'kill switch off'],
  ['run <runbook> <service>', 'start a runbook by hand for a service'],
];

/** `/incident help`, and the answer to a command Responder does not know. */
export function commandHelpMessage(): SlackMessage {
  const lines = ['*`/incident` commands*', ...COMMANDS.map(([usage, what]) => `• \`/incident ${escapeMrkdwn(usage)}\`: ${what}`)];
  return { text: '/incident commands: list, status, rca, note, postmortem, pause, resume, run', blocks: [section(lines.join('\n'))] };
}
