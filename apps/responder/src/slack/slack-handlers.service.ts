import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Catalog } from '@responder/domain';
import { renderRca } from '@responder/rca';
import { type ApprovalClick, type IncidentCommand, type Reply, type SlackHandlers, commandHelpMessage, incidentListMessage, incidentStatusMessage } from '@responder/slack';
import { IncidentStore, RunStore } from '@responder/store';
import { type ApprovalAnswer, ApprovalService, AutomationService, CHANNEL_TEXT } from '../engine';
import { loadRcaInput } from '../rca/load-rca-input';
import { CATALOG } from '../tokens';
import { ClickInbox, type InboxClick } from './click-inbox';
import { INCIDENT_ACTIONS, type IncidentActions } from './incident-actions';
import { IncidentViewLoader } from './incident-view.loader';
import { SlackOutbox } from './slack-outbox';

/** Slack allows 3,000 characters in a section; the RCA answer keeps within that. */
const RCA_PREVIEW_CHARS = 2800;

/**
 * What Slack's listeners call: button clicks go to the same ApprovalService as the HTTP API (same
 * checks: approver, two-person, stale plan, already decided); `/incident` sub-commands.
 * Refusals are told only to the clicking user (ephemeral) and logged.
 */
@Injectable()
export class SlackHandlersService implements SlackHandlers, OnApplicationBootstrap {
  private readonly logger = new Logger('SlackHandlers');

  constructor(
    private readonly approvals: ApprovalService,
    private readonly automation: AutomationService,
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
    private readonly views: IncidentViewLoader,
    private readonly outbox: SlackOutbox,
    @Inject(INCIDENT_ACTIONS) private readonly actions: IncidentActions,
    private readonly inbox: ClickInbox,
    @Inject(CATALOG) private readonly catalog: Catalog,
  ) {}

  onApplicationBootstrap(): void {
    this.inbox.startWorker((click) => this.approvalClicked(click));
  }

  async clickReceived(click: ApprovalClick, clickId: string): Promise<void> {
    await this.inbox.add(click, clickId);
  }

  async approvalClicked(click: InboxClick): Promise<void> {
    const { incidentId, runId, step, paramsHash } = click.value;
    const run = await this.runs.getRunStep(runId, step);
    let answer: ApprovalAnswer;
    if (!run && !(await this.incidents.get(incidentId))) {
      // A button can outlive its incident: Redis may have come back without its last writes.
      answer = { ok: false, code: 'not_found', message: `incident ${incidentId} is no longer in the store (lost with Redis' last writes?): nothing was done` };
    } else if (!run || run.incidentId !== incidentId) {
      answer = { ok: false, code: 'not_found', message: `incident ${incidentId} has no step ${step}` };
    } else {
      const ref = `${run.runbook}.${step}`;
      answer =
        click.verb === 'approve'
          ? await this.approvals.approve(incidentId, ref, { approver: click.userId, via: 'slack', paramsHash })
          : await this.approvals.reject(incidentId, ref, { approver: click.userId, via: 'slack', reason: 'rejected in Slack' });
    }
    // Run again after a crash: "already approved / decided" is this click's own earlier pass.
    if (click.replayed && !answer.ok && (answer.code === 'duplicate' || answer.code === 'not_pending')) {
      this.logger.log({ incidentId, runId, step, user: click.userId }, `Slack ${click.verb} of ${step} by ${click.userId} replayed after a restart: already applied`);
      return;
    }
    const text = clickAnswerText(click, answer);
    if (!answer.ok) this.logger.warn({ incidentId, runId, step, user: click.userId, code: answer.code }, `Slack ${click.verb} of ${step} by ${click.userId} refused: ${answer.message}`);
    if (text && click.channelId) await this.outbox.ephemeral({ channel: click.channelId, user: click.userId, text });
  }

