// SPDX-License-Identifier: Apache-2.0
// The parts of Logto's session emulation that hold state (core/sessions.h): the user directory,
// the interaction session store with its expiry and sweep, the sentinel's lockout with a sliding
// window, and the relative time Logto writes into the lockout message.

#include "core/sessions.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/clock.h"

namespace mfa {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;
constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

bool IsId(const std::string& s) {
  if (s.size() != 21) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

User MakeUser(std::string id, std::string username, std::string email, std::string phone) {
  User u;
  u.id = std::move(id);
  u.username = std::move(username);
  u.primary_email = std::move(email);
  u.primary_phone = std::move(phone);
  return u;
}

// ---------------------------------------------------------------- UserDirectory

TEST(UserDirectoryTest, AddThenGetReturnsTheUser) {
  UserDirectory users;
  ASSERT_TRUE(users.Add(MakeUser("alice", "alice", "alice@example.com", "+15555550101")));
  auto got = users.Get("alice");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, "alice");
  EXPECT_EQ(got->username, "alice");
  EXPECT_EQ(got->primary_email, "alice@example.com");
  EXPECT_EQ(got->primary_phone, "+15555550101");
  EXPECT_FALSE(users.Get("bob"));
}

TEST(UserDirectoryTest, ATotpStepIsUsedOnceAndOnlyLaterStepsFollow) {
  UserDirectory users;
  User u;
  u.id = "u1";
  u.totp_secret = "JBSWY3DPEHPK3PXP";
  ASSERT_TRUE(users.Add(u));
  EXPECT_TRUE(users.UseTotpStep("u1", 100));
  EXPECT_FALSE(users.UseTotpStep("u1", 100));
  EXPECT_FALSE(users.UseTotpStep("u1", 99));
  EXPECT_TRUE(users.UseTotpStep("u1", 101));
  EXPECT_EQ(users.Get("u1")->totp_last_step, 101);
  EXPECT_FALSE(users.UseTotpStep("ghost", 200));
  User plain;
  plain.id = "u2";
  ASSERT_TRUE(users.Add(plain));
  EXPECT_FALSE(users.UseTotpStep("u2", 200));
}

TEST(UserDirectoryTest, ABackupCodeIsUsedOnceAndComparedExactly) {
  UserDirectory users;
  User u;
  u.id = "u1";
  u.backup_codes = {{"abcdefabcd", false}, {"0123456789", true}};
  ASSERT_TRUE(users.Add(u));
  EXPECT_FALSE(users.UseBackupCode("u1", "ABCDEFABCD"));
  EXPECT_FALSE(users.UseBackupCode("u1", "0123456789"));  // already used
  EXPECT_TRUE(users.UseBackupCode("u1", "abcdefabcd"));
  EXPECT_FALSE(users.UseBackupCode("u1", "abcdefabcd"));
  EXPECT_TRUE(users.Get("u1")->backup_codes[0].used);
  EXPECT_FALSE(users.UseBackupCode("ghost", "abcdefabcd"));
}

TEST(UserDirectoryTest, AddRefusesATakenIdAndKeepsTheFirstUser) {
  UserDirectory users;
  ASSERT_TRUE(users.Add(MakeUser("alice", "", "first@example.com", "")));
  EXPECT_FALSE(users.Add(MakeUser("alice", "", "second@example.com", "")));
  EXPECT_EQ(users.Get("alice")->primary_email, "first@example.com");
}

TEST(UserDirectoryTest, RemoveDeletesOnceAndListIsSortedById) {
  UserDirectory users;
  users.Add(MakeUser("carol", "", "c@example.com", ""));
  users.Add(MakeUser("alice", "", "a@example.com", ""));
  users.Add(MakeUser("bob", "", "b@example.com", ""));
  std::vector<User> listed = users.List();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].id, "alice");
  EXPECT_EQ(listed[1].id, "bob");
  EXPECT_EQ(listed[2].id, "carol");

  EXPECT_TRUE(users.Remove("bob"));
  EXPECT_FALSE(users.Remove("bob"));
  EXPECT_FALSE(users.Get("bob"));
  EXPECT_EQ(users.List().size(), 2u);

  users.Clear();
  EXPECT_TRUE(users.List().empty());
  EXPECT_FALSE(users.Get("alice"));
}

