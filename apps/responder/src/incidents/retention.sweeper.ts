import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { IncidentStore } from '@responder/store';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../tokens';

const DAY_MS = 24 * 3600_000;
/** How often resolved incidents past their retention are removed. Retention is counted in days. */
export const SWEEP_EVERY_MS = 10 * 60_000;

export interface SweepOptions {
  /** The clock (tests). */
  now?: number;
  /** Overrides INCIDENT_RETENTION_DAYS (tests use seconds). */
  retentionMs?: number;
}

/**
 * Removes incidents resolved more than INCIDENT_RETENTION_DAYS ago: out of the list indexes, and
 * every key they own (IncidentStore.purgeResolvedBefore).
 *
 * Why a sweep and not EXPIRE at resolution (in the ingest script): a TTL cannot take an id out of
 * the sorted sets that list incidents, so a sweep would be needed for them anyway; and keys written
 * after the resolution (a run still finishing, a note, an approval, Slack's state) would each have
 * to copy the TTL, in scripts owned by other parts, or dangle for ever. One sweep that deletes an
 * incident whole, in one atomic script per incident, leaves nothing behind and touches no hot path.
 * A resolved incident never reopens (a new ALARM opens a new incident), so there is no TTL to undo.
 *
 * Several replicas: each runs the timer, a short claim in Redis lets one of them sweep per period,
 * and the per-incident script is safe to run twice anyway.
 */
@Injectable()
export class RetentionSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private readonly holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private timer?: NodeJS.Timeout;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly incidents: IncidentStore,
  ) {}

  onApplicationBootstrap(): void {
    // The first sweep waits a little (and a random part, so that replicas started together spread out).
    const schedule = (delay: number) => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.tick().finally(() => schedule(SWEEP_EVERY_MS));
      }, delay);
      this.timer.unref();
    };
    schedule(30_000 + Math.floor(Math.random() * 60_000));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Removes the incidents resolved before now minus the retention; returns their ids. */
  async sweep({ now = Date.now(), retentionMs = this.config.incidentRetentionDays * DAY_MS }: SweepOptions = {}): Promise<string[]> {
    const cutoff = new Date(now - retentionMs);
    const removed = await this.incidents.purgeResolvedBefore(cutoff);
    if (removed.length > 0) this.logger.log({ removed: removed.length, cutoff: cutoff.toISOString() }, `removed ${removed.length} incident(s) resolved before ${cutoff.toISOString()}`);
    return removed;
  }

  private async tick(): Promise<void> {
    try {
      if (!(await this.incidents.claimRetentionSweep(this.holder, SWEEP_EVERY_MS - 1000))) return;
      await this.sweep();
    } catch (err) {
      // Redis down or busy: the next period tries again; nothing is lost by waiting.
      this.logger.warn(`retention sweep failed: ${(err as Error).message}`);
    }
  }
}
