"""Server-side Lua: each fleet operation is one atomic script (one round trip, no races).

Time comes from the server (`TIME`), so members' clocks never need to agree. Keys
are passed in KEYS (cluster-safe within one fleet's hash tag); arguments as JSON.
Every script may run twice for one call (the client re-sends a command whose
connection died before the reply came), so each is idempotent or errs on the safe
side: a lease counted twice only slows the fleet down.
"""

from __future__ import annotations

# Lease tokens from a pool's window. A grant is counted from now until now + span_ms
# (span = the venue's period + the lease's life + a flight margin): whenever the
# holder spends a token inside the lease's life, the venue counts it inside the span.
# Nothing is granted to a member that does not know the fleet's current epoch (the
# server lost its state since: it must first put back its part), nor during the grace
# after a loss (what the lost server granted may still count at the venue).
# Nor while the pool is paused (a member got a 429 with Retry-After; see PAUSE).
# KEYS: the pool's window, the lease counter, the fleet's pool list (for `cexarb fleet`),
#       the epoch, the grace, the pool's pause.
# ARGV: capacity, want, need (grant nothing below this), span_ms, tag, epoch, scope.
# Returns {granted, wait_ms, seq}; granted = -1: the epoch changed; -2: paused for wait_ms.
LEASE = """
if redis.call('GET', KEYS[4]) ~= ARGV[6] then return {-1, 0, 0} end
local paused = redis.call('PTTL', KEYS[6])
if paused > 0 then return {-2, paused, 0} end
local grace = redis.call('PTTL', KEYS[5])
if grace > 0 then return {0, grace, 0} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local used = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  used = used + tonumber(string.match(m, '|(%d+)$'))
end
local cap = tonumber(ARGV[1])
local want = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local span = tonumber(ARGV[4])
local grant = math.min(want, cap - used)
if grant < need then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  local wait = span
  if first[2] then wait = tonumber(first[2]) - now end
  return {0, math.max(wait, 1), 0}
end
local seq = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[3], ARGV[7], cap)
redis.call('ZADD', KEYS[1], now + span, ARGV[5] .. '|' .. seq .. '|' .. grant)
redis.call('PEXPIRE', KEYS[1], span + 1000)
return {grant, 0, seq}
"""

# A member got a 429 with Retry-After: pause the pool for every member (a pause only grows),
# and tell the members now (the control channel); one that misses the message is refused
# by LEASE until the pause ends. KEYS: the pool's pause, the control channel.
# ARGV: ms, member, scope. Returns the pause left (ms).
PAUSE = """
local ms = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < ms then redis.call('SET', KEYS[1], ARGV[2], 'PX', ms) end
local left = redis.call('PTTL', KEYS[1])
redis.call('PUBLISH', KEYS[2], 'pause|' .. ARGV[3] .. '|' .. left)
return left
"""

# Lease `seq` was only partly spent (the holder knows the rest never reached the venue):
# count `spent` tokens for it from now on. ARGV: tag, seq, spent.
GIVE_BACK = """
local prefix = ARGV[1] .. '|' .. ARGV[2] .. '|'
local spent = tonumber(ARGV[3])
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if string.sub(m, 1, #prefix) == prefix then
    local count = tonumber(string.sub(m, #prefix + 1))
    if spent < count then
      local score = redis.call('ZSCORE', KEYS[1], m)
      redis.call('ZREM', KEYS[1], m)
      if spent > 0 then redis.call('ZADD', KEYS[1], score, prefix .. spent) end
    end
    return spent
  end
end
return -1
"""

# Reserve a trade's risk. KEYS: risk hash, unhedged hash, member's reservations, halt.
# ARGV[1] = JSON {id, at_risk, legs: [[venue:asset, notional], ...], max_unhedged, max_exposure}.
RESERVE = """
local a = cjson.decode(ARGV[1])
if redis.call('HEXISTS', KEYS[3], a.id) == 1 then return 'ok' end
if redis.call('EXISTS', KEYS[4]) == 1 then return 'kill_switch' end
local at_risk = tonumber(redis.call('HGET', KEYS[1], 'at_risk') or '0')
local unhedged = 0
for _, v in ipairs(redis.call('HVALS', KEYS[2])) do unhedged = unhedged + tonumber(v) end
if at_risk + unhedged + a.at_risk > a.max_unhedged * (1 + 1e-9) then return 'fleet_unhedged' end
for _, leg in ipairs(a.legs) do
  local k = leg[1]
  local base = tonumber(redis.call('HGET', KEYS[1], 'base:' .. k) or '0')
  local mark = tonumber(redis.call('HGET', KEYS[1], 'mark:' .. string.match(k, ':([^:]+)$')) or '0')
  local pend = tonumber(redis.call('HGET', KEYS[1], 'pending:' .. k) or '0')
  local now = base * mark + pend
  local after = now + leg[2]
  if math.abs(after) > a.max_exposure and math.abs(after) > math.abs(now) then
    return 'fleet_exposure:' .. k
  end
end
redis.call('HINCRBYFLOAT', KEYS[1], 'at_risk', a.at_risk)
for _, leg in ipairs(a.legs) do
  redis.call('HINCRBYFLOAT', KEYS[1], 'pending:' .. leg[1], leg[2])
end
redis.call('HSET', KEYS[3], a.id, cjson.encode({a.at_risk, a.legs}))
return 'ok'
"""

