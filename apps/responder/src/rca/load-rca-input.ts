import { type RcaInput, rcaInput } from '@responder/rca';
import type { IncidentStore, RunStore } from '@responder/store';

/**
 * Reads what renderRca needs from the stores (the incident, its timeline, its runs): the incidents
 * API (rca.md, rca.json), Slack's RCA upload and `/incident rca` all build the draft through here.
 * Null when the incident does not exist. The CLI's `rca` command makes the same three reads and
 * the same `rcaInput` call.
 */
export async function loadRcaInput(incidents: IncidentStore, runs: RunStore, incidentId: string, now?: Date): Promise<RcaInput | null> {
  const incident = await incidents.get(incidentId);
  if (!incident) return null;
  const [timeline, records] = await Promise.all([incidents.timeline(incidentId), runs.runsOfIncident(incidentId)]);
  return rcaInput(incident, timeline, records, now);
}
