// SPDX-License-Identifier: Apache-2.0
#include "core/config.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace mfa {
namespace {

// Passes when ValidateConfig(c) accepts the config.
::testing::AssertionResult Valid(const Config& c) {
  const std::string message = ValidateConfig(c);
  if (message.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "rejected: " << message;
}

// Passes when ValidateConfig(c) rejects the config with a message naming `field`.
::testing::AssertionResult RejectedNaming(const Config& c, const std::string& field) {
  const std::string message = ValidateConfig(c);
  if (message.empty()) return ::testing::AssertionFailure() << "accepted";
  if (message.find(field) == std::string::npos) {
    return ::testing::AssertionFailure() << "message does not name " << field << ": " << message;
  }
  return ::testing::AssertionSuccess();
}

TEST(ConfigDefaultsTest, MatchLogtoDefaults) {
  const Config c;
  EXPECT_EQ(c.profile, Profile::kDocumented);
  EXPECT_EQ(c.code_ttl_seconds, 600u);
  EXPECT_EQ(c.max_attempts, 10u);
  EXPECT_TRUE(c.email_connector);
  EXPECT_TRUE(c.phone_connector);
  EXPECT_EQ(c.send_rate_limit.max_sends, 10u);
  EXPECT_EQ(c.send_rate_limit.window_seconds, 600u);
  EXPECT_FALSE(c.fixed_code.has_value());
  EXPECT_TRUE(c.default_user.identified);
  EXPECT_FALSE(c.default_user.email.empty());
  EXPECT_FALSE(c.default_user.phone.empty());
}

TEST(ConfigTest, ConnectorAndAddressAccessorsFollowTheType) {
  Config c;
  c.email_connector = false;
  c.default_user.email = "e@x.io";
  c.default_user.phone = "+1";
  EXPECT_FALSE(c.connector_enabled(IdentifierType::kEmail));
  EXPECT_TRUE(c.connector_enabled(IdentifierType::kPhone));
  EXPECT_EQ(c.default_address(IdentifierType::kEmail), "e@x.io");
  EXPECT_EQ(c.default_address(IdentifierType::kPhone), "+1");
}

TEST(ValidateConfigTest, DefaultsAreValid) { EXPECT_TRUE(Valid(Config{})); }

TEST(ValidateConfigTest, CodeTtlSecondsBounds) {
  Config c;
  c.code_ttl_seconds = 0;
  EXPECT_TRUE(RejectedNaming(c, "codeTtlSeconds"));
  c.code_ttl_seconds = 1;
  EXPECT_TRUE(Valid(c));
  c.code_ttl_seconds = kMaxTtlSeconds;
  EXPECT_TRUE(Valid(c));
  c.code_ttl_seconds = kMaxTtlSeconds + 1;
  EXPECT_TRUE(RejectedNaming(c, "codeTtlSeconds"));
}

TEST(ValidateConfigTest, MaxAttemptsBounds) {
  Config c;
  c.max_attempts = 0;
  EXPECT_TRUE(RejectedNaming(c, "maxAttempts"));
  c.max_attempts = 1;
  EXPECT_TRUE(Valid(c));
  c.max_attempts = kMaxAttemptsLimit;
  EXPECT_TRUE(Valid(c));
  c.max_attempts = kMaxAttemptsLimit + 1;
  EXPECT_TRUE(RejectedNaming(c, "maxAttempts"));
}

TEST(ValidateConfigTest, MaxSendsBoundsWithZeroMeaningOff) {
  Config c;
  c.send_rate_limit.max_sends = 0;
  EXPECT_TRUE(Valid(c));
  c.send_rate_limit.max_sends = kMaxSendsLimit;
  EXPECT_TRUE(Valid(c));
  c.send_rate_limit.max_sends = kMaxSendsLimit + 1;
  EXPECT_TRUE(RejectedNaming(c, "sendRateLimit.maxSends"));
}

TEST(ValidateConfigTest, WindowSecondsBounds) {
  Config c;
  c.send_rate_limit.window_seconds = 0;
  EXPECT_TRUE(RejectedNaming(c, "sendRateLimit.windowSeconds"));
  c.send_rate_limit.window_seconds = 1;
  EXPECT_TRUE(Valid(c));
  c.send_rate_limit.window_seconds = kMaxTtlSeconds;
  EXPECT_TRUE(Valid(c));
  c.send_rate_limit.window_seconds = kMaxTtlSeconds + 1;
  EXPECT_TRUE(RejectedNaming(c, "sendRateLimit.windowSeconds"));
}

TEST(ValidateConfigTest, FixedCodeMustBeOneTo32Digits) {
  Config c;
  c.fixed_code = "";
  EXPECT_TRUE(RejectedNaming(c, "fixedCode"));
  c.fixed_code = "12a456";
  EXPECT_TRUE(RejectedNaming(c, "fixedCode"));
  c.fixed_code = " 123456";
  EXPECT_TRUE(RejectedNaming(c, "fixedCode"));
  c.fixed_code = "-1";
  EXPECT_TRUE(RejectedNaming(c, "fixedCode"));
  c.fixed_code = "0";
  EXPECT_TRUE(Valid(c));
  c.fixed_code = "000000";
  EXPECT_TRUE(Valid(c));
  c.fixed_code = std::string(kMaxFixedCodeLength, '9');
  EXPECT_TRUE(Valid(c));
  c.fixed_code = std::string(kMaxFixedCodeLength + 1, '9');
  EXPECT_TRUE(RejectedNaming(c, "fixedCode"));
  c.fixed_code.reset();
  EXPECT_TRUE(Valid(c));
}

TEST(ValidateConfigTest, DefaultEmailAtMost254Chars) {
  Config c;
  c.default_user.email = std::string(254, 'e');
  EXPECT_TRUE(Valid(c));
  c.default_user.email = std::string(255, 'e');
  EXPECT_TRUE(RejectedNaming(c, "defaultUser.email"));
  c.default_user.email = "";
  EXPECT_TRUE(Valid(c));
}

TEST(ValidateConfigTest, DefaultPhoneAtMost64Chars) {
  Config c;
  c.default_user.phone = std::string(64, '1');
  EXPECT_TRUE(Valid(c));
  c.default_user.phone = std::string(65, '1');
  EXPECT_TRUE(RejectedNaming(c, "defaultUser.phone"));
  c.default_user.phone = "";
  EXPECT_TRUE(Valid(c));
}

TEST(ValidateConfigTest, NamesOnlyTheFirstBadField) {
  Config c;
  c.max_attempts = 0;
  c.default_user.phone = std::string(65, '1');
  EXPECT_TRUE(RejectedNaming(c, "maxAttempts"));
  EXPECT_EQ(ValidateConfig(c).find("defaultUser"), std::string::npos);
}

Config MakeConfig(uint32_t max_attempts, std::string email) {
  Config c;
  c.max_attempts = max_attempts;
  c.default_user.email = std::move(email);
  return c;
}

TEST(ConfigStoreTest, GetReturnsTheInitialConfigAndItsSharedTexts) {
  ConfigStore store(MakeConfig(3, "first@example.com"));
  const ResolvedConfig& rc = store.Get();
  EXPECT_EQ(rc.config.max_attempts, 3u);
  EXPECT_EQ(rc.default_email.view(), "first@example.com");
  EXPECT_EQ(rc.default_phone.view(), Config{}.default_user.phone);
  EXPECT_EQ(rc.default_address_text(IdentifierType::kEmail).view(), "first@example.com");
  EXPECT_EQ(rc.default_address_text(IdentifierType::kPhone).view(), rc.config.default_user.phone);
}

TEST(ConfigStoreTest, ReplaceIsVisibleToTheNextGet) {
  ConfigStore store(MakeConfig(3, "first@example.com"));
  EXPECT_EQ(store.Get().config.max_attempts, 3u);
  store.Replace(MakeConfig(7, "second@example.com"));
  const ResolvedConfig& rc = store.Get();
  EXPECT_EQ(rc.config.max_attempts, 7u);
  EXPECT_EQ(rc.default_email.view(), "second@example.com");
  store.Replace(MakeConfig(8, "third@example.com"));
  EXPECT_EQ(store.Get().config.max_attempts, 8u);
  EXPECT_EQ(store.Snapshot()->config.max_attempts, 8u);
}

TEST(ConfigStoreTest, SnapshotSurvivesLaterReplace) {
  ConfigStore store(MakeConfig(3, "first@example.com"));
  std::shared_ptr<const ResolvedConfig> snapshot = store.Snapshot();
  store.Replace(MakeConfig(4, "second@example.com"));
  store.Get();
  EXPECT_EQ(snapshot->config.max_attempts, 3u);
  EXPECT_EQ(snapshot->default_email.view(), "first@example.com");
  EXPECT_EQ(store.Snapshot()->config.max_attempts, 4u);
}

TEST(ConfigStoreTest, TwoStoresOnOneThreadDoNotShareTheCache) {
  ConfigStore a(MakeConfig(1, "a@example.com"));
  ConfigStore b(MakeConfig(2, "b@example.com"));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a.Get().config.max_attempts, 1u);
    EXPECT_EQ(b.Get().config.max_attempts, 2u);
  }
  b.Replace(MakeConfig(5, "b@example.com"));
  EXPECT_EQ(a.Get().config.max_attempts, 1u);
  EXPECT_EQ(b.Get().config.max_attempts, 5u);
}

