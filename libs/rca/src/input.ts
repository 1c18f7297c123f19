import type { Incident, RunRecord, TimelineEntry } from '@responder/domain';
import type { RcaInput, RcaRun } from './model';

/**
 * What renderRca needs, from what the stores hold: the one place the API and the CLI build it (each
 * reads the incident, its timeline and its runs, and calls this), so that both return the same
 * document. The draft is dated by the incident's last timeline entry (not the clock), so the same
 * incident gives the same document.
 */
export function rcaInput(incident: Incident, timeline: TimelineEntry[], runs: RunRecord[], now?: Date): RcaInput {
  const last = timeline.at(-1)?.at;
  return {
    incident,
    timeline,
    runs: runs.map(toRcaRun),
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
      goal: s.goal,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
    })),
  };
}
