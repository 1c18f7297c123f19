import { Injectable } from '@nestjs/common';
import { type Incident, type RunRecord } from '@responder/domain';
import type { Runbook, RunbookStep } from '@responder/runbooks';
import type { AppConfig } from '../config/config';
import { StepHandler } from './jobs';
import { PlanSweep } from './plan-sweep';
import { RunContextLoader } from './run-context';
import { RunCoordinator } from './run-coordinator';
import { RunbookRegistry } from './runbook-registry';
import { StepQueue, stepJobId } from './step-queue';

/** A step's job id (`<runId>-<stepId>`). */
export const jobId = stepJobId;

/**
 * The runbook engine as the rest of the service sees it (intake, incidents API, manual runs,
 * Slack): plan an incident, start a run, look up runbooks and approvers. The parts behind it are
 * described in engine/README.md.
 */
@Injectable()
export class RunEngine {
  constructor(
    private readonly registry: RunbookRegistry,
    private readonly coordinator: RunCoordinator,
    private readonly contexts: RunContextLoader,
    private readonly sweep: PlanSweep,
    private readonly queue: StepQueue,
    private readonly steps: StepHandler,
  ) {}

  /** `live`, or `dry-run`: mutating steps are planned and reported (status dry-run), never called. */
  get mode(): AppConfig['mode'] {
    return this.registry.mode;
  }

  get hasRunbooks(): boolean {
    return this.registry.hasRunbooks;
  }

  runbook(name: string): Runbook | undefined {
    return this.registry.runbook(name);
  }

  /**
   * Called by the plan listener (plan-listener.ts: the change feed) when an alarm reached an incident
   * that a runbook has not run on yet, and by the sweep. An alarm storm on one incident asks for one
   * plan at a time, not one per alarm: a plan reads the incident as it is when it runs.
   */
  async incidentChanged(incidentId: string): Promise<void> {
    if (this.registry.hasRunbooks) await this.queue.plan(incidentId);
  }

  /** Creates a run (unless the incident has one of this runbook: null) and starts its ready steps. */
  startRun(incident: Incident, runbook: Runbook, trigger: string, overrides: Record<string, unknown>): Promise<string | null> {
    return this.coordinator.startRun(incident, runbook, trigger, overrides);
  }

  advance(runId: string): Promise<void> {
    return this.coordinator.advance(runId);
  }

  /** See PlanSweep. */
  sweepUnplanned(): Promise<string[]> {
    return this.sweep.sweepUnplanned();
  }

  /** A step job that BullMQ gave up on without the engine recording it (e.g. stalled too often). */
  jobFailed(job: { name: string; data: { runId: string; stepId: string } }, error: Error): Promise<void> {
    return job.name === 'step' ? this.steps.givenUp(job, error) : Promise.resolve();
  }

  /** The expression context of a run, from the whole run as stored. */
  context(run: RunRecord, forSteps?: RunbookStep[]): Promise<Record<string, unknown> | null> {
    return this.contexts.forRun(run, forSteps);
  }

  planOf(step: RunbookStep, params: Record<string, unknown>): string {
    return this.registry.planOf(step, params);
  }

  /** Who may approve a step: its `approvers`, or the service's. */
  approverGroups(step: RunbookStep, service: string | null): string[] {
    return this.registry.approvers(step, service);
  }
}
