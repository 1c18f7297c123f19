// Lua for runs and steps. Every state change of a step is a compare-and-set on its status, made in
// Redis together with its timeline entry, so that concurrent workers, replicas and retried jobs
// cannot both win a transition (and the timeline never says what did not happen).
//
// Every key is declared, none is built inside Lua (Redis Cluster: they share one slot through a
// {hash-tag} prefix). The scripts of a run all take the same keys, RUN_KEYS (run.store.ts builds
// them), and ARGV[1] is the run's incident: its timeline is one of the keys, so the incident is
// known before the call (a run's incident never changes) and checked against the run's own.
// The ledger, lock and cooldown scripts take their one key.

import { TIMELINE_LUA } from './timeline-lua';

/** The keys of a run script, in KEYS order. */
export const RUN_KEYS = ['run', 'steps', 'status', 'active', 'paused', 'timeline', 'changes', 'alarmChanges', 'incidentRuns'] as const;

/**
 * Shared helpers, prepended to each run script. KEYS: RUN_KEYS; ARGV[1]: the run's incident id
 * ('' for a run that does not exist: nothing is written then). A run of another incident is an
 * error, before anything is written.
 */
const HEAD = `
local runKey, stepsKey, statusKeyName, activeKey, pausedKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local timelineKey, changesKey, alarmChangesKey, timelineIncident = KEYS[6], KEYS[7], KEYS[8], ARGV[1]
do
  local owner = redis.call('HGET', runKey, 'incidentId')
  if owner and owner ~= timelineIncident then
    return redis.error_reply('run ' .. runKey .. ' belongs to incident ' .. owner .. ', not ' .. timelineIncident)
  end
end
${TIMELINE_LUA}`;

/** The run fields the engine reads with a step or the statuses. */
const RUN_HEAD = `local head = redis.call('HMGET', runKey, 'id', 'incidentId', 'runbook', 'service', 'status', 'inputsJson')`;

/**
 * Step statuses and batched moves, prepended (after HEAD) to the scripts that change a step.
 *
 * `<run>:status` (stepId → status) mirrors the status inside each state of `<run>:steps`, written in
 * the same script as the state, so the engine decides what runs next from a few bytes per step
 * instead of reading and parsing every state. A run created before the mirror existed gets it
 * from its states the first time a script touches it.
 *
 * moveSteps applies compare-and-set moves in order, each with its timeline entry, as
 * TRANSITION_STEP does for one. A move (JSON) is { s = stepId, from = 'a,b' | '*', patch,
 * ev = timeline type ('' = none), data = timeline data (JSON text, passed through untouched),
 * after = 0-based index of an earlier move that must have applied }.
 * Returns one 1|0 per move.
 *
 * Scripts return the statuses as one text, "id status id status …" (step ids have no spaces): one
 * reply to parse instead of two per step.
 */
const STEPS = `
local checked = false
local function statusKey()
  if not checked then
    checked = true
    if redis.call('EXISTS', statusKeyName) == 0 then
      local all = redis.call('HGETALL', stepsKey)
      for i = 1, #all, 2 do redis.call('HSET', statusKeyName, all[i], cjson.decode(all[i + 1]).status) end
    end
  end
  return statusKeyName
end

-- Writes a step's status to the mirror.
local function setStatus(id, status)
  redis.call('HSET', statusKey(), id, status)
end

local function moveSteps(incidentId, moves, now)
  local applied = {}
  for i, m in ipairs(moves) do
    local ok = m.after == nil or applied[m.after + 1] == 1
    if ok then
      local raw = redis.call('HGET', stepsKey, m.s)
      local state = raw and cjson.decode(raw)
      ok = state ~= false and state ~= nil
      if ok then
        local before = state.status
        ok = m.from == '*' or string.find(',' .. m.from .. ',', ',' .. before .. ',', 1, true) ~= nil
        if ok then
          for k, v in pairs(m.patch) do
            if v == cjson.null then state[k] = nil else state[k] = v end
          end
          redis.call('HSET', stepsKey, m.s, cjson.encode(state))
          setStatus(m.s, state.status)
          if m.ev ~= '' then timeline(incidentId, m.ev, now, m.data) end
        end
      end
    end
    applied[i] = ok and 1 or 0
  end
  return applied
end
`;

