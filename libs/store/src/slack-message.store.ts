import type { Redis } from 'ioredis';

/**
 * The Slack message ledger: what was posted to Slack for each incident (`P:slack:ID`, a hash of
 * field → value: the channel, the incident message's `ts`, the `ts` of each finding, approval
 * request, stakeholder update and reminder, and digests of what they show). The reporter records
 * a message as soon as Slack accepts it, so a retried sync updates it instead of posting again.
 * Retention removes the key with its incident (`purgeResolvedBefore`).
 */
export class SlackMessageStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(incidentId: string): string {
    return `${this.prefix}:slack:${incidentId}`;
  }

  /** Everything recorded for the incident; empty when nothing was posted yet. */
  async posted(incidentId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.key(incidentId));
  }

  /** Some fields of it, in order (null for a field not recorded). */
  async fields(incidentId: string, ...names: string[]): Promise<Array<string | null>> {
    return this.redis.hmget(this.key(incidentId), ...names);
  }

  /** Records fields (one write: several fields given together are recorded together). */
  async record(incidentId: string, fields: Record<string, string>): Promise<void> {
    await this.redis.hset(this.key(incidentId), fields);
  }
}
