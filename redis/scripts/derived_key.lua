-- SPDX-License-Identifier: Apache-2.0
-- The deployment's key of derived ids and codes (core/derived_ids.h): made by whichever node asks
-- first, then read by every node, so all of them derive the same ids.
-- KEYS[1]: the batch registry hash. ARGV[1]: a fresh random key (32 hex digits), kept only if
-- there is none yet. Returns the key in force.
redis.call('HSETNX', KEYS[1], 'derived_key', ARGV[1])
return redis.call('HGET', KEYS[1], 'derived_key')
