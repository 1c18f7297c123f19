// The Lua source lives in a TS module so that it ships with the compiled code (no asset copying).
import { TIMELINE_LUA } from './timeline-lua';

export const INGEST_ALARM_LUA = `
-- Applies one alarm state change atomically: dedupe by event id, order by the alarm's own
-- state-change time, open / attach / resolve the service's incident, append to its timeline.
-- One script, so that concurrent deliveries (an alarm storm, several replicas) never race:
-- there is no read-then-write outside Redis. In Redis Cluster every key here shares the
-- prefix, which must then be a hash tag ("{responder}") so that they live in one slot.
local P = ARGV[1]
${TIMELINE_LUA}
local eventKey = P .. ':event:' .. ARGV[2]
-- The event key holds "incidentId|outcome" of the first delivery (a key from before holds the id alone).
local seen = redis.call('GET', eventKey)
if seen then
  local bar = string.find(seen, '|', 1, true)
  if bar then return { string.sub(seen, 1, bar - 1), 1, 'duplicate', string.sub(seen, bar + 1) } end
  return { seen, 1, 'duplicate', '' }
end

local ttl = tonumber(ARGV[3])
local groupKey, service, arn, name, kind, state = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local stateMs = tonumber(ARGV[10])
local changedAt, reason, newId, nowIso, nowMs = ARGV[11], ARGV[12], ARGV[13], ARGV[14], tonumber(ARGV[15])
local received = ARGV[16]
local unattachedMax = ARGV[17]

local openKey = P .. ':open:' .. groupKey
local incidentId = redis.call('GET', openKey)
local alarmKey = P .. ':alarm:' .. arn
local lastMs = tonumber(redis.call('HGET', alarmKey, 'ms') or '-1')
local serviceIndex = service
if serviceIndex == '' then serviceIndex = '(unrouted)' end

local function incidentKey(id) return P .. ':incident:' .. id end
local function indexes(status)
  return { P .. ':incidents:status:' .. status, P .. ':incidents:service:' .. serviceIndex .. ':status:' .. status }
end
local function unattached()
  redis.call('XADD', P .. ':unattached', 'MAXLEN', '~', unattachedMax, '*', 'type', 'alarm.received', 'at', nowIso, 'data', received)
end
local alarmJson = cjson.encode({ name = name, arn = arn, kind = kind, state = state, reason = reason, stateChangedAt = changedAt })
local outcome

if stateMs < lastMs then
  -- Older than what was already applied for this alarm (EventBridge does not keep order):
  -- recorded, never allowed to reopen or resolve anything.
  outcome = 'stale'
  if incidentId then
    timeline(incidentId, 'alarm.received', nowIso, received)
    timeline(incidentId, 'alarm.stale', nowIso, cjson.encode({ alarm = name, state = state, stateChangedAt = changedAt }))
  else
    unattached()
  end
elseif state == 'ALARM' then
  redis.call('HSET', alarmKey, 'ms', stateMs, 'state', state)
  if not incidentId then
    incidentId = newId
    redis.call('SET', openKey, incidentId)
    local routed = '1'
    if service == '' then routed = '0' end
    redis.call('HSET', incidentKey(incidentId), 'id', incidentId, 'status', 'open', 'service', service,
      'routed', routed, 'title', name, 'openedAt', nowIso, 'openedAtMs', nowMs, 'onsetAt', changedAt,
      'groupKey', groupKey)
    redis.call('ZADD', P .. ':incidents', nowMs, incidentId)
    redis.call('ZADD', P .. ':incidents:service:' .. serviceIndex, nowMs, incidentId)
    for _, key in ipairs(indexes('open')) do redis.call('ZADD', key, nowMs, incidentId) end
    timeline(incidentId, 'alarm.received', nowIso, received)
    timeline(incidentId, 'incident.opened', nowIso, cjson.encode({ service = service, routed = routed == '1', alarm = name }))
    outcome = 'opened'
  else
    timeline(incidentId, 'alarm.received', nowIso, received)
    outcome = 'updated'
  end
  local alarmsKey = incidentKey(incidentId) .. ':alarms'
  if redis.call('HSET', alarmsKey, arn, alarmJson) == 1 then
    timeline(incidentId, 'alarm.attached', nowIso, cjson.encode({ alarm = name, arn = arn }))
    if outcome == 'updated' then outcome = 'attached' end
  end
else
  -- OK or INSUFFICIENT_DATA
  redis.call('HSET', alarmKey, 'ms', stateMs, 'state', state)
  local alarmsKey = nil
  if incidentId then alarmsKey = incidentKey(incidentId) .. ':alarms' end
  if alarmsKey and redis.call('HEXISTS', alarmsKey, arn) == 1 then
    timeline(incidentId, 'alarm.received', nowIso, received)
    redis.call('HSET', alarmsKey, arn, alarmJson)
    outcome = 'updated'
    if state == 'OK' then
      local allOk = true
      for _, raw in ipairs(redis.call('HVALS', alarmsKey)) do
        if cjson.decode(raw).state ~= 'OK' then allOk = false break end
      end
      if allOk then
        local key = incidentKey(incidentId)
        local openedMs = tonumber(redis.call('HGET', key, 'openedAtMs'))
        redis.call('HSET', key, 'status', 'resolved', 'resolvedAt', nowIso)
        redis.call('DEL', openKey)
        for _, k in ipairs(indexes('open')) do redis.call('ZREM', k, incidentId) end
        for _, k in ipairs(indexes('resolved')) do redis.call('ZADD', k, openedMs, incidentId) end
        timeline(incidentId, 'incident.resolved', nowIso, cjson.encode({ lastAlarm = name, openForMs = nowMs - openedMs }))
        outcome = 'resolved'
      end
    end
  else
    -- An OK (or INSUFFICIENT_DATA) for an alarm no open incident holds: kept, attached to nothing.
    unattached()
    incidentId = false
    outcome = 'unattached'
  end
end

redis.call('SET', eventKey, (incidentId or '') .. '|' .. outcome, 'EX', ttl)
return { incidentId or '', 0, outcome, '' }
`;
