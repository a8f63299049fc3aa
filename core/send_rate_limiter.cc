// SPDX-License-Identifier: Apache-2.0
#include "core/send_rate_limiter.h"

#include <algorithm>
#include <functional>

namespace mfa {

SendRateLimiter::Shard& SendRateLimiter::ShardFor(std::string_view key) const {
  return shards_[std::hash<std::string_view>{}(key) % kShards];
}

size_t SendRateLimiter::CountRecent(const std::vector<int64_t>& times, int64_t now_ms,
                                    int64_t window_ms) {
  // A send at t counts while now - t < window.
  auto first = std::upper_bound(times.begin(), times.end(), now_ms - window_ms);
  return static_cast<size_t>(times.end() - first);
}

bool SendRateLimiter::WouldAllow(std::string_view key, int64_t now_ms, uint32_t max_sends,
                                 int64_t window_ms) const {
  if (max_sends == 0) return true;
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.sends.find(std::string(key));
  if (it == shard.sends.end()) return true;
  return CountRecent(it->second, now_ms, window_ms) < max_sends;
}

bool SendRateLimiter::TryAcquire(std::string_view key, int64_t now_ms, uint32_t max_sends,
                                 int64_t window_ms) {
  if (max_sends == 0) return true;
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  std::vector<int64_t>& times = shard.sends[std::string(key)];
  // Drop what fell out of the window so the vector stays at most max_sends long.
  times.erase(times.begin(), std::upper_bound(times.begin(), times.end(), now_ms - window_ms));
  if (times.size() >= max_sends) return false;
  times.insert(std::upper_bound(times.begin(), times.end(), now_ms), now_ms);
  return true;
}

void SendRateLimiter::Release(std::string_view key, int64_t at_ms) {
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto it = shard.sends.find(std::string(key));
  if (it == shard.sends.end()) return;
  auto pos = std::find(it->second.begin(), it->second.end(), at_ms);
  if (pos != it->second.end()) it->second.erase(pos);
}

size_t SendRateLimiter::Sweep(int64_t now_ms, int64_t window_ms) {
  size_t dropped = 0;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    for (auto it = shard.sends.begin(); it != shard.sends.end();) {
      if (it->second.empty() || it->second.back() <= now_ms - window_ms) {
        it = shard.sends.erase(it);
        ++dropped;
      } else {
        ++it;
      }
    }
  }
  return dropped;
}

void SendRateLimiter::Clear() {
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    shard.sends.clear();
  }
}

size_t SendRateLimiter::key_count() const {
  size_t n = 0;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    n += shard.sends.size();
  }
  return n;
}

}  // namespace mfa
