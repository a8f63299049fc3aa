// SPDX-License-Identifier: Apache-2.0
// What the Redis stores share: numbers as Redis stores them, the Outcome of a failed call,
// length-prefixed fields, and deleting every key of a pattern. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/code_store.h"
#include "redis/router.h"

namespace mfa::redis {

// Redis's own expiry is only garbage collection: it runs this long after the mock would have
// dropped a key, so a node whose clock is a little ahead never reads a key Redis dropped.
inline constexpr int64_t kExpirySlackMs = 60'000;

std::string Decimal(int64_t value);
// 0 when `s` is not a number.
int64_t ParseInt(std::string_view s);

// The answer of a failed call, or kOk when the call was answered without an error reply:
// kStoreBusy (over the in-flight cap), kStoreUnavailable (no answer in time, no connection, or a
// transient Redis error), kStoreFull (Redis's maxmemory), kInternal (a script error: our bug).
Outcome Failure(const CallResult& result);

// Length-prefixed fields ("5:hello"), so any byte may occur in them.
void AppendField(std::string& out, std::string_view field);
// Takes the next field off the front of `in`; false when `in` holds no whole field.
bool NextField(std::string_view& in, std::string_view* field);

// Sends `commands` together (each on its own key's slot) and answers once, when every one is
// answered: the first failure, or kOk with the sum of their integer replies (keys deleted).
void CallAll(Router& client, std::vector<std::vector<std::string>> commands, std::string_view op,
             Done<StoreAnswer<int64_t>> done);

// Deletes every key matching `pattern` (SCAN + UNLINK, a page at a time) and answers the number
// deleted. Keys created meanwhile may survive, as with any SCAN.
void UnlinkMatching(Router& client, std::string pattern, std::string_view op,
                    Done<StoreAnswer<size_t>> done);

}  // namespace mfa::redis
