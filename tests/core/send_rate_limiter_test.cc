// SPDX-License-Identifier: Apache-2.0
#include "core/send_rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <string>
#include <thread>
#include <vector>

namespace mfa {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;
constexpr int64_t kWindowMs = 600'000;

TEST(SendRateLimiterTest, AllowsUpToMaxSendsThenRefuses) {
  SendRateLimiter limiter;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.TryAcquire("k", kT0, 10, kWindowMs)) << i;
  EXPECT_FALSE(limiter.TryAcquire("k", kT0, 10, kWindowMs));
  EXPECT_FALSE(limiter.WouldAllow("k", kT0, 10, kWindowMs));
}

TEST(SendRateLimiterTest, WindowSlidesOneSendAtATime) {
  SendRateLimiter limiter;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(limiter.TryAcquire("k", kT0 + i * 1000, 3, kWindowMs));
  }
  // The first send (at kT0) counts while now - kT0 < window.
  EXPECT_FALSE(limiter.TryAcquire("k", kT0 + kWindowMs - 1, 3, kWindowMs));
  EXPECT_TRUE(limiter.WouldAllow("k", kT0 + kWindowMs, 3, kWindowMs));
  EXPECT_TRUE(limiter.TryAcquire("k", kT0 + kWindowMs, 3, kWindowMs));
  // Only one slot freed: the send at kT0 + 1000 still counts.
  EXPECT_FALSE(limiter.TryAcquire("k", kT0 + kWindowMs + 999, 3, kWindowMs));
  EXPECT_TRUE(limiter.TryAcquire("k", kT0 + kWindowMs + 1000, 3, kWindowMs));
}

TEST(SendRateLimiterTest, KeysAreIndependent) {
  SendRateLimiter limiter;
  ASSERT_TRUE(limiter.TryAcquire("a", kT0, 1, kWindowMs));
  EXPECT_FALSE(limiter.TryAcquire("a", kT0, 1, kWindowMs));
  EXPECT_TRUE(limiter.TryAcquire("b", kT0, 1, kWindowMs));
  EXPECT_EQ(limiter.key_count(), 2u);
}

TEST(SendRateLimiterTest, ZeroMaxSendsMeansOffAndRecordsNothing) {
  SendRateLimiter limiter;
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.TryAcquire("k", kT0, 0, kWindowMs));
  EXPECT_TRUE(limiter.WouldAllow("k", kT0, 0, kWindowMs));
  EXPECT_EQ(limiter.key_count(), 0u);
  // Switching the limit on later starts from an empty history.
  EXPECT_TRUE(limiter.TryAcquire("k", kT0, 1, kWindowMs));
}

TEST(SendRateLimiterTest, WouldAllowRecordsNothing) {
  SendRateLimiter limiter;
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(limiter.WouldAllow("k", kT0, 1, kWindowMs));
  EXPECT_TRUE(limiter.TryAcquire("k", kT0, 1, kWindowMs));
  EXPECT_FALSE(limiter.WouldAllow("k", kT0, 1, kWindowMs));
}

TEST(SendRateLimiterTest, UnknownKeyIsAllowed) {
  SendRateLimiter limiter;
  EXPECT_TRUE(limiter.WouldAllow("never-seen", kT0, 1, kWindowMs));
}

TEST(SendRateLimiterTest, ReleaseGivesBackOneSend) {
  SendRateLimiter limiter;
  ASSERT_TRUE(limiter.TryAcquire("k", kT0, 2, kWindowMs));
  ASSERT_TRUE(limiter.TryAcquire("k", kT0 + 5, 2, kWindowMs));
  ASSERT_FALSE(limiter.TryAcquire("k", kT0 + 6, 2, kWindowMs));
  limiter.Release("k", kT0 + 5);
  EXPECT_TRUE(limiter.TryAcquire("k", kT0 + 7, 2, kWindowMs));
  EXPECT_FALSE(limiter.TryAcquire("k", kT0 + 8, 2, kWindowMs));
}

