-- guard: run one command only if the resource is held by this lease id.
-- KEYS[1] lease key      KEYS[2..] the command's keys, in order
-- ARGV[1] lease id
-- ARGV[2] layout: one letter per argument after the command name,
--         'k' takes the next key from KEYS, 'a' the next ARGV
-- ARGV[3] command name   ARGV[4..] the command's other arguments, in order
-- Reply: {1, reply} | {-1} not held | {-2} held by another lease id
-- A failing command raises an error and, being the only write, changes
-- nothing.
local v = redis.call('GET', KEYS[1])
if not v or string.byte(v, 1) == 45 then return {-1} end
local b = string.find(v, '|', 33, true)
local b2 = b and string.find(v, '|', b + 1, true)
if b2 then
  local t = redis.call('TIME')
  if tonumber(string.sub(v, b2 + 1), 36) <=
     tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) then
    return {-1}
  end
end
if string.sub(v, 1, 32) ~= ARGV[1] then return {-2} end
local cmd, k, a = {ARGV[3]}, 2, 4
local layout = ARGV[2]
for i = 1, #layout do
  if string.byte(layout, i) == 107 then
    cmd[i + 1] = KEYS[k]; k = k + 1
  else
    cmd[i + 1] = ARGV[a]; a = a + 1
  end
end
return {1, redis.call(unpack(cmd))}
