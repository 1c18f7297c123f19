import type { Redis } from 'ioredis';
import {
  type AlarmEvent,
  type Incident,
  type IncidentAlarm,
  type IncidentStatus,
  type PostmortemStatus,
  type TimelineEntry,
  newIncidentId,
} from '@responder/domain';
import { APPEND_IF_EXISTS_LUA, OPEN_MANUAL_LUA, PURGE_RESOLVED_LUA, RUN_KEY_SUFFIXES, SET_POSTMORTEM_LUA } from './incident-scripts';
import { INGEST_ALARM_LUA } from './ingest-alarm.script';
import { StoreKeys, UNROUTED_INDEX } from './keys';

export type IngestOutcome = 'opened' | 'attached' | 'updated' | 'resolved' | 'stale' | 'unattached' | 'duplicate';

export interface IngestResult {
  incidentId: string | null;
  deduplicated: boolean;
  outcome: IngestOutcome;
  /** For a repeated delivery: what the first delivery did (unknown for one stored before this was kept). */
  firstOutcome?: IngestOutcome;
}

export interface IngestInput {
  alarm: AlarmEvent;
  /** The catalog service, or null for an alarm no service claims. */
  service: string | null;
  matchedBy: string | null;
  /** Where the event came from (http, sqs), for the timeline. */
  source: string;
}

export interface ListFilter {
  status?: IncidentStatus;
  service?: string;
  unrouted?: boolean;
  limit: number;
  offset: number;
}

export interface StoreOptions {
  prefix: string;
  /** How long an event id is remembered: EventBridge retries a delivery for up to 24 hours. */
  dedupeTtlSeconds: number;
  /** Cap of the stream that keeps OK events no open incident holds. */
  unattachedMaxLen: number;
}

type IngestCommand = (...args: (string | number)[]) => Promise<[string, number, string, string]>;
type Cmd = (...args: (string | number)[]) => Promise<unknown>;

const SCRIPTS = {
  responderIngestAlarm: INGEST_ALARM_LUA,
  responderAppendIfExists: APPEND_IF_EXISTS_LUA,
  responderOpenManual: OPEN_MANUAL_LUA,
  responderPurgeResolved: PURGE_RESOLVED_LUA,
  responderSetPostmortem: SET_POSTMORTEM_LUA,
} as const;

export interface PostmortemChange {
  status?: PostmortemStatus;
  owner?: string;
  /** Who asks (from their credential or Slack user id). */
  by: string;
  /** api or slack, for the timeline. */
  source: string;
}

export interface PostmortemResult {
  outcome: 'missing' | 'unchanged' | 'changed';
  status: PostmortemStatus;
  owner: string | null;
  /** The timeline entry written (changed only). */
  entry: TimelineEntry | null;
}

export interface ManualOpenInput {
  /** A catalog service: manual runs are for services the catalog knows. */
  service: string;
  title: string;
  /** Who asked for it (recorded on the incident.opened entry). */
  by: string;
  runbook: string;
}

/**
 * Incidents and their timelines in Redis. Each incident is a hash, its alarms a hash, its timeline
 * a Redis Stream (append only); sorted sets index incidents by status and service, newest first.
 */
export class IncidentStore {
  readonly keys: StoreKeys;

