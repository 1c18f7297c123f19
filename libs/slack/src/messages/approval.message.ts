import type { ActionsBlock, Button, KnownBlock } from '@slack/types';
import { APPROVE_ACTION_ID, type ApprovalButtonValue, type IncidentView, REJECT_ACTION_ID, type RunView, type StepView } from '../view';
import {
  LIMITS,
  type SlackMessage,
  between,
  clock,
  code,
  codeBlock,
  context,
  duration,
  fallback,
  joinAnd,
  mention,
  safe,
  safeLine,
  safePlain,
  section,
  truncate,
} from './format';
import { approvalProgress, approversNeededText, approversOf, approverTexts, isDryRunStep, isHeld, serviceName } from './incident.message';

const PLAN_CHARS = 2000;
const PARAMS_CHARS = 2500;

/** The actions block id names the plan it approves, so a handler can tell a stale message from a current one. */
export function approvalBlockId(step: StepView): string {
  return truncate(`approval:${step.id}:${step.paramsHash ?? ''}`, LIMITS.blockId);
}

export function approvalButtonValue(view: IncidentView, run: RunView, step: StepView): ApprovalButtonValue {
  return { incidentId: view.id, runId: run.id, step: step.id, paramsHash: step.paramsHash ?? '' };
}

function planText(step: StepView, plan = step.plan): string {
  return plan ? safeLine(plan, PLAN_CHARS) : `run ${code(step.action)} with the parameters below`;
}

/** Who may approve, as mentions: the groups ping everyone in them, the users each one. */
function mayApprove(step: StepView): string {
  const who = [...step.approvers.slackUserGroups, ...step.approvers.slackUsers].map(mention);
  return who.length > 0 ? joinAnd(who) : '_nobody is named in the service catalog_';
}

interface RequestOptions {
  title: string;
  /** "It will" while pending; "Plan" once decided; "Old plan" when superseded. */
  planLabel: string;
  plan?: string;
  /** Off for a superseded request: the step's params are the new plan's, not the one shown. */
  params: boolean;
  progress: boolean;
  /** Off for a step no person had to approve: "who may approve" would mislead. */
  approvers?: boolean;
}

/** What every form of the request shows: the step, what it will do, and who may decide. */
function requestBlocks(view: IncidentView, run: RunView, step: StepView, options: RequestOptions): KnownBlock[] {
  const blocks: KnownBlock[] = [
    section(
      `${options.title}: ${code(step.id, 80)} ${safe(step.action)} in runbook ${code(run.runbook, 100)} · ` +
        `${safe(serviceName(view))} incident ${code(view.id)}`,
    ),
    section(`*${options.planLabel}*: ${planText(step, options.plan)}`),
  ];
  if (options.params && step.params && Object.keys(step.params).length > 0) {
    blocks.push(section(`*Parameters*\n${codeBlock(JSON.stringify(step.params), PARAMS_CHARS)}`));
  }
  const progress = options.progress ? approvalProgress(step) : null;
  if (options.approvers !== false) {
    blocks.push(
      section(
        (step.approvalWhy ? `*Why people decide*: ${safe(step.approvalWhy)}\n` : '') +
          `*Who may approve*: ${mayApprove(step)}` +
          (step.approversNeeded > 1 ? `\n:busts_in_silhouette: Needs ${approversNeededText(step.approversNeeded)}${progress ? ` (${progress})` : ''}` : ''),
      ),
    );
  }
  if (view.paused && (step.status === 'awaiting_approval' || step.status === 'pending')) {
    blocks.push(context(`:double_vertical_bar: Automation is paused (by ${mention(view.paused.by)}): once approved, this step is held until \`/incident resume\`.`));
  }
  if (view.mode === 'dry-run' || step.dryRun) {
    blocks.push(context(':test_tube: Dry run: approving records the decision; the call is planned and reported, never made.'));
  }
  return blocks;
}

function button(text: string, actionId: string, value: string, style: 'primary' | 'danger'): Button {
  return { type: 'button', text: { type: 'plain_text', text: truncate(text, LIMITS.buttonText), emoji: true }, action_id: actionId, value, style };
}

