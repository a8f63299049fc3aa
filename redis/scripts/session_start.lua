-- SPDX-License-Identifier: Apache-2.0
-- PUT /api/experience on a session that exists (SessionService::StartInteraction): a new
-- interaction in it; identification and the old interaction's records (the password, TOTP
-- and backup-code records too) are dropped.
-- KEYS[1]: the session's hash. ARGV: now_ms, new expires_ms, event, gc_ms.
-- Returns false when the session is unknown or expired, else the ids of the records it held
-- ({email, phone}, '' for none), which the caller deletes.
local x = redis.call('HGET', KEYS[1], 'x')
if not x or tonumber(x) <= tonumber(ARGV[1]) then return false end
local old = redis.call('HMGET', KEYS[1], 'r0', 'r1')
redis.call('HDEL', KEYS[1], 'r0', 'r1', 'k0', 'k1', 'pw', 'mt', 'mb')
redis.call('HSET', KEYS[1], 'x', ARGV[2], 'st', '1', 'ev', ARGV[3], 'u', '')
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]))
return {old[1] or '', old[2] or ''}
