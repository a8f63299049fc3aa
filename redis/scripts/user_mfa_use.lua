-- SPDX-License-Identifier: Apache-2.0
-- Uses up one of a user's one-time MFA parts (UserDirectory::UseTotpStep / UseBackupCode), so
-- that of two nodes racing for one TOTP step or backup code, one wins.
-- KEYS[1]: the users hash (its field: the user's length-prefixed fields, "5:alice": id, username,
-- email, phone, password, TOTP secret, last used TOTP step ('' = none), then one field per backup
-- code, 'n' or 'u' (used) and the code).
-- ARGV: user id, 't' (ARGV[3]: the step) or 'b' (ARGV[3]: the code).
-- Returns 1 when used up, 0 when refused or the user is unknown.
local enc = redis.call('HGET', KEYS[1], ARGV[1])
if not enc then return 0 end
local fields = {}
local pos = 1
while pos <= #enc do
  local colon = string.find(enc, ':', pos, true)
  if not colon then return 0 end
  local len = tonumber(string.sub(enc, pos, colon - 1))
  fields[#fields + 1] = string.sub(enc, colon + 1, colon + len)
  pos = colon + 1 + len
end
if #fields < 7 then return 0 end
if ARGV[2] == 't' then
  if fields[6] == '' then return 0 end
  if fields[7] ~= '' and tonumber(ARGV[3]) <= tonumber(fields[7]) then return 0 end
  fields[7] = ARGV[3]
else
  local found = false
  for i = 8, #fields do
    if fields[i] == 'n' .. ARGV[3] then
      fields[i] = 'u' .. ARGV[3]
      found = true
      break
    end
  end
  if not found then return 0 end
end
local out = {}
for i, f in ipairs(fields) do out[i] = #f .. ':' .. f end
redis.call('HSET', KEYS[1], ARGV[1], table.concat(out))
return 1