/**
 * A step job begins: reads the run's head and the step, and starts a read-only step in the same
 * call (queued → running: step.started; running → running after a crash: step.resumed; attempts
 * + 1). A mutating step is only read, with the kill switch, because its gates (kill switch, lock)
 * come before its start. Returns { 'missing' } | { 'settled', status } (not queued or running:
 * nothing to do) | { 'gated', head, stateJson, pausedJson|'' } | { 'started', head, stateJson }.
 */
const START = `
local function startStep(runId, stepId, now)
  ${RUN_HEAD}
  if not head[1] then return { 'missing' } end
  local raw = redis.call('HGET', stepsKey, stepId)
  if not raw then return { 'missing' } end
  local state = cjson.decode(raw)
  if state.status ~= 'queued' and state.status ~= 'running' then return { 'settled', state.status } end
  if state.mutating then return { 'gated', head, raw, redis.call('GET', pausedKey) or '' } end
  -- Running with a checkpoint: the job was put back on purpose (its action said "not yet"), so it
  -- carries on from the checkpoint: not a new attempt, nothing for the timeline.
  if state.status == 'running' and state.checkpointJson then return { 'started', head, raw } end
  local attempt = (tonumber(state.attempts) or 0) + 1
  local kind, data
  if state.status == 'queued' then
    state.status = 'running'
    state.startedAt = now
    kind, data = 'step.started', cjson.encode({ runId = runId, step = stepId, action = state.action })
  else
    kind, data = 'step.resumed', cjson.encode({ runId = runId, step = stepId, attempt = attempt })
  end
  state.reason = nil
  state.attempts = attempt
  timeline(head[2], kind, now, data)
  local encoded = cjson.encode(state)
  redis.call('HSET', stepsKey, stepId, encoded)
  setStatus(stepId, state.status)
  return { 'started', head, encoded }
end
`;

/**
 * KEYS: RUN_KEYS, with the incident's runs hash (incidentRuns).
 * ARGV: incidentId, incidentId, runbook, runId, now, runJson(fields), stepsJson({id: state}), plannedData,
 * firstMovesJson (moves as in moveSteps, applied right after run.planned; optional).
 * Returns { runId, created(1|0), applied, statuses }: one run per runbook per incident; the
 * first moves are applied only by the call that created the run.
 */
export const CREATE_RUN_LUA = `${HEAD}${STEPS}
local incidentId, runbook, runId, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local runs = KEYS[9]
if redis.call('HSETNX', runs, runbook, runId) == 0 then
  return { redis.call('HGET', runs, runbook), 0 }
end
local run = cjson.decode(ARGV[6])
for k, v in pairs(run) do redis.call('HSET', runKey, k, tostring(v)) end
local steps = cjson.decode(ARGV[7])
for id, state in pairs(steps) do
  redis.call('HSET', stepsKey, id, cjson.encode(state))
  setStatus(id, state.status)
end
redis.call('SADD', activeKey, runId)
timeline(incidentId, 'run.planned', now, ARGV[8])
local applied = {}
if ARGV[9] and ARGV[9] ~= '' then applied = moveSteps(incidentId, cjson.decode(ARGV[9]), now) end
return { runId, 1, applied, table.concat(redis.call('HGETALL', statusKeyName), ' ') }
`;

/**
 * KEYS: RUN_KEYS. ARGV: incidentId, runId, stepId, allowedFrom ("a,b,c" or "*"), patchJson,
 * timelineType ('' = none), timelineDataJson, now. Returns { 1, newStateJson } or { 0, currentStatus }.
 */
