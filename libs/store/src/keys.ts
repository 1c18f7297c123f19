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
  unattached(): string {
    return `${this.prefix}:unattached`;
  }
  /** The sorted set (score: opened time) that lists incidents for a filter. */
  index(filter: { status?: string; service?: string }): string {
    let key = `${this.prefix}:incidents`;
    if (filter.service !== undefined) key += `:service:${filter.service}`;
    if (filter.status !== undefined) key += `:status:${filter.status}`;
    return key;
  }
}
