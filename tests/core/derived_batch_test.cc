// SPDX-License-Identifier: Apache-2.0
#include "core/derived_batch.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace mfa {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

DerivedRule Rule(uint32_t count, uint32_t ttl_seconds) {
  DerivedRule rule;
  rule.id = "b_test";
  rule.handle = 1;
  rule.serial = 99;
  rule.count = count;
  rule.created_ms = kT0;
  rule.ttl_seconds = ttl_seconds;
  return rule;
}

TEST(DerivedBatchTest, AFreshBatchIsAllPendingAndCountsEveryRecord) {
  DerivedBatch batch(Rule(1000, 600));
  EXPECT_EQ(batch.remaining(), 1000u);
  EXPECT_EQ(batch.expires_ms(), kT0 + 600'000);
  EXPECT_EQ(batch.earliest_consumed_ms(), INT64_MAX);
  for (uint64_t n : {uint64_t{1}, uint64_t{500}, uint64_t{1000}}) {
    EXPECT_EQ(batch.word(n).load(), 0u);
    EXPECT_EQ(batch.SettledMs(0), kT0 + 600'000);
  }
}

TEST(DerivedBatchTest, FailedTriesCountUpAndSaturate) {
  uint32_t w = 0;
  for (int i = 0; i < 5; ++i) w = DerivedState::WithFailedTry(w);
  EXPECT_EQ(DerivedState::Tries(w), 5u);
  w = DerivedState::kTriesMask;
  EXPECT_EQ(DerivedState::WithFailedTry(w), w);
  EXPECT_FALSE(DerivedState::Consumed(w));
  EXPECT_FALSE(DerivedState::Gone(w));
}

TEST(DerivedBatchTest, ConsumptionKeepsTriesAndRoundsItsTimeUp) {
  DerivedBatch batch(Rule(10, 600));
  EXPECT_EQ(batch.unit_seconds(), 1u);
  const uint32_t w = batch.ConsumedWord(DerivedState::WithFailedTry(0), kT0 + 1'500);
  EXPECT_TRUE(DerivedState::Consumed(w));
  EXPECT_EQ(DerivedState::Tries(w), 1u);
  EXPECT_EQ(batch.ConsumedMs(w), kT0 + 2'000);  // 1.5 s rounded up
  EXPECT_EQ(batch.SettledMs(w), kT0 + 2'000);
  // Consumed at creation: settled at once.
  EXPECT_EQ(batch.ConsumedMs(batch.ConsumedWord(0, kT0)), kT0);
}

TEST(DerivedBatchTest, LongTtlsKeepConsumptionTimesInCoarserUnits) {
  const uint32_t ten_years = 10u * 365 * 24 * 3600;
  DerivedBatch batch(Rule(4, ten_years));
  EXPECT_GT(batch.unit_seconds(), 1u);
  const int64_t at = kT0 + int64_t{ten_years} * 1000;  // the last moment it verifies
  const uint32_t w = batch.ConsumedWord(0, at);
  EXPECT_GE(batch.ConsumedMs(w), at);  // never earlier than it happened
  EXPECT_LT(batch.ConsumedMs(w), at + int64_t{batch.unit_seconds()} * 1000);
  EXPECT_EQ(batch.SettledMs(w), batch.expires_ms());  // capped by the expiry
}

TEST(DerivedBatchTest, EarliestConsumptionIsAMinimumUntilReset) {
  DerivedBatch batch(Rule(4, 600));
  batch.NoteConsumed(kT0 + 5000);
  batch.NoteConsumed(kT0 + 9000);
  batch.NoteConsumed(kT0 + 3000);
  EXPECT_EQ(batch.earliest_consumed_ms(), kT0 + 3000);
  batch.ResetEarliestConsumed();
  EXPECT_EQ(batch.earliest_consumed_ms(), INT64_MAX);
  batch.NoteGone(3);
  EXPECT_EQ(batch.remaining(), 1u);
}

}  // namespace
}  // namespace mfa
