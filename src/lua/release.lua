-- release: compare-and-delete that leaves a tombstone recording the fence
-- and the outcome for the resource.
-- KEYS[1] lease key
-- ARGV[1] lease id       ARGV[2] outcome: success | failure | none
-- ARGV[3] retention of the tombstone in ms
-- Reply: {1, fence} | {-1} not held | {-2} held by another lease id
-- The tombstone is '-' .. fence .. '|' .. history, history being the
-- outcome's letter (s, f, n), the release time in server ms and, after a
-- failure or none, '.' and the last successful release's time (all numbers
-- in base 36).
local v = redis.call('GET', KEYS[1])
if not v or string.byte(v, 1) == 45 then return {-1} end
if string.sub(v, 1, 32) ~= ARGV[1] then return {-2} end
local bar = string.find(v, '|', 33, true)
local f = string.sub(v, 33, (bar or 0) - 1)
local ok = ''
if bar then
  local dot = string.find(v, '.', bar + 2, true)
  if string.byte(v, bar + 1) == 115 then
    ok = string.sub(v, bar + 2, (dot or 0) - 1)
  elseif dot then
    ok = string.sub(v, dot + 1)
  end
end
local t = redis.call('TIME')
local n = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local now = ''
repeat
  local d = n % 36
  now = string.sub('0123456789abcdefghijklmnopqrstuvwxyz', d + 1, d + 1) .. now
  n = (n - d) / 36
until n == 0
local o = string.sub(ARGV[2], 1, 1)
local h = o .. now
if o ~= 's' and ok ~= '' then h = h .. '.' .. ok end
redis.call('SET', KEYS[1], '-' .. f .. '|' .. h, 'PX', ARGV[3])
return {1, tonumber(f, 36)}
