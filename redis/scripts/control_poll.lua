-- SPDX-License-Identifier: Apache-2.0
-- A node's heartbeat and its look at the shared control state, in one call.
-- KEYS[1]: the control hash (version, config, clock), KEYS[2]: live nodes (sorted set scored by
-- their last heartbeat, Redis's clock: one clock for every node), KEYS[3]: the version each node
-- applied (hash). ARGV: node id, the version this node applied, live window (ms).
-- Returns {version, lowest version applied by a live node, now_ms[, config, clock offset]}: the
-- state only when it is newer than what this node applied.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - tonumber(ARGV[3])))
for _, node in ipairs(stale) do
  redis.call('ZREM', KEYS[2], node)
  redis.call('HDEL', KEYS[3], node)
end
local lowest = nil
for _, node in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local applied = tonumber(redis.call('HGET', KEYS[3], node) or '0')
  if lowest == nil or applied < lowest then lowest = applied end
end
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version > tonumber(ARGV[2]) then
  local state = redis.call('HMGET', KEYS[1], 'config', 'clock')
  return {version, lowest or 0, now, state[1], state[2]}
end
return {version, lowest or 0, now}
