// SPDX-License-Identifier: Apache-2.0
// A fixed-capacity log of the newest entries (inbox, request journal).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace mfa {

// Thread-safe without a global lock: an entry takes the next sequence number from an atomic
// counter and lands in slot seq % capacity, whose own mutex guards that slot only. The oldest
// entry is overwritten once `capacity` is reached; Clear() hides everything added before it.
template <typename T>
class BoundedLog {
 public:
  explicit BoundedLog(size_t capacity) : slots_(capacity) {
    if (capacity == 0) throw std::invalid_argument("log capacity must be at least 1");
  }
  BoundedLog(const BoundedLog&) = delete;
  BoundedLog& operator=(const BoundedLog&) = delete;

  // Returns the entry's sequence number (1, 2, ...).
  uint64_t Add(T entry) {
    const uint64_t seq = next_seq_.fetch_add(1, std::memory_order_acq_rel);
    Slot& slot = slots_[seq % slots_.size()];
    std::lock_guard<std::mutex> lock(slot.mu);
    // A slower writer of an older entry must not overwrite a newer one.
    if (slot.seq > seq) return seq;
    slot.entry = std::move(entry);
    slot.seq = seq;
    slot.erased = false;
    return seq;
  }

  // Like Add, but `fill(T&)` writes the entry into its slot in place, over the entry it replaces,
  // so an entry's buffers (strings) are reused and a steady stream of entries does not allocate.
  // `fill` runs under the slot's lock: keep it short. It must set every field.
  template <typename Fill>
  uint64_t AddInPlace(Fill&& fill) {
    const uint64_t seq = next_seq_.fetch_add(1, std::memory_order_acq_rel);
    Slot& slot = slots_[seq % slots_.size()];
    std::lock_guard<std::mutex> lock(slot.mu);
    if (slot.seq > seq) return seq;
    fill(slot.entry);
    slot.seq = seq;
    slot.erased = false;
    return seq;
  }

  // Calls fn(seq, const T&) newest first until it returns false.
  template <typename Fn>
  void ForEachNewest(Fn&& fn) const {
    ForEachNewestSlot(
        [&](uint64_t seq, const T* entry) { return entry == nullptr || fn(seq, *entry); });
  }

  // Like ForEachNewest, but also calls fn(seq, nullptr) for a number taken by an Add that has
  // not written its entry yet (a concurrent writer), so a reader that needs the entries in order
  // without holes can tell. Erased and overwritten entries are skipped.
  template <typename Fn>
  void ForEachNewestSlot(Fn&& fn) const {
    const uint64_t newest = next_seq_.load(std::memory_order_acquire);  // exclusive
    const uint64_t oldest_kept = newest > slots_.size() ? newest - slots_.size() : 1;
    const uint64_t floor =
        std::max<uint64_t>(cleared_below_.load(std::memory_order_acquire), oldest_kept);
    for (uint64_t seq = newest; seq-- > floor;) {
      const Slot& slot = slots_[seq % slots_.size()];
      std::unique_lock<std::mutex> lock(slot.mu);
      if (slot.seq > seq || (slot.seq == seq && slot.erased)) continue;
      if (slot.seq < seq) {  // not written yet
        lock.unlock();
        if (!fn(seq, static_cast<const T*>(nullptr))) return;
        continue;
      }
      if (!fn(seq, &slot.entry)) return;
    }
  }

  // Hides every entry for which pred(const T&) is true; returns how many. Entries added
  // meanwhile may or may not be looked at.
  template <typename Pred>
  size_t EraseIf(Pred&& pred) {
    const uint64_t newest = next_seq_.load(std::memory_order_acquire);
    const uint64_t oldest_kept = newest > slots_.size() ? newest - slots_.size() : 1;
    const uint64_t floor =
        std::max<uint64_t>(cleared_below_.load(std::memory_order_acquire), oldest_kept);
    size_t erased = 0;
    for (uint64_t seq = newest; seq-- > floor;) {
      Slot& slot = slots_[seq % slots_.size()];
      std::lock_guard<std::mutex> lock(slot.mu);
      if (slot.seq != seq || slot.erased || !pred(static_cast<const T&>(slot.entry))) continue;
      slot.erased = true;
      ++erased;
    }
    return erased;
  }

  // The number of the newest entry added (0 = none yet).
  uint64_t newest_seq() const { return next_seq_.load(std::memory_order_acquire) - 1; }

  void Clear() {
    cleared_below_.store(next_seq_.load(std::memory_order_acquire), std::memory_order_release);
  }
  // Counts erased entries too (EraseIf does not shrink it).
  size_t size() const {
    const uint64_t newest = next_seq_.load(std::memory_order_acquire);
    const uint64_t cleared = cleared_below_.load(std::memory_order_acquire);
    const uint64_t n = newest - cleared;
    return static_cast<size_t>(n < slots_.size() ? n : slots_.size());
  }
  size_t capacity() const { return slots_.size(); }

 private:
  struct Slot {
    mutable std::mutex mu;
    uint64_t seq = 0;     // GUARDED_BY(mu); 0 = empty
    bool erased = false;  // GUARDED_BY(mu): hidden by EraseIf
    T entry;              // GUARDED_BY(mu)
  };
  std::vector<Slot> slots_;
  std::atomic<uint64_t> next_seq_{1};
  std::atomic<uint64_t> cleared_below_{1};
};

}  // namespace mfa
