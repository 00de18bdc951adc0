#!lua flags=no-writes
-- confirm: is the resource held by this lease id? Read-only: runs on
-- replicas, under CLIENT PAUSE WRITE and when Redis is out of memory.
-- KEYS[1] lease key
-- ARGV[1] lease id
-- Reply: {1, pttl, fence}  held by ARGV[1]
--        {-1}              not held (expired or released: no key, or a
--                          tombstone starting with '-')
--        {-2}              held by another lease id
local v = redis.call('GET', KEYS[1])
if not v or string.byte(v, 1) == 45 then return {-1} end
if string.sub(v, 1, 32) ~= ARGV[1] then return {-2} end
local bar = string.find(v, '|', 33, true)
return {1, redis.call('PTTL', KEYS[1]),
        tonumber(string.sub(v, 33, (bar or 0) - 1), 36)}