export const TRANSITION_STEP_LUA = `${HEAD}${STEPS}
local runId, stepId, allowed, now = ARGV[2], ARGV[3], ARGV[4], ARGV[8]
local raw = redis.call('HGET', stepsKey, stepId)
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
redis.call('HSET', stepsKey, stepId, encoded)
setStatus(stepId, state.status)
if ARGV[6] ~= '' then timeline(redis.call('HGET', runKey, 'incidentId'), ARGV[6], now, ARGV[7]) end
return { 1, encoded }
`;

/**
 * Several step moves of one run in one call (see moveSteps above), e.g. a step's success and the
 * queueing of the dependents it makes ready. KEYS: RUN_KEYS. ARGV: incidentId, runId, now, movesJson.
 * Returns { applied, statuses, runStatus } (statuses '' and runStatus false for a run that does not exist).
 */
export const MOVE_STEPS_LUA = `${HEAD}${STEPS}
local incidentId = redis.call('HGET', runKey, 'incidentId')
if not incidentId then return { {}, '', false } end
local applied = moveSteps(incidentId, cjson.decode(ARGV[4]), ARGV[3])
return { applied, table.concat(redis.call('HGETALL', statusKey()), ' '), redis.call('HGET', runKey, 'status') }
`;

/**
 * What advancing a run reads: its head and its step statuses. KEYS: RUN_KEYS. ARGV: incidentId, runId.
 * Returns { head, statuses } (head[1] is nil for a run that does not exist).
 */
export const RUN_STATUSES_LUA = `${HEAD}${STEPS}
${RUN_HEAD}
if not head[1] then return { head, '' } end
return { head, table.concat(redis.call('HGETALL', statusKey()), ' ') }
`;

/**
 * startStep (above), and every step's status with a step it started or read (gated): what follows
 * the step is decided from them (see SETTLE_STEP_LUA). KEYS: RUN_KEYS. ARGV: incidentId, runId,
 * stepId, now. Returns startStep's reply; started or gated, { kind, head, stateJson, pausedJson|'', statuses }.
 */
export const START_STEP_LUA = `${HEAD}${STEPS}${START}
local reply = startStep(ARGV[2], ARGV[3], ARGV[4])
if reply[1] == 'started' or reply[1] == 'gated' then
  reply[4] = reply[4] or ''
  reply[5] = table.concat(redis.call('HGETALL', statusKey()), ' ')
end
return reply
`;

/**
 * A step's last move (its outcome) and the moves that follow it, in one call. KEYS: RUN_KEYS.
 * ARGV: incidentId, runId, now, lastJson ([the move], as in moveSteps), nextJson (moves),
 * decidedFromJson ({ stepId: status }: the statuses the next moves were decided from, as if the
 * last move had applied).
 * The next moves were decided before this call: they are made only if the last move applied, the
 * run is running, and every other step still has the status they were decided from (a step that
 * moved meanwhile may change what follows: the caller decides again from the statuses returned).
 * Returns { applied (the last move's, then one per next move, 1|0), statuses|false, runStatus }:
 * the statuses are left out (false) when every move applied as decided (the caller knows them).
 */
export const SETTLE_STEP_LUA = `${HEAD}${STEPS}
local now = ARGV[3]
local incidentId = redis.call('HGET', runKey, 'incidentId')
if not incidentId then return { {}, '', false } end
local last, next = cjson.decode(ARGV[4])[1], cjson.decode(ARGV[5])
local function asDecided()
  if redis.call('HGET', runKey, 'status') ~= 'running' then return false end
  local decidedFrom = cjson.decode(ARGV[6])
  local all = redis.call('HGETALL', statusKey())
  for i = 1, #all, 2 do
    if all[i] ~= last.s and decidedFrom[all[i]] ~= all[i + 1] then return false end
  end
  return true
end
-- Checked before the last move, which changes its own step only.
local known = asDecided()
local applied = moveSteps(incidentId, { last }, now)
known = known and applied[1] == 1
if known then
  for _, a in ipairs(moveSteps(incidentId, next, now)) do
    table.insert(applied, a)
    if a == 0 then known = false end
  end
end
local statuses = not known and table.concat(redis.call('HGETALL', statusKey()), ' ')
return { applied, statuses, redis.call('HGET', runKey, 'status') }
`;

