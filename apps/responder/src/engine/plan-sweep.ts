import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { IncidentStore, RunStore } from '@responder/store';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../tokens';
import { RunCoordinator } from './run-coordinator';
import { RunbookRegistry } from './runbook-registry';
import { StepQueue } from './step-queue';

/** The newest open incidents looked at by one sweep for incidents with nothing planned. */
const PLAN_SWEEP_LIMIT = 500;

/**
 * The plan of an incident is queued after the incident is stored, in another call: if that call
 * fails (Redis restarted in between), the intake still answers 202 (the event is stored), and
 * this sweep, at boot and every ENGINE_PLAN_SWEEP_SECONDS, finds it. One replica per period.
 * The same holds inside a run: a step's move and its job (or what follows a re-plan) are two
 * calls, so each sweep also puts back the jobs of the active runs' queued and running steps and
 * moves those runs on (RunCoordinator.recover: idempotent, every job id deterministic), instead
 * of leaving a run stuck until the next boot.
 */
@Injectable()
export class PlanSweep implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Engine');
  private readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private stopped = false;
  private timer?: NodeJS.Timeout;
  private sweeping: Promise<void> = Promise.resolve();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly registry: RunbookRegistry,
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
    private readonly queue: StepQueue,
    private readonly coordinator: RunCoordinator,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  /** Queues the plan of each open incident (the newest PLAN_SWEEP_LIMIT) that a runbook matches and has no run of; returns their ids. */
  async sweepUnplanned(): Promise<string[]> {
    const { items } = await this.incidents.list({ status: 'open', limit: PLAN_SWEEP_LIMIT, offset: 0 });
    const runs = await this.runs.runsOfMany(items.map((i) => i.id));
    const unplanned = items.filter((incident, i) => this.registry.unplannedRunbooks(incident, runs[i]).length > 0).map((i) => i.id);
    for (const incidentId of unplanned) await this.queue.plan(incidentId);
    if (unplanned.length > 0) this.logger.warn({ incidents: unplanned }, `${unplanned.length} open incident(s) had no run planned yet: planning them now`);
    return unplanned;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || !this.registry.hasRunbooks) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.tick().finally(() => this.schedule(this.config.engine.planSweepMs));
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      if (!(await this.incidents.claimPlanSweep(this.holder, Math.max(500, this.config.engine.planSweepMs - 500)))) return;
      await this.sweepUnplanned();
      await this.coordinator.recover();
    } catch (err) {
      // Redis down or busy: the next period tries again.
      this.logger.warn(`sweeping for unplanned incidents and stuck runs failed: ${(err as Error).message}`);
    }
  }
}
