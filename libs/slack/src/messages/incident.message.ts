import type { KnownBlock } from '@slack/types';
import type { IncidentView, RunView, StepView, StepViewStatus } from '../view';
import {
  LIMITS,
  type SlackMessage,
  between,
  clock,
  code,
  context,
  divider,
  duration,
  fallback,
  fields,
  header,
  approverText,
  isPolicy,
  joinAnd,
  mention,
  packLines,
  plural,
  safe,
  safeLine,
  safePlain,
  section,
  utc,
} from './format';
import { verdictBlock, verdictState } from './verdict.message';

export const STEP_EMOJI: Readonly<Record<StepViewStatus, string>> = {
  pending: ':white_circle:',
  awaiting_approval: ':raised_hand:',
  queued: ':hourglass_flowing_sand:',
  running: ':arrows_counterclockwise:',
  succeeded: ':white_check_mark:',
  'dry-run': ':test_tube:',
  failed: ':x:',
  skipped: ':fast_forward:',
  rejected: ':no_entry:',
  timed_out: ':alarm_clock:',
  cancelled: ':heavy_minus_sign:',
};

const STEP_WORD: Readonly<Record<StepViewStatus, string>> = {
  pending: 'pending',
  awaiting_approval: 'awaiting approval',
  queued: 'queued',
  running: 'running',
  succeeded: 'succeeded',
  'dry-run': 'dry run: not called',
  failed: 'failed',
  skipped: 'skipped',
  rejected: 'rejected',
  timed_out: 'approval timed out',
  cancelled: 'cancelled',
};

const RUN_WORD: Readonly<Record<RunView['status'], string>> = {
  running: ':arrows_counterclockwise: running',
  succeeded: ':white_check_mark: succeeded',
  failed: ':x: failed',
  aborted: ':heavy_minus_sign: aborted',
};

/** A step line's free text: long enough for a summary, short enough that 60 steps stay readable. */
const STEP_DETAIL_CHARS = 300;
const ALARM_REASON_CHARS = 600;
const MAX_ALARM_BLOCKS = 2;

/**
 * A mutating step in dry-run mode finishes without calling AWS: its own status, `dry-run` (a step
 * recorded before that status existed: succeeded with dryRun).
 */
export function isDryRunStep(step: StepView): boolean {
  return step.status === 'dry-run' || (step.dryRun === true && step.status === 'succeeded');
}

export function stepEmoji(step: StepView): string {
  return isDryRunStep(step) ? ':test_tube:' : STEP_EMOJI[step.status];
}

export function stepWord(step: StepView): string {
  return isDryRunStep(step) ? 'dry run: not called' : STEP_WORD[step.status];
}

/** The people who approved, in order, each once: `approvals` when recorded, else `approvedBy`. */
export function approversOf(step: StepView): string[] {
  const people = step.approvals.map((a) => a.by);
  if (people.length === 0 && step.approvedBy) people.push(step.approvedBy);
  return [...new Set(people)];
}

/** The people who approved, as Slack shows them, with their channel: "<@U1> (in Slack) and bob (API, personal token)". */
export function approverTexts(step: StepView): string[] {
  const seen = new Map<string, string>();
  for (const a of step.approvals) if (!seen.has(a.by)) seen.set(a.by, approverText(a));
  if (seen.size === 0 && step.approvedBy) seen.set(step.approvedBy, mention(step.approvedBy));
  return [...seen.values()];
}

/** "2 different approvers", in words for the usual cases: people read it as a rule, not a count. */
export function approversNeededText(n: number): string {
  const words = ['no', 'one', 'two', 'three', 'four'];
  return `${words[n] ?? String(n)} different approver${n === 1 ? '' : 's'}`;
}

/** "1 of 2 so far: <@U1>" for a step that needs more than one approver; null otherwise. */
export function approvalProgress(step: StepView): string | null {
  if (step.approversNeeded <= 1) return null;
  const got = step.approvals.map(approverText);
  return `${got.length} of ${step.approversNeeded} so far${got.length > 0 ? `: ${joinAnd(got)}` : ''}`;
}

