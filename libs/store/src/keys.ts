/** Every Redis key the store uses, in one place. The prefix isolates deployments and tests. */
export const UNROUTED_INDEX = '(unrouted)';

export class StoreKeys {
  constructor(readonly prefix: string) {}
  incident(id: string): string {
    return `${this.prefix}:incident:${id}`;
  }
  alarms(id: string): string {
    return `${this.prefix}:incident:${id}:alarms`;
  }
  timeline(id: string): string {
    return `${this.prefix}:incident:${id}:timeline`;
  }
  event(eventId: string): string {
    return `${this.prefix}:event:${eventId}`;
  }
  open(groupKey: string): string {
    return `${this.prefix}:open:${groupKey}`;
  }
  /** The last state applied for an alarm, and its time (`ms`): what makes an older event stale. */
  alarmState(arn: string): string {
    return `${this.prefix}:alarm:${arn}`;
  }
  /** The change feed (change-feed.ts): every write that adds timeline entries to an incident. */
  changes(): string {
    return `${this.prefix}:changes`;
  }
  /** The alarm feed: the changes of the change feed that can start a runbook (`isAlarmChange`), and only those. */
  alarmChanges(): string {
    return `${this.prefix}:changes:alarms`;
  }
  unattached(): string {
    return `${this.prefix}:unattached`;
  }
  /** runbook name → run id. */
  runs(incidentId: string): string {
    return `${this.prefix}:incident:${incidentId}:runs`;
  }
  /** What was posted to Slack for an incident. */
  slack(incidentId: string): string {
    return `${this.prefix}:slack:${incidentId}`;
  }
  run(runId: string): string {
    return `${this.prefix}:run:${runId}`;
  }
  runSteps(runId: string): string {
    return `${this.prefix}:run:${runId}:steps`;
  }
  runStatus(runId: string): string {
    return `${this.prefix}:run:${runId}:status`;
  }
  activeRuns(): string {
    return `${this.prefix}:runs:active`;
  }
  /** An idempotency-ledger entry (`runId:stepId`). */
  ledger(key: string): string {
    return `${this.prefix}:ledger:${key}`;
  }
  lock(resource: string): string {
    return `${this.prefix}:lock:${resource}`;
  }
  cooldown(scope: string): string {
    return `${this.prefix}:cooldown:${scope}`;
  }
  /** The successes of one mitigation (an action) on one service over the last day (mitigation-history.ts). */
  mitigations(service: string, action: string): string {
    return `${this.prefix}:mitigations:${service}:${action}`;
  }
  paused(): string {
    return `${this.prefix}:automation:paused`;
  }
  /** The sorted set (score: opened time) that lists incidents for a filter. */
  index(filter: { status?: string; service?: string }): string {
    let key = `${this.prefix}:incidents`;
    if (filter.service !== undefined) key += `:service:${filter.service}`;
    if (filter.status !== undefined) key += `:status:${filter.status}`;
    return key;
  }
}
