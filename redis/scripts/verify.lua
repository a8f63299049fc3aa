-- SPDX-License-Identifier: Apache-2.0
-- Verify (contract §3, steps 3-9) on one record, atomically: the same check order as
-- MfaService::Verify, with the mock's clock passed in (Redis time is never read).
-- KEYS[1]: the record's hash. ARGV: type, code, now_ms, max_attempts, documented (1|0),
-- retention_ms, session (1|0: the verify is made inside an interaction session), blocked (1|0:
-- the sentinel blocks the record's identifier; read by the caller, in another slot). As in
-- Logto, a blocked verify still runs: a right code is used up without the record becoming
-- verified, a wrong one counts a try; the caller answers blocked.
-- Returns: ok, verification_not_found, identifier_not_found, code_not_found, expired,
-- exceed_max_try or code_mismatch.
local r = redis.call('HMGET', KEYS[1], 't', 'f', 'c', 'x', 'n', 'ca', 'cr')
if r[5] == false then r[5] = '0' end
if r[6] == false then r[6] = '0' end
if not r[1] then return 'verification_not_found' end
local now = tonumber(ARGV[3])
local flags = tonumber(r[2])
local expires = tonumber(r[4])
local consumed = bit.band(flags, 4) ~= 0
local session_bound = bit.band(flags, 2) ~= 0
-- Settled longer ago than the retention: gone, as after the in-memory sweeper. A session's record
-- has no retention: it lives as long as its session (which the caller checked).
local settled = expires
if consumed and tonumber(r[6]) < settled then settled = tonumber(r[6]) end
if not session_bound and now > settled + tonumber(ARGV[6]) then
  redis.call('DEL', KEYS[1])
  return 'verification_not_found'
end
if r[1] ~= ARGV[1] then return 'verification_not_found' end
if session_bound ~= (ARGV[7] == '1') then return 'verification_not_found' end
if bit.band(flags, 1) == 0 then
  if ARGV[5] == '1' then return 'identifier_not_found' end
  return 'verification_not_found'
end
if ARGV[2] == '' or consumed then return 'code_not_found' end
if now > expires then return 'expired' end
local tries = tonumber(r[5])
if tries >= tonumber(ARGV[4]) then return 'exceed_max_try' end
if ARGV[2] ~= r[3] then
  if tries < 65535 then redis.call('HINCRBY', KEYS[1], 'n', 1) end
  return 'code_mismatch'
end
-- Consumed at the next whole second after creation, as the in-memory record counts it.
local created = tonumber(r[7])
local age_s = math.ceil((now - created) / 1000)
if age_s < 0 then age_s = 0 end
local settle = 12  -- consumed and verified
if ARGV[8] == '1' then settle = 4 end  -- consumed only
redis.call('HSET', KEYS[1], 'f', bit.bor(flags, settle), 'ca', string.format('%.0f', created + age_s * 1000))
if not session_bound then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[6]) + 60000) end
return 'ok'
