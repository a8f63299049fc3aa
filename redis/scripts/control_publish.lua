-- SPDX-License-Identifier: Apache-2.0
-- Publishes a new control state if nobody published since the version it was computed from.
-- KEYS[1]: the control hash. ARGV: expected version, config, clock offset (ms).
-- Returns {1, new version} or {0, the version found}.
local version = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if version ~= tonumber(ARGV[1]) then return {0, version} end
version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'config', ARGV[2], 'clock', ARGV[3])
return {1, version}