TEST(SendRateLimiterTest, ReleaseOfOneOfTwoEqualTimesKeepsTheOther) {
  SendRateLimiter limiter;
  ASSERT_TRUE(limiter.TryAcquire("k", kT0, 2, kWindowMs));
  ASSERT_TRUE(limiter.TryAcquire("k", kT0, 2, kWindowMs));
  limiter.Release("k", kT0);
  EXPECT_TRUE(limiter.TryAcquire("k", kT0, 2, kWindowMs));
  EXPECT_FALSE(limiter.TryAcquire("k", kT0, 2, kWindowMs));
}

TEST(SendRateLimiterTest, ReleaseOfUnknownKeyOrTimeIsANoOp) {
  SendRateLimiter limiter;
  limiter.Release("nobody", kT0);
  ASSERT_TRUE(limiter.TryAcquire("k", kT0, 1, kWindowMs));
  limiter.Release("k", kT0 + 1);  // no send at that time
  EXPECT_FALSE(limiter.TryAcquire("k", kT0 + 2, 1, kWindowMs));
}

TEST(SendRateLimiterTest, LoweringMaxSendsAppliesToExistingHistory) {
  SendRateLimiter limiter;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.TryAcquire("k", kT0, 10, kWindowMs));
  EXPECT_FALSE(limiter.WouldAllow("k", kT0, 5, kWindowMs));
  EXPECT_FALSE(limiter.TryAcquire("k", kT0, 3, kWindowMs));
  EXPECT_TRUE(limiter.TryAcquire("k", kT0, 6, kWindowMs));
}

TEST(SendRateLimiterTest, ShorterWindowForgetsOlderSends) {
  SendRateLimiter limiter;
  ASSERT_TRUE(limiter.TryAcquire("k", kT0, 1, kWindowMs));
  EXPECT_FALSE(limiter.WouldAllow("k", kT0 + 2000, 1, kWindowMs));
  EXPECT_TRUE(limiter.WouldAllow("k", kT0 + 2000, 1, 1000));
  EXPECT_TRUE(limiter.TryAcquire("k", kT0 + 2000, 1, 1000));
}

TEST(SendRateLimiterTest, SweepDropsOnlyKeysWhoseNewestSendLeftTheWindow) {
  SendRateLimiter limiter;
  ASSERT_TRUE(limiter.TryAcquire("old", kT0, 10, kWindowMs));
  ASSERT_TRUE(limiter.TryAcquire("mixed", kT0, 10, kWindowMs));
  ASSERT_TRUE(limiter.TryAcquire("mixed", kT0 + 100'000, 10, kWindowMs));
  ASSERT_TRUE(limiter.TryAcquire("fresh", kT0 + 500'000, 10, kWindowMs));
  EXPECT_EQ(limiter.Sweep(kT0 + kWindowMs - 1, kWindowMs), 0u);
  EXPECT_EQ(limiter.Sweep(kT0 + kWindowMs, kWindowMs), 1u);  // "old"
  EXPECT_EQ(limiter.key_count(), 2u);
  EXPECT_EQ(limiter.Sweep(kT0 + 100'000 + kWindowMs, kWindowMs), 1u);  // "mixed"
  EXPECT_EQ(limiter.key_count(), 1u);
  // "fresh" still limits.
  EXPECT_FALSE(limiter.WouldAllow("fresh", kT0 + 500'001, 1, kWindowMs));
}

TEST(SendRateLimiterTest, ClearForgetsEverything) {
  SendRateLimiter limiter;
  for (int k = 0; k < 100; ++k) {
    ASSERT_TRUE(limiter.TryAcquire("key" + std::to_string(k), kT0, 1, kWindowMs));
  }
  EXPECT_EQ(limiter.key_count(), 100u);
  limiter.Clear();
  EXPECT_EQ(limiter.key_count(), 0u);
  EXPECT_TRUE(limiter.TryAcquire("key0", kT0, 1, kWindowMs));
}

TEST(SendRateLimiterTest, ConcurrentAcquiresOnOneKeyGrantExactlyMaxSends) {
  SendRateLimiter limiter;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  constexpr uint32_t kMax = 300;
  std::atomic<int> granted{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        if (limiter.TryAcquire("shared", kT0 + i, kMax, kWindowMs)) granted.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(granted.load(), static_cast<int>(kMax));
}

}  // namespace
}  // namespace mfa
