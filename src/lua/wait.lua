-- wait: what a queued waiter asks besides acquire.
-- KEYS[1] lease key (derived, same slot: ':q' queue, ':w:'..id wake lists)
-- ARGV[1] the waiter's id    ARGV[2] its queue entry
-- ARGV[3] 'check' (after a nudge) or 'leave' (its deadline passed)
-- ARGV[4] check: the id granted in the nudge
-- ARGV[5] check: the reservation in ms (a grant unread this long is
--         revoked and the next waiter granted)
-- Reply: {1, fence}  the waiter holds the lease (its wake list emptied)
--        {3, ttl}    still waiting (its entry is queued); ttl: the holder's
--        {0}         left (any grant it had is given back)
--        {2, failed, wait}  a grant found its conditions failing (as
--                    acquire's {2}); it is no longer queued
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
-- Take the lease away from 'holder' (its grant unread) and hand it on:
-- to the next live waiter, else back to a tombstone of its history.
local function pass_on(base, v, now)
  local b = string.find(v, '|', 33, true)
  local b2 = b and string.find(v, '|', b + 1, true)
  local f = tonumber(string.sub(v, 33, (b or 0) - 1), 36)
  local hist = b and string.sub(v, b + 1, (b2 or 0) - 1)
  local keep = redis.call('PTTL', base)
  redis.call('DEL', base .. ':w:' .. string.sub(v, 1, 32))
  if grant(base, f, hist, keep, now) then return end
  if hist then
    redis.call('SET', base, '-' .. b36(f) .. '|' .. hist, 'PX', keep)
  else
    redis.call('SET', base, '-' .. b36(f), 'PX', math.max(keep, 1))
  end
end
local base, id = KEYS[1], ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local v = redis.call('GET', base)
local mine = v and string.sub(v, 1, 32) == id
if ARGV[3] == 'leave' then
  redis.call('LREM', base .. ':q', 0, ARGV[2])
  if mine then pass_on(base, v, now) end
  redis.call('DEL', base .. ':w:' .. id)
  return {0}
end
if v and not mine and string.sub(v, 1, 32) == ARGV[4] then
  local g = redis.call('LINDEX', base .. ':w:' .. ARGV[4], 0)
  local c = g and string.find(g, ':', 1, true)
  if c and now - tonumber(string.sub(g, c + 1), 36) >= tonumber(ARGV[5]) then
    pass_on(base, v, now)
    v = redis.call('GET', base)
    mine = v and string.sub(v, 1, 32) == id
  end
end
if mine then
  redis.call('DEL', base .. ':w:' .. id)
  local b = string.find(v, '|', 33, true)
  return {1, tonumber(string.sub(v, 33, (b or 0) - 1), 36)}
end
local q = base .. ':q'
if not redis.call('LPOS', q, ARGV[2]) then
  -- popped: refused by a grant (its conditions failed), or revoked
  local x = redis.call('LPOP', base .. ':w:' .. id)
  if x and string.byte(x, 1) == 45 then
    local c = string.find(x, ':', 2, true)
    return {2, tonumber(string.sub(x, 2, c - 1)), tonumber(string.sub(x, c + 1))}
  end
  -- rejoin, and keep the queue as long as acquire.lua would
  redis.call('RPUSH', q, ARGV[2])
  local c = string.find(ARGV[2], ':', 34, true)
  local c2 = string.find(ARGV[2], ':', c + 1, true)
  local want = tonumber(string.sub(ARGV[2], 34, c - 1), 36) - now +
               tonumber(string.sub(ARGV[2], c + 1, (c2 or 0) - 1), 36) + 1000
  if redis.call('PTTL', q) < want then redis.call('PEXPIRE', q, want) end
end
local ttl = redis.call('PTTL', base)
if v and string.byte(v, 1) ~= 45 then
  local b = string.find(v, '|', 33, true)
  local b2 = b and string.find(v, '|', b + 1, true)
  if b2 then ttl = tonumber(string.sub(v, b2 + 1), 36) - now end
end
return {3, ttl}
