-- SPDX-License-Identifier: Apache-2.0
-- Verify (contract §3, steps 5-9) of one record of a derived batch, atomically, in the check
-- order of verify.lua and MfaService::Verify. The node already decoded the id, found the batch's
-- rule, checked the type (a derived record is always identified and never session-bound) and
-- derived the expected code; here the record's 32-bit state word is read and written (layout:
-- DerivedState in core/derived_batch.h). Word 0 of a chunk is its header: nonzero = the batch was
-- deleted. A chunk that does not exist reads as zeros: every record pending.
-- KEYS[1]: the chunk (a BITFIELD string). ARGV: word index in the chunk, code given, code
-- expected, now_ms (the mock's clock), created_ms, expires_ms, retention_ms, max_attempts,
-- unit_ms (of the consumed time), expire_after_ms (for a chunk this call creates).
-- Returns: ok, verification_not_found, code_not_found, expired, exceed_max_try or code_mismatch.
local at = tonumber(ARGV[1]) * 32
local r = redis.call('BITFIELD', KEYS[1], 'GET', 'u32', 0, 'GET', 'u32', at)
if r[1] ~= 0 then return 'verification_not_found' end
local w = r[2]
-- Arithmetic, not bit.*: LuaBitOp works on signed 32-bit numbers.
local tries = w % 1024
local consumed = math.floor(w / 1024) % 2 == 1
if math.floor(w / 2048) % 2 == 1 then return 'verification_not_found' end  -- gone
local now = tonumber(ARGV[4])
local created = tonumber(ARGV[5])
local expires = tonumber(ARGV[6])
local unit = tonumber(ARGV[9])
-- Settled longer ago than the retention: gone, as after the in-memory sweeper.
local settled = expires
if consumed then
  local consumed_ms = created + math.floor(w / 4096) * unit
  if consumed_ms < settled then settled = consumed_ms end
end
if now > settled + tonumber(ARGV[7]) then return 'verification_not_found' end
if ARGV[2] == '' or consumed then return 'code_not_found' end
if now > expires then return 'expired' end
if tries >= tonumber(ARGV[8]) then return 'exceed_max_try' end
local next_word
local answer
if ARGV[2] ~= ARGV[3] then
  if tries == 1023 then return 'code_mismatch' end  -- saturated
  next_word = w + 1
  answer = 'code_mismatch'
else
  -- Consumed, with its time in units rounded up (DerivedBatch::ConsumedWord).
  local units = math.ceil((now - created) / unit)
  if units < 0 then units = 0 end
  if units > 1048575 then units = 1048575 end
  next_word = tries + 1024 + units * 4096
  answer = 'ok'
end
local fresh = redis.call('EXISTS', KEYS[1]) == 0
redis.call('BITFIELD', KEYS[1], 'SET', 'u32', at, next_word)
if fresh then redis.call('PEXPIRE', KEYS[1], ARGV[10]) end
return answer
