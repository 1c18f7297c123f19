// Lua for runs and steps. Every state change of a step is a compare-and-set on its status, made in
// Redis together with its timeline entry, so that concurrent workers, replicas and retried jobs
// cannot both win a transition (and the timeline never says what did not happen).

/** Shared helpers, prepended to each script. ARGV[1] is always the key prefix. */
const HEAD = `
local P = ARGV[1]
local function timeline(incidentId, kind, at, data)
  redis.call('XADD', P .. ':incident:' .. incidentId .. ':timeline', '*', 'type', kind, 'at', at, 'data', data)
  redis.call('XADD', P .. ':changes', 'MAXLEN', '~', 100000, '*', 'incident', incidentId, 'type', kind)
end
`;

/**
 * ARGV: prefix, incidentId, runbook, runId, now, runJson(fields), stepsJson({id: state}), plannedData
 * Returns { runId, created(1|0) }: one run per runbook per incident.
 */
export const CREATE_RUN_LUA = `${HEAD}
local incidentId, runbook, runId, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local runs = P .. ':incident:' .. incidentId .. ':runs'
if redis.call('HSETNX', runs, runbook, runId) == 0 then
  return { redis.call('HGET', runs, runbook), 0 }
end
local run = cjson.decode(ARGV[6])
local runKey = P .. ':run:' .. runId
for k, v in pairs(run) do redis.call('HSET', runKey, k, tostring(v)) end
local steps = cjson.decode(ARGV[7])
for id, state in pairs(steps) do redis.call('HSET', runKey .. ':steps', id, cjson.encode(state)) end
redis.call('SADD', P .. ':runs:active', runId)
timeline(incidentId, 'run.planned', now, ARGV[8])
return { runId, 1 }
`;

/**
 * ARGV: prefix, runId, stepId, allowedFrom ("a,b,c" or "*"), patchJson, timelineType ('' = none),
 * timelineDataJson, now. Returns { 1, newStateJson } or { 0, currentStatus }.
 */
export const TRANSITION_STEP_LUA = `${HEAD}
local runId, stepId, allowed, now = ARGV[2], ARGV[3], ARGV[4], ARGV[8]
local runKey = P .. ':run:' .. runId
local raw = redis.call('HGET', runKey .. ':steps', stepId)
if not raw then return { 0, 'missing' } end
local state = cjson.decode(raw)
if allowed ~= '*' and not string.find(',' .. allowed .. ',', ',' .. state.status .. ',', 1, true) then
  return { 0, state.status }
end
local patch = cjson.decode(ARGV[5])
for k, v in pairs(patch) do
  if v == cjson.null then state[k] = nil else state[k] = v end
end
local encoded = cjson.encode(state)
redis.call('HSET', runKey .. ':steps', stepId, encoded)
if ARGV[6] ~= '' then timeline(redis.call('HGET', runKey, 'incidentId'), ARGV[6], now, ARGV[7]) end
return { 1, encoded }
`;

/**
 * Adds one approval. ARGV: prefix, runId, stepId, approver, paramsHash, needed, now, queuedPatchJson.
 * Returns { outcome, stateJson|status }: granted (enough distinct approvers: the step is queued),
 * recorded (more are needed), duplicate (this approver already approved), stale (the parameters
 * approved are not the planned ones), or not_pending (the step is not awaiting approval).
 */