TEST(UserDirectoryTest, FindsByUsernameEmailCaseInsensitivelyAndPhoneByDigits) {
  UserDirectory users;
  users.Add(MakeUser("u1", "alice", "Alice@Example.com", "+1 (555) 555-0101"));
  users.Add(MakeUser("u2", "bob", "bob@example.com", ""));
  using enum SignInIdentifier;

  EXPECT_EQ(users.Find(kUsername, "alice")->id, "u1");
  EXPECT_EQ(users.Find(kEmail, "alice@example.com")->id, "u1");
  EXPECT_EQ(users.Find(kEmail, "ALICE@EXAMPLE.COM")->id, "u1");
  EXPECT_EQ(users.Find(kPhone, "15555550101")->id, "u1");
  EXPECT_EQ(users.Find(kPhone, "+15555550101")->id, "u1");
  EXPECT_EQ(users.Find(kUsername, "bob")->id, "u2");
  EXPECT_FALSE(users.Find(kUsername, "carol"));
  EXPECT_FALSE(users.Find(kUsername, "Alice"));  // usernames compare exactly
  // Each type compares only its own field.
  EXPECT_FALSE(users.Find(kUsername, "alice@example.com"));
  EXPECT_FALSE(users.Find(kEmail, "alice"));
  // A user without a phone is not found by an empty digit string.
  EXPECT_FALSE(users.Find(kPhone, "no-digits-here"));
}

// ---------------------------------------------------------------- InteractionEvent

TEST(InteractionEventTest, ParsesLogtosThreeEventsAndPrintsThemBack) {
  for (std::string_view name : {"SignIn", "Register", "ForgotPassword"}) {
    auto event = ParseInteractionEvent(name);
    ASSERT_TRUE(event) << name;
    EXPECT_EQ(ToString(*event), name);
  }
  EXPECT_EQ(*ParseInteractionEvent("SignIn"), InteractionEvent::kSignIn);
  EXPECT_EQ(*ParseInteractionEvent("Register"), InteractionEvent::kRegister);
  EXPECT_EQ(*ParseInteractionEvent("ForgotPassword"), InteractionEvent::kForgotPassword);
}

TEST(InteractionEventTest, RejectsOtherSpellings) {
  for (std::string_view name :
       {"signIn", "signin", "SIGNIN", "register", "", "SignIn ", "Sign In", "ForgotPassword\n"}) {
    EXPECT_FALSE(ParseInteractionEvent(name)) << "'" << name << "'";
  }
}

// ---------------------------------------------------------------- SessionStore

TEST(SessionStoreTest, CreateGivesAFreshSecureIdAndKeepsTheFields) {
  SessionStore store;
  Session s = store.Create(kStart, kHour, /*interaction_started=*/true, InteractionEvent::kRegister,
                           "alice");
  EXPECT_TRUE(IsId(s.id)) << s.id;
  EXPECT_EQ(s.expires_ms, kStart + kHour);
  EXPECT_TRUE(s.interaction_started);
  EXPECT_EQ(s.event, InteractionEvent::kRegister);
  EXPECT_EQ(s.user_id, "alice");
  EXPECT_TRUE(s.record_ids[0].empty());
  EXPECT_TRUE(s.record_ids[1].empty());

  auto got = store.Get(s.id, kStart);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->id, s.id);
  EXPECT_EQ(got->user_id, "alice");
  EXPECT_EQ(got->event, InteractionEvent::kRegister);
  EXPECT_EQ(store.size(), 1u);
}

TEST(SessionStoreTest, IdsAreDistinct) {
  SessionStore store;
  std::set<std::string> ids;
  for (int i = 0; i < 500; ++i) {
    ids.insert(store.Create(kStart, kHour, true, InteractionEvent::kSignIn, "").id);
  }
  EXPECT_EQ(ids.size(), 500u);
  EXPECT_EQ(store.size(), 500u);
}

TEST(SessionStoreTest, SessionLivesUntilJustBeforeItsTtlAndIsGoneAtIt) {
  SessionStore store;
  Session s = store.Create(kStart, 3600 * kSecond, true, InteractionEvent::kSignIn, "");
  EXPECT_TRUE(store.Get(s.id, kStart + 3600 * kSecond - 1));
  EXPECT_FALSE(store.Get(s.id, kStart + 3600 * kSecond));
  EXPECT_FALSE(store.Get(s.id, kStart + 2 * kHour));
  // Expired but not swept: still counted until the sweep.
  EXPECT_EQ(store.size(), 1u);
}

TEST(SessionStoreTest, UnknownIdIsNotFound) {
  SessionStore store;
  store.Create(kStart, kHour, true, InteractionEvent::kSignIn, "");
  EXPECT_FALSE(store.Get("", kStart));
  EXPECT_FALSE(store.Get("aaaaaaaaaaaaaaaaaaaaa", kStart));
}

