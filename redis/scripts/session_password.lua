-- SPDX-License-Identifier: Apache-2.0
-- One of the interaction's verification records (a new one replaces the last of its type):
-- the password record, or a verified TOTP or backup-code record.
-- KEYS[1]: the session's hash. ARGV: now_ms, the encoded record, its field ('pw', 'mt' or 'mb').
-- Returns 1, 0 when the session is unknown or expired, 2 when no interaction has started.
local live = redis.call('HMGET', KEYS[1], 'x', 'st')
if not live[1] or tonumber(live[1]) <= tonumber(ARGV[1]) then return 0 end
if live[2] ~= '1' then return 2 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[2])
return 1
