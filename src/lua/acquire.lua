-- acquire: take a free resource, or accept a retry by the lease that
-- already holds it (an acquire whose reply was lost).
-- KEYS[1] lease key
-- ARGV[1] lease id (32 lowercase hex)    ARGV[2] TTL in ms
-- Reply: {1, fence}  acquired (or already held by ARGV[1]: TTL set anew)
--        {0, pttl}   held by another lease for pttl more ms
-- The key holds, while held: id .. fence [.. '|' .. history], and after a
-- release: '-' .. fence .. '|' .. history (numbers in base 36; see
-- doc/PROTOCOL.md). A new fence is max(last fence + 1, server ms * 1024).
local v = redis.call('GET', KEYS[1])
local last, hist = 0, ''
if v then
  if string.byte(v, 1) ~= 45 then
    if string.sub(v, 1, 32) == ARGV[1] then
      redis.call('PEXPIRE', KEYS[1], ARGV[2])
      local bar = string.find(v, '|', 33, true)
      return {1, tonumber(string.sub(v, 33, (bar or 0) - 1), 36)}
    end
    return {0, redis.call('PTTL', KEYS[1])}
  end
  local bar = string.find(v, '|', 2, true)
  last = tonumber(string.sub(v, 2, bar - 1), 36)
  hist = string.sub(v, bar)
end
local t = redis.call('TIME')
local f = (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) * 1024
if last >= f then f = last + 1 end
local s, n = '', f
repeat
  local d = n % 36
  s = string.sub('0123456789abcdefghijklmnopqrstuvwxyz', d + 1, d + 1) .. s
  n = (n - d) / 36
until n == 0
redis.call('SET', KEYS[1], ARGV[1] .. s .. hist, 'PX', ARGV[2])
return {1, f}
