-- SPDX-License-Identifier: Apache-2.0
-- Creates a record unless its id exists.
-- KEYS[1]: the record's hash. ARGV: type, code, identifier, created_ms, expires_ms, flags,
-- expire_after_ms (Redis's own expiry: garbage collection only, never a verdict), and optionally
-- the batch handle of a generated record (on a cluster, generated records are made one by one).
-- Tries ("n"), consumption time ("ca") and batch ("b") are absent until set: 0 / none.
-- Returns 1 created, 0 the id exists.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'c', ARGV[2], 'i', ARGV[3], 'cr', ARGV[4], 'x', ARGV[5],
           'f', ARGV[6])
if ARGV[8] then redis.call('HSET', KEYS[1], 'b', ARGV[8]) end
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1