/** The request for a step awaiting approval, with Approve and Reject buttons bound to its current plan. */
export function approvalRequestMessage(view: IncidentView, run: RunView, step: StepView): SlackMessage {
  const value = JSON.stringify(approvalButtonValue(view, run, step));
  const dryRun = view.mode === 'dry-run' || step.dryRun === true;
  const approve = button('Approve', APPROVE_ACTION_ID, value, 'primary');
  approve.confirm = {
    title: { type: 'plain_text', text: truncate('Approve this step?', LIMITS.confirmTitle) },
    text: { type: 'plain_text', text: truncate(safePlain(`${step.plan ?? step.action}${dryRun ? ' (dry run: planned, not called)' : ''}`), LIMITS.confirmText) },
    confirm: { type: 'plain_text', text: 'Approve' },
    deny: { type: 'plain_text', text: 'Cancel' },
  };
  const actions: ActionsBlock = {
    type: 'actions',
    block_id: approvalBlockId(step),
    elements: [approve, button('Reject', REJECT_ACTION_ID, value, 'danger')],
  };
  const requested = step.requestedAt ? `requested ${clock(step.requestedAt)} · ` : '';
  return {
    text: fallback(`Approval needed for ${safe(step.id)}: ${safe(step.plan ?? step.action)}`),
    blocks: [
      ...requestBlocks(view, run, step, { title: ':raised_hand: *Approval needed*', planLabel: 'It will', params: true, progress: true }),
      actions,
      ...(step.replans && step.replanReason ? [context(`:arrows_counterclockwise: A new plan: the previous request was superseded (${safeLine(step.replanReason, 500)}), and the evidence gathered again`)] : []),
      context(`${requested}the buttons approve exactly this plan; if it changes, a new request replaces this one`),
    ],
  };
}

function waited(view: IncidentView, step: StepView): string | null {
  const ms = between(step.requestedAt, step.finishedAt ?? view.now);
  return ms === null ? null : duration(ms);
}

/** The decision and its author, as a line that replaces the buttons. */
function decisionLine(view: IncidentView, step: StepView): { emoji: string; line: string; word: string } {
  const who = approversOf(step);
  if (step.approval === 'policy' || (step.approval === 'granted' && who.length === 1 && who[0].startsWith('policy:'))) {
    return { emoji: ':robot_face:', word: 'auto-approved', line: `*Auto-approved by ${mention(step.approvedBy ?? who[0] ?? 'policy:unnamed')}*` };
  }
  if (step.approval === 'granted') {
    const last = step.approvals.at(-1)?.at;
    return {
      emoji: ':white_check_mark:',
      word: 'approved',
      line: `*Approved*${who.length > 0 ? ` by ${joinAnd(approverTexts(step))}` : ''}${last ? ` at ${clock(last)}` : ''}`,
    };
  }
  if (step.approval === 'rejected' || step.status === 'rejected') {
    return {
      emoji: ':no_entry:',
      word: 'rejected',
      line: `*Rejected*${step.approvedBy ? ` by ${mention(step.approvedBy)}` : ''}${step.reason ? `: ${safeLine(step.reason, 500)}` : ''}`,
    };
  }
  if (step.approval === 'timed_out' || step.status === 'timed_out') {
    const after = waited(view, step);
    return { emoji: ':alarm_clock:', word: 'timed out', line: `*Timed out* with no decision${after ? ` after ${after}` : ''}` };
  }
  return { emoji: ':hourglass:', word: 'awaiting a decision', line: '*Awaiting a decision*' };
}

/** What became of the step once decided. */
function outcomeLine(view: IncidentView, step: StepView): string | null {
  const took = between(step.startedAt, step.finishedAt);
  const inTime = took !== null ? ` in ${duration(took)}` : '';
  if (isDryRunStep(step)) return ':test_tube: Dry run: not called.';
  if (view.paused && isHeld(step, view.paused)) {
    return `:double_vertical_bar: Held: automation is paused (by ${mention(view.paused.by)}); it runs after \`/incident resume\`.`;
  }
  switch (step.status) {
    case 'succeeded':
      return `:white_check_mark: Done${inTime}${step.summary ? `: ${safeLine(step.summary, 1000)}` : '.'}`;
    case 'failed':
      return `:x: Failed${inTime}: ${safeLine(step.error ?? 'no error message recorded', 1000)}`;
    case 'running':
      return ':arrows_counterclockwise: Running…';
    case 'queued':
      return ':hourglass_flowing_sand: Queued to run.';
    case 'skipped':
      return `:fast_forward: Skipped${step.reason ? `: ${safeLine(step.reason, 500)}` : '.'}`;
    case 'cancelled':
      return `:heavy_minus_sign: Cancelled${step.reason ? `: ${safeLine(step.reason, 500)}` : '.'}`;
    case 'rejected':
    case 'timed_out':
      return 'Not run.';
    default:
      return null;
  }
}

