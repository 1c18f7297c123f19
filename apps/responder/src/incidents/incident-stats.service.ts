import { Injectable } from '@nestjs/common';
import { type OutcomeStats, type RcaOutcome, buildRca, loadRcaInput, outcomeStats } from '@responder/rca';
import { IncidentStore, RunStore } from '@responder/store';

/** Incidents read at most per stats request (newest first); the answer says when there were more. */
export const STATS_MAX_INCIDENTS = 1000;

export interface IncidentStatsItem extends RcaOutcome {
  incidentId: string;
  service: string | null;
  status: string;
  openedAt: string;
}

export interface IncidentStats extends OutcomeStats {
  since: string;
  until: string;
  /** True when more incidents were opened since `since` than STATS_MAX_INCIDENTS (the newest were counted). */
  truncated: boolean;
  items: IncidentStatsItem[];
}

/**
 * The outcome of every incident opened since a moment, and their medians: computed from the same
 * model as the RCA (buildRca), so the stats and each incident's document never disagree.
 */
@Injectable()
export class IncidentStatsService {
  constructor(
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
  ) {}

  async since(since: Date, now = new Date()): Promise<IncidentStats> {
    const { ids, truncated } = await this.incidents.openedSince(since, STATS_MAX_INCIDENTS);
    const items: IncidentStatsItem[] = [];
    for (const id of ids) {
      const input = await loadRcaInput(this.incidents, this.runs, id, now);
      if (!input) continue;
      const model = buildRca(input);
      items.push({ incidentId: id, service: model.service, status: model.status, openedAt: input.incident.openedAt, ...model.outcome });
    }
    return { since: since.toISOString(), until: now.toISOString(), truncated, ...outcomeStats(items), items };
  }
}
