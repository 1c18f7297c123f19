import { StoreKeys } from './keys';
import type { RedisClient } from './redis-client';

/** A notice that an incident changed, and how (the type of the first timeline entry of the write). */
export interface Change {
  id: string;
  incidentId: string;
  type: string;
}

/**
 * Which feed: `all` (`<prefix>:changes`), every write that adds timeline entries to an incident;
 * `alarms` (`<prefix>:changes:alarms`), those of them that can start a runbook (`isAlarmChange`:
 * an alarm reached the incident, or it was opened), noted on both in the same atomic write.
 */
export type FeedName = 'all' | 'alarms';

/**
 * The change feed: every write that adds timeline entries to an incident also notes the incident,
 * once per write, on one capped Redis Stream (`<prefix>:changes`), in the same atomic step as the
 * entries themselves; a write that can start a runbook is noted on a second, small one too (the
 * alarm feed), which the engine reads so as not to wake for every step move. Readers (the engine,
 * Slack) read a feed with a consumer group, so that a change made by any replica reaches them, and
 * one that arrives while they are down is read when they come back: nothing is lost to a crash
 * between a change and its notice.
 */
export class ChangeFeed {
  /** The stream read. */
  readonly key: string;

  constructor(
    private readonly redis: RedisClient,
    prefix: string,
    feed: FeedName = 'all',
  ) {
    const keys = new StoreKeys(prefix);
    this.key = feed === 'alarms' ? keys.alarmChanges() : keys.changes();
  }

  /**
   * Creates the group if it does not exist, and says whether it did: a new group starts with the
   * changes made from now on, so its reader must catch up on what happened before by other means.
   */
  async ensureGroup(group: string): Promise<boolean> {
    try {
      await this.redis.xgroup('CREATE', this.key, group, '$', 'MKSTREAM');
      return true;
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
      return false;
    }
  }

  /** Waits up to `blockMs` for changes not yet given to any consumer of the group. */
  async read(group: string, consumer: string, options: { blockMs: number; count: number }): Promise<Change[]> {
    const reply = (await this.redis.xreadgroup('GROUP', group, consumer, 'COUNT', options.count, 'BLOCK', options.blockMs, 'STREAMS', this.key, '>')) as
      | Array<[string, Array<[string, string[]]>]>
      | null;
    return reply ? reply.flatMap(([, entries]) => entries.map(toChange)) : [];
  }

  /**
   * `read`, after acknowledging `ackIds` in the same round trip (one pipeline: the acks are applied
   * before the read starts to wait). A reader acknowledges each batch with its next read.
   */
  async ackAndRead(group: string, consumer: string, ackIds: readonly string[], options: { blockMs: number; count: number }): Promise<Change[]> {
    if (ackIds.length === 0) return this.read(group, consumer, options);
    const replies = await this.redis
      .pipeline()
      .xack(this.key, group, ...ackIds)
      .xreadgroup('GROUP', group, consumer, 'COUNT', options.count, 'BLOCK', options.blockMs, 'STREAMS', this.key, '>')
      .exec();
    for (const [err] of replies ?? []) if (err) throw err;
    const reply = replies?.[1]?.[1] as Array<[string, Array<[string, string[]]>]> | null | undefined;
    return reply ? reply.flatMap(([, entries]) => entries.map(toChange)) : [];
  }

  /** Takes over changes another consumer read and never acknowledged (it crashed) for `minIdleMs`. */
  async claimStale(group: string, consumer: string, minIdleMs: number, count = 100): Promise<Change[]> {
    const [, entries] = (await this.redis.xautoclaim(this.key, group, consumer, minIdleMs, '0', 'COUNT', count)) as [string, Array<[string, string[]] | null>];
    return entries.filter((e): e is [string, string[]] => e !== null).map(toChange);
  }

  /**
   * This consumer's changes read and not acknowledged yet (a read whose answer was lost to a
   * timeout, a failure before the ack), oldest first: a reader that met an error reads these again
   * before waiting for new ones. A change trimmed from the stream meanwhile is left out.
   */
  async readPending(group: string, consumer: string, count: number): Promise<Change[]> {
    const reply = await this.redis.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', this.key, '0');
    return reply ? reply.flatMap(([, entries]) => entries.filter((e): e is [string, string[]] => e[1] !== null).map(toChange)) : [];
  }

  /**
   * The id of the last change given to a consumer of the group, or null when the group (or the
   * feed) does not exist. Lower than an id a reader was given means Redis went back in time.
   */
  async lastDelivered(group: string): Promise<string | null> {
    let groups: unknown[][];
    try {
      groups = (await this.redis.xinfo('GROUPS', this.key)) as unknown[][];
    } catch (err) {
      if (/no such key/i.test((err as Error).message)) return null;
      throw err;
    }
    for (const fields of groups) {
      if (fields[fields.indexOf('name') + 1] === group) return String(fields[fields.indexOf('last-delivered-id') + 1]);
    }
    return null;
  }

  async ack(group: string, ids: string[]): Promise<void> {
    if (ids.length > 0) await this.redis.xack(this.key, group, ...ids);
  }
}

/** Orders two stream ids (`<ms>-<seq>`): negative when a comes first. */
export function compareChangeIds(a: string, b: string): number {
  const [am, as = 0n] = a.split('-').map(BigInt);
  const [bm, bs = 0n] = b.split('-').map(BigInt);
  if (am !== bm) return am < bm ? -1 : 1;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

function toChange([id, fields]: [string, string[]]): Change {
  const value = (name: string) => fields[fields.indexOf(name) + 1] ?? '';
  return { id, incidentId: value('incident'), type: value('type') };
}