  async incidentCommand(command: IncidentCommand, reply: Reply): Promise<void> {
    const [sub = 'help', ...rest] = command.text.trim().split(/\s+/).filter((w) => w.length > 0);
    const arg = rest.join(' ');
    switch (sub.toLowerCase()) {
      case 'list': {
        const { items } = await this.incidents.list({ status: 'open', limit: 25, offset: 0 });
        return reply(incidentListMessage(items.map((i) => ({ id: i.id, service: i.service, title: i.title, status: i.status, openedAt: i.openedAt })), new Date().toISOString()));
      }
      case 'status': {
        const view = rest[0] ? await this.views.load(rest[0]) : null;
        return reply(view ? incidentStatusMessage(view) : { text: rest[0] ? `No incident ${rest[0]}.` : 'Usage: /incident status <incident id>' });
      }
      case 'rca':
        return reply({ text: await this.rcaPreview(rest[0]) });
      case 'note':
        return reply({ text: await this.note(rest[0], rest.slice(1).join(' '), command.userId) });
      case 'postmortem':
        return reply({ text: await this.postmortem(rest[0], rest[1], rest.slice(2).join(' '), command.userId) });
      case 'run':
        return reply({ text: await this.run(rest[0], rest[1], command.userId) });
      case 'pause':
      case 'resume':
        return reply({ text: await this.killSwitch(sub.toLowerCase() as 'pause' | 'resume', command.userId, arg) });
      default:
        return reply(commandHelpMessage());
    }
  }

