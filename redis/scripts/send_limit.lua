-- SPDX-License-Identifier: Apache-2.0
-- The per-recipient send limit: a send at t counts while now - t < window.
-- KEYS[1]: the recipient's send times (a sorted set). ARGV: now_ms, max_sends, window_ms,
-- member (unique per send), acquire (1: count this send if allowed; 0: only ask).
-- Returns 1 allowed, 0 limited.
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - window))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
if ARGV[5] == '1' then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window + 60000)
end
return 1
