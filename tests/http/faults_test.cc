// SPDX-License-Identifier: Apache-2.0
#include "http/faults.h"

#include <gtest/gtest.h>

namespace mfa {
namespace {

TEST(FaultsTest, DrawsBelowTheResetRateResetWithoutDelay) {
  FaultRule rule;
  rule.reset_rate = 0.2;
  rule.error_rate = 0.3;
  rule.delay_min_ms = rule.delay_max_ms = 100;
  const FaultPlan reset = PlanFault(rule, 0.1, 100);
  EXPECT_EQ(reset.kind, FaultPlan::Kind::kReset);
  EXPECT_EQ(reset.delay.count(), 0);
  const FaultPlan error = PlanFault(rule, 0.4, 100);
  EXPECT_EQ(error.kind, FaultPlan::Kind::kError);
  EXPECT_EQ(error.delay.count(), 100);
  const FaultPlan none = PlanFault(rule, 0.5, 100);
  EXPECT_EQ(none.kind, FaultPlan::Kind::kNone);
  EXPECT_EQ(none.delay.count(), 100);
}

TEST(FaultsTest, AnInactiveRuleDoesNothing) {
  const FaultPlan plan = PlanFault(FaultRule{}, 0.0, 0);
  EXPECT_EQ(plan.kind, FaultPlan::Kind::kNone);
  EXPECT_EQ(plan.delay.count(), 0);
}

TEST(FaultsTest, DrawnDelaysStayInTheRuleRange) {
  FaultRule rule;
  rule.delay_min_ms = 10;
  rule.delay_max_ms = 20;
  for (int i = 0; i < 1000; ++i) {
    const FaultPlan plan = DrawFault(rule);
    ASSERT_EQ(plan.kind, FaultPlan::Kind::kNone);
    ASSERT_GE(plan.delay.count(), 10);
    ASSERT_LE(plan.delay.count(), 20);
  }
}

TEST(FaultsTest, RatesOfOneAlwaysApply) {
  FaultRule rule;
  rule.error_rate = 1.0;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(DrawFault(rule).kind, FaultPlan::Kind::kError);
}

}  // namespace
}  // namespace mfa