  private async rcaPreview(incidentId: string | undefined): Promise<string> {
    if (!incidentId) return 'Usage: /incident rca <incident id>';
    const input = await loadRcaInput(this.incidents, this.runs, incidentId);
    if (!input) return `No incident ${incidentId}.`;
    const markdown = renderRca(input);
    const cut = markdown.length > RCA_PREVIEW_CHARS;
    const body = (cut ? markdown.slice(0, RCA_PREVIEW_CHARS) : markdown).replace(/```/g, "'''");
    return `RCA draft of ${incidentId}${cut ? ' (the beginning; the whole draft: GET /incidents/' + incidentId + '/rca.md or `npm run cli -- rca ' + incidentId + '`)' : ''}:\n\`\`\`${body}\`\`\``;
  }

  private async note(incidentId: string | undefined, text: string, userId: string): Promise<string> {
    if (!incidentId || !text) return 'Usage: /incident note <incident id> <text>';
    if (text.length > this.actions.noteMaxChars) return `That note is ${text.length} characters; the limit is ${this.actions.noteMaxChars}.`;
    const added = await this.actions.addNote(incidentId, { author: userId, text });
    return added ? `Note added to ${incidentId}'s timeline (it will be in the RCA).` : `No incident ${incidentId}.`;
  }

  /**
   * `/incident postmortem <id> owner @user` and `… status <draft|review|published>`: who sets it is
   * the typing Slack user. A mention (`<@U123|alice>`, as Slack escapes it) is stored as the Slack
   * user id; a plain `@alice` as `alice`.
   */
  private async postmortem(incidentId: string | undefined, field: string | undefined, value: string, userId: string): Promise<string> {
    const usage = 'Usage: /incident postmortem <incident id> owner @user, or /incident postmortem <incident id> status <draft|review|published>';
    const what = field?.toLowerCase();
    if (!incidentId || (what !== 'owner' && what !== 'status') || !value) return usage;
    const owner = what === 'owner' ? (/^<@([A-Z0-9]+)(?:\|[^>]*)?>$/.exec(value)?.[1] ?? value.replace(/^@/, '')) : undefined;
    const parsed = this.actions.parsePostmortem(what === 'owner' ? { owner } : { status: value.toLowerCase() });
    if (!parsed.ok) return `${what === 'owner' ? 'Owner' : 'Status'} refused: ${parsed.messages.join('; ')}. ${usage}`;
    const result = await this.actions.setPostmortem(incidentId, parsed.change, userId);
    if (result.outcome === 'missing') return `No incident ${incidentId}.`;
    const state = `${result.status === 'review' ? 'in review' : result.status}, owner ${result.owner ? (/^[UW][A-Z0-9]+$/.test(result.owner) ? `<@${result.owner}>` : result.owner) : 'none'}`;
    return result.outcome === 'unchanged' ? `The postmortem of ${incidentId} was already ${state}.` : `Postmortem of ${incidentId}: ${state} (on the timeline; the RCA shows it at its top).`;
  }

  /** A manual run, for the service's approvers: it can open an incident and ask people to act. */
  private async run(runbook: string | undefined, service: string | undefined, userId: string): Promise<string> {
    if (!runbook || !service) return 'Usage: /incident run <runbook> <service>';
    const groups = this.catalog.services[service]?.approvers ?? [];
    if (this.catalog.services[service] && !(await this.approvals.isApprover(userId, groups.length > 0 ? groups : this.approvals.allApproverGroups()))) {
      this.logger.warn({ user: userId, runbook, service }, `Slack run of ${runbook} for ${service} by ${userId} refused: not an approver`);
      return `Sorry, only ${service}'s approvers may start a runbook for it.`;
    }
    const answer = await this.actions.startRun({ runbook, service, by: userId });
    if (answer.ok) return `Started ${runbook} for ${service} in incident ${answer.incidentId}${answer.incidentOpened ? ' (opened for this run)' : ''}: follow it in the incident's thread.`;
    return answer.code === 'already_running' ? `Incident ${answer.incidentId} already has a run of ${runbook}.` : `Could not start ${runbook}: ${answer.message}.`;
  }

  /** Pausing and resuming automation is for approvers only; anyone else is refused and logged. */
  private async killSwitch(verb: 'pause' | 'resume', userId: string, reason: string): Promise<string> {
    if (!(await this.approvals.isApprover(userId, this.approvals.allApproverGroups()))) {
      this.logger.warn({ user: userId }, `Slack ${verb} by ${userId} refused: not an approver`);
      return `Sorry, only on-call approvers may ${verb} automation.`;
    }
    const by = `<@${userId}>`;
    if (verb === 'pause') {
      return (await this.automation.pause(userId, reason || undefined))
        ? `Automation paused by ${by}: no mutating step will start until someone runs \`/incident resume\`. Diagnostics go on.`
        : 'Automation was already paused.';
    }
    return (await this.automation.resume(userId, reason || undefined)) ? `Automation resumed by ${by}.` : 'Automation was not paused.';
  }
}

/** What the clicking user is told (null: the updated message says it all). */
export function clickAnswerText(click: ApprovalClick, answer: ApprovalAnswer): string | null {
  const step = click.value.step;
  if (answer.ok) {
    if (answer.outcome === 'recorded') return `Your approval of ${step} is recorded (${answer.approvals} of ${answer.needed}): it needs another, different approver.`;
    return null;
  }
  switch (answer.code) {
    case 'forbidden':
      return `Sorry, you are not one of the approvers of ${step}, so your ${click.verb === 'approve' ? 'approval' : 'rejection'} was not recorded. The on-call approvers have been asked in the thread.`;
    case 'stale':
      if (answer.superseded) return `That request for ${step} was superseded (${answer.superseded}), so nothing was done. Review the new request in the thread.`;
      return `The plan for ${step} changed since that message was posted, so nothing was done. Review the new request in the thread.`;
    case 'duplicate':
      // Approving in Slack after approving over the API (or the other way round) is still one person.
      return `You have already approved ${step}${answer.via && answer.via !== 'slack' ? ` (${CHANNEL_TEXT[answer.via]}: the same person)` : ''}; it needs a second, different approver.`;
    case 'not_pending':
      return `${step} was already decided; your click changed nothing.`;
    default:
      return `Sorry, that button no longer matches a step (${answer.message}).`;
  }
}