TEST(ConfigStoreTest, AStoreAtAReusedAddressIsNotConfusedWithItsPredecessor) {
  for (uint32_t i = 1; i <= 20; ++i) {
    auto store = std::make_unique<ConfigStore>(MakeConfig(i, "x@example.com"));
    EXPECT_EQ(store->Get().config.max_attempts, i);
  }
}

TEST(ConfigStoreTest, ReplaceIsVisibleToTheNextGetOnAnotherThread) {
  ConfigStore store(MakeConfig(3, "first@example.com"));
  std::promise<void> reader_cached;
  std::promise<void> replaced;
  std::shared_future<void> replaced_future = replaced.get_future().share();
  uint32_t before = 0;
  uint32_t after = 0;
  std::string after_email;
  std::thread reader([&] {
    before = store.Get().config.max_attempts;  // caches the snapshot on this thread
    reader_cached.set_value();
    replaced_future.wait();
    const ResolvedConfig& rc = store.Get();
    after = rc.config.max_attempts;
    after_email = std::string(rc.default_email.view());
  });
  reader_cached.get_future().wait();
  store.Replace(MakeConfig(9, "second@example.com"));
  replaced.set_value();
  reader.join();
  EXPECT_EQ(before, 3u);
  EXPECT_EQ(after, 9u);
  EXPECT_EQ(after_email, "second@example.com");
}

