-- acquire: take a free resource, or accept a retry by the lease that
-- already holds it (an acquire whose reply was lost).
-- KEYS[1] lease key    KEYS[2] acquisition log (only with max acquires)
-- Derived keys in the same slot: KEYS[1]..':q' the waiter queue,
-- KEYS[1]..':w:'..id a waiter's wake list, KEYS[1]..':n' the nudge list.
-- ARGV[1] lease id (32 lowercase hex)    ARGV[2] TTL in ms
-- Conditions, all optional (checked when the resource is free):
-- ARGV[3] cooldown ms (0: none)   ARGV[4] 's': cooldown since the last
-- successful release, else since the last release
-- ARGV[5] a successful release within this many ms (0: none)
-- ARGV[6] max acquires (0: none)  ARGV[7] in any window of this many ms
-- ARGV[8] wait ms (0 or absent: one try)  ARGV[9] the caller's queue entry
-- when it has one (id ':' deadline ':' ttl, base 36, then with a cooldown
-- or success required ':' cooldown ':' 's' or 'a' ':' within)
-- Reply: {1, fence}  acquired (a retry by the holder keeps its fence and
--                    sets the TTL anew)
--        {0, ttl}    held by another lease for ttl more ms
--        {2, failed, wait}  conditions failed: bits 1 cooldown, 2 success
--                    required, 4 max acquires; wait: ms until they would
--                    pass, -1 if time alone cannot
--        {3, ttl, entry}  queued (ARGV[8] > 0): block on the wake list
-- A free resource goes to the first live waiter before any newcomer.
-- Values (numbers in base 36; doc/PROTOCOL.md):
--   held          id fence                      PXAT now + ttl
--   held, history id fence '|' history '|' deadline
--                                  PX max(ttl, the record's retention left)
--   released      '-' fence '|' history         PX retention
-- A new fence is max(last fence + 1, server ms * 1024). The expiry is
-- counted from the same clock reading (PXAT, or the deadline), so a lease
-- that expires unreleased ends at least 1 ms after its fence's ms, and the
-- next fence exceeds it even without a record.
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
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local f, hist = now * 1024, nil
local retry, busy, free_fence, holder = false, nil, nil, nil
if v then
  local dead = string.byte(v, 1) == 45
  local from = dead and 2 or 33
  local b = string.find(v, '|', from, true)
  local b2 = b and string.find(v, '|', b + 1, true)
  local last = tonumber(string.sub(v, from, (b or 0) - 1), 36)
  local left = b2 and tonumber(string.sub(v, b2 + 1), 36) - now
  if not dead and (not b2 or left > 0) then
    if string.sub(v, 1, 32) ~= ARGV[1] then
      busy = left or redis.call('PTTL', KEYS[1])
      holder = string.sub(v, 1, 32)
    else
      f, retry = last, true
    end
  elseif last >= f then
    f = last + 1
  end
  if b then hist = string.sub(v, b + 1, (b2 or 0) - 1) end
  free_fence = last
end
local waiting = tonumber(ARGV[8] or '0') > 0
if not busy and not retry and redis.call('EXISTS', KEYS[1] .. ':q') == 1 then
  local keep = v and redis.call('PTTL', KEYS[1]) or 0
  local w, gf, gttl = grant(KEYS[1], free_fence or f - 1, hist, keep, now)
  if w == ARGV[1] then
    redis.call('DEL', KEYS[1] .. ':w:' .. w)
    return {1, gf}
  end
  if w then busy, holder = gttl, w end
end
-- a waiter that asks empties its wake list: a grant there is its lease
-- (retry), a refusal is stale (this call checks the conditions itself,
-- and a waiter retrying after a lost connection must not read one)
if waiting then redis.call('DEL', KEYS[1] .. ':w:' .. ARGV[1]) end
if busy and not waiting then return {0, busy} end
if ARGV[3] and not retry then
  local failed, wait = refused(tonumber(ARGV[3]), ARGV[4] == 's',
                               tonumber(ARGV[5]), hist, now)
  local n, win = tonumber(ARGV[6]), tonumber(ARGV[7])
  if n > 0 then
    local old = tonumber(redis.call('LINDEX', KEYS[2], n - 1))
    if old and now - old < win then
      failed = failed + 4
      if wait >= 0 then wait = math.max(wait, old + win - now) end
    end
  end
  if failed > 0 then return {2, failed, wait} end
  if n > 0 and not busy then
    redis.call('LPUSH', KEYS[2], string.format('%.0f', now))
    redis.call('LTRIM', KEYS[2], 0, n - 1)
    redis.call('PEXPIRE', KEYS[2], win)
  end
end
if busy then
  local q, e = KEYS[1] .. ':q', ARGV[9]
  if not e or e == '' then
    e = ARGV[1] .. ':' .. b36(now + tonumber(ARGV[8])) .. ':' ..
        b36(tonumber(ARGV[2]))
    -- conditions ride in the entry: a grant checks them (grant())
    local cool, within = tonumber(ARGV[3] or '0'), tonumber(ARGV[5] or '0')
    if cool > 0 or within > 0 then
      e = e .. ':' .. b36(cool) .. ':' .. (ARGV[4] == 's' and 's' or 'a') ..
          ':' .. b36(within)
    end
  end
  if not redis.call('LPOS', q, e) then redis.call('RPUSH', q, e) end
  local want = tonumber(ARGV[8]) + tonumber(ARGV[2]) + 1000
  if redis.call('PTTL', q) < want then redis.call('PEXPIRE', q, want) end
  -- A holder whose grant is unread may be a waiter that is gone, granted
  -- when nobody waited behind it: nudge (unless a nudge is pending), so
  -- a waiter checks it after the reservation (wait.lua).
  local n = KEYS[1] .. ':n'
  if redis.call('EXISTS', KEYS[1] .. ':w:' .. holder) == 1 and
     redis.call('EXISTS', n) == 0 then
    redis.call('RPUSH', n, holder .. ':' .. b36(now))
    redis.call('PEXPIRE', n, busy)
  end
  return {3, busy, e}
end
if hist then
  local keep = math.max(tonumber(ARGV[2]), redis.call('PTTL', KEYS[1]))
  redis.call('SET', KEYS[1], ARGV[1] .. b36(f) .. '|' .. hist .. '|' ..
             b36(now + tonumber(ARGV[2])), 'PX', keep)
else
  redis.call('SET', KEYS[1], ARGV[1] .. b36(f), 'PXAT',
             string.format('%.0f', now + tonumber(ARGV[2])))
end
return {1, f}
