// SPDX-License-Identifier: Apache-2.0
// Lock-free counters for the request path: a fixed table of uint64 cells, copied once per CPU
// stripe. Private to metrics/.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace mfa::metrics {

// Number of stripes for this host: the number of online CPUs rounded up to a power of two,
// clamped to [1, 16].
size_t DefaultStripeCount();

// Stripe of the calling thread: its current CPU (sched_getcpu, a few ns with rseq) masked to
// `mask`. A thread that migrates between the call and the increment only costs a shared cache
// line, never a lost count.
inline size_t CurrentStripe(size_t mask) noexcept {
  const int cpu = sched_getcpu();
  return cpu < 0 ? 0 : static_cast<size_t>(cpu) & mask;
}

// A table of `cells` monotonically increasing counters. Each stripe holds its own copy of every
// cell, starting on its own cache line, so threads on different CPUs never write the same line.
// Add() is one relaxed fetch_add; Read() sums the stripes.
//
// Thread-safe: Add() and Read() may run concurrently from any threads. Read() is not a
// snapshot across cells (each cell is read once); per cell, successive Read()s never decrease.
class StripedCounterTable {
 public:
  // REQUIRES: stripes is a power of two.
  StripedCounterTable(size_t cells, size_t stripes);
  StripedCounterTable(const StripedCounterTable&) = delete;
  StripedCounterTable& operator=(const StripedCounterTable&) = delete;

  // REQUIRES: cell < cells().
  void Add(size_t cell, uint64_t n) noexcept { AddOnStripe(CurrentStripe(stripe_mask_), cell, n); }
  // Several adds from one call site can share one CurrentStripe(stripes() - 1).
  // REQUIRES: cell < cells(); stripe < stripes().
  void AddOnStripe(size_t stripe, size_t cell, uint64_t n) noexcept {
    Cell(stripe, cell).fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Read(size_t cell) const noexcept;

  size_t cells() const { return cells_; }
  size_t stripes() const { return stripe_mask_ + 1; }

 private:
  static constexpr size_t kLineBytes = 64;
  static constexpr size_t kCellsPerLine = kLineBytes / sizeof(std::atomic<uint64_t>);
  struct alignas(kLineBytes) Line {
    std::atomic<uint64_t> cell[kCellsPerLine];
  };
  static_assert(sizeof(Line) == kLineBytes);

  std::atomic<uint64_t>& Cell(size_t stripe, size_t cell) const noexcept {
    return lines_[stripe * lines_per_stripe_ + cell / kCellsPerLine].cell[cell % kCellsPerLine];
  }

  size_t cells_;
  size_t lines_per_stripe_;
  size_t stripe_mask_;
  std::unique_ptr<Line[]> lines_;  // stripes() * lines_per_stripe_, zero-initialised
};

}  // namespace mfa::metrics