/**
 * Adds one approval. KEYS: RUN_KEYS. ARGV: incidentId, runId, stepId, approver, paramsHash, needed, now,
 * queuedPatchJson, detailJson (how they approved: { via, as }, kept on the approval and its timeline entry).
 * Returns { outcome, stateJson|status }: granted (enough distinct approvers: the step is queued),
 * recorded (more are needed), duplicate (this approver already approved), stale (the parameters
 * approved are not the planned ones), or not_pending (the step is not awaiting approval).
 * The approver is a person id: the caller resolves every channel's identity to its person first.
 */
export const ADD_APPROVAL_LUA = `${HEAD}${STEPS}
local runId, stepId, approver, hash, needed, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), ARGV[7]
local raw = redis.call('HGET', stepsKey, stepId)
if not raw then return { 'not_pending', 'missing' } end
local state = cjson.decode(raw)
if state.status ~= 'awaiting_approval' then return { 'not_pending', state.status } end
if state.paramsHash ~= hash then return { 'stale', raw } end
local approvals = state.approvals or {}
for _, a in ipairs(approvals) do
  if a.by == approver then return { 'duplicate', raw } end
end
local approval = { by = approver, at = now, paramsHash = hash }
local data = { runId = runId, step = stepId, by = approver, paramsHash = hash, count = #approvals + 1, needed = needed }
for k, v in pairs(cjson.decode(ARGV[9] or '{}')) do
  approval[k] = v
  data[k] = v
end
table.insert(approvals, approval)
state.approvals = approvals
local incidentId = redis.call('HGET', runKey, 'incidentId')
if #approvals >= needed then
  for k, v in pairs(cjson.decode(ARGV[8])) do state[k] = v end
  state.approval = 'granted'
  redis.call('HSET', stepsKey, stepId, cjson.encode(state))
  setStatus(stepId, state.status)
  timeline(incidentId, 'approval.granted', now, cjson.encode(data))
  return { 'granted', cjson.encode(state) }
end
redis.call('HSET', stepsKey, stepId, cjson.encode(state))
timeline(incidentId, 'approval.recorded', now, cjson.encode(data))
return { 'recorded', cjson.encode(state) }
`;

/** KEYS: RUN_KEYS. ARGV: incidentId, runId, status, now, dataJson. Returns 1 when this call finished the run. */
export const FINISH_RUN_LUA = `${HEAD}
local runId, status, now = ARGV[2], ARGV[3], ARGV[4]
if redis.call('HGET', runKey, 'status') ~= 'running' then return 0 end
redis.call('HSET', runKey, 'status', status, 'finishedAt', now)
redis.call('SREM', activeKey, runId)
timeline(redis.call('HGET', runKey, 'incidentId'), 'run.finished', now, ARGV[5])
return 1
`;

/**
 * The idempotency ledger of mutating calls. KEYS: the ledger entry. ARGV: now.
 * An attempt is first an intent (`intent`: nothing called yet), then a call (`calling`, set by
 * LEDGER_CALLING_LUA right before the request that changes production), then `done` or `failed`.
 * Returns { 'call', attempt } when the caller may call the action (first time, or the previous
 * attempt recorded a clean failure), { 'uncalled', attempt } when an attempt recorded its intent
 * and stopped before calling (a crash before the call: calling now is the first call),
 * { 'reconcile', attempt } when an attempt started its call and never recorded its outcome (the
 * call may have been made), { 'done', resultJson } when it finished.
 */
