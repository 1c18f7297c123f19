import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { type ApprovalChannel, type Catalog, type Person, type RunRecord, type StepState, peopleOf } from '@responder/domain';
import { paramsHash, renderParams, type RunbookStep } from '@responder/runbooks';
import { IncidentStore, RunStore } from '@responder/store';
import { CATALOG } from '../../tokens';
import { RunContextLoader } from '../run-context';
import { RunCoordinator } from '../run-coordinator';
import { RunbookRegistry } from '../runbook-registry';
import { StepQueue } from '../step-queue';
import { APPROVER_DIRECTORY, type ApproverDirectory } from './approver-directory';

export type ApprovalAnswer =
  | { ok: true; outcome: 'granted' | 'recorded' | 'rejected'; runId: string; step: string; approvals: number; needed: number }
  | {
      ok: false;
      code: 'not_found' | 'ambiguous' | 'forbidden' | 'stale' | 'not_pending' | 'duplicate';
      message: string;
      plan?: string;
      paramsHash?: string;
      /** duplicate: the channel of the person's earlier approval. */
      via?: ApprovalChannel;
      /** stale: the request was superseded because its plan went stale before the call (why). */
      superseded?: string;
    };

export interface Decision {
  /** The name the credential carries: a Slack user id (a click), or a token's user / OIDC claim. */
  approver: string;
  /** The channel; two-person approval counts people across all of them. */
  via?: ApprovalChannel;
  /** The hash of the parameters the approver saw: an approval approves exactly those. */
  paramsHash?: string;
  reason?: string;
}

/**
 * Approvals as data (docs/architecture.md): a decision names the step and the hash of the exact
 * parameters it approves; the approver must be one of the step's approvers; a plan that changed
 * since is refused as stale (and re-requested). The HTTP API and Slack both call this. Whoever
 * decides is first resolved to a person of the catalog (`people`), so one person approving in Slack
 * and over the API counts once.
 */
@Injectable()
export class ApprovalService {
  private readonly logger = new Logger('Approvals');

  constructor(
    @Inject(CATALOG) private readonly catalog: Catalog,
    private readonly registry: RunbookRegistry,
    private readonly coordinator: RunCoordinator,
    private readonly contexts: RunContextLoader,
    private readonly runs: RunStore,
    private readonly incidents: IncidentStore,
    private readonly queue: StepQueue,
    @Optional() @Inject(APPROVER_DIRECTORY) private readonly directory?: ApproverDirectory,
  ) {}

  /** The person a credential names (any of their names: person id, Slack user id, e-mail, user name). */
  personOf(who: string): Person {
    return peopleOf(this.catalog).resolve(who);
  }

  /**
   * Is `who` (any name of a person) in one of the approver groups: a person the group lists, or
   * a member of the group's Slack user group by the person's Slack user id (asked of Slack; when
   * Slack cannot answer, only the listed people count).
   */
  async isApprover(who: string | Person, groups: string[]): Promise<boolean> {
    const person = typeof who === 'string' ? this.personOf(who) : who;
    if (peopleOf(this.catalog).isListed(person, groups)) return true;
    if (!this.directory || !person.slack) return false;
    for (const group of groups.map((g) => this.catalog.approverGroups[g]).filter((g) => g !== undefined)) {
      if (!group.slackUserGroup) continue;
      try {
        if ((await this.directory.userGroupMembers(group.slackUserGroup)).includes(person.slack)) return true;
      } catch (err) {
        this.logger.warn(`could not read Slack user group ${group.slackUserGroup}: ${(err as Error).message}`);
      }
    }
    return false;
  }

  /** Every approver group of the catalog: who may pause or resume automation. */
  allApproverGroups(): string[] {
    return Object.keys(this.catalog.approverGroups);
  }

