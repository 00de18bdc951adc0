-- acquire: take a free resource, or accept a retry by the lease that
-- already holds it (an acquire whose reply was lost).
-- KEYS[1] lease key      KEYS[2] metadata key
-- ARGV[1] lease id (32 lowercase hex)    ARGV[2] TTL in ms
-- Reply: {1, fence}  acquired (or already held by ARGV[1]: TTL set anew)
--        {0, pttl}   held by another lease for pttl more ms
-- The lease key holds id .. fence (decimal). A new fence is
-- max(last released fence + 1, server ms * 1024): it keeps rising across
-- expiry, release and a restart that lost the data, while the server clock
-- does not step back and a resource sees fewer than 1024 acquires per ms.
local v = redis.call('GET', KEYS[1])
if v then
  if string.sub(v, 1, 32) == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, tonumber(string.sub(v, 33))}
  end
  return {0, redis.call('PTTL', KEYS[1])}
end
local t = redis.call('TIME')
local f = (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) * 1024
local last = tonumber(redis.call('HGET', KEYS[2], 'f'))
if last and last >= f then f = last + 1 end
redis.call('SET', KEYS[1], ARGV[1] .. string.format('%.0f', f), 'PX', ARGV[2])
return {1, f}
