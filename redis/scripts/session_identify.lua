-- SPDX-License-Identifier: Apache-2.0
-- Admin: marks a live session's user. KEYS[1]: the session's hash. ARGV: now_ms, user id.
-- Returns 1, or 0 when the session is unknown or expired.
local x = redis.call('HGET', KEYS[1], 'x')
if not x or tonumber(x) <= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'u', ARGV[2])
return 1
