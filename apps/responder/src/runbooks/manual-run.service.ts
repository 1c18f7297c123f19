import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Catalog } from '@responder/domain';
import { resolveInputs } from '@responder/runbooks';
import { IncidentStore, RunStore } from '@responder/store';
import { RunEngine } from '../engine';
import { CATALOG } from '../tokens';

export interface ManualRunRequest {
  runbook: string;
  /** A service of the catalog. */
  service: string;
  /** Who asks: recorded as the trigger (`manual:<by>`) and on the incident it opens. */
  by: string;
  inputs?: Record<string, unknown>;
}

export type ManualRunAnswer =
  | { ok: true; incidentId: string; runId: string; incidentOpened: boolean }
  | { ok: false; code: 'unknown_runbook' | 'unknown_service' | 'bad_inputs'; message: string }
  | { ok: false; code: 'already_running'; message: string; incidentId: string; runId: string };

/**
 * Runs a runbook for a service on request (`POST /runbooks/:name/run`, Slack's
 * `/incident run`). The run belongs to the service's open incident; when there is none, a person's
 * request opens one, which then behaves like any other: the service's alarms attach to it and
 * resolve it when they return to OK.
 */
@Injectable()
export class ManualRunService {
  private readonly logger = new Logger('ManualRun');

  constructor(
    @Inject(CATALOG) private readonly catalog: Catalog,
    private readonly engine: RunEngine,
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
  ) {}

  async start({ runbook: name, service, by, inputs = {} }: ManualRunRequest): Promise<ManualRunAnswer> {
    const runbook = this.engine.runbook(name);
    if (!runbook) return { ok: false, code: 'unknown_runbook', message: `no runbook named "${name}"` };
    if (!Object.hasOwn(this.catalog.services, service)) return { ok: false, code: 'unknown_service', message: `no service named "${service}" in the service catalog` };
    // Checked before an incident is opened: a request that cannot run opens nothing.
    const resolved = resolveInputs(runbook, inputs);
    if (!resolved.ok) return { ok: false, code: 'bad_inputs', message: resolved.error };

    const { incidentId, opened } = await this.incidents.openManual({ service, title: `Manual run of ${name} by ${by}`, by, runbook: name });
    const incident = await this.incidents.get(incidentId);
    // Only a retention sweep racing a just-resolved incident could remove it between the two calls.
    if (!incident) throw new Error(`incident ${incidentId} disappeared while starting ${name}`);
    const runId = await this.engine.startRun(incident, runbook, `manual:${by}`, inputs);
    if (!runId) {
      const existing = (await this.runs.runsOf(incidentId))[name];
      return { ok: false, code: 'already_running', message: `incident ${incidentId} already has a run of ${name} (${existing})`, incidentId, runId: existing };
    }
    this.logger.log({ incidentId, runId, runbook: name, service, by, incidentOpened: opened }, `manual run ${runId} of ${name} for ${service} by ${by}`);
    return { ok: true, incidentId, runId, incidentOpened: opened };
  }
}
