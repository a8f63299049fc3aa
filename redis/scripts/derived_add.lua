-- SPDX-License-Identifier: Apache-2.0
-- Registers a derived batch: its rule (one hash, O(1) whatever its count) and its public id.
-- KEYS[1]: the batch registry hash, KEYS[2]: the rule's hash, KEYS[3]: the set of live derived
-- serials (all in one slot). ARGV: serial (from HINCRBY of the registry's "next"), batch id,
-- identifier type, identifier pattern, count, created_ms, ttl_seconds, fixed code ('' = derived
-- codes), expire_after_ms.
redis.call('HSET', KEYS[1], 'id:' .. ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], 'id', ARGV[2], 's', ARGV[1], 't', ARGV[3], 'p', ARGV[4], 'n', ARGV[5],
           'cr', ARGV[6], 'ttl', ARGV[7], 'fc', ARGV[8], 'g', 0)
redis.call('PEXPIRE', KEYS[2], ARGV[9])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
