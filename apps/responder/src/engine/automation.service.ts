import { Injectable, Logger } from '@nestjs/common';
import { IncidentStore, RunStore } from '@responder/store';

/**
 * The kill switch: while paused, no mutating step starts on any replica; diagnostics go on. Pausing
 * and resuming are recorded on every open incident's timeline. The HTTP API and Slack call this.
 */
@Injectable()
export class AutomationService {
  private readonly logger = new Logger('Automation');

  constructor(
    private readonly runs: RunStore,
    private readonly incidents: IncidentStore,
  ) {}

  /** Returns whether this call changed anything (false: it was already paused / running). */
  async pause(by: string, reason?: string): Promise<boolean> {
    const changed = await this.runs.setPaused(true, by, reason);
    if (changed) {
      this.logger.warn({ by, reason }, `automation paused by ${by}`);
      await this.onOpenIncidents('automation.paused', { by, reason: reason ?? null });
    }
    return changed;
  }

  async resume(by: string, reason?: string): Promise<boolean> {
    const changed = await this.runs.setPaused(false, by, reason);
    if (changed) {
      this.logger.warn({ by, reason }, `automation resumed by ${by}`);
      await this.onOpenIncidents('automation.resumed', { by, reason: reason ?? null });
    }
    return changed;
  }

  private async onOpenIncidents(type: string, data: Record<string, unknown>): Promise<void> {
    for (let offset = 0; ; offset += 200) {
      const { items } = await this.incidents.list({ status: 'open', limit: 200, offset });
      await Promise.all(items.map((i) => this.runs.appendTimeline(i.id, type, data)));
      if (items.length < 200) return;
    }
  }
}
