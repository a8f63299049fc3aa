// SPDX-License-Identifier: Apache-2.0
#include "http/timer_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <vector>

namespace mfa {
namespace {

using std::chrono::milliseconds;
using Clock = TimerQueue::Clock;

// Waits (bounded) until `done` holds; the bound is generous so a busy machine passes.
bool WaitUntil(const std::function<bool()>& done, milliseconds bound = milliseconds(10'000)) {
  for (auto until = Clock::now() + bound; Clock::now() < until;) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(1));
  }
  return done();
}

TEST(TimerQueueTest, RunsCallbacksInTimeOrderNotBefore) {
  TimerQueue timers;
  std::mutex mu;
  std::vector<int> order;
  const auto start = Clock::now();
  std::vector<Clock::time_point> ran_at(2);
  timers.Schedule(start + milliseconds(60), [&] {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(2);
    ran_at[1] = Clock::now();
  });
  timers.Schedule(start + milliseconds(20), [&] {
    std::lock_guard<std::mutex> lock(mu);
    order.push_back(1);
    ran_at[0] = Clock::now();
  });
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> lock(mu);
    return order.size() == 2;
  }));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_GE(ran_at[0] - start, milliseconds(20));
  EXPECT_GE(ran_at[1] - start, milliseconds(60));
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(TimerQueueTest, APastTimeRunsAtOnce) {
  TimerQueue timers;
  std::atomic<bool> ran{false};
  timers.Schedule(Clock::now() - milliseconds(5), [&] { ran = true; });
  EXPECT_TRUE(WaitUntil([&] { return ran.load(); }));
}

TEST(TimerQueueTest, CancelledCallbacksNeverRun) {
  TimerQueue timers;
  std::atomic<int> runs{0};
  const TimerQueue::Id id = timers.Schedule(Clock::now() + milliseconds(50), [&] { ++runs; });
  timers.Schedule(Clock::now() + milliseconds(100), [&] { runs += 10; });
  EXPECT_TRUE(timers.Cancel(id));
  EXPECT_FALSE(timers.Cancel(id));
  ASSERT_TRUE(WaitUntil([&] { return runs.load() != 0; }));
  EXPECT_EQ(runs.load(), 10);
}

TEST(TimerQueueTest, CancellingTheEntryTheThreadWaitsForIsSafe) {
  TimerQueue timers;
  for (int i = 0; i < 50; ++i) {
    const TimerQueue::Id id = timers.Schedule(Clock::now() + milliseconds(200), [] {});
    std::this_thread::yield();  // give the thread a chance to start waiting on it
    EXPECT_TRUE(timers.Cancel(id));
  }
  std::atomic<bool> ran{false};
  timers.Schedule(Clock::now(), [&] { ran = true; });
  EXPECT_TRUE(WaitUntil([&] { return ran.load(); }));
}

TEST(TimerQueueTest, StopDestroysWhatDidNotRun) {
  auto held = std::make_shared<int>(7);
  std::weak_ptr<int> watch = held;
  TimerQueue timers;
  timers.Schedule(Clock::now() + std::chrono::hours(1), [held] {});
  held.reset();
  EXPECT_FALSE(watch.expired());
  timers.Stop();
  EXPECT_TRUE(watch.expired());
  timers.Stop();  // idempotent
}

TEST(TimerQueueTest, AfterStopNothingIsScheduled) {
  auto held = std::make_shared<int>(7);
  std::weak_ptr<int> watch = held;
  TimerQueue timers;
  timers.Stop();
  EXPECT_EQ(timers.Schedule(Clock::now(), [held] {}), 0u);
  held.reset();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(timers.pending(), 0u);
}

}  // namespace
}  // namespace mfa
