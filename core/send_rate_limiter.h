// SPDX-License-Identifier: Apache-2.0
// The per-recipient send limit: at most N successful sends in a sliding window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mfa {

// Thread-safe. Keys are spread over 64 shards; each shard's mutex guards its map only.
// Keys are normalized recipients (see NormalizeRecipient).
class SendRateLimiter {
 public:
  SendRateLimiter() = default;
  SendRateLimiter(const SendRateLimiter&) = delete;
  SendRateLimiter& operator=(const SendRateLimiter&) = delete;

  // True if a send now would stay within `max_sends` per `window_ms`. Records nothing.
  bool WouldAllow(std::string_view key, int64_t now_ms, uint32_t max_sends,
                  int64_t window_ms) const;
  // Atomically checks and, if allowed, records a send at `now_ms`.
  bool TryAcquire(std::string_view key, int64_t now_ms, uint32_t max_sends, int64_t window_ms);
  // Forgets one send recorded at `at_ms` (the send failed after acquiring).
  void Release(std::string_view key, int64_t at_ms);
  // Drops keys whose newest send is older than `window_ms`. Returns keys dropped.
  size_t Sweep(int64_t now_ms, int64_t window_ms);
  void Clear();
  size_t key_count() const;

 private:
  static constexpr size_t kShards = 64;
  struct Shard {
    mutable std::mutex mu;
    // GUARDED_BY(mu): send times per key, ascending.
    std::unordered_map<std::string, std::vector<int64_t>> sends;
  };
  Shard& ShardFor(std::string_view key) const;
  static size_t CountRecent(const std::vector<int64_t>& times, int64_t now_ms, int64_t window_ms);

  mutable Shard shards_[kShards];
};

}  // namespace mfa
