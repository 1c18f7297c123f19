/** Cap of the change feed streams (`P:changes`, `P:changes:alarms`). */
export const CHANGES_MAXLEN = 100_000;

/**
 * A change that can start a runbook: its first timeline entry says an alarm reached the incident
 * (`alarm.*`, the intake's write) or the incident was opened (`incident.opened`, a manual run). Such
 * a change goes to the alarm feed (`P:changes:alarms`) as well as the change feed, so that the
 * engine's plan listener reads only these instead of waking for every step move. `ALARM_CHANGE_LUA`
 * is the same test in Lua: change both together.
 */
export function isAlarmChange(type: string): boolean {
  return type.startsWith('alarm.') || type === 'incident.opened';
}
const ALARM_CHANGE_LUA = `string.sub(kind, 1, 6) == 'alarm.' or kind == 'incident.opened'`;

/**
 * The Lua every script that writes timeline entries prepends, after setting `timelineKey`,
 * `changesKey` and `alarmChangesKey` (declared keys: the incident's timeline, the change feed, the
 * alarm feed) and `timelineIncident` (the incident they belong to): timeline(incidentId, type, at,
 * dataJson) appends an entry to that incident's timeline and returns its id. A script writes one
 * incident's timeline: another incident's would be a key it did not declare, which Redis Cluster
 * refuses, so that is an error.
 *
 * The change feed (change-feed.ts) is told once per call, with the first entry's type: a call is
 * atomic, so a reader sees all of its entries at once, and the reporters want to know which
 * incident changed, not each entry (one XADD a call instead of one an entry). The alarm feed is
 * told the same, in the same call, when that type is an alarm change (`isAlarmChange`).
 */
export const TIMELINE_LUA = `
local noted = false
local function timeline(incidentId, kind, at, data)
  if incidentId ~= timelineIncident then
    error('timeline of incident ' .. tostring(incidentId) .. ', declared ' .. tostring(timelineIncident))
  end
  local entryId = redis.call('XADD', timelineKey, '*', 'type', kind, 'at', at, 'data', data)
  if not noted then
    noted = true
    redis.call('XADD', changesKey, 'MAXLEN', '~', ${CHANGES_MAXLEN}, '*', 'incident', incidentId, 'type', kind)
    if ${ALARM_CHANGE_LUA} then
      redis.call('XADD', alarmChangesKey, 'MAXLEN', '~', ${CHANGES_MAXLEN}, '*', 'incident', incidentId, 'type', kind)
    end
  end
  return entryId
end
`;