/** Who decided, as a clause: "approved by <@U1> and <@U2>", "auto-approved by policy _x_", "rejected by …". */
export function decisionText(step: StepView): string | null {
  if (step.approval === 'policy' || (step.approval === 'granted' && isPolicy(step.approvedBy))) {
    return `auto-approved by ${mention(step.approvedBy ?? 'policy:unnamed')}`;
  }
  if (step.approval === 'granted') {
    const who = approverTexts(step);
    return who.length > 0 ? `approved by ${joinAnd(who)}` : 'approved';
  }
  if (step.approval === 'rejected' || step.status === 'rejected') {
    const by = step.approvedBy ? ` by ${mention(step.approvedBy)}` : '';
    return `rejected${by}${step.reason ? `: ${safeLine(step.reason, 200)}` : ''}`;
  }
  if (step.approval === 'timed_out') return 'no decision in time';
  if (step.status === 'awaiting_approval' || step.approval === 'pending') {
    const progress = approvalProgress(step);
    return progress ? `needs ${approversNeededText(step.approversNeeded)}, ${progress}` : null;
  }
  return null;
}

/**
 * A mutating step the kill switch holds: queued (approved or needing no approval) but not started,
 * or put back after a restart while paused. A step already calling AWS is not held: it completes.
 */
export function isHeld(step: StepView, paused: IncidentView['paused']): boolean {
  if (!paused || !step.mutating) return false;
  return step.status === 'queued' || (step.status === 'running' && (step.reason?.startsWith('automation paused') ?? false));
}

/** The free text a step line shows for its state (already safe for mrkdwn). */
function stepDetail(step: StepView): string {
  const plan = step.mutating && step.plan ? step.plan : undefined;
  let text: string | undefined;
  switch (step.status) {
    case 'dry-run':
      text = plan ?? step.summary;
      break;
    case 'succeeded':
      text = isDryRunStep(step) ? (plan ?? step.summary) : (step.summary ?? plan);
      break;
    case 'failed':
      text = step.error ?? step.summary;
      break;
    case 'skipped':
    case 'cancelled':
      text = step.reason;
      break;
    default:
      text = plan;
  }
  return text ? safeLine(text, STEP_DETAIL_CHARS) : '';
}

/** Run time, once the step has finished. */
function stepDuration(step: StepView): string | null {
  if (!step.finishedAt) return null;
  const ms = between(step.startedAt, step.finishedAt);
  return ms === null ? null : duration(ms);
}

/**
 * One line: status emoji, step id, action, what it did or will do, who decided, how long it took.
 * While the kill switch is on, a held step says so instead of looking about to run.
 */
export function stepLine(step: StepView, paused: IncidentView['paused'] = null): string {
  const took = stepDuration(step);
  const detail = stepDetail(step);
  const decided = decisionText(step);
  const held = isHeld(step, paused);
  return [
    held
      ? `:double_vertical_bar: ${code(step.id, 80)} ${safe(step.action)}: *held: automation paused*`
      : `${stepEmoji(step)} ${code(step.id, 80)} ${safe(step.action)}: *${stepWord(step)}*${took ? ` in ${took}` : ''}`,
    detail,
    decided ?? '',
    held ? 'runs after `/incident resume`' : '',
  ]
    .filter((part) => part !== '')
    .join(' · ');
}

function alarmLine(alarm: IncidentView['alarms'][number]): string {
  const emoji = alarm.state === 'OK' ? ':large_green_circle:' : alarm.state === 'ALARM' ? ':red_circle:' : ':white_circle:';
  const reason = alarm.reason ? `: ${safeLine(alarm.reason, ALARM_REASON_CHARS)}` : '';
  return `${emoji} ${code(alarm.name, 200)} *${safe(alarm.state)}* since ${clock(alarm.stateChangedAt)}${reason}`;
}

