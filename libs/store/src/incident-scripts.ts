// Lua for incidents besides alarm ingestion (ingest-alarm.script.ts). Each script is one atomic
// step, so that several replicas (and the ingest script) never see half of a change. ARGV[1] is
// always the key prefix; every key shares it (a {hash-tag} prefix keeps them in one Cluster slot).

import { TIMELINE_LUA } from './timeline-lua';

/**
 * Appends a timeline entry (and its change-feed notice) only if the incident exists, so that a
 * late writer never recreates the timeline of an incident the retention sweep removed.
 * ARGV: prefix, incidentId, type, at, dataJson. Returns the entry id, or nil.
 */
export const APPEND_IF_EXISTS_LUA = `
local P = ARGV[1]
${TIMELINE_LUA}
local id, kind, at, data = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('EXISTS', P .. ':incident:' .. id) == 0 then return false end
return timeline(id, kind, at, data)
`;

/**
 * The open incident of a group (a catalog service), or a new one opened by a person: the same
 * keys and indexes as an incident opened by an alarm (ingest-alarm.script.ts), so that listing,
 * GET, the RCA and resolution treat both alike. `P:open:<groupKey>` makes it the service's open
 * incident: the service's alarms attach to it, and it resolves when they are all back to OK.
 * ARGV: prefix, groupKey, service, newId, nowIso, nowMs, title, openedDataJson.
 * Returns { incidentId, opened (1|0) }.
 */
export const OPEN_MANUAL_LUA = `
local P = ARGV[1]
${TIMELINE_LUA}
local groupKey, service, newId, nowIso, nowMs = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local openKey = P .. ':open:' .. groupKey
local existing = redis.call('GET', openKey)
if existing then return { existing, 0 } end
local key = P .. ':incident:' .. newId
redis.call('SET', openKey, newId)
redis.call('HSET', key, 'id', newId, 'status', 'open', 'service', service, 'routed', '1', 'title', ARGV[7],
  'openedAt', nowIso, 'openedAtMs', nowMs, 'onsetAt', nowIso, 'groupKey', groupKey)
redis.call('ZADD', P .. ':incidents', nowMs, newId)
redis.call('ZADD', P .. ':incidents:service:' .. service, nowMs, newId)
redis.call('ZADD', P .. ':incidents:status:open', nowMs, newId)
redis.call('ZADD', P .. ':incidents:service:' .. service .. ':status:open', nowMs, newId)
timeline(newId, 'incident.opened', nowIso, ARGV[8])
return { newId, 1 }
`;

/**
 * Sets a postmortem's status and/or owner and writes the `postmortem.updated` timeline entry, in
 * one step: nothing is written for a missing incident, nor when nothing changes (a repeated
 * request). ARGV: prefix, incidentId, at, by, source, status ('' to keep), owner ('' to keep).
 * Returns { 'missing' | 'unchanged' | 'changed', status, owner, entryId }.
 */
export const SET_POSTMORTEM_LUA = `
local P = ARGV[1]
${TIMELINE_LUA}
local id, at, by, source, status, owner = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local key = P .. ':incident:' .. id
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
 * found from the run's steps.
 */
export const RUN_KEY_SUFFIXES = ['', ':steps', ':status', ':failed'] as const;

/**
 * Removes one incident resolved before the cutoff: out of every list index, then its keys (the
 * incident, alarms, timeline, runs, each run and its steps and idempotency-ledger entries, the
 * Slack state hash). An incident that is open, or resolved at or after the cutoff, is kept. A
 * resolved incident never reopens (a new ALARM opens a new incident), so "resolved long enough
 * ago" stays true once it is. Safe to run twice and from several replicas: the second finds nothing.
 * ARGV: prefix, incidentId, cutoffIso (UTC ISO: it orders as text), then RUN_KEY_SUFFIXES.
 * Returns deleted | kept | missing.
 */
export const PURGE_RESOLVED_LUA = `
local P, id, cutoff = ARGV[1], ARGV[2], ARGV[3]
local key = P .. ':incident:' .. id
local fields = redis.call('HMGET', key, 'status', 'resolvedAt', 'service')
local status, resolvedAt, service = fields[1], fields[2], fields[3]
local function unindex(serviceIndex)
  redis.call('ZREM', P .. ':incidents', id)
  for _, s in ipairs({ 'open', 'resolved' }) do
    redis.call('ZREM', P .. ':incidents:status:' .. s, id)
    if serviceIndex then redis.call('ZREM', P .. ':incidents:service:' .. serviceIndex .. ':status:' .. s, id) end
  end
  if serviceIndex then redis.call('ZREM', P .. ':incidents:service:' .. serviceIndex, id) end
end
if not status then
  unindex(nil)
  return 'missing'
end
if status ~= 'resolved' or not resolvedAt or resolvedAt >= cutoff then return 'kept' end
local serviceIndex = service
if not serviceIndex or serviceIndex == '' then serviceIndex = '(unrouted)' end
unindex(serviceIndex)
for _, runId in ipairs(redis.call('HVALS', key .. ':runs')) do
  local runKey = P .. ':run:' .. runId
  for _, stepId in ipairs(redis.call('HKEYS', runKey .. ':steps')) do
    redis.call('UNLINK', P .. ':ledger:' .. runId .. ':' .. stepId)
  end
  for i = 4, #ARGV do redis.call('UNLINK', runKey .. ARGV[i]) end
  redis.call('SREM', P .. ':runs:active', runId)
end
redis.call('UNLINK', key, key .. ':alarms', key .. ':timeline', key .. ':runs', P .. ':slack:' .. id)
return 'deleted'
`;
