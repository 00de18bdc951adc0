#!lua flags=no-writes
-- inspect: the state of a resource, read-only.
-- KEYS[1] lease key
-- Reply: {held, pttl, fence, last_outcome, last_release_ms}
--   held 1|0; pttl -1 when not held; fence the holder's, else the last
--   released one, else -1; last_outcome 'success' | 'failure' | 'none',
--   or '' when no release is recorded; last_release_ms -1 when none is.
local v = redis.call('GET', KEYS[1])
if not v then return {0, -1, -1, '', -1} end
local held = string.byte(v, 1) ~= 45
local from = held and 33 or 2
local bar = string.find(v, '|', from, true)
local f = tonumber(string.sub(v, from, (bar or 0) - 1), 36)
local o, t = '', -1
if bar then
  local c = string.sub(v, bar + 1, bar + 1)
  o = (c == 's' and 'success') or (c == 'f' and 'failure') or 'none'
  local dot = string.find(v, '.', bar + 2, true)
  t = tonumber(string.sub(v, bar + 2, (dot or 0) - 1), 36)
end
if held then return {1, redis.call('PTTL', KEYS[1]), f, o, t} end
return {0, -1, f, o, t}
