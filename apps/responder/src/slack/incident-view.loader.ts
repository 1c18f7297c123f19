import { Inject, Injectable } from '@nestjs/common';
import { type Catalog, type RunRecord, peopleOf } from '@responder/domain';
import type { IncidentView, RunView, StepView } from '@responder/slack';
import { IncidentStore, RunStore } from '@responder/store';
import type { AppConfig } from '../config/config';
import { RunEngine } from '../engine';
import { APP_CONFIG, CATALOG } from '../tokens';

/** Reads an incident, its runs and the kill switch into the plain view the message builders render. */
@Injectable()
export class IncidentViewLoader {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CATALOG) private readonly catalog: Catalog,
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
    private readonly engine: RunEngine,
  ) {}

  async load(incidentId: string, now = new Date()): Promise<IncidentView | null> {
    const incident = await this.incidents.get(incidentId);
    if (!incident) return null;
    const [records, paused] = await Promise.all([this.runs.runsOfIncident(incidentId), this.runs.paused()]);
    return {
      id: incident.id,
      status: incident.status,
      service: incident.service,
      title: incident.title,
      onsetAt: incident.onsetAt,
      openedAt: incident.openedAt,
      resolvedAt: incident.resolvedAt,
      alarms: incident.alarms,
      runs: records.map((r) => this.runView(r, incident.service)),
      mode: this.config.mode,
      paused: paused ? { by: paused.by, at: paused.at, ...(paused.reason ? { reason: paused.reason } : {}) } : null,
      now: now.toISOString(),
    };
  }

  /** The Slack channel of the service (catalog), else SLACK_CHANNEL; null when there is none. */
  channelOf(service: string | null): string | null {
    return (service ? this.catalog.services[service]?.slack?.channel : undefined) ?? this.config.slack?.channel ?? null;
  }

  stakeholderChannelOf(service: string | null): string | null {
    return (service ? this.catalog.services[service]?.slack?.stakeholderChannel : undefined) ?? null;
  }

  private runView(run: RunRecord, service: string | null): RunView {
    const runbook = this.engine.runbook(run.runbook);
    const order = runbook?.steps.map((s) => s.id) ?? Object.keys(run.steps);
    const steps: StepView[] = [];
    for (const id of order) {
      const s = run.steps[id];
      if (!s) continue;
      const step = runbook?.steps.find((x) => x.id === id);
      const groups = step ? this.engine.approverGroups(step, service) : [];
      steps.push({
        id,
        action: s.action,
        mutating: s.mutating,
        status: s.status,
        plan: s.plan,
        params: s.paramsJson ? (JSON.parse(s.paramsJson) as Record<string, unknown>) : undefined,
        paramsHash: s.paramsHash,
        approval: s.approval,
        approvedBy: s.approvedBy && !s.approvedBy.startsWith('policy:') ? this.shown(s.approvedBy) : s.approvedBy,
        approvals: (s.approvals ?? []).map((a) => ({ by: this.shown(a.by), at: a.at, ...(a.via ? { via: a.via } : {}) })),
        approversNeeded: s.approversNeeded ?? 1,
        approvalWhy: s.approvalWhy,
        approvers: {
          slackUsers: [...new Set(peopleOf(this.catalog).members(groups).flatMap((p) => (p.slack ? [p.slack] : [])))],
          slackUserGroups: [...new Set(groups.flatMap((g) => this.catalog.approverGroups[g]?.slackUserGroup ?? []))],
        },
        requestedAt: s.requestedAt,
        startedAt: s.startedAt,
        finishedAt: s.finishedAt,
        summary: s.summary,
        error: s.error,
        reason: s.reason,
        ...(s.replans ? { replans: s.replans, replanReason: s.replanReason } : {}),
        output: s.outputJson ? (JSON.parse(s.outputJson) as Record<string, unknown>) : undefined,
        dryRun: s.dryRun,
        goal: s.goal,
      });
    }
    return { id: run.id, runbook: run.runbook, status: run.status, trigger: run.trigger, steps };
  }

  /** A person as Slack shows them: their Slack user id when the catalog knows it (Slack renders the name), else the person id. */
  private shown(personId: string): string {
    return peopleOf(this.catalog).find(personId)?.slack ?? personId;
  }
}
