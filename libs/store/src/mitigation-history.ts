import { StoreKeys } from './keys';
import type { RedisClient } from './redis-client';

/** How long a mitigation's success is remembered (the repeat rule looks back a day). */
export const MITIGATION_HISTORY_MS = 24 * 3600_000;

/**
 * Records a mitigation's success. KEYS: the (service, action) history (a sorted set, score: ms).
 * ARGV: nowMs, member (incidentId|runId|stepId), keepMs. Drops what is older than keepMs and keeps
 * the key a little longer than that. A member recorded twice (a job run again) stays one entry.
 */
const RECORD_LUA = `
local key, now, member, keep = KEYS[1], tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
redis.call('ZADD', key, 'NX', now, member)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - keep)
redis.call('PEXPIRE', key, keep + 3600000)
return redis.call('ZCARD', key)
`;

export interface MitigationRecord {
  /** ms since the epoch */
  at: number;
  incidentId: string;
  runId: string;
  stepId: string;
}

/**
 * The mitigations that "succeeded" per service and action over the last day: what the repeat rule
 * reads (libs/domain `repeatedMitigation`) before proposing the same mitigation again.
 */
export class MitigationHistory {
  private readonly keys: StoreKeys;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
  ) {
    if (!('responderRecordMitigation' in redis)) redis.defineCommand('responderRecordMitigation', { lua: RECORD_LUA });
    this.keys = new StoreKeys(prefix);
  }

  async record(service: string, action: string, entry: MitigationRecord): Promise<void> {
    const cmd = (this.redis as unknown as { responderRecordMitigation: (...args: (string | number)[]) => Promise<number> }).responderRecordMitigation;
    await cmd.call(this.redis, 1, this.keys.mitigations(service, action), entry.at, `${entry.incidentId}|${entry.runId}|${entry.stepId}`, MITIGATION_HISTORY_MS);
  }

  /** The successes of the last day, oldest first. */
  async recent(service: string, action: string, now = Date.now()): Promise<MitigationRecord[]> {
    const raw = await this.redis.zrangebyscore(this.keys.mitigations(service, action), now - MITIGATION_HISTORY_MS, '+inf', 'WITHSCORES');
    const out: MitigationRecord[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const [incidentId, runId, stepId] = raw[i].split('|');
      out.push({ at: Number(raw[i + 1]), incidentId, runId, stepId });
    }
    return out;
  }
}
