// SPDX-License-Identifier: Apache-2.0
#include "core/mfa_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/derived_ids.h"
#include "core/inbox.h"
#include "core/send_rate_limiter.h"
#include "core/verification_store.h"

namespace mfa {
namespace {

constexpr IdentifierType kEmail = IdentifierType::kEmail;
constexpr IdentifierType kPhone = IdentifierType::kPhone;

// Everything a service needs, wired together, with a clock that only moves when told to.
struct Harness {
  explicit Harness(Config config = {}, StoreOptions store_options = {16, 0},
                   ServiceOptions service_options = {})
      : config_store(std::move(config)),
        store(store_options),
        inbox(1000),
        service(config_store, store, inbox, limiter, clock, service_options) {}

  ManualClock clock;
  ConfigStore config_store;
  VerificationStore store;
  Inbox inbox;
  SendRateLimiter limiter;
  MfaService service;
};

bool IsId(const std::string& s) {
  if (s.size() != 21) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

bool IsSixDigits(const std::string& s) {
  if (s.size() != 6) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

class MfaServiceTest : public ::testing::Test {
 protected:
  MfaService& service() { return h_->service; }
  VerificationStore& store() { return h_->store; }
  ManualClock& clock() { return h_->clock; }
  Inbox& inbox() { return h_->inbox; }

  // Applies `edit` to the current config and installs it.
  void Configure(const std::function<void(Config&)>& edit) {
    Config c = h_->config_store.Snapshot()->config;
    edit(c);
    ASSERT_EQ(ValidateConfig(c), "");
    h_->config_store.Replace(std::move(c));
  }

  // Seeds one record created now; returns its id.
  std::string SeedRecord(const std::string& id, const std::string& code,
                         IdentifierType type = kEmail, bool identified = true,
                         std::optional<uint32_t> ttl_seconds = std::nullopt) {
    SeedItem item;
    item.verification_id = id;
    item.type = type;
    item.code = code;
    item.identified = identified;
    item.ttl_seconds = ttl_seconds;
    std::vector<SeedItem> items;
    items.push_back(std::move(item));
    const SeedResult result = service().Seed(std::move(items));
    EXPECT_EQ(result.outcome, Outcome::kOk);
    return id;
  }

  uint32_t TryCount(const std::string& id) {
    const auto s = store().Get(id);
    return s ? s->try_count : 0xffffffffu;
  }

  std::vector<InboxMessage> AllMessages() {
    InboxQuery q;
    q.limit = 100000;
    return inbox().List(q);
  }

  std::unique_ptr<Harness> h_ = std::make_unique<Harness>();
};

// ---------------------------------------------------------------------------------------------
// Verify (contract §3), in both profiles.

class VerifyTest : public MfaServiceTest, public ::testing::WithParamInterface<Profile> {
 protected:
  void SetUp() override {
    Configure([](Config& c) { c.profile = GetParam(); });
  }
};

INSTANTIATE_TEST_SUITE_P(Profiles, VerifyTest,
                         ::testing::Values(Profile::kDocumented, Profile::kLogto),
                         [](const ::testing::TestParamInfo<Profile>& info) {
                           return std::string(ToString(info.param));
                         });

TEST_P(VerifyTest, RightCodeSucceedsAndConsumesTheRecord) {
  SeedRecord("rec", "123456");
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kOk);
  const auto s = store().Get("rec");
  ASSERT_TRUE(s.has_value());
  EXPECT_TRUE(s->consumed);
  EXPECT_TRUE(s->verified);
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kCodeNotFound);
}

TEST_P(VerifyTest, PhoneRecordVerifiesAsPhone) {
  SeedRecord("sms", "000001", kPhone);
  EXPECT_EQ(service().Verify(kPhone, "sms", "000001"), Outcome::kOk);
}

TEST_P(VerifyTest, RecordOfTheOtherTypeIsVerificationNotFound) {
  SeedRecord("mail", "123456", kEmail);
  SeedRecord("sms", "123456", kPhone);
  EXPECT_EQ(service().Verify(kPhone, "mail", "123456"), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kEmail, "sms", "123456"), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kPhone, "mail", "999999"), Outcome::kVerificationNotFound);
  EXPECT_EQ(TryCount("mail"), 0u);
  EXPECT_FALSE(store().Get("mail")->consumed);
  EXPECT_EQ(service().Verify(kEmail, "mail", "123456"), Outcome::kOk);
}

TEST_P(VerifyTest, UnknownIdIsVerificationNotFound) {
  SeedRecord("known", "123456");
  EXPECT_EQ(service().Verify(kEmail, "unknown", "123456"), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kEmail, "", "123456"), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kEmail, "known ", "123456"), Outcome::kVerificationNotFound);
}

TEST_P(VerifyTest, TypeIsCheckedBeforeIdentification) {
  SeedRecord("anon", "123456", kEmail, /*identified=*/false);
  EXPECT_EQ(service().Verify(kPhone, "anon", "123456"), Outcome::kVerificationNotFound);
}

TEST_P(VerifyTest, UnidentifiedRecordAnswersPerProfile) {
  SeedRecord("anon", "123456", kEmail, /*identified=*/false);
  const Outcome expected = GetParam() == Profile::kDocumented ? Outcome::kIdentifierNotFound
                                                              : Outcome::kVerificationNotFound;
  EXPECT_EQ(service().Verify(kEmail, "anon", "123456"), expected);
  // Checked before the code: an empty code answers the same.
  EXPECT_EQ(service().Verify(kEmail, "anon", ""), expected);
  EXPECT_FALSE(store().Get("anon")->consumed);
}

TEST_P(VerifyTest, EmptyCodeIsCodeNotFoundAndNotAnAttempt) {
  SeedRecord("rec", "123456");
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(service().Verify(kEmail, "rec", ""), Outcome::kCodeNotFound);
  EXPECT_EQ(TryCount("rec"), 0u);
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kOk);
}

TEST_P(VerifyTest, ConsumedRecordIsCodeNotFoundEvenWithTheRightCode) {
  SeedRecord("rec", "123456");
  ASSERT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kOk);
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kCodeNotFound);
  EXPECT_EQ(service().Verify(kEmail, "rec", "654321"), Outcome::kCodeNotFound);
  EXPECT_EQ(TryCount("rec"), 0u);
}

TEST_P(VerifyTest, ExactlyAtExpiryTheCodeIsStillValid) {
  SeedRecord("rec", "123456", kEmail, true, 60);
  clock().AdvanceMs(60'000);  // now == createdAt + ttl
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kOk);
}

TEST_P(VerifyTest, OneMillisecondAfterExpiryTheCodeIsExpired) {
  SeedRecord("rec", "123456", kEmail, true, 60);
  clock().AdvanceMs(60'001);
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kCodeExpired);
  EXPECT_EQ(service().Verify(kEmail, "rec", "000000"), Outcome::kCodeExpired);
  EXPECT_EQ(TryCount("rec"), 0u);
  EXPECT_FALSE(store().Get("rec")->consumed);
}