export function serviceName(view: IncidentView): string {
  return view.service ?? 'unrouted';
}

export function elapsedMs(view: IncidentView): number {
  return between(view.onsetAt, view.resolvedAt ?? view.now) ?? 0;
}

/** The banners that change how everything else reads: dry run and the kill switch. */
export function banners(view: IncidentView): string[] {
  const out: string[] = [];
  if (view.mode === 'dry-run') {
    out.push(':test_tube: *Dry run: nothing is changed.* Mutating steps are planned and reported, never called.');
  }
  if (view.paused) {
    const reason = view.paused.reason ? `: ${safeLine(view.paused.reason, 300)}` : '';
    out.push(
      `:octagonal_sign: *Paused*: the kill switch is on (by ${mention(view.paused.by)} at ${clock(view.paused.at)}${reason}). ` +
        'No mutating step starts until `/incident resume` (one already calling AWS completes); diagnostics go on.',
    );
  }
  return out;
}

function runLines(run: RunView, paused: IncidentView['paused']): string[] {
  const head = `*Runbook* ${code(run.runbook, 100)} · ${RUN_WORD[run.status]} · trigger: ${safeLine(run.trigger, 100)}`;
  return [head, ...(run.steps.length > 0 ? run.steps.map((s) => stepLine(s, paused)) : ['_no steps_'])];
}

/**
 * THE message of an incident, posted once and updated in place as it changes. It leads with the
 * verdict (cause, confidence, the top evidence with console links, what was ruled out, the gaps). Whatever the number
 * of alarms, runs and steps, it stays within Slack's 50 blocks: step lines share section blocks.
 */
export function incidentMessage(view: IncidentView): SlackMessage {
  const open = view.status === 'open';
  const emoji = open ? ':rotating_light:' : ':white_check_mark:';
  const service = serviceName(view);
  const elapsed = duration(elapsedMs(view));

  const top: KnownBlock[] = [header(`${emoji} ${safePlain(service)}: ${safePlain(view.title)}`)];
  const notes = banners(view);
  if (notes.length > 0) top.push(section(notes.join('\n')));
  // The verdict leads: what an engineer reads first, updated as the diagnostics finish.
  const verdict = verdictBlock(view);
  if (verdict) top.push(verdict);
  top.push(
    fields([
      `*Service*\n${safe(service)}`,
      `*Status*\n${open ? ':red_circle: open' : ':large_green_circle: resolved'}`,
      `*${open ? 'Elapsed' : 'Lasted'}*\n${elapsed}`,
      `*Onset*\n${utc(view.onsetAt)}`,
      ...(view.resolvedAt ? [`*Resolved*\n${utc(view.resolvedAt)}`] : []),
    ]),
  );
  if (view.alarms.length > 0) {
    top.push(...packLines([`*${view.alarms.length === 1 ? 'Alarm' : 'Alarms'}*`, ...view.alarms.map(alarmLine)], MAX_ALARM_BLOCKS, (n) => `_…and ${plural(n, 'more alarm')}_`));
  }
  top.push(divider());

  const footer = context(`Incident ${code(view.id)} · opened ${utc(view.openedAt)} · findings in the thread`);
  const runs = view.runs.length > 0 ? view.runs.flatMap((run, i) => [...(i > 0 ? [' '] : []), ...runLines(run, view.paused)]) : ['_No runbook has started yet._'];
  const body = packLines(runs, LIMITS.blocks - top.length - 1, (n) => `_…and ${plural(n, 'more line')}: see the thread and the RCA_`);

  const state = verdictState(view);
  const cause = state && 'verdict' in state ? ` · verdict: ${state.verdict.cause}` : '';
  return {
    text: fallback(`${safe(service)} ${open ? 'incident open' : 'incident resolved'}: ${safe(view.title)} (${elapsed})${cause}`),
    blocks: [...top, ...body, footer],
  };
}
