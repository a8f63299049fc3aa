// SPDX-License-Identifier: Apache-2.0
#include "http/faults.h"

#include <random>

namespace mfa {

FaultPlan PlanFault(const FaultRule& rule, double unit_draw, uint32_t delay_ms) {
  FaultPlan plan;
  if (unit_draw < rule.reset_rate) {
    plan.kind = FaultPlan::Kind::kReset;  // no answer, so no delay either
    return plan;
  }
  if (unit_draw < rule.reset_rate + rule.error_rate) plan.kind = FaultPlan::Kind::kError;
  if (rule.delay_max_ms > 0) plan.delay = std::chrono::milliseconds(delay_ms);
  return plan;
}

FaultPlan DrawFault(const FaultRule& rule) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const double unit = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  const uint32_t delay = rule.delay_max_ms > 0 ? std::uniform_int_distribution<uint32_t>(
                                                     rule.delay_min_ms, rule.delay_max_ms)(rng)
                                               : 0;
  return PlanFault(rule, unit, delay);
}

}  // namespace mfa