TEST(SessionStoreTest, UpdateAppliesToLiveSessionsOnly) {
  SessionStore store;
  Session s = store.Create(kStart, kMinute, false, InteractionEvent::kSignIn, "");
  EXPECT_TRUE(store.Update(s.id, kStart, [](Session& x) { x.user_id = "alice"; }));
  EXPECT_EQ(store.Get(s.id, kStart)->user_id, "alice");

  bool called = false;
  EXPECT_FALSE(store.Update("unknown", kStart, [&](Session&) { called = true; }));
  EXPECT_FALSE(store.Update(s.id, kStart + kMinute, [&](Session&) { called = true; }));
  EXPECT_FALSE(called);
}

TEST(SessionStoreTest, SweepRemovesExpiredSessionsOnly) {
  SessionStore store;
  Session short_lived = store.Create(kStart, kMinute, true, InteractionEvent::kSignIn, "");
  Session long_lived = store.Create(kStart, kHour, true, InteractionEvent::kSignIn, "");
  EXPECT_EQ(store.Sweep(kStart + kMinute - 1), 0u);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_EQ(store.Sweep(kStart + kMinute), 1u);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_FALSE(store.Get(short_lived.id, kStart));  // gone, whatever the time
  EXPECT_TRUE(store.Get(long_lived.id, kStart + kMinute));
  EXPECT_EQ(store.Sweep(kStart + kHour), 1u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(SessionStoreTest, RemoveAndClear) {
  SessionStore store;
  Session a = store.Create(kStart, kHour, true, InteractionEvent::kSignIn, "");
  Session b = store.Create(kStart, kHour, true, InteractionEvent::kSignIn, "");
  EXPECT_TRUE(store.Remove(a.id));
  EXPECT_FALSE(store.Remove(a.id));
  EXPECT_FALSE(store.Get(a.id, kStart));
  EXPECT_TRUE(store.Get(b.id, kStart));
  store.Clear();
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.Get(b.id, kStart));
}

// ---------------------------------------------------------------- Sentinel

constexpr uint32_t kThreshold = 3;
constexpr int64_t kWindow = kHour;
constexpr int64_t kBlock = kHour;

TEST(SentinelTest, BelowTheThresholdNothingIsBlocked) {
  Sentinel sentinel;
  for (uint32_t i = 0; i + 1 < kThreshold; ++i) {
    sentinel.RecordFailure("alice@example.com", kStart + i, kThreshold, kWindow, kBlock);
  }
  EXPECT_FALSE(sentinel.BlockedFor("alice@example.com", kStart + 10));
}

TEST(SentinelTest, TheThresholdthFailureBlocksForTheLockoutDuration) {
  Sentinel sentinel;
  for (uint32_t i = 0; i < kThreshold; ++i) {
    sentinel.RecordFailure("alice@example.com", kStart, kThreshold, kWindow, kBlock);
  }
  auto blocked = sentinel.BlockedFor("alice@example.com", kStart);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(*blocked, kBlock);

  EXPECT_EQ(sentinel.BlockedFor("alice@example.com", kStart + 59 * kMinute), kMinute);
  EXPECT_EQ(sentinel.BlockedFor("alice@example.com", kStart + 59 * kMinute + 30 * kSecond),
            30 * kSecond);
  // The block ends exactly at its end.
  EXPECT_TRUE(sentinel.BlockedFor("alice@example.com", kStart + kBlock - 1));
  EXPECT_FALSE(sentinel.BlockedFor("alice@example.com", kStart + kBlock));
}

TEST(SentinelTest, KeysAreIndependent) {
  Sentinel sentinel;
  for (uint32_t i = 0; i < kThreshold; ++i) {
    sentinel.RecordFailure("alice@example.com", kStart, kThreshold, kWindow, kBlock);
  }
  sentinel.RecordFailure("bob@example.com", kStart, kThreshold, kWindow, kBlock);
  EXPECT_TRUE(sentinel.BlockedFor("alice@example.com", kStart));
  EXPECT_FALSE(sentinel.BlockedFor("bob@example.com", kStart));
  EXPECT_FALSE(sentinel.BlockedFor("15555550101", kStart));
}

TEST(SentinelTest, ThresholdZeroIsOff) {
  Sentinel sentinel;
  for (int i = 0; i < 1000; ++i) {
    sentinel.RecordFailure("alice@example.com", kStart, /*threshold=*/0, kWindow, kBlock);
  }
  EXPECT_FALSE(sentinel.BlockedFor("alice@example.com", kStart));
}

TEST(SentinelTest, ThresholdOneBlocksOnTheFirstFailure) {
  Sentinel sentinel;
  sentinel.RecordFailure("alice@example.com", kStart, 1, kWindow, kBlock);
  EXPECT_EQ(sentinel.BlockedFor("alice@example.com", kStart), kBlock);
}

TEST(SentinelTest, WindowSlidesFailuresOlderThanTheWindowDoNotCount) {
  Sentinel sentinel;
  const int64_t window = kMinute;
  sentinel.RecordFailure("k", kStart, kThreshold, window, kBlock);                 // t=0
  sentinel.RecordFailure("k", kStart + 30 * kSecond, kThreshold, window, kBlock);  // t=30s
  // At t=60s the t=0 failure is a full window old and falls out: two failures in the window.
  sentinel.RecordFailure("k", kStart + window, kThreshold, window, kBlock);
  EXPECT_FALSE(sentinel.BlockedFor("k", kStart + window));
  // t=61s: 30s, 60s, 61s are within the last minute: the third blocks.
  sentinel.RecordFailure("k", kStart + window + kSecond, kThreshold, window, kBlock);
  auto blocked = sentinel.BlockedFor("k", kStart + window + kSecond);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(*blocked, kBlock);
}

TEST(SentinelTest, FailuresSpreadWiderThanTheWindowNeverBlock) {
  Sentinel sentinel;
  const int64_t window = kMinute;
  for (int i = 0; i < 50; ++i) {
    // One failure every 31 s: never more than two inside any 60 s window.
    sentinel.RecordFailure("k", kStart + i * 31 * kSecond, kThreshold, window, kBlock);
    ASSERT_FALSE(sentinel.BlockedFor("k", kStart + i * 31 * kSecond)) << "failure " << i;
  }
}

TEST(SentinelTest, AfterABlockEndsCountingStartsAfresh) {
  Sentinel sentinel;
  const int64_t block = 10 * kMinute;
  for (uint32_t i = 0; i < kThreshold; ++i) {
    sentinel.RecordFailure("k", kStart, kThreshold, kWindow, block);
  }
  ASSERT_TRUE(sentinel.BlockedFor("k", kStart));
  const int64_t after = kStart + block;
  ASSERT_FALSE(sentinel.BlockedFor("k", after));
  // The failures that caused the block are not counted again (still inside the hour window).
  sentinel.RecordFailure("k", after, kThreshold, kWindow, block);
  EXPECT_FALSE(sentinel.BlockedFor("k", after));
  sentinel.RecordFailure("k", after, kThreshold, kWindow, block);
  EXPECT_FALSE(sentinel.BlockedFor("k", after));
  sentinel.RecordFailure("k", after, kThreshold, kWindow, block);
  EXPECT_EQ(sentinel.BlockedFor("k", after), block);
}

TEST(SentinelTest, SweepDropsStaleFailuresAndEndedBlocks) {
  Sentinel sentinel;
  const int64_t window = kMinute;
  sentinel.RecordFailure("stale", kStart, kThreshold, window, kBlock);
  sentinel.RecordFailure("fresh", kStart + 50 * kSecond, kThreshold, window, kBlock);
  for (uint32_t i = 0; i < kThreshold; ++i) {
    sentinel.RecordFailure("blocked", kStart, kThreshold, window, kMinute);
  }
  // At t=60s "stale" has nothing inside the window; "fresh" has.
  EXPECT_EQ(sentinel.Sweep(kStart + window, window), 2u);  // "stale" and the emptied "blocked"
  // "fresh" still counts: two more failures block it.
  sentinel.RecordFailure("fresh", kStart + window, kThreshold, window, kBlock);
  sentinel.RecordFailure("fresh", kStart + window, kThreshold, window, kBlock);
  EXPECT_TRUE(sentinel.BlockedFor("fresh", kStart + window));
  // "stale" restarted from zero after the sweep.
  sentinel.RecordFailure("stale", kStart + window, kThreshold, window, kBlock);
  sentinel.RecordFailure("stale", kStart + window, kThreshold, window, kBlock);
  EXPECT_FALSE(sentinel.BlockedFor("stale", kStart + window));
  // The ended block is gone and stays gone.
  EXPECT_FALSE(sentinel.BlockedFor("blocked", kStart + window));
}

TEST(SentinelTest, ClearForgetsBlocksAndFailures) {
  Sentinel sentinel;
  for (uint32_t i = 0; i < kThreshold; ++i) {
    sentinel.RecordFailure("a", kStart, kThreshold, kWindow, kBlock);
  }
  sentinel.RecordFailure("b", kStart, kThreshold, kWindow, kBlock);
  sentinel.RecordFailure("b", kStart, kThreshold, kWindow, kBlock);
  sentinel.Clear();
  EXPECT_FALSE(sentinel.BlockedFor("a", kStart));
  sentinel.RecordFailure("b", kStart, kThreshold, kWindow, kBlock);
  EXPECT_FALSE(sentinel.BlockedFor("b", kStart));
}

}  // namespace
}  // namespace mfa
