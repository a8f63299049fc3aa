-- SPDX-License-Identifier: Apache-2.0
-- Submit: the interaction is over and its session goes. KEYS[1]: the session's hash.
-- ARGV: now_ms. Returns false when the session is unknown or expired, else the ids of the records
-- it held ({email, phone}, '' for none), which the caller deletes.
local x = redis.call('HGET', KEYS[1], 'x')
if not x or tonumber(x) <= tonumber(ARGV[1]) then return false end
local records = redis.call('HMGET', KEYS[1], 'r0', 'r1')
redis.call('DEL', KEYS[1])
return {records[1] or '', records[2] or ''}
