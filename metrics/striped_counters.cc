// SPDX-License-Identifier: Apache-2.0
#include "metrics/striped_counters.h"

#include <thread>

namespace mfa::metrics {

size_t DefaultStripeCount() {
  size_t cpus = std::thread::hardware_concurrency();
  size_t stripes = 1;
  while (stripes < cpus && stripes < 16) stripes *= 2;
  return stripes;
}

StripedCounterTable::StripedCounterTable(size_t cells, size_t stripes)
    : cells_(cells),
      lines_per_stripe_((cells + kCellsPerLine - 1) / kCellsPerLine),
      stripe_mask_(stripes - 1),
      lines_(std::make_unique<Line[]>(stripes * lines_per_stripe_)) {}

uint64_t StripedCounterTable::Read(size_t cell) const noexcept {
  uint64_t total = 0;
  for (size_t stripe = 0; stripe <= stripe_mask_; ++stripe) {
    total += Cell(stripe, cell).load(std::memory_order_relaxed);
  }
  return total;
}

}  // namespace mfa::metrics