  constructor(
    private readonly redis: Redis,
    private readonly options: StoreOptions,
  ) {
    this.keys = new StoreKeys(options.prefix);
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    }
  }

  private command(name: keyof typeof SCRIPTS): Cmd {
    return (this.redis as unknown as Record<string, Cmd>)[name].bind(this.redis);
  }

  /** Records one alarm state change: exactly-once per event id, atomic per service. */
  async ingest({ alarm, service, matchedBy, source }: IngestInput): Promise<IngestResult> {
    const groupKey = service ?? `unrouted:${alarm.alarmArn}`;
    const now = Date.now();
    const received = JSON.stringify({
      eventId: alarm.eventId,
      source,
      alarm: alarm.alarmName,
      arn: alarm.alarmArn,
      kind: alarm.kind,
      state: alarm.state,
      previousState: alarm.previousState ?? null,
      reason: alarm.reason,
      stateChangedAt: alarm.stateChangedAt,
      service,
      matchedBy,
      metrics: alarm.metrics,
      ...(alarm.alarmRule ? { alarmRule: alarm.alarmRule } : {}),
    });
    const ingestAlarm = (this.redis as unknown as { responderIngestAlarm: IngestCommand }).responderIngestAlarm.bind(this.redis);
    const [incidentId, duplicate, outcome, first] = await ingestAlarm(
      this.options.prefix,
      alarm.eventId,
      this.options.dedupeTtlSeconds,
      groupKey,
      service ?? '',
      alarm.alarmArn,
      alarm.alarmName,
      alarm.kind,
      alarm.state,
      alarm.stateChangedAtMs,
      alarm.stateChangedAt,
      alarm.reason,
      newIncidentId(now),
      new Date(now).toISOString(),
      now,
      received,
      this.options.unattachedMaxLen,
    );
    return {
      incidentId: incidentId === '' ? null : incidentId,
      deduplicated: duplicate === 1,
      outcome: outcome as IngestOutcome,
      ...(first ? { firstOutcome: first as IngestOutcome } : {}),
    };
  }

  async get(id: string): Promise<Incident | null> {
    const [[, hash], [, alarms]] = (await this.redis
      .multi()
      .hgetall(this.keys.incident(id))
      .hvals(this.keys.alarms(id))
      .exec()) as [[null, Record<string, string>], [null, string[]]];
    return Object.keys(hash).length === 0 ? null : toIncident(hash, alarms);
  }

  /** Newest first (by opening time), paginated. */
  async list(filter: ListFilter): Promise<{ items: Incident[]; total: number }> {
    const service = filter.unrouted ? UNROUTED_INDEX : filter.service;
    const key = this.keys.index({ status: filter.status, service });
    const [[, ids], [, total]] = (await this.redis
      .multi()
      .zrevrange(key, filter.offset, filter.offset + filter.limit - 1)
      .zcard(key)
      .exec()) as [[null, string[]], [null, number]];
    if (ids.length === 0) return { items: [], total };
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.incident(id)).hvals(this.keys.alarms(id));
    const results = (await pipeline.exec()) ?? [];
    const items: Incident[] = [];
    for (let i = 0; i < ids.length; i++) {
      const hash = results[2 * i][1] as Record<string, string>;
      if (Object.keys(hash).length > 0) items.push(toIncident(hash, results[2 * i + 1][1] as string[]));
    }
    return { items, total };
  }

  /** Ids of the incidents opened at or after `since`, newest first, at most `limit` (truncated: there were more). */
  async openedSince(since: Date, limit: number): Promise<{ ids: string[]; truncated: boolean }> {
    const ids = await this.redis.zrevrangebyscore(this.keys.index({}), '+inf', since.getTime(), 'LIMIT', 0, limit + 1);
    return { ids: ids.slice(0, limit), truncated: ids.length > limit };
  }

  /** Timeline entries in order; `after` is an entry id (exclusive) for paging. */
  async timeline(id: string, options: { after?: string; limit?: number } = {}): Promise<TimelineEntry[]> {
    const start = options.after ? `(${options.after}` : '-';
    const raw = options.limit
      ? await this.redis.xrange(this.keys.timeline(id), start, '+', 'COUNT', options.limit)
      : await this.redis.xrange(this.keys.timeline(id), start, '+');
    return raw.map(([entryId, fields]) => toEntry(entryId, fields));
  }

  /**
   * Appends an entry to the timeline of an incident that exists (and notes it on the change feed),
   * atomically: null when there is no such incident, so that nothing is written for it.
   */
  async appendIfExists(incidentId: string, type: string, data: Record<string, unknown>): Promise<TimelineEntry | null> {
    const at = new Date().toISOString();
    const entryId = (await this.command('responderAppendIfExists')(this.options.prefix, incidentId, type, at, JSON.stringify(data))) as string | null;
    return entryId ? { id: entryId, at, type, data } : null;
  }

  /**
   * Sets the postmortem's status and/or owner, with its `postmortem.updated` timeline entry (and
   * change-feed notice, which re-uploads the RCA in Slack), atomically. Nothing is written when
   * nothing changes or the incident does not exist.
   */
  async setPostmortem(incidentId: string, change: PostmortemChange): Promise<PostmortemResult> {
    const at = new Date().toISOString();
    const [outcome, status, owner, entryId] = (await this.command('responderSetPostmortem')(
      this.options.prefix,
      incidentId,
      at,
      change.by,
      change.source,
      change.status ?? '',
      change.owner ?? '',
    )) as [PostmortemResult['outcome'], string, string, string];
    const entry = outcome === 'changed' ? (await this.redis.xrange(this.keys.timeline(incidentId), entryId, entryId)).map(([eid, fields]) => toEntry(eid, fields))[0] ?? null : null;
    return { outcome, status: (status || 'draft') as PostmortemStatus, owner: owner || null, entry };
  }

  /**
   * The service's open incident, or a new one opened by a person (a manual run) when it has none.
   * The group key is the service's, as ingest() builds it for a routed alarm, so the service's
   * alarms attach to this incident and resolve it through the usual path when they return to OK.
   */
  async openManual({ service, title, by, runbook }: ManualOpenInput): Promise<{ incidentId: string; opened: boolean }> {
    const now = Date.now();
    const [incidentId, opened] = (await this.command('responderOpenManual')(
      this.options.prefix,
      service,
      service,
      newIncidentId(now),
      new Date(now).toISOString(),
      now,
      title,
      JSON.stringify({ service, routed: true, manual: true, by, runbook }),
    )) as [string, number];
    return { incidentId, opened: opened === 1 };
  }

  /**
   * Removes the incidents resolved before `cutoff`: out of the list indexes, and every key they
   * own, including Slack state (`P:slack:ID`, `P:slack:ID:*`). Returns the ids removed.
   * Candidates come from the resolved index, whose score is the opening time: an incident resolved
   * before the cutoff was opened before it, and the script checks the resolution time itself.
   */
  async purgeResolvedBefore(cutoff: Date, batch = 200): Promise<string[]> {
    const purge = this.command('responderPurgeResolved');
    const index = this.keys.index({ status: 'resolved' });
    const cutoffIso = cutoff.toISOString();
    const deleted: string[] = [];
    // Deleted ids leave the index, so the next page starts after the ones kept (opened before the
    // cutoff, resolved after it).
    for (let kept = 0; ; ) {
      const ids = await this.redis.zrangebyscore(index, '-inf', cutoff.getTime(), 'LIMIT', kept, batch);
      for (const id of ids) {
        const outcome = (await purge(this.options.prefix, id, cutoffIso, ...RUN_KEY_SUFFIXES)) as string;
        if (outcome === 'deleted') deleted.push(id);
        else if (outcome === 'kept') kept++;
      }
      if (ids.length < batch) break;
    }
    if (deleted.length > 0) await this.unlinkSlackState(new Set(deleted));
    return deleted;
  }

  /** Slack's per-incident keys below `P:slack:ID:` (whatever the reporter names them): one SCAN for a batch. */
  private async unlinkSlackState(ids: ReadonlySet<string>): Promise<void> {
    const head = `${this.options.prefix}:slack:`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${head}inc_*:*`, 'COUNT', 1000);
      cursor = next;
      const mine = keys.filter((k) => ids.has(k.slice(head.length).split(':', 1)[0]));
      if (mine.length > 0) await this.redis.unlink(...mine);
    } while (cursor !== '0');
  }

  /** Takes the retention sweep for `ttlMs` unless another replica holds it (they would only repeat it). */
  async claimRetentionSweep(holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`${this.options.prefix}:retention:sweep`, holder, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** The same, for the engine's sweep of open incidents that have nothing planned yet. */
  async claimPlanSweep(holder: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`${this.options.prefix}:plan:sweep`, holder, 'PX', ttlMs, 'NX')) === 'OK';
  }

  /** Events that belonged to no open incident (an OK after resolution), newest last. */
  async unattached(limit = 100): Promise<TimelineEntry[]> {
    const raw = await this.redis.xrevrange(this.keys.unattached(), '+', '-', 'COUNT', limit);
    return raw.reverse().map(([entryId, fields]) => toEntry(entryId, fields));
  }
}

function toEntry(id: string, fields: string[]): TimelineEntry {
  const map: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[fields[i]] = fields[i + 1];
  return { id, at: map.at, type: map.type, data: map.data ? (JSON.parse(map.data) as Record<string, unknown>) : {} };
}

function toIncident(hash: Record<string, string>, alarms: string[]): Incident {
  return {
    id: hash.id,
    status: hash.status as IncidentStatus,
    service: hash.service === '' ? null : hash.service,
    routed: hash.routed === '1',
    title: hash.title,
    openedAt: hash.openedAt,
    resolvedAt: hash.resolvedAt ?? null,
    onsetAt: hash.onsetAt,
    postmortem: {
      status: (hash.pmStatus ?? 'draft') as PostmortemStatus,
      owner: hash.pmOwner ? hash.pmOwner : null,
      updatedBy: hash.pmUpdatedBy ?? null,
      updatedAt: hash.pmUpdatedAt ?? null,
    },
    alarms: alarms
      .map((raw) => JSON.parse(raw) as IncidentAlarm)
      .sort((a, b) => a.stateChangedAt.localeCompare(b.stateChangedAt)),
  };
}
