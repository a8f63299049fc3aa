-- SPDX-License-Identifier: Apache-2.0
-- Appends one message to the inbox (newest first, capped) with the next sequence number.
-- KEYS[1]: the inbox list, KEYS[2]: its sequence counter (same slot). ARGV: the encoded message
-- without its sequence number, capacity. Returns the sequence number.
local seq = tostring(redis.call('INCR', KEYS[2]))
redis.call('LPUSH', KEYS[1], string.len(seq) .. ':' .. seq .. ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return tonumber(seq)