/** The request once decided: the buttons replaced by the decision, who made it, and what came of it. */
export function approvalDecidedMessage(view: IncidentView, run: RunView, step: StepView): SlackMessage {
  const decision = decisionLine(view, step);
  const outcome = outcomeLine(view, step);
  return {
    text: fallback(`${safe(step.id)} ${decision.word}: ${safe(step.plan ?? step.action)}`),
    blocks: [
      // A step no person had to approve (a policy granted it, or it needs none) is an action, not a request.
      ...requestBlocks(view, run, step, {
        title: `${decision.emoji} *${step.approval === 'policy' || step.approval === 'not_required' ? 'Action' : 'Approval request'}*`,
        planLabel: 'Plan',
        params: true,
        progress: false,
        approvers: step.approval !== 'policy' && step.approval !== 'not_required',
      }),
      section([`${decision.emoji} ${decision.line}`, outcome].filter((l) => l !== null).join('\n')),
    ],
  };
}

/** The request whose plan changed before anyone decided: its buttons would approve a plan that no longer exists. */
export function approvalSupersededMessage(view: IncidentView, run: RunView, step: StepView, oldPlan: string, reason?: string): SlackMessage {
  return {
    text: fallback(reason ? `Superseded: ${safeLine(reason, 500)}` : `Plan changed for ${safe(step.id)}: see the new request`),
    blocks: [
      ...requestBlocks(view, run, step, { title: ':arrows_counterclockwise: *Approval request (superseded)*', planLabel: 'Old plan', plan: oldPlan, params: false, progress: false }),
      section(
        reason
          ? `:arrows_counterclockwise: *Superseded*: ${safeLine(reason, 500)}. The evidence is gathered again and a new request follows. This one can no longer be approved.`
          : ':arrows_counterclockwise: *The plan changed since this was posted*: see the new request below. This one can no longer be approved.',
      ),
    ],
  };
}

/** Posted in the thread when a request is superseded before the call (the world changed): tells the approvers. */
export function approvalSupersededNotice(view: IncidentView, run: RunView, step: StepView, reason: string): SlackMessage {
  const { slackUserGroups: groups, slackUsers: users } = step.approvers;
  const who = (groups.length > 0 ? groups : users).map(mention);
  return {
    text: fallback(`The request for ${safe(step.id)} was superseded: ${safeLine(reason, 500)}`),
    blocks: [
      section(
        `:arrows_counterclockwise: ${who.length > 0 ? `${joinAnd(who)}: ` : ''}the request to approve ${code(step.id, 80)} (${safe(step.action)}) was *superseded*: ${safeLine(reason, 500)}. ` +
          'Nothing was approved or called; the evidence is gathered again and a new request follows.',
      ),
      context(`runbook ${code(run.runbook, 100)} · incident ${code(view.id)}`),
    ],
  };
}

/** A short re-ping in the thread: the groups (or the users when there is no group), how long it has waited. */
export function approvalReminderMessage(view: IncidentView, run: RunView, step: StepView): SlackMessage {
  const { slackUserGroups: groups, slackUsers: users } = step.approvers;
  const who = (groups.length > 0 ? groups : users).map(mention);
  const after = waited(view, step);
  const progress = approvalProgress(step);
  const text =
    `:bell: ${who.length > 0 ? `${joinAnd(who)}: ` : ''}${code(step.id, 80)} (${safe(step.action)}) has waited ${after ?? 'a while'} for approval` +
    `${progress ? ` (${progress})` : ''}: ${planText(step)}. Decide with the buttons on the request above; without a decision it times out and is not run.`;
  return { text: fallback(`Reminder: ${safe(step.id)} awaits approval${after ? ` (${after})` : ''}`), blocks: [section(text)] };
}

/** Posted in the thread when a request times out: nobody decided, so nothing was done. */
export function approvalTimedOutMessage(view: IncidentView, run: RunView, step: StepView): SlackMessage {
  const after = waited(view, step);
  return {
    text: fallback(`Approval timed out for ${safe(step.id)}: not run`),
    blocks: [
      section(
        `:alarm_clock: *Approval timed out* for ${code(step.id, 80)} (${safe(step.action)})${after ? ` after ${after}` : ''} with no decision: ` +
          `${planText(step)} was *not* run.`,
      ),
      context(`runbook ${code(run.runbook, 100)} · incident ${code(view.id)}`),
    ],
  };
}
