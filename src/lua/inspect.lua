#!lua flags=no-writes
-- inspect: the state of a resource, read-only.
-- KEYS[1] lease key
-- Reply: {held, ttl, fence, last_outcome, last_release_ms}
--   held 1|0; ttl -1 when not held; fence the holder's, else the last
--   one recorded, else -1; last_outcome 'success' | 'failure' | 'none',
--   or '' when no release is recorded; last_release_ms -1 when none is.
local v = redis.call('GET', KEYS[1])
if not v then return {0, -1, -1, '', -1} end
local dead = string.byte(v, 1) == 45
local from = dead and 2 or 33
local b = string.find(v, '|', from, true)
local b2 = b and string.find(v, '|', b + 1, true)
local f = tonumber(string.sub(v, from, (b or 0) - 1), 36)
local o, last = '', -1
if b then
  local h = string.sub(v, b + 1, (b2 or 0) - 1)
  local c = string.sub(h, 1, 1)
  o = (c == 's' and 'success') or (c == 'f' and 'failure') or 'none'
  local dot = string.find(h, '.', 2, true)
  last = tonumber(string.sub(h, 2, (dot or 0) - 1), 36)
end
if not dead then
  if not b2 then return {1, redis.call('PTTL', KEYS[1]), f, o, last} end
  local t = redis.call('TIME')
  local left = tonumber(string.sub(v, b2 + 1), 36) -
               (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  if left > 0 then return {1, left, f, o, last} end
end
return {0, -1, f, o, last}