TEST_P(VerifyTest, DefaultTtlIs600Seconds) {
  SeedRecord("rec", "123456");
  clock().AdvanceMs(600'000);
  SeedRecord("rec2", "123456");
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kOk);
  clock().AdvanceMs(600'001);
  EXPECT_EQ(service().Verify(kEmail, "rec2", "123456"), Outcome::kCodeExpired);
}

TEST_P(VerifyTest, ExpiryIsCheckedBeforeAttempts) {
  Configure([](Config& c) { c.max_attempts = 2; });
  SeedRecord("rec", "123456", kEmail, true, 60);
  EXPECT_EQ(service().Verify(kEmail, "rec", "1"), Outcome::kCodeMismatch);
  EXPECT_EQ(service().Verify(kEmail, "rec", "2"), Outcome::kCodeMismatch);
  EXPECT_EQ(service().Verify(kEmail, "rec", "3"), Outcome::kExceedMaxTry);
  clock().AdvanceMs(60'001);
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kCodeExpired);
  EXPECT_EQ(service().Verify(kEmail, "rec", "4"), Outcome::kCodeExpired);
}

TEST_P(VerifyTest, EmptyCodeAndConsumptionAreCheckedBeforeExpiry) {
  SeedRecord("rec", "123456", kEmail, true, 60);
  SeedRecord("used", "123456", kEmail, true, 60);
  ASSERT_EQ(service().Verify(kEmail, "used", "123456"), Outcome::kOk);
  clock().AdvanceMs(120'000);
  EXPECT_EQ(service().Verify(kEmail, "rec", ""), Outcome::kCodeNotFound);
  EXPECT_EQ(service().Verify(kEmail, "used", "123456"), Outcome::kCodeNotFound);
}

TEST_P(VerifyTest, WrongAttemptsOneToTenMismatchAndTheEleventhExceeds) {
  SeedRecord("rec", "123456");
  for (int attempt = 1; attempt <= 10; ++attempt) {
    EXPECT_EQ(service().Verify(kEmail, "rec", "000000"), Outcome::kCodeMismatch) << attempt;
    EXPECT_EQ(TryCount("rec"), static_cast<uint32_t>(attempt));
  }
  EXPECT_EQ(service().Verify(kEmail, "rec", "000000"), Outcome::kExceedMaxTry);
  EXPECT_EQ(service().Verify(kEmail, "rec", "000000"), Outcome::kExceedMaxTry);
  EXPECT_EQ(TryCount("rec"), 10u);
}

TEST_P(VerifyTest, ExhaustedAttemptsRefuseEvenTheRightCode) {
  SeedRecord("rec", "123456");
  for (int attempt = 1; attempt <= 10; ++attempt) {
    ASSERT_EQ(service().Verify(kEmail, "rec", "999999"), Outcome::kCodeMismatch);
  }
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kExceedMaxTry);
  EXPECT_FALSE(store().Get("rec")->consumed);
}

TEST_P(VerifyTest, RightCodeOnTheLastAllowedAttemptSucceeds) {
  SeedRecord("rec", "123456");
  for (int attempt = 1; attempt <= 9; ++attempt) {
    ASSERT_EQ(service().Verify(kEmail, "rec", "999999"), Outcome::kCodeMismatch);
  }
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kOk);
}

TEST_P(VerifyTest, MaxAttemptsFollowsTheConfig) {
  Configure([](Config& c) { c.max_attempts = 3; });
  SeedRecord("rec", "123456");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    EXPECT_EQ(service().Verify(kEmail, "rec", "1"), Outcome::kCodeMismatch) << attempt;
  }
  EXPECT_EQ(service().Verify(kEmail, "rec", "1"), Outcome::kExceedMaxTry);
}

TEST_P(VerifyTest, LoweringMaxAttemptsAppliesToExistingRecords) {
  SeedRecord("rec", "123456");
  ASSERT_EQ(service().Verify(kEmail, "rec", "1"), Outcome::kCodeMismatch);
  ASSERT_EQ(service().Verify(kEmail, "rec", "1"), Outcome::kCodeMismatch);
  Configure([](Config& c) { c.max_attempts = 2; });
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kExceedMaxTry);
  Configure([](Config& c) { c.max_attempts = 3; });
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kOk);
}

TEST_P(VerifyTest, CodeComparisonIsExact) {
  SeedRecord("rec", "012345");
  for (const char* wrong : {"12345", "0123456", " 012345", "012345 ", "０12345", "012346"}) {
    EXPECT_EQ(service().Verify(kEmail, "rec", wrong), Outcome::kCodeMismatch) << wrong;
  }
  EXPECT_EQ(service().Verify(kEmail, "rec", "012345"), Outcome::kOk);
}

TEST_P(VerifyTest, ConnectorSwitchedOffAnswersPerProfile) {
  SeedRecord("mail", "123456", kEmail);
  SeedRecord("sms", "123456", kPhone);
  Configure([](Config& c) { c.email_connector = false; });
  if (GetParam() == Profile::kDocumented) {
    // Checked right after validation, before any lookup.
    EXPECT_EQ(service().Verify(kEmail, "mail", "123456"), Outcome::kConnectorNotFound);
    EXPECT_EQ(service().Verify(kEmail, "unknown", "123456"), Outcome::kConnectorNotFound);
    EXPECT_EQ(service().Verify(kEmail, "mail", ""), Outcome::kConnectorNotFound);
    EXPECT_FALSE(store().Get("mail")->consumed);
  } else {
    // The runtime never answers connector.not_found on verify.
    EXPECT_EQ(service().Verify(kEmail, "unknown", "123456"), Outcome::kVerificationNotFound);
    EXPECT_EQ(service().Verify(kEmail, "mail", "000000"), Outcome::kCodeMismatch);
    EXPECT_EQ(service().Verify(kEmail, "mail", "123456"), Outcome::kOk);
  }
  // The other channel is unaffected.
  EXPECT_EQ(service().Verify(kPhone, "sms", "123456"), Outcome::kOk);
}

TEST_P(VerifyTest, PhoneConnectorSwitchedOffAnswersPerProfile) {
  SeedRecord("sms", "123456", kPhone);
  Configure([](Config& c) { c.phone_connector = false; });
  EXPECT_EQ(service().Verify(kPhone, "sms", "123456"),
            GetParam() == Profile::kDocumented ? Outcome::kConnectorNotFound : Outcome::kOk);
}