  async approve(incidentId: string, stepRef: string, decision: Decision): Promise<ApprovalAnswer> {
    const found = await this.find(incidentId, stepRef);
    if (!found.ok) return found;
    const { run, step, state } = found;
    const checked = await this.check(run, step, state, decision, 'approve');
    if (!checked.ok) return checked;
    const { person } = checked;
    const result = await this.runs.addApproval(run.id, step.id, person.id, state.paramsHash!, state.approversNeeded ?? 1, detailOf(person, decision));
    switch (result.outcome) {
      case 'granted':
        await this.queue.queueStep(run.id, step);
        await this.queue.cancelApprovalTimeout(run.id, step.id);
        this.logger.log({ incidentId, runId: run.id, step: step.id, by: person.id, ...detailOf(person, decision) }, `step ${step.id} approved`);
        return { ok: true, outcome: 'granted', runId: run.id, step: step.id, approvals: result.state!.approvals!.length, needed: state.approversNeeded ?? 1 };
      case 'recorded':
        return { ok: true, outcome: 'recorded', runId: run.id, step: step.id, approvals: result.state!.approvals!.length, needed: state.approversNeeded ?? 1 };
      case 'duplicate': {
        const earlier = result.state?.approvals?.find((a) => a.by === person.id);
        const how = earlier?.via ? ` (${CHANNEL_TEXT[earlier.via]})` : '';
        const as = person.id === decision.approver ? person.id : `${person.id} (as ${decision.approver})`;
        this.logger.warn({ incidentId, runId: run.id, step: step.id, by: person.id, ...detailOf(person, decision) }, `${as} approved ${step.id} a second time: one person counts once`);
        return { ok: false, code: 'duplicate', message: `${as} has already approved ${step.id}${how}; it needs a second, different approver`, ...(earlier?.via ? { via: earlier.via } : {}) };
      }
      case 'stale':
        return this.stale(run, step, decision);
      default:
        return notPending(step, result.status ?? 'decided', (await this.runs.getRunStep(run.id, step.id))?.steps[step.id]);
    }
  }

  async reject(incidentId: string, stepRef: string, decision: Decision): Promise<ApprovalAnswer> {
    const found = await this.find(incidentId, stepRef);
    if (!found.ok) return found;
    const { run, step, state } = found;
    const checked = await this.check(run, step, state, { ...decision, paramsHash: undefined }, 'reject');
    if (!checked.ok) return checked;
    const { person } = checked;
    const rejected = await this.runs.transition(
      run.id,
      step.id,
      ['awaiting_approval'],
      { status: 'rejected', approval: 'rejected', approvedBy: person.id, reason: decision.reason, finishedAt: new Date().toISOString() },
      { type: 'approval.rejected', data: { by: person.id, ...detailOf(person, decision), reason: decision.reason ?? null, plan: state.plan } },
    );
    if (!rejected) return { ok: false, code: 'not_pending', message: `step ${step.id} was decided meanwhile` };
    await this.queue.cancelApprovalTimeout(run.id, step.id);
    this.logger.log({ incidentId, runId: run.id, step: step.id, by: person.id, ...detailOf(person, decision) }, `step ${step.id} rejected`);
    await this.coordinator.advance(run.id);
    return { ok: true, outcome: 'rejected', runId: run.id, step: step.id, approvals: 0, needed: state.approversNeeded ?? 1 };
  }

  /** Is this person allowed, is the step waiting, are the parameters still the planned ones? */
  private async check(run: RunRecord, step: RunbookStep, state: StepState, decision: Decision, verb: string): Promise<{ ok: true; person: Person } | Extract<ApprovalAnswer, { ok: false }>> {
    if (state.status !== 'awaiting_approval') return notPending(step, state.status, state);
    const incident = await this.incidents.get(run.incidentId);
    const groups = this.registry.approvers(step, incident?.service ?? null);
    const person = this.personOf(decision.approver);
    if (!(await this.isApprover(person, groups))) {
      await this.runs.appendTimeline(run.incidentId, 'approval.refused', { runId: run.id, step: step.id, by: decision.approver, ...(decision.via ? { via: decision.via } : {}), verb, reason: 'not an approver of this step' });
      this.logger.warn({ runId: run.id, step: step.id, by: decision.approver }, `refused to let ${decision.approver} ${verb} ${step.id}: not an approver`);
      return {
        ok: false,
        code: 'forbidden',
        message: groups.length > 0 ? `sorry, ${decision.approver} is not one of the approvers of ${step.id} (${groups.join(', ')})` : `sorry, ${step.id} has no approvers configured`,
      };
    }
    if (verb === 'approve') {
      // Recompute from current evidence: an approval of a plan that has changed since is refused.
      const context = await this.contexts.forRun(run);
      const current = context ? paramsHash(renderParams(step, context)) : state.paramsHash;
      if (current !== state.paramsHash || (decision.paramsHash !== undefined && decision.paramsHash !== state.paramsHash)) {
        return this.stale(run, step, decision);
      }
    }
    return { ok: true, person };
  }

