import { Inject, Injectable, Logger } from '@nestjs/common';
import { type AnyAction, type Catalog, type Incident, type RunHead } from '@responder/domain';
import { type Runbook, type RunbookStep, triggerMatches } from '@responder/runbooks';
import type { AppConfig } from '../config/config';
import { PermanentJobError } from '../queue';
import { ACTIONS, APP_CONFIG, CATALOG, RUNBOOKS } from '../tokens';
import type { DeciderEnv } from './decider/step-decider';

/** The runbooks and actions loaded at boot, and who approves what: what the engine looks things up in. */
@Injectable()
export class RunbookRegistry implements DeciderEnv {
  private readonly logger = new Logger('Engine');
  private readonly runbooks: Map<string, Runbook>;
  private readonly actions: Map<string, AnyAction>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(RUNBOOKS) runbooks: Runbook[],
    @Inject(ACTIONS) actions: AnyAction[],
  ) {
    this.runbooks = new Map(runbooks.map((r) => [r.name, r]));
    this.actions = new Map(actions.map((a) => [a.id, a]));
  }

  /** `live`, or `dry-run`: mutating steps are planned and reported (status dry-run), never called. */
  get mode(): AppConfig['mode'] {
    return this.config.mode;
  }

  get hasRunbooks(): boolean {
    return this.runbooks.size > 0;
  }

  runbook(name: string): Runbook | undefined {
    return this.runbooks.get(name);
  }

  /** The runbook a run names; logged when it is no longer loaded. */
  runbookOf(run: RunHead): Runbook | undefined {
    const runbook = this.runbooks.get(run.runbook);
    if (!runbook) this.logger.error({ runId: run.id }, `run ${run.id} names runbook ${run.runbook}, which is no longer loaded`);
    return runbook;
  }

  /** The runbooks whose triggers match the incident and that it has no run of (`runs`: runbook → run id). */
  unplannedRunbooks(incident: Incident, runs: Record<string, string>): Runbook[] {
    const alarmNames = incident.alarms.map((a) => a.name);
    return [...this.runbooks.values()].filter((runbook) => !Object.hasOwn(runs, runbook.name) && triggerMatches(runbook, { service: incident.service, alarmNames }));
  }

  action(step: RunbookStep): AnyAction {
    const action = this.actions.get(step.action);
    if (!action) throw new PermanentJobError(`unknown action ${step.action}`);
    return action;
  }

  /** What a mutating step will do with these parameters, in one line. */
  planOf(step: RunbookStep, params: Record<string, unknown>): string {
    return this.action(step).plan(params).summary;
  }

  /** Who may approve a step: its `approvers`, or the service's. */
  approvers(step: RunbookStep, service: string | null): string[] {
    return step.approvers ?? (service ? (this.catalog.services[service]?.approvers ?? []) : []);
  }

  /** The catalog's cooldown of a service, in minutes (0: none). */
  cooldownMinutes(service: string | null): number {
    return service ? (this.catalog.services[service]?.limits.cooldownMinutes ?? 0) : 0;
  }

  service(name: string | null | undefined) {
    return name ? (this.catalog.services[name] ?? null) : null;
  }
}