TEST_P(VerifyTest, SixteenThreadsWithTheRightCodeSucceedExactlyOnce) {
  SeedRecord("race", "123456");
  constexpr int kThreads = 16;
  std::atomic<int> ok{0};
  std::atomic<int> not_found{0};
  std::atomic<int> other{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      switch (service().Verify(kEmail, "race", "123456")) {
        case Outcome::kOk:
          ok.fetch_add(1);
          break;
        case Outcome::kCodeNotFound:
          not_found.fetch_add(1);
          break;
        default:
          other.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(not_found.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
}

TEST_P(VerifyTest, ConcurrentWrongCodesCountExactlyMaxAttempts) {
  for (uint32_t max_attempts : {10u, 100u}) {
    Configure([&](Config& c) { c.max_attempts = max_attempts; });
    const std::string id = "wrong" + std::to_string(max_attempts);
    SeedRecord(id, "123456");
    constexpr int kThreads = 16;
    constexpr int kPerThread = 25;
    std::atomic<int> mismatch{0};
    std::atomic<int> exceeded{0};
    std::atomic<int> other{0};
    std::latch start(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        start.arrive_and_wait();
        for (int i = 0; i < kPerThread; ++i) {
          const Outcome o = service().Verify(kEmail, id, "000000");
          (o == Outcome::kCodeMismatch   ? mismatch
           : o == Outcome::kExceedMaxTry ? exceeded
                                         : other)
              .fetch_add(1);
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(mismatch.load(), static_cast<int>(max_attempts));
    EXPECT_EQ(exceeded.load(), kThreads * kPerThread - static_cast<int>(max_attempts));
    EXPECT_EQ(other.load(), 0);
    EXPECT_EQ(TryCount(id), max_attempts);
  }
}

// ---------------------------------------------------------------------------------------------
// Send (contract §4).

TEST_F(MfaServiceTest, SendCreatesAVerifiableRecordForTheDefaultEmail) {
  const int64_t now = clock().NowMs();
  const SendResult r = service().Send(kEmail);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_TRUE(IsId(r.verification_id)) << r.verification_id;
  EXPECT_TRUE(IsSixDigits(r.code)) << r.code;
  EXPECT_EQ(r.identifier, Config{}.default_user.email);
  EXPECT_EQ(r.type, kEmail);
  EXPECT_EQ(r.expires_ms, now + 600'000);
  const auto s = store().Get(r.verification_id);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->identifier, Config{}.default_user.email);
  EXPECT_EQ(s->code, r.code);
  EXPECT_EQ(s->created_ms, now);
  EXPECT_TRUE(s->identified);
  EXPECT_EQ(service().Verify(kEmail, r.verification_id, r.code), Outcome::kOk);
}

TEST_F(MfaServiceTest, SendToPhoneUsesTheDefaultPhone) {
  const SendResult r = service().Send(kPhone);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(r.identifier, Config{}.default_user.phone);
  EXPECT_EQ(r.type, kPhone);
  EXPECT_EQ(store().Get(r.verification_id)->identifier_type, kPhone);
  EXPECT_EQ(service().Verify(kEmail, r.verification_id, r.code), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kPhone, r.verification_id, r.code), Outcome::kOk);
}

TEST_F(MfaServiceTest, SendUsesTheConfiguredTtl) {
  Configure([](Config& c) { c.code_ttl_seconds = 30; });
  const SendResult r = service().Send(kEmail);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(r.expires_ms, clock().NowMs() + 30'000);
  clock().AdvanceMs(30'001);
  EXPECT_EQ(service().Verify(kEmail, r.verification_id, r.code), Outcome::kCodeExpired);
}

TEST_F(MfaServiceTest, NewSendsDoNotReplaceOlderRecords) {
  const SendResult first = service().Send(kEmail);
  const SendResult second = service().Send(kEmail);
  ASSERT_EQ(first.outcome, Outcome::kOk);
  ASSERT_EQ(second.outcome, Outcome::kOk);
  EXPECT_NE(first.verification_id, second.verification_id);
  EXPECT_EQ(service().Verify(kEmail, first.verification_id, first.code), Outcome::kOk);
  EXPECT_EQ(service().Verify(kEmail, second.verification_id, second.code), Outcome::kOk);
}

TEST_F(MfaServiceTest, SendForAnUnidentifiedUserIsIdentifierNotFound) {
  Configure([](Config& c) { c.default_user.identified = false; });
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kIdentifierNotFound);
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kIdentifierNotFound);
  EXPECT_EQ(store().size(), 0u);
  EXPECT_TRUE(AllMessages().empty());
}

TEST_F(MfaServiceTest, IdentificationIsCheckedBeforeTheAddressAndConnector) {
  Configure([](Config& c) {
    c.default_user.identified = false;
    c.default_user.email = "";
    c.email_connector = false;
  });
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kIdentifierNotFound);
}

TEST_F(MfaServiceTest, SendWithoutAnAddressOfThatTypeIsFactorNotEnabled) {
  Configure([](Config& c) { c.default_user.email = ""; });
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kFactorNotEnabled);
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kOk);
  Configure([](Config& c) { c.default_user.phone = ""; });
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kFactorNotEnabled);
  EXPECT_EQ(store().size(), 1u);
}

TEST_F(MfaServiceTest, MissingAddressIsCheckedBeforeTheConnector) {
  Configure([](Config& c) {
    c.default_user.phone = "";
    c.phone_connector = false;
  });
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kFactorNotEnabled);
}

TEST_F(MfaServiceTest, EleventhSendWithinTheWindowIsRateLimited) {
  for (int i = 1; i <= 10; ++i) {
    ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk) << i;
    clock().AdvanceMs(1000);  // sends at t0, t0+1s, ..., t0+9s
  }
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
  EXPECT_EQ(store().size(), 10u);
  EXPECT_EQ(AllMessages().size(), 10u);
}

TEST_F(MfaServiceTest, RateLimitAllowsAgainOnceTheWindowSlides) {
  const int64_t t0 = clock().NowMs();
  for (int i = 0; i < 10; ++i) {
    clock().SetMs(t0 + i * 1000);
    ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk) << i;
  }
  clock().SetMs(t0 + 600'000 - 1);
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
  clock().SetMs(t0 + 600'000);  // the send at t0 leaves the window
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
  clock().SetMs(t0 + 601'000);  // the send at t0+1s leaves the window
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
}

TEST_F(MfaServiceTest, RateLimitFollowsTheConfiguredWindowAndMax) {
  Configure([](Config& c) {
    c.send_rate_limit.max_sends = 2;
    c.send_rate_limit.window_seconds = 60;
  });
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kOk);
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kOk);
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kRateLimited);
  clock().AdvanceMs(60'000);
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kOk);
}

TEST_F(MfaServiceTest, RateLimitIsPerRecipient) {
  for (int i = 0; i < 10; ++i) ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kOk);
  Configure([](Config& c) { c.default_user.email = "someone.else@example.com"; });
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
}

TEST_F(MfaServiceTest, RateLimitComparesEmailsLowercased) {
  Configure([](Config& c) { c.default_user.email = "User@Example.COM"; });
  for (int i = 0; i < 10; ++i) ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  Configure([](Config& c) { c.default_user.email = "user@example.com"; });
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
}

