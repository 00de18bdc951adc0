-- release: compare-and-delete, and record the outcome for the resource.
-- KEYS[1] lease key      KEYS[2] metadata key
-- ARGV[1] lease id       ARGV[2] outcome: success | failure | none
-- ARGV[3] retention of the metadata in ms
-- Reply: {1, fence} | {-1} not held | {-2} held by another lease id
-- Metadata hash fields: f last fence, o last outcome, t last release
-- (server ms), s last successful release (server ms).
local v = redis.call('GET', KEYS[1])
if not v then return {-1} end
if string.sub(v, 1, 32) ~= ARGV[1] then return {-2} end
redis.call('DEL', KEYS[1])
local t = redis.call('TIME')
local now = string.format('%.0f', tonumber(t[1]) * 1000 +
                          math.floor(tonumber(t[2]) / 1000))
local f = string.sub(v, 33)
if ARGV[2] == 'success' then
  redis.call('HSET', KEYS[2], 'f', f, 'o', ARGV[2], 't', now, 's', now)
else
  redis.call('HSET', KEYS[2], 'f', f, 'o', ARGV[2], 't', now)
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, tonumber(f)}
