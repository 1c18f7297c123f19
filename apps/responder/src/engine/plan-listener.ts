import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { type Runbook, triggerMatches } from '@responder/runbooks';
import { type Change, IncidentStore, RunStore } from '@responder/store';
import { type AppConfig, runsWorkers } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { ChangeFeedConsumer, type ChangeFeedReader } from '../redis/change-feed-consumer';
import { APP_CONFIG, RUNBOOKS } from '../tokens';
import { RunEngine } from './run-engine.service';

/** The newest open incidents looked at when the group is created (as the engine's sweep does). */
const CATCH_UP_LIMIT = 500;
/** A later alarm firing on an incident: the plans awaiting approval on it are checked again (plan job). */
const ALARM_AGAIN = /^alarm\.(received|attached)$/;

/**
 * How the intake tells the engine that an incident changed: through the store's alarm feed, not a
 * call. The intake's store write notes the incident on the change feed, and on the alarm feed
 * (`P:changes:alarms`: only the changes that can start a runbook, an alarm reached the incident or
 * it was opened), in the same atomic step as the event itself; this listener (consumer group
 * `engine`, on the replicas that run workers) reads the alarm feed (ChangeFeedConsumer), so step
 * moves, notes and approvals never wake it, and queues the incident's plan
 * (RunEngine.incidentChanged) when a runbook it matches has no run of it yet. A change is acknowledged only
 * once its plan is queued: when queueing fails it is counted (responder_plan_queue_failures_total)
 * and left pending, and read again after a pause; the plan sweep (RunEngine.sweepUnplanned) plans it
 * meanwhile. When the group is created (first boot, or Redis came back without it) or Redis went
 * back in time, the changes before are not in it, so the open incidents are looked at once, the
 * same way.
 */
@Injectable()
export class PlanListener implements ChangeFeedReader, OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly group = 'engine';
  readonly stream = 'alarms';
  private readonly logger = new Logger('PlanListener');
  private readonly feed: ChangeFeedConsumer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RUNBOOKS) private readonly runbooks: Runbook[],
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
    private readonly engine: RunEngine,
    private readonly metrics: MetricsService,
  ) {
    this.feed = new ChangeFeedConsumer(config.redis, this, 'PlanListener');
  }

  onApplicationBootstrap(): void {
    if (!runsWorkers(this.config) || !this.engine.hasRunbooks) return;
    this.feed.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.feed.stop();
  }

  /** Queues the plans these alarm changes call for; returns the ids of those whose plan could not be queued. */
  async handle(changes: Change[]): Promise<ReadonlySet<string>> {
    const again = new Set(changes.filter((c) => ALARM_AGAIN.test(c.type)).map((c) => c.incidentId));
    const failed = await this.plan([...new Set(changes.map((c) => c.incidentId))], again);
    return new Set(changes.filter((c) => failed.has(c.incidentId)).map((c) => c.id));
  }

  /** The group is new, or Redis went back in time: the open incidents (the newest CATCH_UP_LIMIT), as if each had just changed. */
  async restart(): Promise<void> {
    const { items } = await this.incidents.list({ status: 'open', limit: CATCH_UP_LIMIT, offset: 0 });
    await this.plan(items.map((i) => i.id));
  }

  /** Queues the plan of each of these incidents that has one to make; returns those whose plan could not be queued. */
  private async plan(incidentIds: string[], again: ReadonlySet<string> = new Set()): Promise<Set<string>> {
    const failed = new Set<string>();
    for (const incidentId of await this.unplanned(incidentIds, again)) {
      try {
        await this.engine.incidentChanged(incidentId);
      } catch (err) {
        failed.add(incidentId);
        this.metrics.planQueueFailures.inc();
        this.logger.warn({ incidentId }, `incident ${incidentId} changed, but queueing its plan failed (${(err as Error).message}): it is read again later, and the engine's sweep plans it`);
      }
    }
    return failed;
  }

  /** Those of these incidents with a step awaiting approval (its plan is checked again by the plan job). */
  private async awaitingApproval(ids: string[], runs: Record<string, string>[], all: string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const id of ids) {
      for (const runId of Object.values(runs[all.indexOf(id)])) {
        const loaded = await this.runs.runStatuses(runId);
        if (loaded?.run.status === 'running' && Object.values(loaded.statuses).includes('awaiting_approval')) found.add(id);
      }
    }
    return found;
  }

  /**
   * The open incidents among these that a runbook's triggers match and that have no run of it yet:
   * an alarm firing again on an incident already planned asks for nothing (planning is idempotent
   * anyway; this keeps an alarm storm from queueing a plan per alarm), unless it is in `again` and
   * a run of it has a step awaiting approval: that plan is then checked again (the plan job).
   */
  private async unplanned(incidentIds: string[], again: ReadonlySet<string>): Promise<string[]> {
    if (incidentIds.length === 0) return [];
    const [incidents, runs] = await Promise.all([Promise.all(incidentIds.map((id) => this.incidents.get(id))), this.runs.runsOfMany(incidentIds)]);
    const awaiting = await this.awaitingApproval(incidentIds.filter((id, i) => again.has(id) && Object.keys(runs[i]).length > 0), runs, incidentIds);
    return incidentIds.filter((_, i) => {
      const incident = incidents[i];
      if (!incident || incident.status !== 'open') return false;
      if (awaiting.has(incident.id)) return true;
      const alarmNames = incident.alarms.map((a) => a.name);
      return this.runbooks.some((runbook) => !Object.hasOwn(runs[i], runbook.name) && triggerMatches(runbook, { service: incident.service, alarmNames }));
    });
  }
}
