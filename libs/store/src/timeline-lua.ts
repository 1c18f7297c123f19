/** Cap of the change feed stream (`P:changes`). */
export const CHANGES_MAXLEN = 100_000;

/**
 * The Lua every script that writes timeline entries prepends, after setting `timelineKey` and
 * `changesKey` (declared keys: the incident's timeline, the change feed) and `timelineIncident`
 * (the incident they belong to): timeline(incidentId, type, at, dataJson) appends an entry to
 * that incident's timeline and returns its id. A script writes one incident's timeline: another
 * incident's would be a key it did not declare, which Redis Cluster refuses, so that is an error.
 *
 * The change feed (change-feed.ts) is told once per call, with the first entry's type: a call is
 * atomic, so a reader sees all of its entries at once, and the reporters want to know which
 * incident changed, not each entry (one XADD a call instead of one an entry).
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
  end
  return entryId
end
`;
