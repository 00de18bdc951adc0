#!lua flags=no-writes
-- confirm: is the resource held by this lease id? Read-only: runs on
-- replicas, under CLIENT PAUSE WRITE and when Redis is out of memory.
-- KEYS[1] lease key
-- ARGV[1] lease id
-- Reply: {1, ttl, fence}  held by ARGV[1], for ttl more ms
--        {-1}             not held: no key, a tombstone ('-' first), or a
--                         held value whose deadline has passed
--        {-2}             held by another lease id
local v = redis.call('GET', KEYS[1])
if not v or string.byte(v, 1) == 45 then return {-1} end
local b = string.find(v, '|', 33, true)
local b2 = b and string.find(v, '|', b + 1, true)
local left
if b2 then
  local t = redis.call('TIME')
  left = tonumber(string.sub(v, b2 + 1), 36) -
         (tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  if left <= 0 then return {-1} end
end
if string.sub(v, 1, 32) ~= ARGV[1] then return {-2} end
return {1, left or redis.call('PTTL', KEYS[1]),
        tonumber(string.sub(v, 33, (b or 0) - 1), 36)}