# Drop reservations and undo what they hold (shared by settle and the reaper).
_UNDO = """
local function undo(risk, res, id)
  local p = redis.call('HGET', res, id)
  if not p then return end
  local r = cjson.decode(p)
  redis.call('HINCRBYFLOAT', risk, 'at_risk', -r[1])
  for _, leg in ipairs(r[2]) do
    redis.call('HINCRBYFLOAT', risk, 'pending:' .. leg[1], -leg[2])
  end
  redis.call('HDEL', res, id)
end
"""

# A trade ended (once per id: the member's recent settlement ids are kept). Exposure is base per venue:asset; the mark is per asset (the fleet's
# last fill price of it on any venue), so an arbitrage long on one venue and short on
# another nets to zero and the PnL is what the prices' difference earned, fees included.
# Nothing is applied for a member that does not know the fleet's current epoch: the server
# lost its state since, and the member's reseed (which puts back every fill it settled) must
# come first, or a fill settled on the new server before it would be counted twice.
# KEYS: risk, unhedged, member's reservations, halt, member's settled ids, epoch.
# ARGV[1] = JSON {id, member, epoch, unhedged, loss_limit, fills: [[venue:asset, base, price, fee], ...]}.
# Returns {tripped (0/1; -1: the epoch changed, nothing applied), pnl as string}.
SETTLE = (
    _UNDO
    + """
local a = cjson.decode(ARGV[1])
if redis.call('GET', KEYS[6]) ~= a.epoch then return {-1, '0'} end
local settled = redis.call('ZSCORE', KEYS[5], a.id)
if settled then return {0, '0'} end
undo(KEYS[1], KEYS[3], a.id)
local t = redis.call('TIME')
redis.call('ZADD', KEYS[5], tonumber(t[1]) * 1000000 + tonumber(t[2]), a.id)
redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -10001)
for _, f in ipairs(a.fills) do
  redis.call('HINCRBYFLOAT', KEYS[1], 'base:' .. f[1], f[2])
  redis.call('HSET', KEYS[1], 'mark:' .. string.match(f[1], ':([^:]+)$'), f[3])
  redis.call('HINCRBYFLOAT', KEYS[1], 'cash', -f[2] * f[3] - f[4])
end
if a.unhedged > 0 then
  redis.call('HSET', KEYS[2], a.member, a.unhedged)
else
  redis.call('HDEL', KEYS[2], a.member)
end
local flat = redis.call('HGETALL', KEYS[1])
local h = {}
for i = 1, #flat, 2 do h[flat[i]] = tonumber(flat[i + 1]) end
local pnl = h['cash'] or 0
for k, v in pairs(h) do
  if string.sub(k, 1, 5) == 'base:' then
    pnl = pnl + v * (h['mark:' .. string.match(k, ':([^:]+)$')] or 0)
  end
end
if pnl <= -a.loss_limit and redis.call('EXISTS', KEYS[4]) == 0 then
  redis.call('SET', KEYS[4], 'fleet loss_limit pnl=' .. string.format('%.4f', pnl))
  return {1, tostring(pnl)}
end
return {0, tostring(pnl)}
"""
)

# Release what a member whose heartbeat expired still reserved. Its unhedged residual
# stays (that inventory is real until someone trades it away).
# KEYS: risk, member's reservations, member's heartbeat, members set.
# ARGV: member, force (1: a member rejoining under its name reaps its previous run).
REAP = (
    _UNDO
    + """
if ARGV[2] ~= '1' and redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local ids = redis.call('HKEYS', KEYS[2])
for _, id in ipairs(ids) do undo(KEYS[1], KEYS[2], id) end
redis.call('SREM', KEYS[4], ARGV[1])
return #ids
"""
)

# After the server lost its state (a restart without persistence), a member puts back
# what it alone knows: its open reservations and its share of the ledger.
# Once per member and epoch. KEYS: risk, unhedged, member's reservations, the epoch's
# reseeded set. ARGV[1] = JSON {member, unhedged, reservations: [[id, at_risk, legs]],
# base: {k: v}, mark: {k: v}, cash}.
RESEED = """
local a = cjson.decode(ARGV[1])
if redis.call('SADD', KEYS[4], a.member) == 0 then return 0 end
for _, r in ipairs(a.reservations) do
  if redis.call('HEXISTS', KEYS[3], r[1]) == 0 then
    redis.call('HINCRBYFLOAT', KEYS[1], 'at_risk', r[2])
    for _, leg in ipairs(r[3]) do
      redis.call('HINCRBYFLOAT', KEYS[1], 'pending:' .. leg[1], leg[2])
    end
    redis.call('HSET', KEYS[3], r[1], cjson.encode({r[2], r[3]}))
  end
end
for k, v in pairs(a.base) do redis.call('HINCRBYFLOAT', KEYS[1], 'base:' .. k, v) end
for k, v in pairs(a.mark) do redis.call('HSETNX', KEYS[1], 'mark:' .. k, v) end
if a.cash ~= 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'cash', a.cash) end
if a.unhedged > 0 then redis.call('HSET', KEYS[2], a.member, a.unhedged) end
return 1
"""