TEST_F(MfaServiceTest, RateLimitComparesPhonesByDigitsOnly) {
  Configure([](Config& c) { c.default_user.phone = "+1 (555) 555-0100"; });
  for (int i = 0; i < 10; ++i) ASSERT_EQ(service().Send(kPhone).outcome, Outcome::kOk);
  Configure([](Config& c) { c.default_user.phone = "+15555550100"; });
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kRateLimited);
  Configure([](Config& c) { c.default_user.phone = "+15555550101"; });
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kOk);
}

TEST_F(MfaServiceTest, ZeroMaxSendsSwitchesTheRateLimitOff) {
  Configure([](Config& c) { c.send_rate_limit.max_sends = 0; });
  for (int i = 0; i < 50; ++i) ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk) << i;
  EXPECT_EQ(h_->limiter.key_count(), 0u);
}

TEST_F(MfaServiceTest, SendWithTheConnectorOffIsConnectorNotFound) {
  Configure([](Config& c) { c.email_connector = false; });
  const SendResult r = service().Send(kEmail);
  EXPECT_EQ(r.outcome, Outcome::kConnectorNotFound);
  EXPECT_EQ(r.type, kEmail);
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kOk);
  Configure([](Config& c) { c.phone_connector = false; });
  EXPECT_EQ(service().Send(kPhone).outcome, Outcome::kConnectorNotFound);
  EXPECT_EQ(store().size(), 1u);
  EXPECT_EQ(AllMessages().size(), 1u);
}

TEST_F(MfaServiceTest, RateLimitIsReportedBeforeTheConnector) {
  for (int i = 0; i < 10; ++i) ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  Configure([](Config& c) { c.email_connector = false; });
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
  clock().AdvanceMs(600'000);
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kConnectorNotFound);
}

TEST_F(MfaServiceTest, FailedSendsDoNotUseUpTheRateLimit) {
  Configure([](Config& c) { c.email_connector = false; });
  for (int i = 0; i < 25; ++i) {
    ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kConnectorNotFound) << i;
  }
  Configure([](Config& c) { c.email_connector = true; });
  for (int i = 0; i < 10; ++i) ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk) << i;
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
}

