import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Catalog } from '@responder/domain';
import { paramsHash, renderParams, type RunbookStep } from '@responder/runbooks';
import { IncidentStore, RunStore, type RunRecord, type StepState } from '@responder/store';
import { CATALOG } from '../tokens';
import { APPROVER_DIRECTORY, type ApproverDirectory } from './approver-directory';
import { RunEngine, jobId } from './run-engine.service';
import { StepQueue } from './step-queue';

export type ApprovalAnswer =
  | { ok: true; outcome: 'granted' | 'recorded' | 'rejected'; runId: string; step: string; approvals: number; needed: number }
  | { ok: false; code: 'not_found' | 'ambiguous' | 'forbidden' | 'stale' | 'not_pending' | 'duplicate'; message: string; plan?: string; paramsHash?: string };

export interface Decision {
  /** The approver: an e-mail / user name from the catalog's `users`, or a Slack user id. */
  approver: string;
  /** The hash of the parameters the approver saw: an approval approves exactly those. */
  paramsHash?: string;
  reason?: string;
}

/**
 * Approvals as data (docs/architecture.md): a decision names the step and the hash of the exact
 * parameters it approves; the approver must be one of the step's approvers; a plan that changed
 * since is refused as stale (and re-requested). The HTTP API and Slack both call this.
 */
@Injectable()
export class ApprovalService {
  private readonly logger = new Logger('Approvals');

  constructor(
    @Inject(CATALOG) private readonly catalog: Catalog,
    private readonly engine: RunEngine,
    private readonly runs: RunStore,
    private readonly incidents: IncidentStore,
    private readonly queue: StepQueue,
    @Optional() @Inject(APPROVER_DIRECTORY) private readonly directory?: ApproverDirectory,
  ) {}

