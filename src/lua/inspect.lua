#!lua flags=no-writes
-- inspect: the state of a resource, read-only.
-- KEYS[1] lease key      KEYS[2] metadata key
-- Reply: {held, pttl, fence, last_outcome, last_release_ms}
--   held 1|0; pttl -1 when not held; fence the holder's, else the last
--   released one, else -1; last_outcome '' when none is recorded;
--   last_release_ms -1 when none is recorded.
local v = redis.call('GET', KEYS[1])
local m = redis.call('HMGET', KEYS[2], 'f', 'o', 't')
local o, t = m[2] or '', tonumber(m[3]) or -1
if v then
  return {1, redis.call('PTTL', KEYS[1]), tonumber(string.sub(v, 33)), o, t}
end
return {0, -1, tonumber(m[1]) or -1, o, t}
