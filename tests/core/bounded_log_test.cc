// SPDX-License-Identifier: Apache-2.0
// BoundedLog: the fixed-capacity newest-entries log behind the inbox and the request journal.

#include "core/bounded_log.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace mfa {
namespace {

std::vector<int> Newest(const BoundedLog<int>& log) {
  std::vector<int> out;
  log.ForEachNewest([&](uint64_t, const int& v) {
    out.push_back(v);
    return true;
  });
  return out;
}

TEST(BoundedLogTest, RejectsAZeroCapacity) {
  EXPECT_THROW(BoundedLog<int>(0), std::invalid_argument);
}

TEST(BoundedLogTest, ListsNewestFirstAndNumbersFromOne) {
  BoundedLog<int> log(4);
  EXPECT_EQ(log.Add(10), 1u);
  EXPECT_EQ(log.Add(20), 2u);
  EXPECT_EQ(Newest(log), (std::vector<int>{20, 10}));
  EXPECT_EQ(log.size(), 2u);
}

TEST(BoundedLogTest, KeepsOnlyTheNewestCapacityEntries) {
  BoundedLog<int> log(3);
  for (int i = 1; i <= 7; ++i) log.Add(i);
  EXPECT_EQ(Newest(log), (std::vector<int>{7, 6, 5}));
  EXPECT_EQ(log.size(), 3u);
}

TEST(BoundedLogTest, StopsWhenTheCallbackSaysSo) {
  BoundedLog<int> log(8);
  for (int i = 1; i <= 5; ++i) log.Add(i);
  std::vector<int> seen;
  log.ForEachNewest([&](uint64_t, const int& v) {
    seen.push_back(v);
    return seen.size() < 2;
  });
  EXPECT_EQ(seen, (std::vector<int>{5, 4}));
}

TEST(BoundedLogTest, ClearHidesEarlierEntriesButNotLaterOnes) {
  BoundedLog<int> log(4);
  log.Add(1);
  log.Add(2);
  log.Clear();
  EXPECT_TRUE(Newest(log).empty());
  EXPECT_EQ(log.size(), 0u);
  log.Add(3);
  EXPECT_EQ(Newest(log), (std::vector<int>{3}));
}

TEST(BoundedLogTest, AddInPlaceReusesTheReplacedEntrysBuffers) {
  BoundedLog<std::string> log(2);
  const std::string long_text(200, 'x');
  log.Add(long_text);
  log.Add(long_text);
  const char* first_buffer = nullptr;
  log.ForEachNewest([&](uint64_t seq, const std::string& s) {
    if (seq == 1) first_buffer = s.data();
    return true;
  });
  ASSERT_NE(first_buffer, nullptr);
  // Entry 3 lands in entry 1's slot and writes into its string's existing buffer.
  EXPECT_EQ(log.AddInPlace([](std::string& s) { s.assign(100, 'y'); }), 3u);
  std::vector<std::string> newest;
  const char* third_buffer = nullptr;
  log.ForEachNewest([&](uint64_t seq, const std::string& s) {
    newest.push_back(s);
    if (seq == 3) third_buffer = s.data();
    return true;
  });
  EXPECT_EQ(newest, (std::vector<std::string>{std::string(100, 'y'), long_text}));
  EXPECT_EQ(third_buffer, first_buffer);
}

TEST(BoundedLogTest, ConcurrentWritersLoseNothingOfTheNewestEntries) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  BoundedLog<int> log(64);
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&log, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (i % 2 == 0) {
          log.Add(t * kPerThread + i);
        } else {
          log.AddInPlace([&](int& v) { v = t * kPerThread + i; });
        }
      }
    });
  }
  for (std::thread& w : writers) w.join();
  // Every slot holds an entry with the newest 64 sequence numbers, each a value some writer wrote.
  std::vector<uint64_t> seqs;
  log.ForEachNewest([&](uint64_t seq, const int& v) {
    seqs.push_back(seq);
    EXPECT_GE(v, 0);
    EXPECT_LT(v, kThreads * kPerThread);
    return true;
  });
  ASSERT_EQ(seqs.size(), 64u);
  EXPECT_EQ(seqs.front(), static_cast<uint64_t>(kThreads * kPerThread));
  EXPECT_EQ(seqs.back(), static_cast<uint64_t>(kThreads * kPerThread - 63));
}

}  // namespace
}  // namespace mfa
