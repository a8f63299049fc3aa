-- SPDX-License-Identifier: Apache-2.0
-- Registers a generated batch and returns its handle (a small integer each record stores).
-- KEYS[1]: the batch registry hash. ARGV: batch id, identifier type, identifier pattern.
local handle = redis.call('HINCRBY', KEYS[1], 'next', 1)
redis.call('HSET', KEYS[1], 'h:' .. handle, ARGV[1], 'p:' .. handle, ARGV[3], 't:' .. handle, ARGV[2],
           'id:' .. ARGV[1], handle)
return handle