  /**
   * Is `who` in one of the approver groups: a catalog user name, a Slack user id listed in the group,
   * or a member of the group's Slack user group (asked of Slack; when Slack cannot answer, only the
   * listed people count).
   */
  async isApprover(who: string, groups: string[]): Promise<boolean> {
    const defs = groups.map((g) => this.catalog.approverGroups[g]).filter((g) => g !== undefined);
    if (defs.some((g) => g.users.includes(who) || g.slackUsers.includes(who))) return true;
    if (!this.directory) return false;
    for (const group of defs) {
      if (!group.slackUserGroup) continue;
      try {
        if ((await this.directory.userGroupMembers(group.slackUserGroup)).includes(who)) return true;
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
    const result = await this.runs.addApproval(run.id, step.id, decision.approver, state.paramsHash!, state.approversNeeded ?? 1);
    switch (result.outcome) {
      case 'granted':
        await this.engine.enqueueStep(run.id, step);
        await this.queue.remove(`timeout-${jobId(run.id, step.id)}`);
        this.logger.log({ incidentId, runId: run.id, step: step.id, by: decision.approver }, `step ${step.id} approved`);
        return { ok: true, outcome: 'granted', runId: run.id, step: step.id, approvals: result.state!.approvals!.length, needed: state.approversNeeded ?? 1 };
      case 'recorded':
        return { ok: true, outcome: 'recorded', runId: run.id, step: step.id, approvals: result.state!.approvals!.length, needed: state.approversNeeded ?? 1 };
      case 'duplicate':
        return { ok: false, code: 'duplicate', message: `${decision.approver} has already approved ${step.id}; it needs a second, different approver` };
      case 'stale':
        return this.stale(run, step, decision);
      default:
        return { ok: false, code: 'not_pending', message: `step ${step.id} is ${result.status}, not awaiting approval` };
    }
  }

  async reject(incidentId: string, stepRef: string, decision: Decision): Promise<ApprovalAnswer> {
    const found = await this.find(incidentId, stepRef);
    if (!found.ok) return found;
    const { run, step, state } = found;
    const checked = await this.check(run, step, state, { ...decision, paramsHash: undefined }, 'reject');
    if (!checked.ok) return checked;
    const rejected = await this.runs.transition(
      run.id,
      step.id,
      ['awaiting_approval'],
      { status: 'rejected', approval: 'rejected', approvedBy: decision.approver, reason: decision.reason, finishedAt: new Date().toISOString() },
      { type: 'approval.rejected', data: { by: decision.approver, reason: decision.reason ?? null, plan: state.plan } },
    );
    if (!rejected) return { ok: false, code: 'not_pending', message: `step ${step.id} was decided meanwhile` };
    await this.queue.remove(`timeout-${jobId(run.id, step.id)}`);
    this.logger.log({ incidentId, runId: run.id, step: step.id, by: decision.approver }, `step ${step.id} rejected`);
    await this.engine.advance(run.id);
    return { ok: true, outcome: 'rejected', runId: run.id, step: step.id, approvals: 0, needed: state.approversNeeded ?? 1 };
  }

  /** Is this person allowed, is the step waiting, are the parameters still the planned ones? */
  private async check(run: RunRecord, step: RunbookStep, state: StepState, decision: Decision, verb: string): Promise<{ ok: true } | Extract<ApprovalAnswer, { ok: false }>> {
    if (state.status !== 'awaiting_approval') return { ok: false, code: 'not_pending', message: `step ${step.id} is ${state.status}, not awaiting approval` };
    const incident = await this.incidents.get(run.incidentId);
    const groups = this.engine.approverGroups(step, incident?.service ?? null);
    if (!(await this.isApprover(decision.approver, groups))) {
      await this.runs.appendTimeline(run.incidentId, 'approval.refused', { runId: run.id, step: step.id, by: decision.approver, verb, reason: 'not an approver of this step' });
      this.logger.warn({ runId: run.id, step: step.id, by: decision.approver }, `refused to let ${decision.approver} ${verb} ${step.id}: not an approver`);
      return {
        ok: false,
        code: 'forbidden',
        message: groups.length > 0 ? `sorry, ${decision.approver} is not one of the approvers of ${step.id} (${groups.join(', ')})` : `sorry, ${step.id} has no approvers configured`,
      };
    }
    if (verb === 'approve') {
      // Recompute from current evidence: an approval of a plan that has changed since is refused.
      const context = await this.engine.context(run);
      const current = context ? paramsHash(renderParams(step, context)) : state.paramsHash;
      if (current !== state.paramsHash || (decision.paramsHash !== undefined && decision.paramsHash !== state.paramsHash)) {
        return this.stale(run, step, decision);
      }
    }
    return { ok: true };
  }

  /** Records a stale approval, re-plans the step with the current evidence and asks again. */
  private async stale(run: RunRecord, step: RunbookStep, decision: Decision): Promise<ApprovalAnswer> {
    const context = await this.engine.context(run);
    let plan: string | undefined;
    let hash: string | undefined;
    if (context) {
      const params = renderParams(step, context);
      hash = paramsHash(params);
      plan = this.engine.planOf(step, params);
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
    return { ok: false, code: 'stale', message: `the plan for ${step.id} changed since it was shown: review it again`, plan, paramsHash: hash };
  }

  private async find(incidentId: string, stepRef: string): Promise<{ ok: true; run: RunRecord; step: RunbookStep; state: StepState } | Extract<ApprovalAnswer, { ok: false }>> {
    const [runbookName, stepId] = stepRef.includes('.') ? (stepRef.split('.', 2) as [string, string]) : [undefined, stepRef];
    const runIds = await this.runs.runsOf(incidentId);
    const matches: Array<{ run: RunRecord; step: RunbookStep }> = [];
    for (const [name, runId] of Object.entries(runIds)) {
      if (runbookName && name !== runbookName) continue;
      const run = await this.runs.getRun(runId);
      const step = this.engine.runbook(name)?.steps.find((s) => s.id === stepId);
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
