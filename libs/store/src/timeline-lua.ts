/**
 * The Lua every script that writes timeline entries prepends, after `local P = ARGV[1]` (the key
 * prefix): timeline(incidentId, type, at, dataJson) appends an entry to the incident's timeline
 * and returns its id.
 *
 * The change feed (change-feed.ts) is told once per call and incident, with the first entry's
 * type: a call is atomic, so a reader sees all of its entries at once, and the reporters want to
 * know which incident changed, not each entry (one XADD a call instead of one an entry).
 */
export const TIMELINE_LUA = `
local noted = {}
local function timeline(incidentId, kind, at, data)
  local entryId = redis.call('XADD', P .. ':incident:' .. incidentId .. ':timeline', '*', 'type', kind, 'at', at, 'data', data)
  if not noted[incidentId] then
    noted[incidentId] = true
    redis.call('XADD', P .. ':changes', 'MAXLEN', '~', 100000, '*', 'incident', incidentId, 'type', kind)
  end
  return entryId
end
`;
