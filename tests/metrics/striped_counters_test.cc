// SPDX-License-Identifier: Apache-2.0
#include "metrics/striped_counters.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace mfa::metrics {
namespace {

TEST(StripedCounterTableTest, StartsAtZero) {
  StripedCounterTable table(20, 4);
  EXPECT_EQ(table.cells(), 20u);
  EXPECT_EQ(table.stripes(), 4u);
  for (size_t cell = 0; cell < table.cells(); ++cell) EXPECT_EQ(table.Read(cell), 0u);
}

TEST(StripedCounterTableTest, ReadSumsEveryStripe) {
  StripedCounterTable table(9, 4);
  for (size_t stripe = 0; stripe < 4; ++stripe) table.AddOnStripe(stripe, 8, stripe + 1);
  table.Add(0, 5);
  table.Add(8, 100);
  EXPECT_EQ(table.Read(8), 1u + 2 + 3 + 4 + 100);
  EXPECT_EQ(table.Read(0), 5u);
  for (size_t cell = 1; cell < 8; ++cell) EXPECT_EQ(table.Read(cell), 0u) << cell;
}

TEST(StripedCounterTableTest, SingleStripe) {
  StripedCounterTable table(1, 1);
  table.Add(0, 3);
  table.Add(0, 4);
  EXPECT_EQ(table.Read(0), 7u);
}

TEST(StripedCounterTableTest, DefaultStripeCountIsAPowerOfTwo) {
  const size_t stripes = DefaultStripeCount();
  EXPECT_GE(stripes, 1u);
  EXPECT_LE(stripes, 16u);
  EXPECT_EQ(stripes & (stripes - 1), 0u);
  EXPECT_GE(stripes, std::min<size_t>(16, std::thread::hardware_concurrency()));
}

TEST(StripedCounterTableTest, ConcurrentAddsAreExact) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  StripedCounterTable table(3, DefaultStripeCount());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&table] {
      for (int i = 0; i < kPerThread; ++i) {
        table.Add(0, 1);
        table.Add(2, 3);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(table.Read(0), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(table.Read(1), 0u);
  EXPECT_EQ(table.Read(2), uint64_t{3} * kThreads * kPerThread);
}

}  // namespace
}  // namespace mfa::metrics
