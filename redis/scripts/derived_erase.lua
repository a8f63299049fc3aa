-- SPDX-License-Identifier: Apache-2.0
-- DELETE /admin/verifications/{id} of a record of a derived batch: sets its gone bit.
-- KEYS[1]: the chunk. ARGV: word index in the chunk, now_ms, created_ms, expires_ms,
-- retention_ms, unit_ms, expire_after_ms (for a chunk this call creates).
-- Returns 1 when the record existed (and is gone now), else 0.
local at = tonumber(ARGV[1]) * 32
local r = redis.call('BITFIELD', KEYS[1], 'GET', 'u32', 0, 'GET', 'u32', at)
if r[1] ~= 0 then return 0 end
local w = r[2]
if math.floor(w / 2048) % 2 == 1 then return 0 end
local settled = tonumber(ARGV[4])
if math.floor(w / 1024) % 2 == 1 then
  local consumed_ms = tonumber(ARGV[3]) + math.floor(w / 4096) * tonumber(ARGV[6])
  if consumed_ms < settled then settled = consumed_ms end
end
if tonumber(ARGV[2]) > settled + tonumber(ARGV[5]) then return 0 end
local fresh = redis.call('EXISTS', KEYS[1]) == 0
redis.call('BITFIELD', KEYS[1], 'SET', 'u32', at, w + 2048)
if fresh then redis.call('PEXPIRE', KEYS[1], ARGV[7]) end
return 1
