import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import Redis from 'ioredis';
import { type Runbook, triggerMatches } from '@responder/runbooks';
import { type Change, ChangeFeed, IncidentStore, RunStore } from '@responder/store';
import { type AppConfig, runsWorkers } from '../config/config';
import { MetricsService } from '../metrics/metrics.service';
import { CONNECTION_DEFAULTS } from '../redis/connection-options';
import { APP_CONFIG, RUNBOOKS } from '../tokens';
import { RunEngine } from './run-engine.service';

const GROUP = 'engine';
/** A change read by a replica that died unacknowledged is taken over after this long. */
const CLAIM_IDLE_MS = 30_000;
/** How long one read of the feed waits for changes. */
const BLOCK_MS = 1000;
/** The newest open incidents looked at when the group is created (as the engine's sweep does). */
const CATCH_UP_LIMIT = 500;
/**
 * Writes that can start a runbook: an alarm reached the incident (the intake's store write notes
 * the change with its first entry, `alarm.received`). Step moves, notes and approvals cannot.
 */
const ALARM_CHANGE = /^(alarm\.|incident\.opened$)/;
/** A later alarm firing on an incident: the plans awaiting approval on it are checked again (plan job). */
const ALARM_AGAIN = /^alarm\.(received|attached)$/;

/**
 * How the intake tells the engine that an incident changed: through the store's change feed, not a
 * call. The intake's store write notes the incident on the feed in the same atomic step as the
 * event itself; this listener (consumer group `engine`, on the replicas that run workers) reads it
 * and queues the incident's plan (RunEngine.incidentChanged) when a runbook it matches has no run of
 * it yet. A change is acknowledged only once its plan is queued: when queueing fails it is counted
 * (responder_plan_queue_failures_total), left pending and taken over again later; the plan sweep
 * (RunEngine.sweepUnplanned) plans it meanwhile. When the group is created (first boot, or Redis
 * came back without it) the changes before it are not in it, so the open incidents are looked at
 * once, the same way.
 */
@Injectable()
export class PlanListener implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PlanListener');
  private readonly consumer = `${hostname()}-${process.pid}`;
  private readonly stopping = new AbortController();
  /** Its own connection: XREADGROUP BLOCK holds a connection while it waits. */
  private readonly redis: Redis;
  private readonly feed: ChangeFeed;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(RUNBOOKS) private readonly runbooks: Runbook[],
    private readonly incidents: IncidentStore,
    private readonly runs: RunStore,
    private readonly engine: RunEngine,
    private readonly metrics: MetricsService,
  ) {
    this.redis = new Redis(config.redis.url, { ...CONNECTION_DEFAULTS, commandTimeout: BLOCK_MS + config.redis.commandTimeoutMs, maxRetriesPerRequest: null, lazyConnect: true });
    this.redis.on('error', () => undefined);
    this.feed = new ChangeFeed(this.redis, config.redis.prefix);
  }

  onApplicationBootstrap(): void {
    if (!runsWorkers(this.config) || !this.engine.hasRunbooks) return;
    this.loop = this.follow();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    this.redis.disconnect();
    await this.loop;
  }

  private async follow(): Promise<void> {
    let grouped = false;
    // Changes this consumer read and did not acknowledge: at boot (a restart under the same name), and
    // after an error (a read whose answer timed out has handed its changes to this consumer already).
    let pending = true;
    let lastClaim = 0;
    for (let delay = 250; !this.stopping.signal.aborted; ) {
      try {
        if (this.redis.status === 'wait') await this.redis.connect();
        if (!grouped) {
          // The group first, then the sweep: a change made in between is read from the group.
          const created = await this.feed.ensureGroup(GROUP);
          grouped = true;
          if (created) await this.catchUp();
        }
        let claimed: Change[] = [];
        if (Date.now() - lastClaim > CLAIM_IDLE_MS / 2) {
          claimed = await this.feed.claimStale(GROUP, this.consumer, CLAIM_IDLE_MS);
          lastClaim = Date.now();
        }
        let changes: Change[];
        if (pending) {
          changes = await this.feed.readPending(GROUP, this.consumer, 200);
          // Those left unacknowledged on purpose (a plan that could not be queued) wait for the claim.
          pending = false;
        } else {
          changes = await this.feed.read(GROUP, this.consumer, { blockMs: BLOCK_MS, count: 200 });
        }
        await this.feed.ack(GROUP, await this.handle([...claimed, ...changes]));
        delay = 250;
      } catch (err) {
        if (this.stopping.signal.aborted) return;
        pending = true;
        const message = (err as Error).message;
        if (/NOGROUP/.test(message)) {
          this.logger.warn(`the change feed's consumer group '${GROUP}' is gone (Redis restarted empty or was flushed?): recreating it and sweeping open incidents`);
          grouped = false;
          continue;
        }
        this.logger.warn(`reading the change feed: ${message}; again in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay).unref());
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /** Queues the plans the changes call for; returns the ids of the changes done with (all but those whose plan could not be queued). */
  async handle(changes: Change[]): Promise<string[]> {
    const again = new Set(changes.filter((c) => ALARM_AGAIN.test(c.type)).map((c) => c.incidentId));
    const failed = await this.plan([...new Set(changes.filter((c) => ALARM_CHANGE.test(c.type)).map((c) => c.incidentId))], again);
    return changes.filter((c) => !failed.has(c.incidentId)).map((c) => c.id);
  }

  /** The open incidents (the newest CATCH_UP_LIMIT), as if each had just changed. */
  private async catchUp(): Promise<void> {
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