export const ADD_APPROVAL_LUA = `${HEAD}
local runId, stepId, approver, hash, needed, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local runKey = P .. ':run:' .. runId
local raw = redis.call('HGET', runKey .. ':steps', stepId)
if not raw then return { 'not_pending', 'missing' } end
local state = cjson.decode(raw)
if state.status ~= 'awaiting_approval' then return { 'not_pending', state.status } end
if state.paramsHash ~= hash then return { 'stale', raw } end
local approvals = state.approvals or {}
for _, a in ipairs(approvals) do
  if a.by == approver then return { 'duplicate', raw } end
end
table.insert(approvals, { by = approver, at = now, paramsHash = hash })
state.approvals = approvals
local incidentId = redis.call('HGET', runKey, 'incidentId')
local data = { runId = runId, step = stepId, by = approver, paramsHash = hash, count = #approvals, needed = needed }
if #approvals >= needed then
  for k, v in pairs(cjson.decode(ARGV[8])) do state[k] = v end
  state.approval = 'granted'
  redis.call('HSET', runKey .. ':steps', stepId, cjson.encode(state))
  timeline(incidentId, 'approval.granted', now, cjson.encode(data))
  return { 'granted', cjson.encode(state) }
end
redis.call('HSET', runKey .. ':steps', stepId, cjson.encode(state))
timeline(incidentId, 'approval.recorded', now, cjson.encode(data))
return { 'recorded', cjson.encode(state) }
`;

/** ARGV: prefix, runId, status, now, dataJson. Returns 1 when this call finished the run. */
export const FINISH_RUN_LUA = `${HEAD}
local runId, status, now = ARGV[2], ARGV[3], ARGV[4]
local runKey = P .. ':run:' .. runId
if redis.call('HGET', runKey, 'status') ~= 'running' then return 0 end
redis.call('HSET', runKey, 'status', status, 'finishedAt', now)
redis.call('SREM', P .. ':runs:active', runId)
timeline(redis.call('HGET', runKey, 'incidentId'), 'run.finished', now, ARGV[5])
return 1
`;

/**
 * The idempotency ledger of mutating calls. ARGV: prefix, key, now.
 * Returns { 'call', attempt } when the caller may call the action (first time, or the previous
 * attempt recorded a clean failure), { 'reconcile', attempt } when an attempt began and never
 * recorded its outcome (a crash between call and record), { 'done', resultJson } when it finished.
 */
export const LEDGER_BEGIN_LUA = `${HEAD}
local key, now = P .. ':ledger:' .. ARGV[2], ARGV[3]
local state = redis.call('HGET', key, 'state')
if not state then
  redis.call('HSET', key, 'state', 'calling', 'attempt', 1, 'startedAt', now)
  return { 'call', '1' }
end
if state == 'done' then return { 'done', redis.call('HGET', key, 'result') } end
local attempt = tonumber(redis.call('HGET', key, 'attempt'))
if state == 'failed' then
  redis.call('HSET', key, 'state', 'calling', 'attempt', attempt + 1, 'startedAt', now)
  return { 'call', tostring(attempt + 1) }
end
return { 'reconcile', tostring(attempt) }
`;

/** Releases a lock only if this holder still owns it. ARGV: prefix, resource, token. */
export const RELEASE_LOCK_LUA = `${HEAD}
local key = P .. ':lock:' .. ARGV[2]
if redis.call('GET', key) == ARGV[3] then return redis.call('DEL', key) end
return 0
`;

/** Extends a lock only if this holder still owns it. ARGV: prefix, resource, token, ttlMs. */
export const EXTEND_LOCK_LUA = `${HEAD}
local key = P .. ':lock:' .. ARGV[2]
if redis.call('GET', key) == ARGV[3] then return redis.call('PEXPIRE', key, ARGV[4]) end
return 0
`;

/**
 * Takes a lock, or takes back a lock the same holder took before (a step resumed after its
 * process died still owns its lock: BullMQ runs one job per step at a time).
 * ARGV: prefix, resource, holder, token, ttlMs. Returns 1 when the caller now holds the lock.
 */
export const ACQUIRE_LOCK_LUA = `${HEAD}
local key = P .. ':lock:' .. ARGV[2]
local current = redis.call('GET', key)
if current and string.sub(current, 1, string.len(ARGV[3]) + 1) ~= ARGV[3] .. '|' then return 0 end
redis.call('SET', key, ARGV[4], 'PX', ARGV[5])
return 1
`;