  /** Records a stale approval, re-plans the step with the current evidence and asks again. */
  private async stale(run: RunRecord, step: RunbookStep, decision: Decision): Promise<Extract<ApprovalAnswer, { ok: false }>> {
    const context = await this.contexts.forRun(run);
    let plan: string | undefined;
    let hash: string | undefined;
    if (context) {
      const params = renderParams(step, context);
      hash = paramsHash(params);
      plan = this.registry.planOf(step, params);
      const current = (await this.runs.getRun(run.id))?.steps[step.id];
      if (current?.paramsHash !== hash) {
        await this.runs.transition(
          run.id,
          step.id,
          ['awaiting_approval'],
          { paramsJson: JSON.stringify(params), paramsHash: hash, plan, approvals: [], requestedAt: new Date().toISOString() },
          { type: 'approval.requested', data: { plan, params, paramsHash: hash, replanned: true } },
        );
      }
    }
    await this.runs.appendTimeline(run.incidentId, 'approval.stale', { runId: run.id, step: step.id, by: decision.approver, approved: decision.paramsHash ?? null, current: hash ?? null });
    const superseded = (await this.runs.getRunStep(run.id, step.id))?.steps[step.id]?.replanReason;
    const message = superseded
      ? `this request for ${step.id} was superseded (${superseded}): nothing was approved; review the new request`
      : `the plan for ${step.id} changed since it was shown: review it again`;
    return { ok: false, code: 'stale', message, plan, paramsHash: hash, ...(superseded ? { superseded } : {}) };
  }

  private async find(incidentId: string, stepRef: string): Promise<{ ok: true; run: RunRecord; step: RunbookStep; state: StepState } | Extract<ApprovalAnswer, { ok: false }>> {
    const [runbookName, stepId] = stepRef.includes('.') ? (stepRef.split('.', 2) as [string, string]) : [undefined, stepRef];
    const runIds = await this.runs.runsOf(incidentId);
    const matches: Array<{ run: RunRecord; step: RunbookStep }> = [];
    for (const [name, runId] of Object.entries(runIds)) {
      if (runbookName && name !== runbookName) continue;
      const run = await this.runs.getRun(runId);
      const step = this.registry.runbook(name)?.steps.find((s) => s.id === stepId);
      if (run && step && run.steps[step.id]) matches.push({ run, step });
    }
    if (matches.length === 0) {
      // A button can outlive its incident: Redis may have come back without its last writes.
      if (Object.keys(runIds).length === 0 && !(await this.incidents.get(incidentId))) {
        return { ok: false, code: 'not_found', message: `incident ${incidentId} is no longer in the store (lost with Redis' last writes?): nothing was done` };
      }
      return { ok: false, code: 'not_found', message: `incident ${incidentId} has no step ${stepRef}` };
    }
    if (matches.length > 1) return { ok: false, code: 'ambiguous', message: `${stepRef} names a step in several runs: use <runbook>.${stepId}` };
    const [{ run, step }] = matches;
    return { ok: true, run, step, state: run.steps[step.id] };
  }
}

/**
 * A decision on a step that is not awaiting approval. A step whose plan went stale and is being
 * made again is `pending`: the click was on a superseded request, and must not approve the new plan.
 */
function notPending(step: RunbookStep, status: string, state: StepState | undefined): Extract<ApprovalAnswer, { ok: false }> {
  if (status === 'pending' && state?.replanReason) {
    return { ok: false, code: 'stale', message: `this request for ${step.id} was superseded (${state.replanReason}): nothing was approved; its plan is being made again from fresh evidence, and a new request follows`, superseded: state.replanReason };
  }
  return { ok: false, code: 'not_pending', message: `step ${step.id} is ${status}, not awaiting approval` };
}

/** The channel in words, for messages. */
export const CHANNEL_TEXT: Record<ApprovalChannel, string> = { slack: 'in Slack', token: 'with a personal token', oidc: 'with an OIDC token' };

/** What is stored about how a person decided: the channel, and the name it carried when not their id. */
function detailOf(person: Person, decision: Decision): { via?: ApprovalChannel; as?: string } {
  return { ...(decision.via ? { via: decision.via } : {}), ...(decision.approver !== person.id ? { as: decision.approver } : {}) };
}
