-- SPDX-License-Identifier: Apache-2.0
-- Creates the records of one slice of a generated batch, each unless its id exists.
-- KEYS: the records' hashes (all in one slot on a cluster). ARGV: type, created_ms, expires_ms,
-- flags, expire_after_ms, batch handle, then for each key its code and its identifier.
-- Returns the 1-based positions of the keys that already existed (their ids must be drawn again).
local taken = {}
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    taken[#taken + 1] = i
  else
    redis.call('HSET', key, 't', ARGV[1], 'c', ARGV[5 + 2 * i], 'i', ARGV[6 + 2 * i],
               'cr', ARGV[2], 'x', ARGV[3], 'f', ARGV[4], 'b', ARGV[6])
    redis.call('PEXPIRE', key, ARGV[5])
  end
end
return taken
