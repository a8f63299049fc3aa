-- SPDX-License-Identifier: Apache-2.0
-- The interaction's password verification record (a new one replaces the last).
-- KEYS[1]: the session's hash. ARGV: now_ms, the encoded record.
-- Returns 1, 0 when the session is unknown or expired, 2 when no interaction has started.
local live = redis.call('HMGET', KEYS[1], 'x', 'st')
if not live[1] or tonumber(live[1]) <= tonumber(ARGV[1]) then return 0 end
if live[2] ~= '1' then return 2 end
redis.call('HSET', KEYS[1], 'pw', ARGV[2])
return 1
