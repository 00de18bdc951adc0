-- extend: set the remaining TTL of a lease held by this id to ARGV[2] ms
-- from now (server time); never adds to what remains.
-- KEYS[1] lease key
-- ARGV[1] lease id    ARGV[2] TTL in ms
-- Reply: {1, ttl, fence} | {-1} not held | {-2} held by another lease id
-- A value that carries a release history keeps it (and its retention):
-- only its deadline changes.
-- n >= 0 in base 36: the digits collect as arguments (no string is
-- made until the one string.char)
local function b36(n, ...)
  local d = n % 36
  local c = d < 10 and d + 48 or d + 87
  if n < 36 then return string.char(c, ...) end
  return b36((n - d) / 36, c, ...)
end
local v = redis.call('GET', KEYS[1])
if not v or string.byte(v, 1) == 45 then return {-1} end
local b = string.find(v, '|', 33, true)
local b2 = b and string.find(v, '|', b + 1, true)
local now
if b2 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if tonumber(string.sub(v, b2 + 1), 36) <= now then return {-1} end
end
if string.sub(v, 1, 32) ~= ARGV[1] then return {-2} end
if b2 then
  local keep = math.max(tonumber(ARGV[2]), redis.call('PTTL', KEYS[1]))
  redis.call('SET', KEYS[1], string.sub(v, 1, b2) ..
             b36(now + tonumber(ARGV[2])), 'PX', keep)
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {1, tonumber(ARGV[2]), tonumber(string.sub(v, 33, (b or 0) - 1), 36)}
