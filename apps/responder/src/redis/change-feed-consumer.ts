import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { type Change, ChangeFeed, compareChangeIds, type FeedName } from '@responder/store';
import { CONNECTION_DEFAULTS } from './connection-options';

/** A change read by a replica that died unacknowledged is taken over after this long. */
export const CLAIM_IDLE_MS = 30_000;
/** How long one read of the feed waits for changes. */
const BLOCK_MS = 1000;
/** Changes read at most per batch. */
const BATCH = 200;
/** The first wait after an error, and the longest. */
const RETRY_MS = 250;
const RETRY_MAX_MS = 10_000;

/** Why a reader starts afresh (see ChangeFeedReader.restart). */
export interface FeedRestart {
  /** The group was created (the first boot, or Redis came back without it); otherwise Redis went back in time. */
  created: boolean;
  /** The changes this consumer had read that Redis no longer has (of the last `remember`), oldest first. */
  lost: Change[];
}

/** What one consumer group does with the change feed (ChangeFeedConsumer reads it). */
export interface ChangeFeedReader {
  /** The consumer group: every group sees every change, each change goes to one consumer of a group. */
  readonly group: string;
  /** The stream read: `all` (every change, the default) or `alarms` (only those that can start a runbook). */
  readonly stream?: FeedName;
  /** How many of the last changes read are remembered to name what Redis lost (`FeedRestart.lost`); none by default. */
  readonly remember?: number;
  /**
   * Handles a batch of changes (oldest first, possibly some seen before: a change is handled at
   * least once). Returns the ids of those to leave unacknowledged (read again after a pause), if any;
   * throwing leaves the whole batch unacknowledged.
   */
  handle(changes: Change[]): Promise<ReadonlySet<string> | void>;
  /**
   * The group starts afresh: the changes made before it are not read, so the reader catches up by
   * other means (the open incidents). Called again until it succeeds, before any further read.
   */
  restart(why: FeedRestart): Promise<void>;
}

/**
 * The one loop that reads one of the store's change feeds with a consumer group (the engine's plan
 * listener reads the alarm feed, the Slack reporter every change, each with one): its own connection (XREADGROUP BLOCK holds a
 * connection while it waits), the group created when missing, changes a dead replica left
 * unacknowledged taken over after CLAIM_IDLE_MS, this consumer's own unacknowledged changes read
 * again after an error (a read whose answer timed out has handed them to it already) and a pause
 * after a batch left some, and each batch acknowledged with the next read, in one round trip.
 *
 * Redis that lost data is noticed after any connection close, before anything is read on the new
 * connection (the connection has no offline queue and resends nothing): the group gone (restarted
 * empty, flushed) or its last delivered change behind the last one this consumer read (a failover
 * to a replica that lagged) restarts the reader, with the changes it read that Redis lost. A read
 * failing with NOGROUP does the same.
 */
export class ChangeFeedConsumer {
  private readonly logger: Logger;
  private readonly consumer = `${hostname()}-${process.pid}`;
  private readonly redis: Redis;
  private readonly feed: ChangeFeed;
  private readonly stopping = new AbortController();
  private reading = false;
  private loop: Promise<void> = Promise.resolve();
  /** Connection closes seen; the loop checks Redis for lost data when this moved. */
  private closes = 0;
  /** The newest change id this consumer was given, the mark Redis must not fall behind. */
  private newest: string | null = null;
  /** The last changes read (`reader.remember` of them), oldest first. */
  private recent: Change[] = [];

  constructor(
    redis: { url: string; prefix: string; commandTimeoutMs: number },
    private readonly reader: ChangeFeedReader,
    loggerName: string,
  ) {
    this.logger = new Logger(loggerName);
    // The command timeout covers the blocking read's own wait: a Redis that stops answering fails
    // the read instead of holding it. No offline queue and no resent commands: nothing is read on a
    // new connection before the loop has looked at what Redis still has.
    this.redis = new Redis(redis.url, {
      ...CONNECTION_DEFAULTS,
      commandTimeout: BLOCK_MS + redis.commandTimeoutMs,
      maxRetriesPerRequest: null,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      lazyConnect: true,
      connectionName: `responder:feed:${reader.group}`,
    });
    this.redis.on('error', () => undefined);
    this.redis.on('close', () => this.closes++);
    this.feed = new ChangeFeed(this.redis, redis.prefix, reader.stream);
  }

  start(): void {
    this.loop = this.follow();
  }

