// SPDX-License-Identifier: Apache-2.0
// A generated batch kept as a rule plus one 32-bit state word per record. Its ids and codes are
// derived (core/derived_ids.h), its identifiers come from the pattern, so a record costs 4 bytes,
// and only once its state page is touched: the words start as zero pages of an anonymous mapping.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "core/derived_ids.h"
#include "core/types.h"

namespace mfa {

struct DerivedRule {
  std::string id;  // public batch id ("b_...")
  uint32_t handle = 0;
  uint64_t serial = 0;  // nonzero: the bits above the sequence number in every plaintext
  IdentifierType type = IdentifierType::kEmail;
  std::string pattern;  // identifier, "{n}" = sequence number
  uint32_t count = 0;   // records 1..count
  int64_t created_ms = 0;
  uint32_t ttl_seconds = 0;
  std::string fixed_code;  // empty: each record's derived 6-digit code
};

// State word of one record:
//   bits 0..9   failed tries (saturating at 1023; max attempts is at most 1000)
//   bit  10     consumed (verified)
//   bit  11     gone (deleted, or swept after its retention)
//   bits 12..31 when it was consumed, after created_ms, in units of unit_seconds(), rounded up
// Zero = pending, no tries.
struct DerivedState {
  static constexpr uint32_t kTriesMask = 0x3ff;
  static constexpr uint32_t kConsumed = 1u << 10;
  static constexpr uint32_t kGone = 1u << 11;
  static constexpr int kAfterShift = 12;
  static constexpr uint32_t kMaxAfter = (1u << 20) - 1;

  static uint32_t Tries(uint32_t w) { return w & kTriesMask; }
  static bool Consumed(uint32_t w) { return (w & kConsumed) != 0; }
  static bool Gone(uint32_t w) { return (w & kGone) != 0; }
  static uint32_t After(uint32_t w) { return w >> kAfterShift; }
  static uint32_t WithFailedTry(uint32_t w) {
    return Tries(w) == kTriesMask ? w : w + 1;  // saturate
  }
};

// The unit of a consumed record's time (bits 12..31 of its state word) for a batch of this TTL:
// one second, or more when 2^20 - 1 seconds would not cover the TTL.
inline uint32_t DerivedUnitSeconds(uint32_t ttl_seconds) {
  const uint64_t ttl = ttl_seconds;
  return static_cast<uint32_t>(ttl <= DerivedState::kMaxAfter
                                   ? 1
                                   : (ttl + DerivedState::kMaxAfter - 1) / DerivedState::kMaxAfter);
}

// Thread-safe: the rule is immutable, each state word is only changed by compare-and-swap, and the
// counters are atomics. Not copyable.
class DerivedBatch {
 public:
  // Allocates `rule.count` zeroed state words. Throws std::bad_alloc when memory runs out.
  explicit DerivedBatch(DerivedRule rule) : rule_(std::move(rule)) {
    // calloc of a large block maps fresh zero pages: RSS grows only where words change.
    words_.reset(static_cast<uint32_t*>(std::calloc(rule_.count == 0 ? 1 : rule_.count, 4)));
    if (!words_) throw std::bad_alloc();
    unit_seconds_ = DerivedUnitSeconds(rule_.ttl_seconds);
    remaining_.store(rule_.count, std::memory_order_relaxed);
  }
  DerivedBatch(const DerivedBatch&) = delete;
  DerivedBatch& operator=(const DerivedBatch&) = delete;

  const DerivedRule& rule() const { return rule_; }
  int64_t expires_ms() const { return rule_.created_ms + int64_t{rule_.ttl_seconds} * 1000; }
  uint32_t unit_seconds() const { return unit_seconds_; }

  // Record n's word. REQUIRES: 1 <= n <= count.
  std::atomic_ref<uint32_t> word(uint64_t n) const {
    return std::atomic_ref<uint32_t>(words_[n - 1]);
  }
  // For a snapshot load before serving: the raw words. Not thread-safe.
  uint32_t* raw_words() { return words_.get(); }

  // The word after a successful verify at `now_ms`: consumed, with its time rounded up so the
  // retention after consumption is never cut short.
  uint32_t ConsumedWord(uint32_t w, int64_t now_ms) const {
    const int64_t age_ms = now_ms - rule_.created_ms;
    const int64_t unit_ms = int64_t{unit_seconds_} * 1000;
    int64_t units = age_ms <= 0 ? 0 : (age_ms + unit_ms - 1) / unit_ms;
    if (units > DerivedState::kMaxAfter) units = DerivedState::kMaxAfter;
    return (w & (DerivedState::kTriesMask | DerivedState::kGone)) | DerivedState::kConsumed |
           (static_cast<uint32_t>(units) << DerivedState::kAfterShift);
  }
  int64_t ConsumedMs(uint32_t w) const {
    return rule_.created_ms + int64_t{DerivedState::After(w)} * unit_seconds_ * 1000;
  }
  // When the record stopped answering normally: expired, or consumed if that came first.
  int64_t SettledMs(uint32_t w) const {
    const int64_t expires = expires_ms();
    if (!DerivedState::Consumed(w)) return expires;
    const int64_t consumed = ConsumedMs(w);
    return consumed < expires ? consumed : expires;
  }

  // Records not gone.
  uint64_t remaining() const { return remaining_.load(std::memory_order_relaxed); }
  void NoteGone(uint64_t n = 1) { remaining_.fetch_sub(n, std::memory_order_relaxed); }
  void set_remaining(uint64_t n) { remaining_.store(n, std::memory_order_relaxed); }

  // A lower bound of ConsumedMs over consumed records not gone (INT64_MAX: none), so a sweep
  // reads the words only when a consumed record can be due.
  int64_t earliest_consumed_ms() const {
    return earliest_consumed_ms_.load(std::memory_order_relaxed);
  }
  void NoteConsumed(int64_t consumed_ms) {
    int64_t seen = earliest_consumed_ms_.load(std::memory_order_relaxed);
    while (consumed_ms < seen && !earliest_consumed_ms_.compare_exchange_weak(
                                     seen, consumed_ms, std::memory_order_relaxed)) {
    }
  }
  void ResetEarliestConsumed() {
    earliest_consumed_ms_.store(INT64_MAX, std::memory_order_relaxed);
  }

 private:
  struct Free {
    void operator()(uint32_t* p) const { std::free(p); }
  };
  const DerivedRule rule_;
  std::unique_ptr<uint32_t[], Free> words_;
  uint32_t unit_seconds_ = 1;
  std::atomic<uint64_t> remaining_{0};
  std::atomic<int64_t> earliest_consumed_ms_{INT64_MAX};
};

}  // namespace mfa
