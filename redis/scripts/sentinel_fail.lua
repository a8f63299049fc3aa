-- SPDX-License-Identifier: Apache-2.0
-- One failed verification of an identifier (Sentinel::RecordFailure): failures older than the
-- window are dropped; at the threshold the identifier is blocked and its failures forgotten.
-- KEYS[1]: the identifier's sentinel hash (field f: failure times, comma-separated, oldest
-- first; field b: blocked until). ARGV: now_ms, threshold, window_ms, block_ms.
-- Returns the number of failures in the window after this one (0 when it blocked).
local now = tonumber(ARGV[1])
local threshold = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local kept = {}
local f = redis.call('HGET', KEYS[1], 'f')
if f then
  for t in string.gmatch(f, '[^,]+') do
    if tonumber(t) > now - window then kept[#kept + 1] = t end
  end
end
kept[#kept + 1] = ARGV[1]
local ttl = window
if #kept >= threshold then
  redis.call('HSET', KEYS[1], 'b', string.format('%.0f', now + tonumber(ARGV[4])), 'f', '')
  if tonumber(ARGV[4]) > ttl then ttl = tonumber(ARGV[4]) end
  kept = {}
else
  redis.call('HSET', KEYS[1], 'f', table.concat(kept, ','))
  local b = redis.call('HGET', KEYS[1], 'b')
  if b and tonumber(b) - now > ttl then ttl = tonumber(b) - now end
end
-- Garbage collection only, a minute after the mock would have forgotten it.
redis.call('PEXPIRE', KEYS[1], ttl + 60000)
return #kept