  /** Ends the loop: a read in progress is cut (its acks went before it), a batch in progress is acknowledged. */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.reading) this.redis.disconnect();
    await this.loop;
    this.redis.disconnect();
  }

  private async follow(): Promise<void> {
    const group = this.reader.group;
    let grouped = false;
    let restart: FeedRestart | null = null;
    /** When to read this consumer's unacknowledged changes again: at boot, after an error, a while after a batch left some. */
    let pendingAt: number | null = 0;
    let leftBehind = 0;
    let checkedCloses = 0;
    let acks: string[] = [];
    let lastClaim = 0;
    for (let delay = RETRY_MS; ; ) {
      try {
        if (this.stopping.signal.aborted) {
          if (acks.length > 0 && this.redis.status === 'ready') await this.feed.ack(group, acks);
          return;
        }
        if (this.redis.status === 'wait') await this.redis.connect();
        const closes = this.closes;
        if (checkedCloses !== closes) {
          pendingAt = 0;
          if (grouped) {
            const found = await this.lostData();
            if (found === 'no-group') grouped = false;
            else if (found) restart = merge(restart, found);
          }
          // Only once looked at: a check that failed (Redis not back yet) is made again.
          checkedCloses = closes;
        }
        if (!grouped) {
          // The group first, then the restart: a change made in between is read from the group.
          if (await this.feed.ensureGroup(group)) restart = merge(restart, { created: true, lost: this.forget('0') });
          grouped = true;
        }
        if (restart) {
          await this.reader.restart(restart);
          restart = null;
        }
        let changes: Change[] = [];
        if (Date.now() - lastClaim > CLAIM_IDLE_MS / 2) {
          changes = await this.feed.claimStale(group, this.consumer, CLAIM_IDLE_MS);
          lastClaim = Date.now();
        }
        const fromPending = pendingAt !== null && Date.now() >= pendingAt;
        if (fromPending) {
          await this.feed.ack(group, acks);
          acks = [];
          // What was just claimed is this consumer's pending too: each change once.
          const claimed = new Set(changes.map((c) => c.id));
          changes.push(...(await this.feed.readPending(group, this.consumer, BATCH)).filter((c) => !claimed.has(c.id)));
          pendingAt = null;
        } else {
          this.reading = true;
          changes.push(...(await this.feed.ackAndRead(group, this.consumer, acks, { blockMs: BLOCK_MS, count: BATCH })));
          this.reading = false;
          acks = [];
        }
        this.note(changes);
        const left = await this.handle(changes);
        acks = changes.filter((c) => !left.has(c.id)).map((c) => c.id);
        // Changes left behind are read again after a pause that grows while they stay behind.
        if (left.size > 0) {
          leftBehind = fromPending ? leftBehind + 1 : Math.max(leftBehind, 1);
          pendingAt ??= Date.now() + Math.min(RETRY_MS * 2 ** leftBehind, RETRY_MAX_MS);
        } else if (fromPending) leftBehind = 0;
        delay = RETRY_MS;
      } catch (err) {
        this.reading = false;
        if (this.stopping.signal.aborted) return;
        pendingAt = 0;
        const message = (err as Error).message;
        if (/NOGROUP/.test(message)) {
          this.logger.warn(`${this.feed.key}: the change feed's consumer group '${group}' is gone (Redis restarted empty or was flushed?): recreating it`);
          grouped = false;
          continue;
        }
        this.logger.warn(`reading the change feed ${this.feed.key}: ${message}; again in ${delay} ms`);
        await sleep(delay, undefined, { signal: this.stopping.signal, ref: false }).catch(() => undefined);
        delay = Math.min(delay * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Hands the changes to the reader; returns the ids to leave unacknowledged. */
  private async handle(changes: Change[]): Promise<ReadonlySet<string>> {
    if (changes.length === 0) return new Set();
    return (await this.reader.handle(changes)) ?? new Set();
  }

  /**
   * After a connection close: has Redis lost the group, or gone back in time (its last delivered
   * change behind the newest this consumer was given)? Then the changes after it are forgotten.
   */
  private async lostData(): Promise<FeedRestart | 'no-group' | null> {
    if (this.newest === null) return null;
    const delivered = await this.feed.lastDelivered(this.reader.group);
    if (delivered === null) {
      this.logger.warn(`${this.feed.key}: the change feed's consumer group '${this.reader.group}' is gone (Redis restarted empty or was flushed?): recreating it`);
      return 'no-group';
    }
    if (compareChangeIds(delivered, this.newest) >= 0) return null;
    this.logger.warn(`the change feed ${this.feed.key} went back in time (Redis has ${delivered}, this process read up to ${this.newest}): Redis lost its last writes (a failover to a replica that lagged?)`);
    return { created: false, lost: this.forget(delivered) };
  }

  private note(changes: Change[]): void {
    const keep = this.reader.remember ?? 0;
    for (const change of changes) {
      if (this.newest !== null && compareChangeIds(change.id, this.newest) <= 0) continue;
      this.newest = change.id;
      if (keep > 0) this.recent.push(change);
    }
    if (this.recent.length > keep) this.recent.splice(0, this.recent.length - keep);
  }

  /** The remembered changes after `after` (Redis lost them), forgotten; the mark goes back to `after`. */
  private forget(after: string): Change[] {
    const lost = this.recent.filter((c) => compareChangeIds(c.id, after) > 0);
    this.recent = [];
    this.newest = after === '0' ? null : after;
    return lost;
  }
}

function merge(a: FeedRestart | null, b: FeedRestart): FeedRestart {
  return a ? { created: a.created || b.created, lost: [...a.lost, ...b.lost] } : b;
}
