-- extend: set the remaining TTL of a lease held by this id to ARGV[2] ms
-- from now (server time); never adds to what remains.
-- KEYS[1] lease key
-- ARGV[1] lease id    ARGV[2] TTL in ms
-- Reply: {1, ttl, fence} | {-1} not held | {-2} held by another lease id
local v = redis.call('GET', KEYS[1])
if not v or string.byte(v, 1) == 45 then return {-1} end
if string.sub(v, 1, 32) ~= ARGV[1] then return {-2} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local bar = string.find(v, '|', 33, true)
return {1, tonumber(ARGV[2]), tonumber(string.sub(v, 33, (bar or 0) - 1), 36)}
