/**
 * A compare-and-set over several keys, for decisions made outside Redis: the script checks that
 * the facts the decision read still hold (guards), and only then makes its writes, atomically.
 * Every key is declared (KEYS) and named by its 1-based index, so the script runs on Redis
 * Cluster when the keys share a hash slot (a {hash-tag} prefix). It decides nothing itself.
 *
 * Guards (the first that fails is reported, nothing is written):
 *   ['absent', k]                 the key does not exist
 *   ['get', k, v]                 the string key holds v
 *   ['hget', k, field, v | null]  HGET is v (null: the field is missing)
 *   ['hexists', k, field, 0 | 1]
 *   ['hlen', k, n]
 *   ['hnum<=', k, field, n]       the field as a number (missing: -1) is at most n
 *   ['hnum>', k, field, n]        ... is above n
 * Writes: [command, k, ...args], e.g. ['HSET', 2, 'status', 'resolved'].
 */

export type Guard =
  | ['absent', number]
  | ['get', number, string]
  | ['hget', number, string, string | null]
  | ['hexists', number, string, 0 | 1]
  | ['hlen', number, number]
  | ['hnum<=', number, string, number]
  | ['hnum>', number, string, number];

export type Write = [string, number, ...string[]];

/** A checked write's answer: applied, or the 1-based index of the guard that failed (and the key's value, for `absent` on a string). */
export type CheckedWriteResult = { applied: true } | { applied: false; guard: number; value: string | null };

/**
 * KEYS: the keys; ARGV[1]: guards (JSON); ARGV[2]: writes (JSON). Returns { 1 }, or { 0, index of
 * the failed guard, the key's value when that guard was `absent` on a string key (else false) }:
 * a caller that expected an event key absent learns what the first delivery recorded.
 */
export const CHECKED_WRITE_LUA = `
local guards, writes = cjson.decode(ARGV[1]), cjson.decode(ARGV[2])
local function same(actual, expected)
  if expected == cjson.null then return actual == false end
  return actual == expected
end
for i, g in ipairs(guards) do
  local op, key = g[1], KEYS[g[2]]
  local ok
  if op == 'absent' then ok = redis.call('EXISTS', key) == 0
  elseif op == 'get' then ok = redis.call('GET', key) == g[3]
  elseif op == 'hget' then ok = same(redis.call('HGET', key, g[3]), g[4])
  elseif op == 'hexists' then ok = redis.call('HEXISTS', key, g[3]) == g[4]
  elseif op == 'hlen' then ok = redis.call('HLEN', key) == g[3]
  elseif op == 'hnum<=' then ok = tonumber(redis.call('HGET', key, g[3]) or '-1') <= g[4]
  elseif op == 'hnum>' then ok = tonumber(redis.call('HGET', key, g[3]) or '-1') > g[4]
  else return redis.error_reply('unknown guard ' .. tostring(op)) end
  if not ok then
    local value = false
    if op == 'absent' and redis.call('TYPE', key).ok == 'string' then value = redis.call('GET', key) end
    return { 0, i, value }
  end
end
for _, w in ipairs(writes) do
  local args = { w[1], KEYS[w[2]] }
  for j = 3, #w do args[#args + 1] = w[j] end
  redis.call(unpack(args))
end
return { 1 }
`;

/** Builds the KEYS list of a checked write: each key once, referred to by its 1-based index. */
export class KeyList {
  readonly keys: string[] = [];
  private readonly index = new Map<string, number>();

  ref(key: string): number {
    let i = this.index.get(key);
    if (i === undefined) {
      this.keys.push(key);
      i = this.keys.length;
      this.index.set(key, i);
    }
    return i;
  }
}
