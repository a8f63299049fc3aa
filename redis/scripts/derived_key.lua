-- SPDX-License-Identifier: Apache-2.0
-- The deployment's key of derived ids and codes (core/derived_ids.h) and its generation: made by
-- whichever node asks first, then read by every node, so all of them derive the same ids.
-- KEYS[1]: the batch registry hash. ARGV: a key (32 hex digits: the asking node's own, or a fresh
-- one), a fresh generation token, a random jump of the serial counter; all kept only if there is
-- no key yet.
-- A new key means this prefix's state is new, or was lost (a Redis restarted without
-- persistence): the serial counter then jumps ahead by a random amount, so no batch made from now
-- on shares a serial with one a node may still cache, and the new generation tells the nodes to
-- drop what they cache.
-- Returns {key, generation}.
if redis.call('HSETNX', KEYS[1], 'derived_key', ARGV[1]) == 1 then
  redis.call('HSET', KEYS[1], 'derived_gen', ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'next', ARGV[3])
end
return {redis.call('HGET', KEYS[1], 'derived_key'), redis.call('HGET', KEYS[1], 'derived_gen')}
