// SPDX-License-Identifier: Apache-2.0
// Time source, injected so tests can move time.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace mfa {

// Wall-clock milliseconds since the Unix epoch. Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that only moves when told to. Thread-safe (one atomic).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms = 1'700'000'000'000) : now_ms_(start_ms) {}
  int64_t NowMs() const override { return now_ms_.load(std::memory_order_acquire); }
  void AdvanceMs(int64_t delta_ms) { now_ms_.fetch_add(delta_ms, std::memory_order_acq_rel); }
  void SetMs(int64_t now_ms) { now_ms_.store(now_ms, std::memory_order_release); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace mfa

namespace mfa {

// A base clock shifted by an adjustable offset: lets the admin API move the mock's time forward
// (POST /admin/clock/advance). Thread-safe (one atomic).
class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(const Clock& base) : base_(base) {}
  int64_t NowMs() const override {
    return base_.NowMs() + offset_ms_.load(std::memory_order_acquire);
  }
  void AdvanceMs(int64_t delta_ms) { offset_ms_.fetch_add(delta_ms, std::memory_order_acq_rel); }
  void Reset() { offset_ms_.store(0, std::memory_order_release); }
  void SetOffsetMs(int64_t offset_ms) { offset_ms_.store(offset_ms, std::memory_order_release); }
  int64_t offset_ms() const { return offset_ms_.load(std::memory_order_acquire); }

 private:
  const Clock& base_;
  std::atomic<int64_t> offset_ms_{0};
};

}  // namespace mfa
