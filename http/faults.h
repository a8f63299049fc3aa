// SPDX-License-Identifier: Apache-2.0
// Injected faults (PATCH /admin/config {"faults": ...}): what one request gets.
#pragma once

#include <chrono>
#include <cstdint>

#include "core/config.h"

namespace mfa {

struct FaultPlan {
  enum class Kind { kNone, kReset, kError } kind = Kind::kNone;
  std::chrono::milliseconds delay{0};  // hold the answer (the handler's or the error) this long
};

// The plan for one request under `rule`, from a uniform draw in [0, 1) and a delay draw in
// [rule.delay_min_ms, rule.delay_max_ms]. Pure: tests pass their own draws.
FaultPlan PlanFault(const FaultRule& rule, double unit_draw, uint32_t delay_ms);
// The same with draws from a per-thread PRNG (no secrecy needed, only speed). Thread-safe.
FaultPlan DrawFault(const FaultRule& rule);

}  // namespace mfa
