// SPDX-License-Identifier: Apache-2.0
#include "core/clock.h"

#include <gtest/gtest.h>

#include <chrono>

namespace mfa {
namespace {

TEST(ManualClockTest, StartsAtTheGivenTimeAndMovesOnlyWhenTold) {
  ManualClock clock(1000);
  EXPECT_EQ(clock.NowMs(), 1000);
  EXPECT_EQ(clock.NowMs(), 1000);
  clock.AdvanceMs(250);
  EXPECT_EQ(clock.NowMs(), 1250);
  clock.SetMs(5);
  EXPECT_EQ(clock.NowMs(), 5);
}

TEST(ManualClockTest, DefaultStartIsARealisticEpochTime) {
  ManualClock clock;
  EXPECT_EQ(clock.NowMs(), 1'700'000'000'000);
}

TEST(SystemClockTest, ReportsUnixEpochMilliseconds) {
  SystemClock clock;
  const int64_t expected = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  EXPECT_NEAR(static_cast<double>(clock.NowMs()), static_cast<double>(expected), 60'000.0);
}

TEST(OffsetClockTest, AddsTheAccumulatedOffsetToTheBase) {
  ManualClock base(10'000);
  OffsetClock clock(base);
  EXPECT_EQ(clock.NowMs(), 10'000);
  EXPECT_EQ(clock.offset_ms(), 0);
  clock.AdvanceMs(500);
  clock.AdvanceMs(1500);
  EXPECT_EQ(clock.offset_ms(), 2000);
  EXPECT_EQ(clock.NowMs(), 12'000);
  base.AdvanceMs(1);  // follows the base
  EXPECT_EQ(clock.NowMs(), 12'001);
}

}  // namespace
}  // namespace mfa
