import {
  type AlarmEvent,
  type Incident,
  type IncidentAlarm,
  type IncidentStatus,
  type PostmortemStatus,
  type TimelineEntry,
  newIncidentId,
} from '@responder/domain';
import { CHECKED_WRITE_LUA, type CheckedWriteResult, type Guard, type Write } from './checked-write';
import { APPEND_IF_EXISTS_LUA, OPEN_MANUAL_LUA, PURGE_FIXED_KEYS, PURGE_RESOLVED_LUA, RUN_KEY_SUFFIXES, SET_POSTMORTEM_LUA } from './incident-scripts';
import { Ingest, type IngestResult, ingestFacts } from './ingest/ingest';
import { StoreKeys, UNROUTED_INDEX } from './keys';
import { type RedisClient, scanTargets } from './redis-client';

export type { IngestOutcome } from './ingest/dedupe';
export type { IngestResult } from './ingest/ingest';

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

type Cmd = (...args: (string | number)[]) => Promise<unknown>;

/** Scripts whose first argument is the number of keys (each call declares its keys). */
const SCRIPTS = {
  responderCheckedWrite: CHECKED_WRITE_LUA,
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

/** How many times purging one incident reads its runs again when they changed under it. */
const PURGE_ATTEMPTS = 3;

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
  private readonly ingestion: Ingest;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: StoreOptions,
  ) {
    this.keys = new StoreKeys(options.prefix);
    for (const [name, lua] of Object.entries(SCRIPTS)) {
      if (!(name in redis)) redis.defineCommand(name, { lua });
    }
    this.ingestion = new Ingest(redis, this.keys, options, (keys, guards, writes) => this.checkedWrite(keys, guards, writes));
  }

  /** Runs a script, its keys first: `command(name)(keys, ...args)`. */
  private command(name: keyof typeof SCRIPTS): (keys: string[], ...args: (string | number)[]) => Promise<unknown> {
    const script = (this.redis as unknown as Record<string, Cmd>)[name].bind(this.redis);
    return (keys, ...args) => script(keys.length, ...keys, ...args);
  }

  private async checkedWrite(keys: string[], guards: Guard[], writes: Write[]): Promise<CheckedWriteResult> {
    const [ok, guard, value] = (await this.command('responderCheckedWrite')(keys, JSON.stringify(guards), JSON.stringify(writes))) as [number, number?, (string | null)?];
    return ok === 1 ? { applied: true } : { applied: false, guard: guard ?? 0, value: value ?? null };
  }

  /**
   * Records one alarm state change: exactly-once per event id, one open incident per service
   * (ingest/: read, decide in dedupe.ts, write if nothing it read has changed, else again).
   */
  async ingest({ alarm, service, matchedBy, source }: IngestInput): Promise<IngestResult> {
    const now = Date.now();
    return this.ingestion.run(alarm, ingestFacts(alarm, { service, matchedBy, source }, now, newIncidentId(now)));
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
    const keys = [this.keys.incident(incidentId), this.keys.timeline(incidentId), this.keys.changes(), this.keys.alarmChanges()];
    const entryId = (await this.command('responderAppendIfExists')(keys, incidentId, type, at, JSON.stringify(data))) as string | null;
    return entryId ? { id: entryId, at, type, data } : null;
  }

  /**
   * Sets the postmortem's status and/or owner, with its `postmortem.updated` timeline entry (and
   * change-feed notice, which re-uploads the RCA in Slack), atomically. Nothing is written when
   * nothing changes or the incident does not exist.
   */
  async setPostmortem(incidentId: string, change: PostmortemChange): Promise<PostmortemResult> {
    const at = new Date().toISOString();
    const keys = [this.keys.incident(incidentId), this.keys.timeline(incidentId), this.keys.changes(), this.keys.alarmChanges()];
    const [outcome, status, owner, entryId] = (await this.command('responderSetPostmortem')(
      keys,
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
    const id = newIncidentId(now);
    const k = this.keys;
    const keys = [k.open(service), k.incident(id), k.timeline(id), k.changes(), k.alarmChanges(), k.index({}), k.index({ service }), k.index({ status: 'open' }), k.index({ status: 'open', service })];
    const [incidentId, opened] = (await this.command('responderOpenManual')(
      keys,
      service,
      service,
      id,
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
        let outcome = 'changed';
        for (let attempt = 0; attempt < PURGE_ATTEMPTS && outcome === 'changed'; attempt++) {
          const plan = await this.purgePlan(id);
          outcome = (await purge(plan.keys, id, cutoffIso, JSON.stringify(plan.plan), RUN_KEY_SUFFIXES.length)) as string;
        }
        if (outcome === 'deleted') deleted.push(id);
        // Kept, or its runs kept changing (a run planned as it goes): the next sweep tries again.
        else if (outcome !== 'missing') kept++;
      }
      if (ids.length < batch) break;
    }
    if (deleted.length > 0) await this.unlinkSlackState(new Set(deleted));
    return deleted;
  }

  /**
   * The keys purging an incident touches, read now (PURGE_RESOLVED_LUA checks they are still the
   * ones): its own, the indexes of its service, and each run's keys and ledger entries.
   */
  private async purgePlan(id: string): Promise<{ keys: string[]; plan: { service: string; runs: { id: string; steps: string[] }[] } }> {
    const k = this.keys;
    const fixed = [k.incident(id), k.alarms(id), k.timeline(id), k.runs(id), k.slack(id), k.index({}), k.index({ status: 'open' }), k.index({ status: 'resolved' }), k.activeRuns()];
    if (fixed.length !== PURGE_FIXED_KEYS) throw new Error('PURGE_FIXED_KEYS is out of date');
    const [[, fields], [, runIds]] = (await this.redis.multi().hmget(k.incident(id), 'status', 'service').hvals(k.runs(id)).exec()) as [[null, (string | null)[]], [null, string[]]];
    const [status, service] = fields;
    if (status === null) return { keys: fixed, plan: { service: '', runs: [] } };
    const serviceIndex = service || UNROUTED_INDEX;
    const keys = [...fixed, k.index({ service: serviceIndex }), k.index({ service: serviceIndex, status: 'open' }), k.index({ service: serviceIndex, status: 'resolved' })];
    const runs: { id: string; steps: string[] }[] = [];
    if (runIds.length > 0) {
      const pipeline = this.redis.pipeline();
      for (const runId of runIds) pipeline.hkeys(k.runSteps(runId));
      const steps = ((await pipeline.exec()) ?? []).map(([err, value]) => {
        if (err) throw err;
        return value as string[];
      });
      runIds.forEach((runId, i) => {
        runs.push({ id: runId, steps: steps[i] });
        keys.push(...RUN_KEY_SUFFIXES.map((suffix) => `${k.run(runId)}${suffix}`), ...steps[i].map((step) => k.ledger(`${runId}:${step}`)));
      });
    }
    return { keys, plan: { service: serviceIndex, runs } };
  }

  /** Slack's per-incident keys below `P:slack:ID:` (whatever the reporter names them): one SCAN for a batch (of each Cluster master). */
  private async unlinkSlackState(ids: ReadonlySet<string>): Promise<void> {
    const head = `${this.options.prefix}:slack:`;
    for (const node of scanTargets(this.redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${head}inc_*:*`, 'COUNT', 1000);
        cursor = next;
        const mine = keys.filter((k) => ids.has(k.slice(head.length).split(':', 1)[0]));
        if (mine.length > 0) await this.redis.unlink(...mine);
      } while (cursor !== '0');
    }
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
