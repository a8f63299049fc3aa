-- SPDX-License-Identifier: Apache-2.0
-- Forgets derived batches whose chunks were marked deleted (DELETE /admin/verifications).
-- KEYS[1]: the batch registry hash, KEYS[2]: the set of live derived serials, KEYS[3..]: the
-- batches' rule hashes (all in one slot). ARGV: for each rule, its serial then its batch id.
for i = 3, #KEYS do
  redis.call('DEL', KEYS[i])
  redis.call('SREM', KEYS[2], ARGV[2 * (i - 3) + 1])
  redis.call('HDEL', KEYS[1], 'id:' .. ARGV[2 * (i - 3) + 2])
end
return #KEYS - 2
