-- acquire: take a free resource, or accept a retry by the lease that
-- already holds it (an acquire whose reply was lost).
-- KEYS[1] lease key
-- ARGV[1] lease id (32 lowercase hex)    ARGV[2] TTL in ms
-- Reply: {1, fence}  acquired (a retry by the holder keeps its fence and
--                    sets the TTL anew)
--        {0, ttl}    held by another lease for ttl more ms
-- Values (numbers in base 36; doc/PROTOCOL.md):
--   held          id fence                      PXAT now + ttl
--   held, history id fence '|' history '|' deadline
--                                  PX max(ttl, the record's retention left)
--   released      '-' fence '|' history         PX retention
-- A new fence is max(last fence + 1, server ms * 1024). The expiry is
-- counted from the same clock reading (PXAT, or the deadline), so a lease
-- that expires unreleased ends at least 1 ms after its fence's ms, and the
-- next fence exceeds it even without a record.
local function b36(n)
  local s = ''
  repeat
    local d = n % 36
    s = string.sub('0123456789abcdefghijklmnopqrstuvwxyz', d + 1, d + 1) .. s
    n = (n - d) / 36
  until n == 0
  return s
end
local v = redis.call('GET', KEYS[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f, hist = now * 1024, nil
if v then
  local dead = string.byte(v, 1) == 45
  local from = dead and 2 or 33
  local b = string.find(v, '|', from, true)
  local b2 = b and string.find(v, '|', b + 1, true)
  local last = tonumber(string.sub(v, from, (b or 0) - 1), 36)
  local left = b2 and tonumber(string.sub(v, b2 + 1), 36) - now
  if not dead and (not b2 or left > 0) then
    if string.sub(v, 1, 32) ~= ARGV[1] then
      return {0, left or redis.call('PTTL', KEYS[1])}
    end
    f = last
  elseif last >= f then
    f = last + 1
  end
  if b then hist = string.sub(v, b + 1, (b2 or 0) - 1) end
end
if hist then
  local keep = math.max(tonumber(ARGV[2]), redis.call('PTTL', KEYS[1]))
  redis.call('SET', KEYS[1], ARGV[1] .. b36(f) .. '|' .. hist .. '|' ..
             b36(now + tonumber(ARGV[2])), 'PX', keep)
else
  redis.call('SET', KEYS[1], ARGV[1] .. b36(f), 'PXAT',
             string.format('%.0f', now + tonumber(ARGV[2])))
end
return {1, f}
