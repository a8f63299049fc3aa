// SPDX-License-Identifier: Apache-2.0
// Key slots as Redis Cluster computes them; the expected values are Redis's own (CLUSTER KEYSLOT
// on redis-server 7.0, and the CRC16 check value of its cluster specification).
#include "redis/slot.h"

#include <gtest/gtest.h>

namespace mfa::redis {
namespace {

TEST(SlotTest, Crc16MatchesTheXmodemCheckValue) { EXPECT_EQ(Crc16("123456789"), 0x31C3); }

TEST(SlotTest, KeySlotsMatchRedis) {
  EXPECT_EQ(KeySlot("foo"), 12182);
  EXPECT_EQ(KeySlot("bar"), 5061);
  EXPECT_EQ(KeySlot(""), 0);
}

TEST(SlotTest, KeysWithOneHashTagShareASlot) {
  EXPECT_EQ(KeySlot("{user1000}.following"), KeySlot("{user1000}.followers"));
  EXPECT_EQ(KeySlot("mfa:{inbox}"), KeySlot("mfa:{inbox}:seq"));
  EXPECT_EQ(KeySlot("mfa:v:{abc}"), KeySlot("abc"));
}

TEST(SlotTest, AnEmptyOrUnclosedTagHashesTheWholeKey) {
  EXPECT_EQ(KeySlot("foo{}{bar}"), Crc16("foo{}{bar}") % kSlotCount);
  EXPECT_EQ(KeySlot("foo{bar"), Crc16("foo{bar") % kSlotCount);
  EXPECT_EQ(KeySlot("foo{{bar}}zap"), KeySlot("{bar"));
}

}  // namespace
}  // namespace mfa::redis
