-- SPDX-License-Identifier: Apache-2.0
-- After a send inside a session: the new record becomes the session's record of its type
-- (a new send replaces the older one, which the caller deletes).
-- KEYS[1]: the session's hash. ARGV: now_ms, type index (0|1), record id, the sentinel's key
-- for the record's recipient.
-- Returns false when the session is gone (unknown or expired), else the replaced id ('' none).
local x = redis.call('HGET', KEYS[1], 'x')
if not x or tonumber(x) <= tonumber(ARGV[1]) then return false end
local old = redis.call('HGET', KEYS[1], 'r' .. ARGV[2])
redis.call('HSET', KEYS[1], 'r' .. ARGV[2], ARGV[3], 'k' .. ARGV[2], ARGV[4])
return old or ''