TEST(ConfigStoreTest, ConcurrentReadersAlwaysSeeAConsistentSnapshot) {
  // Each replace writes max_attempts == ttl; a reader must never see a mix of two configs.
  Config c = MakeConfig(1, "x@example.com");
  c.code_ttl_seconds = 1;
  ConfigStore store(c);
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistent{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const ResolvedConfig& rc = store.Get();
        if (rc.config.max_attempts != rc.config.code_ttl_seconds ||
            rc.default_email.view() != rc.config.default_user.email) {
          inconsistent.fetch_add(1);
        }
      }
    });
  }
  for (uint32_t i = 2; i <= 2000; ++i) {
    c.max_attempts = i % kMaxAttemptsLimit + 1;
    c.code_ttl_seconds = c.max_attempts;
    c.default_user.email = "user" + std::to_string(i) + "@example.com";
    store.Replace(c);
  }
  stop.store(true);
  for (auto& r : readers) r.join();
  EXPECT_EQ(inconsistent.load(), 0);
}

}  // namespace
}  // namespace mfa

namespace mfa {
namespace {

TEST(ConfigStoreUpdateTest, AppliesAPatchAndReturnsTheConfigInForce) {
  ConfigStore store{Config{}};
  const Config updated = store.Update([](Config* c) {
    c->max_attempts = 3;
    return true;
  });
  EXPECT_EQ(updated.max_attempts, 3u);
  EXPECT_EQ(store.Get().config.max_attempts, 3u);
}

TEST(ConfigStoreUpdateTest, ARefusedPatchChangesNothing) {
  ConfigStore store{Config{}};
  const Config kept = store.Update([](Config* c) {
    c->max_attempts = 99;
    return false;
  });
  EXPECT_EQ(kept.max_attempts, Config{}.max_attempts);
  EXPECT_EQ(store.Get().config.max_attempts, Config{}.max_attempts);
}

TEST(ConfigStoreUpdateTest, ConcurrentPatchesDoNotLoseEachOther) {
  ConfigStore store{Config{}};
  constexpr int kThreads = 4;
  constexpr int kEach = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store] {
      for (int i = 0; i < kEach; ++i) {
        store.Update([](Config* c) {
          c->code_ttl_seconds += 1;
          return true;
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(store.Get().config.code_ttl_seconds, Config{}.code_ttl_seconds + kThreads * kEach);
}

}  // namespace
}  // namespace mfa
