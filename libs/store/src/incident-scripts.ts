// Lua for incidents besides alarm ingestion (ingest/: a decision in TypeScript, applied by
// checked-write.ts). Each script is one atomic step, so that several replicas never see half of a
// change. Every key a script touches is declared (KEYS) and none is built inside Lua, so that the
// scripts run on Redis Cluster when the keys share one slot (a {hash-tag} prefix).

import { TIMELINE_LUA } from './timeline-lua';

/**
 * Appends a timeline entry (and its change-feed notice) only if the incident exists, so that a
 * late writer never recreates the timeline of an incident the retention sweep removed.
 * KEYS: incident, its timeline, the change feed, the alarm feed. ARGV: incidentId, type, at, dataJson.
 * Returns the entry id, or nil.
 */
export const APPEND_IF_EXISTS_LUA = `
local timelineKey, changesKey, alarmChangesKey, timelineIncident = KEYS[2], KEYS[3], KEYS[4], ARGV[1]
${TIMELINE_LUA}
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return timeline(ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`;

/**
 * The open incident of a group (a catalog service), or a new one opened by a person: the same
 * keys and indexes as an incident opened by an alarm (ingest/), so that listing, GET, the RCA
 * and resolution treat both alike. `P:open:<groupKey>` makes it the service's open incident: the
 * service's alarms attach to it, and it resolves when they are all back to OK.
 * KEYS: the open pointer, the new incident, its timeline, the change feed, the alarm feed, then
 * the indexes it joins (all, the service's, open, the service's open).
 * ARGV: groupKey, service, newId, nowIso, nowMs, title, openedDataJson.
 * Returns { incidentId, opened (1|0) }.
 */
export const OPEN_MANUAL_LUA = `
local timelineKey, changesKey, alarmChangesKey, timelineIncident = KEYS[3], KEYS[4], KEYS[5], ARGV[3]
${TIMELINE_LUA}
local groupKey, service, newId, nowIso, nowMs = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local existing = redis.call('GET', KEYS[1])
if existing then return { existing, 0 } end
redis.call('SET', KEYS[1], newId)
redis.call('HSET', KEYS[2], 'id', newId, 'status', 'open', 'service', service, 'routed', '1', 'title', ARGV[6],
  'openedAt', nowIso, 'openedAtMs', nowMs, 'onsetAt', nowIso, 'groupKey', groupKey)
for i = 6, 9 do redis.call('ZADD', KEYS[i], nowMs, newId) end
timeline(newId, 'incident.opened', nowIso, ARGV[7])
return { newId, 1 }
`;

/**
 * Sets a postmortem's status and/or owner and writes the `postmortem.updated` timeline entry, in
 * one step: nothing is written for a missing incident, nor when nothing changes (a repeated
 * request). KEYS: incident, its timeline, the change feed, the alarm feed.
 * ARGV: incidentId, at, by, source, status ('' to keep), owner ('' to keep).
 * Returns { 'missing' | 'unchanged' | 'changed', status, owner, entryId }.
 */
export const SET_POSTMORTEM_LUA = `
local timelineKey, changesKey, alarmChangesKey, timelineIncident = KEYS[2], KEYS[3], KEYS[4], ARGV[1]
${TIMELINE_LUA}
local id, at, by, source, status, owner = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local key = KEYS[1]
if redis.call('EXISTS', key) == 0 then return { 'missing', '', '', '' } end
local current = redis.call('HMGET', key, 'pmStatus', 'pmOwner')
local oldStatus, oldOwner = current[1] or 'draft', current[2] or ''
local newStatus, newOwner = oldStatus, oldOwner
if status ~= '' then newStatus = status end
if owner ~= '' then newOwner = owner end
if newStatus == oldStatus and newOwner == oldOwner then return { 'unchanged', newStatus, newOwner, '' } end
redis.call('HSET', key, 'pmStatus', newStatus, 'pmOwner', newOwner, 'pmUpdatedBy', by, 'pmUpdatedAt', at)
local data = { by = by, source = source, status = newStatus, previousStatus = oldStatus }
if newOwner ~= '' then data.owner = newOwner end
if oldOwner ~= '' then data.previousOwner = oldOwner end
local entryId = timeline(id, 'postmortem.updated', at, cjson.encode(data))
return { 'changed', newStatus, newOwner, entryId }
`;

