-- release: compare-and-replace the lease with a tombstone that records
-- the fence and the outcome for the resource.
-- KEYS[1] lease key
-- ARGV[1] lease id       ARGV[2] outcome: success | failure | none
-- ARGV[3] retention of the tombstone in ms
-- Reply: {1, fence} | {-1} not held | {-2} held by another lease id
-- The tombstone is '-' fence '|' history; history is the outcome's letter
-- (s, f, n), the release time in server ms and, after a failure or none,
-- '.' and the time of the last successful release (base 36 numbers).
-- If waiters are queued (KEYS[1]..':q'), the first live one is granted
-- the lease instead, carrying this release's history (see acquire.lua),
-- and no tombstone is written: the handoff is this one script.
-- n >= 0 in base 36: the digits collect as arguments (no string is
-- made until the one string.char)
local function b36(n, ...)
  local d = n % 36
  local c = d < 10 and d + 48 or d + 87
  if n < 36 then return string.char(c, ...) end
  return b36((n - d) / 36, c, ...)
end
-- Would a cooldown of 'cool' ms (since the last success if 'sonly', else
-- since the last release) or a success required within 'within' ms (0:
-- none) refuse the resource now, after history 'hist'? Returns the failed
-- bits (1 cooldown, 2 success required) and the ms until they would pass
-- (-1: time alone cannot). Acquire's own check and a grant both use it.
local function refused(cool, sonly, within, hist, now)
  local rel, ok
  if hist then
    local dot = string.find(hist, '.', 2, true)
    rel = tonumber(string.sub(hist, 2, (dot or 0) - 1), 36)
    if string.byte(hist, 1) == 115 then
      ok = rel
    elseif dot then
      ok = tonumber(string.sub(hist, dot + 1), 36)
    end
  end
  local since = rel
  if sonly then since = ok end
  local failed, wait = 0, 0
  if cool > 0 and since and now - since < cool then
    failed, wait = 1, since + cool - now
  end
  if within > 0 and not (ok and now - ok <= within) then
    failed, wait = failed + 2, -1
  end
  return failed, wait
end
-- Grant the resource to the first waiter whose deadline has not passed
-- and whose conditions (if its entry carries any) hold after 'hist': its
-- lease with fence 'f' + 1 and history 'hist' kept 'keep' ms, its grant
-- pushed on its wake list, and a nudge when more wait behind it. A waiter
-- whose conditions fail gets '-' failed ':' wait there instead.
-- 'nowb': b36(now), if the caller has it.
local function grant(base, f, hist, keep, now, nowb)
  local q = base .. ':q'
  while true do
    local e = redis.call('LPOP', q)
    if not e then return nil end
    local c = string.find(e, ':', 34, true)
    if tonumber(string.sub(e, 34, c - 1), 36) > now then
      local w, c2 = string.sub(e, 1, 32), string.find(e, ':', c + 1, true)
      local ttl = tonumber(string.sub(e, c + 1, (c2 or 0) - 1), 36)
      local wk, failed, wait = base .. ':w:' .. w, 0, 0
      if c2 then -- its conditions: cooldown ':' 's' or 'a' ':' within
        local c3 = string.find(e, ':', c2 + 1, true)
        failed, wait = refused(tonumber(string.sub(e, c2 + 1, c3 - 1), 36),
                               string.byte(e, c3 + 1) == 115,
                               tonumber(string.sub(e, c3 + 3), 36), hist, now)
      end
      if failed > 0 then
        -- its conditions fail now: tell it so, and serve the next entry
        redis.call('RPUSH', wk, '-' .. failed .. ':' .. wait)
        redis.call('PEXPIRE', wk, ttl)
      else
        f = math.max(f + 1, now * 1024)
        local fb = b36(f)
        nowb = nowb or b36(now)
        if hist then
          redis.call('SET', base, w .. fb .. '|' .. hist .. '|' ..
                     b36(now + ttl), 'PX', math.max(ttl, keep))
        else
          redis.call('SET', base, w .. fb, 'PXAT', now + ttl)
        end
        redis.call('RPUSH', wk, fb .. ':' .. nowb)
        redis.call('PEXPIRE', wk, ttl)
        if redis.call('EXISTS', q) == 1 then
          redis.call('RPUSH', base .. ':n', w .. ':' .. nowb)
          redis.call('PEXPIRE', base .. ':n', ttl)
        end
        return w, f, ttl
      end
    end
  end
end
local v = redis.call('GET', KEYS[1])
if not v or string.byte(v, 1) == 45 then return {-1} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = string.find(v, '|', 33, true)
local b2 = b and string.find(v, '|', b + 1, true)
if b2 and tonumber(string.sub(v, b2 + 1), 36) <= now then return {-1} end
if string.sub(v, 1, 32) ~= ARGV[1] then return {-2} end
local f = string.sub(v, 33, (b or 0) - 1)
local ok = ''
if b then
  local h = string.sub(v, b + 1, (b2 or 0) - 1)
  local dot = string.find(h, '.', 2, true)
  if string.byte(h, 1) == 115 then
    ok = string.sub(h, 2, (dot or 0) - 1)
  elseif dot then
    ok = string.sub(h, dot + 1)
  end
end
local o, nowb = string.sub(ARGV[2], 1, 1), b36(now)
local h = o .. nowb
if o ~= 's' and ok ~= '' then h = h .. '.' .. ok end
-- grant() pops the queue at once: no EXISTS first on the handoff path
if grant(KEYS[1], tonumber(f, 36), h, tonumber(ARGV[3]), now, nowb) then
  return {1, tonumber(f, 36)}
end
redis.call('SET', KEYS[1], '-' .. f .. '|' .. h, 'PX', ARGV[3])
return {1, tonumber(f, 36)}
