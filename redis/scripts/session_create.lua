-- SPDX-License-Identifier: Apache-2.0
-- A new interaction session (SessionStore::Create): refuses an id already taken.
-- KEYS[1]: the session's hash. ARGV: expires_ms, interaction started (1|0), event, user id,
-- gc_ms (Redis's own expiry: garbage collection only; the mock's clock decides liveness),
-- submit's redirectTo ('' = the config's).
-- Returns 1, or 0 when the id is taken.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'x', ARGV[1], 'st', ARGV[2], 'ev', ARGV[3], 'u', ARGV[4])
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'rt', ARGV[6]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return 1
