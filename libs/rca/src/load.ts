import type { RunRecord } from '@responder/domain';
import type { IncidentStore, RunStore } from '@responder/store';
import type { RcaInput, RcaRun } from './model';

/**
 * Reads what renderRca needs from the stores: the one place the API and the CLI build it, so that
 * both return the same document. Null when the incident does not exist. The draft is dated by the
 * incident's last timeline entry (not the clock), so the same incident gives the same document.
 */
export async function loadRcaInput(incidents: IncidentStore, runs: RunStore, incidentId: string, now?: Date): Promise<RcaInput | null> {
  const incident = await incidents.get(incidentId);
  if (!incident) return null;
  const [timeline, records] = await Promise.all([incidents.timeline(incidentId), runs.runsOfIncident(incidentId)]);
  const last = timeline.at(-1)?.at;
  return {
    incident,
    timeline,
    runs: records.map(toRcaRun),
    now: now ?? (last ? new Date(last) : new Date()),
  };
}

function toRcaRun(run: RunRecord): RcaRun {
  return {
    runbook: run.runbook,
    steps: Object.entries(run.steps).map(([id, s]) => ({
      id,
      action: s.action,
      status: s.status,
      mutating: s.mutating,
      approval: s.approval,
      approvedBy: s.approvedBy,
      approvals: s.approvals,
      plan: s.plan,
      params: s.paramsJson ? (JSON.parse(s.paramsJson) as Record<string, unknown>) : undefined,
      output: s.outputJson ? (JSON.parse(s.outputJson) as Record<string, unknown>) : undefined,
      summary: s.summary,
      error: s.error,
      reason: s.reason,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
    })),
  };
}
