"""The Lua scripts of the Redis store: each operation of :mod:`._store` as one atomic script.

Times are the Redis server's clock (``TIME``), in milliseconds, so every process and machine
sharing the server counts with one clock. Keys of one record share a hash tag (``{...}``) so
a cluster keeps them in one slot. Every key written gets a TTL: nothing outlives the window,
the lease or the cooldown it describes.

Rate record of a key K: ``K:c`` (sorted set: lease -> admitted at), ``K:t`` (hash: lease ->
tokens, and field ``=``: their sum), ``K:l`` (sorted set: lease -> lease ends at).
Health record: ``K:h`` (hash: ``failures``, ``first``, ``until``, ``probe``).
Spending record of a key K and a period P (ms): ``K:s:P`` (hash: ``@`` the period's index,
and one field per amount name), expiring when the period ends.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "ADMIT", "IN_FLIGHT", "RECORD", "RELEASE", "SPEND", "SPENT"]

_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

ACQUIRE = (
    _NOW
    + """
-- KEYS: calls, tokens, leases. ARGV: calls limit, tokens limit, concurrency (0: none),
-- window ms, tokens of this call, lease ttl ms, lease id, whether to record the lease (1/0).
-- Returns {1} when admitted, else {0, wait ms (-1: unknown), limit name}.
local calls_max, tokens_max, conc = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local window, tokens, ttl, id = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local windowed = calls_max > 0 or tokens_max > 0
local total = 0
if windowed then
  local since = now - window
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', since)
  if #old > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', since)
    local gone = 0
    for _, lease in ipairs(old) do
      gone = gone + (tonumber(redis.call('HGET', KEYS[2], lease)) or 0)
      redis.call('HDEL', KEYS[2], lease)
    end
    if gone > 0 then redis.call('HINCRBY', KEYS[2], '=', -gone) end
  end
  if tokens_max > 0 then
    if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('DEL', KEYS[2]) end
    total = tonumber(redis.call('HGET', KEYS[2], '=')) or 0
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local full, wait = nil, -1
if conc > 0 and redis.call('ZCARD', KEYS[3]) >= conc then full = 'concurrency' end
if calls_max > 0 and redis.call('ZCARD', KEYS[1]) >= calls_max then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  wait = math.max(wait, tonumber(first[2]) + window - now)
  full = full or 'calls'
end
if tokens_max > 0 and total + tokens > tokens_max then
  local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
  local freed, at = 0, now
  for i = 1, #entries, 2 do
    freed = freed + (tonumber(redis.call('HGET', KEYS[2], entries[i])) or 0)
    at = tonumber(entries[i + 1])
    if total - freed + tokens <= tokens_max then break end
  end
  wait = math.max(wait, at + window - now)
  full = full or 'tokens'
end
if full then return {0, wait, full} end
if windowed then
  redis.call('ZADD', KEYS[1], now, id)
  redis.call('PEXPIRE', KEYS[1], window)
end
if tokens_max > 0 then
  redis.call('HSET', KEYS[2], id, tokens)
  redis.call('HINCRBY', KEYS[2], '=', tokens)
  redis.call('PEXPIRE', KEYS[2], window)
end
if ARGV[8] == '1' then
  redis.call('ZADD', KEYS[3], now + ttl, id)
  redis.call('PEXPIRE', KEYS[3], ttl)
end
return {1}
"""
)

RELEASE = """
-- KEYS: tokens, leases. ARGV: lease id, the call's real tokens (-1: unknown).
redis.call('ZREM', KEYS[2], ARGV[1])
local used = tonumber(ARGV[2])
if used >= 0 then
  local estimate = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
  if estimate then
    redis.call('HSET', KEYS[1], ARGV[1], used)
    redis.call('HINCRBY', KEYS[1], '=', used - estimate)
  end
end
return 1
"""

IN_FLIGHT = (
    _NOW
    + """
-- KEYS: lease sets. Returns the leases held now in each.
local counts = {}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  counts[i] = redis.call('ZCARD', key)
end
return counts
"""
)

ADMIT = (
    _NOW
    + """
-- KEYS: health. ARGV: cooldown duration ms (how long a probe's claim lasts).
-- Returns {allowed, probe, failures, wait ms}.
local h = redis.call('HMGET', KEYS[1], 'until', 'probe', 'failures')
local till = tonumber(h[1])
if not till then return {1, 0, tonumber(h[3]) or 0, 0} end
if now < till then return {0, 0, 0, till - now} end
local probe = tonumber(h[2])
if probe and probe > now then return {0, 0, 0, probe - now} end
local duration = tonumber(ARGV[1])
redis.call('HSET', KEYS[1], 'probe', now + duration)
redis.call('PEXPIRE', KEYS[1], 2 * duration)
return {1, 1, 0, 0}
"""
)

RECORD = (
    _NOW
    + """
-- KEYS: health. ARGV: failed (0/1), failures to open, window ms, duration ms, retry-after ms (0: none).
if ARGV[1] == '0' then redis.call('DEL', KEYS[1]) return 0 end
local n, window, duration, retry = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'until', 'failures', 'first')
if not h[1] and retry == 0 then
  local failures, first = tonumber(h[2]) or 0, tonumber(h[3])
  if not first or now - first > window then failures, first = 0, now end
  failures = failures + 1
  if failures < n then
    redis.call('HSET', KEYS[1], 'failures', failures, 'first', first)
    redis.call('PEXPIRE', KEYS[1], math.max(1, first + window - now))
    return 0
  end
end
local cooldown = retry > 0 and retry or duration
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'until', now + cooldown)
redis.call('PEXPIRE', KEYS[1], cooldown + 2 * duration)
return 1
"""
)

_PERIOD = """
local period = tonumber(ARGV[1])
local index = math.floor(now / period)
local ends = (index + 1) * period
"""

SPEND = (
    _NOW
    + _PERIOD
    + """
-- KEYS: spending. ARGV: period ms, then name, amount pairs. Adds the amounts to the current period.
if redis.call('HGET', KEYS[1], '@') ~= tostring(index) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], '@', tostring(index))
end
for i = 2, #ARGV, 2 do
  redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIREAT', KEYS[1], ends)
return 1
"""
)

SPENT = (
    _NOW
    + _PERIOD
    + """
-- KEYS: spending. ARGV: period ms. Returns {period end ms, name, amount, ...} of the current period.
local out = {ends}
if redis.call('HGET', KEYS[1], '@') == tostring(index) then
  local all = redis.call('HGETALL', KEYS[1])
  for i = 1, #all, 2 do
    if all[i] ~= '@' then
      out[#out + 1] = all[i]
      out[#out + 1] = all[i + 1]
    end
  end
end
return out
"""
)