export const LEDGER_BEGIN_LUA = `
local key, now = KEYS[1], ARGV[1]
local state = redis.call('HGET', key, 'state')
if not state then
  redis.call('HSET', key, 'state', 'intent', 'attempt', 1, 'startedAt', now)
  return { 'call', '1' }
end
if state == 'done' then return { 'done', redis.call('HGET', key, 'result') } end
local attempt = tonumber(redis.call('HGET', key, 'attempt'))
if state == 'failed' then
  redis.call('HSET', key, 'state', 'intent', 'attempt', attempt + 1, 'startedAt', now)
  return { 'call', tostring(attempt + 1) }
end
if state == 'intent' then
  redis.call('HSET', key, 'startedAt', now)
  return { 'uncalled', tostring(attempt) }
end
return { 'reconcile', tostring(attempt) }
`;

/**
 * Marks an attempt's call as started: from here a crash leaves its outcome unknown. Only an
 * attempt still at `intent` moves. KEYS: the ledger entry. ARGV: attempt, now. Returns 1 when it moved.
 */
export const LEDGER_CALLING_LUA = `
local key = KEYS[1]
if redis.call('HGET', key, 'state') ~= 'intent' or redis.call('HGET', key, 'attempt') ~= ARGV[1] then return 0 end
redis.call('HSET', key, 'state', 'calling', 'callingAt', ARGV[2])
return 1
`;

/** Releases a lock only if this holder still owns it. KEYS: the lock. ARGV: token. */
export const RELEASE_LOCK_LUA = `
local key = KEYS[1]
if redis.call('GET', key) == ARGV[1] then return redis.call('DEL', key) end
return 0
`;

/** Extends a lock only if this holder still owns it. KEYS: the lock. ARGV: token, ttlMs. */
export const EXTEND_LOCK_LUA = `
local key = KEYS[1]
if redis.call('GET', key) == ARGV[1] then return redis.call('PEXPIRE', key, ARGV[2]) end
return 0
`;

/**
 * Takes a lock, or takes back a lock the same holder took before (a step resumed after its
 * process died still owns its lock: BullMQ runs one job per step at a time).
 * KEYS: the lock. ARGV: holder, token, ttlMs. Returns 1 when the caller now holds the lock.
 */
export const ACQUIRE_LOCK_LUA = `
local key = KEYS[1]
local current = redis.call('GET', key)
if current and string.sub(current, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. '|' then return 0 end
redis.call('SET', key, ARGV[2], 'PX', ARGV[3])
return 1
`;

/**
 * Claims a cooldown scope for a mutating call, atomically with the check, so that two calls on one
 * service (on different resources, under different locks) cannot both pass it. The claim holds
 * when the scope is free, or when its holder is one of the exempt ones (the step itself, resumed,
 * or a step of the same run that this one needs). KEYS: the scope's cooldown. ARGV: exemptJson
 * (holders, `runId/stepId`), seconds, dataJson (with its `holder`). Returns { '' , 0 } when
 * claimed, else { the holder's data, seconds left }.
 */
export const CLAIM_COOLDOWN_LUA = `
local key = KEYS[1]
local current = redis.call('GET', key)
if current then
  local holder = cjson.decode(current).holder
  local exempt = false
  for _, h in ipairs(cjson.decode(ARGV[1])) do
    if h == holder then exempt = true end
  end
  if not exempt then return { current, redis.call('TTL', key) } end
end
redis.call('SET', key, ARGV[3], 'EX', ARGV[2])
return { '', 0 }
`;

/** Gives a cooldown scope back when its holder's call did not take effect. KEYS: the scope's cooldown. ARGV: holder. */
export const RELEASE_COOLDOWN_LUA = `
local key = KEYS[1]
local current = redis.call('GET', key)
if current and cjson.decode(current).holder == ARGV[1] then return redis.call('DEL', key) end
return 0
`;