TEST_F(MfaServiceTest, RateLimitedSendsDoNotExtendTheWindow) {
  const int64_t t0 = clock().NowMs();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  clock().SetMs(t0 + 300'000);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
  clock().SetMs(t0 + 600'000);
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
}

TEST_F(MfaServiceTest, SendIntoAFullStoreIsStoreFullAndGivesTheSendBack) {
  Config config;
  config.send_rate_limit.max_sends = 2;
  h_ = std::make_unique<Harness>(config, StoreOptions{16, 1});
  ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  const SendResult full = service().Send(kEmail);
  EXPECT_EQ(full.outcome, Outcome::kStoreFull);
  EXPECT_EQ(AllMessages().size(), 1u);
  store().Clear();
  // The failed send was released: one more send fits within max_sends = 2.
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  store().Clear();
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
}

TEST_F(MfaServiceTest, ResetLimitsForgetsPastSends) {
  for (int i = 0; i < 10; ++i) ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
  service().ResetLimits();
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
}

TEST_F(MfaServiceTest, ConcurrentSendsGrantExactlyMaxSends) {
  Configure([](Config& c) { c.send_rate_limit.max_sends = 100; });
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> ok{0};
  std::atomic<int> limited{0};
  std::atomic<int> hooked{0};
  service().set_sent_hook([&](const InboxMessage&) { hooked.fetch_add(1); });
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        const Outcome o = service().Send(kEmail).outcome;
        if (o == Outcome::kOk) ok.fetch_add(1);
        if (o == Outcome::kRateLimited) limited.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(limited.load(), kThreads * kPerThread - 100);
  EXPECT_EQ(hooked.load(), 100);
  EXPECT_EQ(store().size(), 100u);
  EXPECT_EQ(AllMessages().size(), 100u);
}

// ---------------------------------------------------------------------------------------------
// Inbox, sent hook, fixed code.

TEST_F(MfaServiceTest, InboxRecordsEverySuccessfulSend) {
  const SendResult mail = service().Send(kEmail);
  clock().AdvanceMs(5);
  const SendResult sms = service().Send(kPhone);
  ASSERT_EQ(mail.outcome, Outcome::kOk);
  ASSERT_EQ(sms.outcome, Outcome::kOk);
  const auto messages = AllMessages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type, kPhone);
  EXPECT_EQ(messages[0].to, sms.identifier);
  EXPECT_EQ(messages[0].code, sms.code);
  EXPECT_EQ(messages[0].verification_id, sms.verification_id);
  EXPECT_EQ(messages[0].sent_ms, clock().NowMs());
  EXPECT_EQ(messages[1].type, kEmail);
  EXPECT_EQ(messages[1].to, mail.identifier);
  EXPECT_EQ(messages[1].code, mail.code);
  EXPECT_EQ(messages[1].verification_id, mail.verification_id);
  EXPECT_EQ(messages[1].sent_ms, clock().NowMs() - 5);
}

TEST_F(MfaServiceTest, FailedSendsAreNotInTheInbox) {
  Configure([](Config& c) { c.email_connector = false; });
  service().Send(kEmail);
  Configure([](Config& c) { c.default_user.identified = false; });
  service().Send(kPhone);
  EXPECT_TRUE(AllMessages().empty());
}

TEST_F(MfaServiceTest, AdminSendSkipsEveryUserCheckAndIsRecorded) {
  Configure([](Config& c) {
    c.default_user.identified = false;
    c.default_user.email = "";
    c.email_connector = false;
    c.send_rate_limit.max_sends = 1;
  });
  for (int i = 0; i < 3; ++i) {
    const SendResult r = service().AdminSend(kEmail, "Someone@Example.com");
    ASSERT_EQ(r.outcome, Outcome::kOk) << i;
    EXPECT_TRUE(IsId(r.verification_id));
    EXPECT_TRUE(IsSixDigits(r.code));
    EXPECT_EQ(r.identifier, "Someone@Example.com");
    EXPECT_EQ(store().Get(r.verification_id)->identifier, "Someone@Example.com");
  }
  const SendResult sms = service().AdminSend(kPhone, "+44 20 7946 0958");
  ASSERT_EQ(sms.outcome, Outcome::kOk);
  const auto messages = AllMessages();
  ASSERT_EQ(messages.size(), 4u);
  EXPECT_EQ(messages[0].type, kPhone);
  EXPECT_EQ(messages[0].to, "+44 20 7946 0958");
  EXPECT_EQ(messages[0].verification_id, sms.verification_id);
  EXPECT_EQ(messages[1].to, "Someone@Example.com");
  // The record verifies like any other (connector on for phone).
  EXPECT_EQ(service().Verify(kPhone, sms.verification_id, sms.code), Outcome::kOk);
}

TEST_F(MfaServiceTest, SentHookFiresForEachSuccessfulSend) {
  std::vector<InboxMessage> hooked;
  service().set_sent_hook([&](const InboxMessage& m) { hooked.push_back(m); });
  const SendResult a = service().Send(kEmail);
  const SendResult b = service().AdminSend(kPhone, "+1 555");
  Configure([](Config& c) { c.email_connector = false; });
  service().Send(kEmail);  // fails: no hook
  ASSERT_EQ(hooked.size(), 2u);
  EXPECT_EQ(hooked[0].verification_id, a.verification_id);
  EXPECT_EQ(hooked[0].code, a.code);
  EXPECT_EQ(hooked[0].to, a.identifier);
  EXPECT_EQ(hooked[0].type, kEmail);
  EXPECT_EQ(hooked[1].verification_id, b.verification_id);
  EXPECT_EQ(hooked[1].to, "+1 555");
  EXPECT_EQ(hooked[1].type, kPhone);
}

TEST_F(MfaServiceTest, FixedCodeAppliesToEveryWayOfCreatingRecords) {
  Configure([](Config& c) { c.fixed_code = "000042"; });
  EXPECT_EQ(service().Send(kEmail).code, "000042");
  EXPECT_EQ(service().AdminSend(kPhone, "+1").code, "000042");
  std::vector<SeedItem> items(1);
  const SeedResult seeded = service().Seed(std::move(items));
  ASSERT_EQ(seeded.outcome, Outcome::kOk);
  EXPECT_EQ(seeded.records.at(0).code, "000042");
  GenerateSpec spec;
  spec.count = 5;
  const GenerateResult generated = service().Generate(spec);
  ASSERT_EQ(generated.outcome, Outcome::kOk);
  ScanCursor cursor;
  size_t seen = 0;
  while (!cursor.done) {
    store().Scan(cursor, store().FindBatch(generated.batch_id), 100, [&](const RecordView& v) {
      EXPECT_EQ(v.code, "000042");
      ++seen;
    });
  }
  EXPECT_EQ(seen, 5u);
  const SendResult sent = service().Send(kEmail);
  EXPECT_EQ(service().Verify(kEmail, sent.verification_id, "000042"), Outcome::kOk);
}

TEST_F(MfaServiceTest, LongFixedCodeWorksEndToEnd) {
  const std::string code(32, '7');
  Configure([&](Config& c) { c.fixed_code = code; });
  const SendResult sent = service().Send(kEmail);
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  EXPECT_EQ(sent.code, code);
  EXPECT_EQ(service().Verify(kEmail, sent.verification_id, std::string(31, '7')),
            Outcome::kCodeMismatch);
  EXPECT_EQ(service().Verify(kEmail, sent.verification_id, code), Outcome::kOk);
}

TEST_F(MfaServiceTest, WithoutAFixedCodeCodesAreRandom) {
  std::set<std::string> codes;
  Configure([](Config& c) { c.send_rate_limit.max_sends = 0; });
  for (int i = 0; i < 50; ++i) codes.insert(service().Send(kEmail).code);
  EXPECT_GT(codes.size(), 40u);
}

// ---------------------------------------------------------------------------------------------
// Seed.

TEST_F(MfaServiceTest, SeedFillsAbsentFieldsFromThePolicy) {
  const int64_t now = clock().NowMs();
  std::vector<SeedItem> items(2);
  items[1].type = kPhone;
  const SeedResult r = service().Seed(std::move(items));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_TRUE(IsId(r.records[0].verification_id));
  EXPECT_TRUE(IsSixDigits(r.records[0].code));
  EXPECT_EQ(r.records[0].type, kEmail);
  EXPECT_EQ(r.records[0].identifier, Config{}.default_user.email);
  EXPECT_EQ(r.records[0].expires_ms, now + 600'000);
  EXPECT_EQ(r.records[1].type, kPhone);
  EXPECT_EQ(r.records[1].identifier, Config{}.default_user.phone);
  const auto s = store().Get(r.records[1].verification_id);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->identifier, Config{}.default_user.phone);
  EXPECT_EQ(s->code, r.records[1].code);
  EXPECT_EQ(s->expires_ms, r.records[1].expires_ms);
  EXPECT_EQ(service().Verify(kPhone, r.records[1].verification_id, r.records[1].code),
            Outcome::kOk);
}

TEST_F(MfaServiceTest, SeedKeepsGivenFields) {
  SeedItem item;
  item.verification_id = "a-seeded-verification-id-longer-than-23";
  item.type = kPhone;
  item.identifier = "+1 555 0000";
  item.code = "12345678";
  item.ttl_seconds = 5;
  item.identified = false;
  std::vector<SeedItem> items;
  items.push_back(item);
  const SeedResult r = service().Seed(std::move(items));
  ASSERT_EQ(r.outcome, Outcome::kOk);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.records[0].verification_id, *item.verification_id);
  EXPECT_EQ(r.records[0].identifier, "+1 555 0000");
  EXPECT_EQ(r.records[0].code, "12345678");
  EXPECT_EQ(r.records[0].expires_ms, clock().NowMs() + 5000);
  const auto s = store().Get(*item.verification_id);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->identifier_type, kPhone);
  EXPECT_EQ(s->identifier, "+1 555 0000");
  EXPECT_EQ(s->code, "12345678");
  EXPECT_FALSE(s->identified);
  EXPECT_EQ(service().Seed({}).outcome, Outcome::kOk);
}

TEST_F(MfaServiceTest, SeedWithADuplicateInsideStoresNothing) {
  std::vector<SeedItem> items(4);
  items[0].verification_id = "one";
  items[1].verification_id = "two";
  items[2].verification_id = "one";
  const SeedResult r = service().Seed(std::move(items));
  EXPECT_EQ(r.outcome, Outcome::kInvalidInput);
  EXPECT_EQ(r.failed_index, 2u);
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(store().size(), 0u);
}

TEST_F(MfaServiceTest, SeedWithAnIdAlreadyStoredStoresNothing) {
  SeedRecord("existing", "111111");
  std::vector<SeedItem> items(3);
  items[0].verification_id = "fresh";
  items[1].verification_id = "existing";
  const SeedResult r = service().Seed(std::move(items));
  EXPECT_EQ(r.outcome, Outcome::kInvalidInput);
  EXPECT_EQ(r.failed_index, 1u);
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(store().size(), 1u);
  EXPECT_FALSE(store().Get("fresh").has_value());
  EXPECT_EQ(store().Get("existing")->code, "111111");
}

TEST_F(MfaServiceTest, SeedBeyondTheCapIsStoreFullAndStoresNothing) {
  h_ = std::make_unique<Harness>(Config{}, StoreOptions{16, 3});
  SeedRecord("first", "111111");
  std::vector<SeedItem> items(3);
  const SeedResult r = service().Seed(std::move(items));
  EXPECT_EQ(r.outcome, Outcome::kStoreFull);
  EXPECT_TRUE(r.records.empty());
  EXPECT_EQ(store().size(), 1u);
  EXPECT_EQ(service().Seed(std::vector<SeedItem>(2)).outcome, Outcome::kOk);
  EXPECT_EQ(store().size(), 3u);
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kStoreFull);
  EXPECT_EQ(service().AdminSend(kEmail, "x@y.z").outcome, Outcome::kStoreFull);
}