/**
 * Every key a run owns, after `P:run:RUN` (run-scripts.ts writes them): a key added there must be
 * added here, or the retention sweep leaves it behind. Ledger entries (`P:ledger:RUN:STEP`) are
 * found from the run's steps. `:failed` (a set of failed steps) is written by earlier versions only:
 * the sweep still removes it from their runs.
 */
export const RUN_KEY_SUFFIXES = ['', ':steps', ':status', ':failed'] as const;

/**
 * Removes one incident resolved before the cutoff: out of every list index, then its keys (the
 * incident, alarms, timeline, runs, each run and its steps and idempotency-ledger entries, the
 * Slack state hash). An incident that is open, or resolved at or after the cutoff, is kept. A
 * resolved incident never reopens (a new ALARM opens a new incident), so "resolved long enough
 * ago" stays true once it is. Safe to run twice and from several replicas: the second finds nothing.
 *
 * The keys of its runs are read before (`purgePlan` in incident.store.ts) and declared; the
 * script checks the incident still has exactly those runs and steps, and answers `changed`
 * (nothing removed: read again) when it does not.
 * KEYS: PURGE_FIXED_KEYS (incident, alarms, timeline, runs, Slack hash, the index of all
 * incidents, open, resolved, active runs), then with a service its three indexes (all, open,
 * resolved), then per run of the plan its RUN_KEY_SUFFIXES keys and its steps' ledger keys.
 * ARGV: incidentId, cutoffIso (UTC ISO: it orders as text), planJson ({ service: index name or '',
 * runs: [{ id, steps }] }), the number of RUN_KEY_SUFFIXES.
 * Returns deleted | kept | missing | changed.
 */
export const PURGE_FIXED_KEYS = 9;

export const PURGE_RESOLVED_LUA = `
local id, cutoff, plan, suffixes = ARGV[1], ARGV[2], cjson.decode(ARGV[3]), tonumber(ARGV[4])
local fields = redis.call('HMGET', KEYS[1], 'status', 'resolvedAt', 'service')
local status, resolvedAt, service = fields[1], fields[2], fields[3]
local first = ${PURGE_FIXED_KEYS} + 1
if plan.service ~= '' then first = first + 3 end
local function unindex(withService)
  for i = 6, 8 do redis.call('ZREM', KEYS[i], id) end
  if withService then for i = 10, 12 do redis.call('ZREM', KEYS[i], id) end end
end
local function sameSet(list, expected)
  if #list ~= #expected then return false end
  local want = {}
  for _, v in ipairs(expected) do want[v] = true end
  for _, v in ipairs(list) do if not want[v] then return false end end
  return true
end
if not status then
  unindex(false)
  return 'missing'
end
if status ~= 'resolved' or not resolvedAt or resolvedAt >= cutoff then return 'kept' end
local serviceIndex = service
if not serviceIndex or serviceIndex == '' then serviceIndex = '(unrouted)' end
if plan.service ~= serviceIndex then return 'changed' end
local runIds = {}
for _, run in ipairs(plan.runs) do table.insert(runIds, run.id) end
if not sameSet(redis.call('HVALS', KEYS[4]), runIds) then return 'changed' end
local k = first
for _, run in ipairs(plan.runs) do
  if not sameSet(redis.call('HKEYS', KEYS[k + 1]), run.steps) then return 'changed' end
  k = k + suffixes + #run.steps
end
unindex(true)
for _, runId in ipairs(runIds) do redis.call('SREM', KEYS[9], runId) end
for i = first, #KEYS do redis.call('UNLINK', KEYS[i]) end
redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 'deleted'
`;