// ---------------------------------------------------------------------------------------------
// Generate.

TEST_F(MfaServiceTest, GenerateCreatesABatchOfVerifiableRecords) {
  GenerateSpec spec;
  spec.count = 200;
  spec.type = kPhone;
  spec.identifier_pattern = "+1555000{n}";
  spec.ttl_seconds = 90;
  spec.code = "246810";
  const int64_t now = clock().NowMs();
  const GenerateResult r = service().Generate(spec);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  EXPECT_EQ(r.created, 200u);
  EXPECT_EQ(r.batch_id.rfind("b_", 0), 0u) << r.batch_id;
  EXPECT_EQ(store().size(), 200u);
  const uint32_t handle = store().FindBatch(r.batch_id);
  ASSERT_NE(handle, 0u);
  std::set<std::string> identifiers;
  std::vector<std::string> ids;
  ScanCursor cursor;
  while (!cursor.done) {
    store().Scan(cursor, handle, 64, [&](const RecordView& v) {
      identifiers.insert(std::string(v.identifier));
      ids.emplace_back(v.verification_id);
      EXPECT_EQ(v.identifier_type, kPhone);
      EXPECT_EQ(v.code, "246810");
    });
  }
  ASSERT_EQ(ids.size(), 200u);
  EXPECT_EQ(identifiers.size(), 200u);
  EXPECT_EQ(identifiers.count("+15550001"), 1u);
  EXPECT_EQ(identifiers.count("+1555000200"), 1u);
  const auto s = store().Get(ids[0]);
  EXPECT_EQ(s->expires_ms, now + 90'000);
  EXPECT_EQ(s->batch_id, r.batch_id);
  EXPECT_EQ(service().Verify(kPhone, ids[0], "246810"), Outcome::kOk);
  clock().AdvanceMs(90'001);
  EXPECT_EQ(service().Verify(kPhone, ids[1], "246810"), Outcome::kCodeExpired);
}

TEST_F(MfaServiceTest, GenerateDefaultsToTheDefaultAddressTtlAndRandomCodes) {
  GenerateSpec spec;
  spec.count = 20;
  const GenerateResult r = service().Generate(spec);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  std::set<std::string> codes;
  ScanCursor cursor;
  std::string some_id;
  while (!cursor.done) {
    store().Scan(cursor, store().FindBatch(r.batch_id), 100, [&](const RecordView& v) {
      EXPECT_EQ(v.identifier, Config{}.default_user.email);
      EXPECT_TRUE(IsSixDigits(std::string(v.code)));
      codes.insert(std::string(v.code));
      some_id = std::string(v.verification_id);
    });
  }
  EXPECT_GT(codes.size(), 10u);
  EXPECT_EQ(store().Get(some_id)->expires_ms, clock().NowMs() + 600'000);
}

TEST_F(MfaServiceTest, EachGenerateIsItsOwnBatch) {
  GenerateSpec spec;
  spec.count = 3;
  const GenerateResult a = service().Generate(spec);
  const GenerateResult b = service().Generate(spec);
  EXPECT_NE(a.batch_id, b.batch_id);
  EXPECT_NE(store().FindBatch(a.batch_id), store().FindBatch(b.batch_id));
  EXPECT_EQ(store().size(), 6u);
}

TEST_F(MfaServiceTest, GenerateBeyondTheCapIsStoreFullAndCreatesNothing) {
  h_ = std::make_unique<Harness>(Config{}, StoreOptions{16, 100});
  GenerateSpec spec;
  spec.count = 101;
  const GenerateResult r = service().Generate(spec);
  EXPECT_EQ(r.outcome, Outcome::kStoreFull);
  EXPECT_EQ(r.created, 0u);
  EXPECT_EQ(store().size(), 0u);
  spec.count = 100;
  EXPECT_EQ(service().Generate(spec).outcome, Outcome::kOk);
  EXPECT_EQ(store().size(), 100u);
}

// ---------------------------------------------------------------------------------------------
// Sweeping.

TEST_F(MfaServiceTest, SweepOnceRemovesRecordsPastRetentionOnly) {
  h_ = std::make_unique<Harness>(Config{}, StoreOptions{16, 0}, ServiceOptions{100, 60'000});
  SeedRecord("expires", "111111", kEmail, true, 10);
  SeedRecord("consumed", "222222", kEmail, true, 3600);
  SeedRecord("live", "333333", kEmail, true, 3600);
  clock().AdvanceMs(10'000);
  ASSERT_EQ(service().Verify(kEmail, "consumed", "222222"), Outcome::kOk);
  // "expires" expired and "consumed" was consumed exactly retention ago: both still answer.
  clock().AdvanceMs(60'000);
  EXPECT_EQ(service().SweepOnce(), 0u);
  EXPECT_EQ(service().Verify(kEmail, "expires", "111111"), Outcome::kCodeExpired);
  EXPECT_EQ(service().Verify(kEmail, "consumed", "222222"), Outcome::kCodeNotFound);
  clock().AdvanceMs(1);
  EXPECT_EQ(service().SweepOnce(), 2u);
  EXPECT_EQ(service().Verify(kEmail, "expires", "111111"), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kEmail, "consumed", "222222"), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kEmail, "live", "333333"), Outcome::kOk);
  EXPECT_EQ(store().swept_total(), 2u);
}

// A record consumed at a fractional second must stay answerable (verification_code.not_found)
// for the full retention after its consumption, not be swept up to a second early.
TEST_F(MfaServiceTest, ConsumedRecordStaysForTheFullRetentionAfterConsumption) {
  h_ = std::make_unique<Harness>(Config{}, StoreOptions{16, 0}, ServiceOptions{100, 60'000});
  SeedRecord("rec", "123456", kEmail, true, 3600);
  clock().AdvanceMs(5900);
  ASSERT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kOk);
  clock().AdvanceMs(60'000);  // exactly retention after consumption
  EXPECT_EQ(service().SweepOnce(), 0u) << "consumed record swept before its retention ended";
  EXPECT_EQ(service().Verify(kEmail, "rec", "123456"), Outcome::kCodeNotFound);
}

TEST_F(MfaServiceTest, SweepOnceForgetsSendersOutsideTheWindow) {
  ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  ASSERT_EQ(service().Send(kPhone).outcome, Outcome::kOk);
  EXPECT_EQ(h_->limiter.key_count(), 2u);
  clock().AdvanceMs(599'999);
  service().SweepOnce();
  EXPECT_EQ(h_->limiter.key_count(), 2u);
  clock().AdvanceMs(1);
  service().SweepOnce();
  EXPECT_EQ(h_->limiter.key_count(), 0u);
}

TEST_F(MfaServiceTest, SweeperThreadSweepsAndStops) {
  h_ = std::make_unique<Harness>(Config{}, StoreOptions{16, 0}, ServiceOptions{100, 0});
  SeedRecord("old", "111111", kEmail, true, 1);
  clock().AdvanceMs(1001);
  service().StartSweeper(std::chrono::milliseconds(1));
  // Waits for the event, not for a duration; the deadline only bounds a broken sweeper.
  // 60 s: generous for a sanitized build on a busy machine; a sleep, not a yield, so the waiting
  // thread does not compete with the sweeper for a core.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (store().size() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(store().size(), 0u) << "the sweeper thread did not sweep within 60 s";
  service().StopSweeper();
  service().StopSweeper();  // idempotent
  SeedRecord("after-stop", "1", kEmail, true, 1);
  clock().AdvanceMs(5000);
  EXPECT_EQ(store().size(), 1u);  // nothing runs after StopSweeper returned
}

TEST_F(MfaServiceTest, StopSweeperReturnsPromptlyDuringALongInterval) {
  service().StartSweeper(std::chrono::hours(1));
  service().StopSweeper();  // must not wait for the interval
  service().StartSweeper(std::chrono::hours(1));
  // The destructor stops it too.
  h_.reset();
  SUCCEED();
}

// ---------------------------------------------------------------------------------------------
// Configuration changes.

TEST_F(MfaServiceTest, ConfigReplaceIsVisibleToTheNextCallOnAnotherThread) {
  std::promise<void> first_done;
  std::promise<void> replaced;
  std::shared_future<void> replaced_future = replaced.get_future().share();
  Outcome before = Outcome::kInternal;
  Outcome after = Outcome::kInternal;
  uint32_t after_max_attempts = 0;
  std::thread worker([&] {
    before = service().Send(kEmail).outcome;  // caches the config on this thread
    first_done.set_value();
    replaced_future.wait();
    after = service().Send(kEmail).outcome;
    after_max_attempts = service().config().Get().config.max_attempts;
  });
  first_done.get_future().wait();
  Configure([](Config& c) {
    c.email_connector = false;
    c.max_attempts = 4;
  });
  replaced.set_value();
  worker.join();
  EXPECT_EQ(before, Outcome::kOk);
  EXPECT_EQ(after, Outcome::kConnectorNotFound);
  EXPECT_EQ(after_max_attempts, 4u);
}

TEST_F(MfaServiceTest, AccessorsExposeTheWiredParts) {
  EXPECT_EQ(&service().config(), &h_->config_store);
  EXPECT_EQ(&service().store(), &h_->store);
  EXPECT_EQ(&service().inbox(), &h_->inbox);
  EXPECT_EQ(&service().clock(), &h_->clock);
}

}  // namespace
}  // namespace mfa

namespace mfa {
namespace {

// ---------------------------------------------------------------------------------------------
// Admin operations: reset and what became of a sent code.

TEST_F(MfaServiceTest, ClearVerificationsDeletesRecordsAndForgetsSendLimits) {
  Configure([](Config& c) {
    c.send_rate_limit.max_sends = 1;
    c.send_rate_limit.window_seconds = 600;
  });
  ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
  ASSERT_EQ(service().Send(kEmail).outcome, Outcome::kRateLimited);
  SeedRecord("seeded", "123456");
  EXPECT_EQ(service().ClearVerifications(), 2u);
  EXPECT_EQ(store().size(), 0u);
  EXPECT_EQ(service().Send(kEmail).outcome, Outcome::kOk);
}

TEST_F(MfaServiceTest, StateOfFollowsTheRecordOfASentCode) {
  Configure([](Config& c) { c.max_attempts = 2; });
  const SendResult sent = service().Send(kEmail);
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  const InboxMessage message = AllMessages().front();
  EXPECT_EQ(service().StateOf(message), MessageState::kPending);
  EXPECT_EQ(service().Verify(kEmail, sent.verification_id, "000000x"), Outcome::kCodeMismatch);
  EXPECT_EQ(service().Verify(kEmail, sent.verification_id, "000000x"), Outcome::kCodeMismatch);
  EXPECT_EQ(service().StateOf(message), MessageState::kLocked);
  clock().AdvanceMs(601'000);
  EXPECT_EQ(service().StateOf(message), MessageState::kExpired);
  ASSERT_TRUE(store().Erase(sent.verification_id));
  EXPECT_EQ(service().StateOf(message), MessageState::kGone);
  EXPECT_EQ(ToString(MessageState::kGone), "gone");

  const SendResult again = service().Send(kEmail);
  ASSERT_EQ(service().Verify(kEmail, again.verification_id, again.code), Outcome::kOk);
  EXPECT_EQ(service().StateOf(AllMessages().front()), MessageState::kVerified);
}

TEST_F(MfaServiceTest, AnExternalMessageJoinsTheInboxAndTheSentHookWithoutARecord) {
  std::vector<InboxMessage> hooked;
  service().set_sent_hook([&](const InboxMessage& m) { hooked.push_back(m); });
  InboxMessage logto;
  logto.to = "a@example.com";
  logto.code = "777001";
  logto.template_type = "SignIn";
  const uint64_t cursor = service().RecordExternalMessage(logto);
  EXPECT_GT(cursor, 0u);
  ASSERT_EQ(AllMessages().size(), 1u);
  EXPECT_EQ(AllMessages().front().seq, cursor);
  EXPECT_EQ(service().StateOf(AllMessages().front()), MessageState::kExternal);
  EXPECT_EQ(ToString(MessageState::kExternal), "external");
  ASSERT_EQ(hooked.size(), 1u);
  EXPECT_EQ(hooked[0].template_type, "SignIn");
  EXPECT_EQ(hooked[0].seq, cursor);
  EXPECT_EQ(store().size(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Generated batches are derived (issue 17): the whole check order on their records.

class DerivedVerifyTest : public VerifyTest {
 protected:
  // Generates `count` records; returns them as id -> code, in sequence order by identifier.
  std::map<std::string, std::string> Generate(uint32_t count, IdentifierType type = kEmail,
                                              std::optional<uint32_t> ttl = std::nullopt) {
    GenerateSpec spec;
    spec.count = count;
    spec.type = type;
    spec.identifier_pattern = "g{n}@x.io";
    spec.ttl_seconds = ttl;
    const GenerateResult r = service().Generate(spec);
    EXPECT_EQ(r.outcome, Outcome::kOk);
    std::map<std::string, std::string> out;
    ScanCursor cursor;
    while (!cursor.done) {
      store().Scan(cursor, store().FindBatch(r.batch_id), 256, [&](const RecordView& v) {
        EXPECT_EQ(v.record, nullptr);  // derived, not stored
        out.emplace(std::string(v.verification_id), std::string(v.code));
      });
    }
    EXPECT_EQ(out.size(), count);
    return out;
  }
  // A wrong code for `code`.
  static std::string Wrong(const std::string& code) {
    std::string w = code;
    w[0] = w[0] == '9' ? '0' : static_cast<char>(w[0] + 1);
    return w;
  }
};

INSTANTIATE_TEST_SUITE_P(Profiles, DerivedVerifyTest,
                         ::testing::Values(Profile::kDocumented, Profile::kLogto),
                         [](const ::testing::TestParamInfo<Profile>& info) {
                           return std::string(ToString(info.param));
                         });

TEST_P(DerivedVerifyTest, EachGeneratedCodeVerifiesOnceAndThenIsConsumed) {
  const auto records = Generate(200);
  EXPECT_EQ(store().size(), 200u);
  for (const auto& [id, code] : records) {
    ASSERT_EQ(service().Verify(kEmail, id, code), Outcome::kOk) << id;
    EXPECT_EQ(service().Verify(kEmail, id, code), Outcome::kCodeNotFound) << id;
    const auto s = store().Get(id);
    ASSERT_TRUE(s.has_value());
    EXPECT_TRUE(s->consumed);
    EXPECT_TRUE(s->verified);
  }
}

TEST_P(DerivedVerifyTest, AnotherTypeAnEmptyCodeAndASessionScopeAnswerAsForStoredRecords) {
  const auto records = Generate(3);
  const auto& [id, code] = *records.begin();
  EXPECT_EQ(service().Verify(kPhone, id, code), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kEmail, id, ""), Outcome::kCodeNotFound);
  VerifyScope session;
  session.session = true;  // generated records belong to open mode
  EXPECT_EQ(service().Verify(kEmail, id, code, session), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kEmail, NewIndividualId(), code), Outcome::kVerificationNotFound);
  EXPECT_EQ(service().Verify(kEmail, id, code), Outcome::kOk);
}

TEST_P(DerivedVerifyTest, WrongCodesCountTriesUntilTheRecordIsLocked) {
  Configure([](Config& c) { c.max_attempts = 3; });
  const auto records = Generate(2);
  const auto& [id, code] = *records.begin();
  for (uint32_t i = 1; i <= 3; ++i) {
    EXPECT_EQ(service().Verify(kEmail, id, Wrong(code)), Outcome::kCodeMismatch);
    EXPECT_EQ(TryCount(id), i);
  }
  EXPECT_EQ(service().Verify(kEmail, id, code), Outcome::kExceedMaxTry);
  EXPECT_EQ(TryCount(id), 3u);
  // A higher limit lets it try again, as for a stored record.
  Configure([](Config& c) { c.max_attempts = 4; });
  EXPECT_EQ(service().Verify(kEmail, id, code), Outcome::kOk);
  EXPECT_EQ(TryCount(records.rbegin()->first), 0u);  // its neighbour is untouched
}

TEST_P(DerivedVerifyTest, ExpiryComesBeforeTheTryLimitAndTheCode) {
  Configure([](Config& c) { c.max_attempts = 1; });
  const auto records = Generate(2, kEmail, 60);
  const auto& [id, code] = *records.begin();
  EXPECT_EQ(service().Verify(kEmail, id, Wrong(code)), Outcome::kCodeMismatch);
  clock().AdvanceMs(60'000);
  EXPECT_EQ(service().Verify(kEmail, id, code), Outcome::kExceedMaxTry);  // not yet expired
  clock().AdvanceMs(1);
  EXPECT_EQ(service().Verify(kEmail, id, code), Outcome::kCodeExpired);
  EXPECT_EQ(service().Verify(kEmail, records.rbegin()->first, records.rbegin()->second),
            Outcome::kCodeExpired);
}

TEST_P(DerivedVerifyTest, ADisabledConnectorAnswersPerProfile) {
  const auto records = Generate(1);
  Configure([](Config& c) { c.email_connector = false; });
  const Outcome expected =
      GetParam() == Profile::kDocumented ? Outcome::kConnectorNotFound : Outcome::kOk;
  EXPECT_EQ(service().Verify(kEmail, records.begin()->first, records.begin()->second), expected);
}

TEST_P(DerivedVerifyTest, PhoneBatchesVerifyAsPhone) {
  const auto records = Generate(5, kPhone);
  for (const auto& [id, code] : records) {
    EXPECT_EQ(service().Verify(kEmail, id, code), Outcome::kVerificationNotFound);
    EXPECT_EQ(service().Verify(kPhone, id, code), Outcome::kOk);
  }
}

TEST_P(DerivedVerifyTest, ConcurrentVerifiesOfOneRecordSucceedExactlyOnce) {
  const auto records = Generate(1);
  const auto& [id, code] = *records.begin();
  std::atomic<int> ok{0}, not_found{0};
  std::latch start(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < 50; ++i) {
        const Outcome o = service().Verify(kEmail, id, (t + i) % 2 ? code : Wrong(code));
        if (o == Outcome::kOk) ++ok;
        if (o == Outcome::kCodeNotFound) ++not_found;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_GT(not_found.load(), 0);
}

TEST_P(DerivedVerifyTest, ASweptConsumedRecordIsNotFoundAndLeavesTheCount) {
  const auto records = Generate(10);
  const auto& [id, code] = *records.begin();
  ASSERT_EQ(service().Verify(kEmail, id, code), Outcome::kOk);
  clock().AdvanceMs(600'000);  // the default retention after consumption (rounded up to 1 s)
  EXPECT_EQ(service().SweepOnce(), 0u);
  clock().AdvanceMs(1'001);
  EXPECT_EQ(service().SweepOnce(), 1u);
  EXPECT_EQ(service().Verify(kEmail, id, code), Outcome::kVerificationNotFound);
  EXPECT_EQ(store().size(), 9u);
  clock().AdvanceMs(600'000);  // the batch expired (600 s) and its retention passed
  EXPECT_EQ(service().SweepOnce(), 9u);
  EXPECT_EQ(store().size(), 0u);
}

TEST_P(DerivedVerifyTest, SeedingTheIdOfAGeneratedRecordIsADuplicate) {
  const auto records = Generate(1);
  std::vector<SeedItem> items(1);
  items[0].verification_id = records.begin()->first;
  const SeedResult r = service().Seed(std::move(items));
  EXPECT_EQ(r.outcome, Outcome::kInvalidInput);
  EXPECT_EQ(r.failed_index, 0u);
}

TEST_P(DerivedVerifyTest, StoredBatchesAreStillAvailable) {
  GenerateSpec spec;
  spec.count = 20;
  spec.derived = false;
  const GenerateResult r = service().Generate(spec);
  ASSERT_EQ(r.outcome, Outcome::kOk);
  ScanCursor cursor;
  std::vector<std::pair<std::string, std::string>> rows;
  store().Scan(cursor, store().FindBatch(r.batch_id), 100, [&](const RecordView& v) {
    EXPECT_NE(v.record, nullptr);
    rows.emplace_back(std::string(v.verification_id), std::string(v.code));
  });
  ASSERT_EQ(rows.size(), 20u);
  EXPECT_EQ(service().Verify(kEmail, rows[0].first, rows[0].second), Outcome::kOk);
}

}  // namespace
}  // namespace mfa
