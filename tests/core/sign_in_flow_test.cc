// SPDX-License-Identifier: Apache-2.0
// SignInFlow (core/sign_in_flow.h) over the memory store, with a clock that only moves when told
// to: the TOTP window and replay rule, one-time backup codes, the per-factor sentinel and submit's
// MFA check, where the integration tests cannot pin the time.

#include "core/sign_in_flow.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/config.h"
#include "core/inbox.h"
#include "core/interaction_store.h"
#include "core/mfa_service.h"
#include "core/send_rate_limiter.h"
#include "core/session_service.h"
#include "core/sessions.h"
#include "core/totp.h"
#include "core/verification_store.h"

namespace mfa {
namespace {

constexpr char kSecret[] = "JBSWY3DPEHPK3PXP";
// The start of a TOTP step, so that a few seconds either way stay in it.
constexpr int64_t kStart = 1'700'000'010'000 - 1'700'000'010'000 % kTotpStepMs;

Config FlowConfig(uint32_t lockout) {
  Config config;
  config.mfa.set(MfaFactor::kTotp, true);
  config.mfa.set(MfaFactor::kBackupCode, true);
  config.lockout.max_failures = lockout;
  return config;
}

struct Harness {
  explicit Harness(uint32_t lockout = 100)
      : clock(kStart),
        config_store(FlowConfig(lockout)),
        store(StoreOptions{16, 0}),
        inbox(100),
        mfa(config_store, store, inbox, limiter, clock),
        service(mfa, sessions, users, sentinel),
        interactions(service),
        flow(interactions, config_store, clock) {
    User grace;
    grace.id = "grace";
    grace.totp_secret = kSecret;
    grace.backup_codes = {{"0123456789", false}, {"abcdef0123", false}};
    users.Add(grace);
  }

  // An interaction identified as grace.
  std::string Identified() {
    const Session s = service.CreateSession("grace", true, InteractionEvent::kSignIn);
    return s.id;
  }
  std::string CodeAt(int64_t ms) {
    return HotpCode(*DecodeBase32(kSecret), static_cast<uint64_t>(ms / kTotpStepMs));
  }
  PasswordAnswer Totp(const std::string& session, std::string code, std::string id = "") {
    PasswordAnswer out;
    flow.VerifyTotp(session, std::move(code), std::move(id), [&](PasswordAnswer a) { out = a; });
    return out;
  }
  PasswordAnswer Backup(const std::string& session, std::string code) {
    PasswordAnswer out;
    flow.VerifyBackupCode(session, std::move(code), [&](PasswordAnswer a) { out = a; });
    return out;
  }
  SubmitAnswer Submit(const std::string& session) {
    SubmitAnswer out;
    flow.Submit(session, [&](SubmitAnswer a) { out = a; });
    return out;
  }

  ManualClock clock;
  ConfigStore config_store;
  VerificationStore store;
  Inbox inbox;
  SendRateLimiter limiter;
  MfaService mfa;
  SessionStore sessions;
  UserDirectory users;
  Sentinel sentinel;
  SessionService service;
  MemoryInteractionStore interactions;
  SignInFlow flow;
};

TEST(SignInFlowTotpTest, TheCodeOfTheStepBeforeAndAfterIsAcceptedNotTwoAway) {
  Harness h;
  const std::string s = h.Identified();
  EXPECT_EQ(h.Totp(s, h.CodeAt(kStart + 2 * kTotpStepMs)).outcome, Outcome::kInvalidTotpCode);
  EXPECT_EQ(h.Totp(s, h.CodeAt(kStart - 2 * kTotpStepMs)).outcome, Outcome::kInvalidTotpCode);
  const PasswordAnswer next = h.Totp(s, h.CodeAt(kStart + kTotpStepMs));
  EXPECT_EQ(next.outcome, Outcome::kOk);
  EXPECT_EQ(next.verification_id.size(), 21u);
}

TEST(SignInFlowTotpTest, AStepIsUsedOnceAndEarlierStepsAreRefusedAfterIt) {
  Harness h;
  const std::string s = h.Identified();
  ASSERT_EQ(h.Totp(s, h.CodeAt(kStart)).outcome, Outcome::kOk);
  EXPECT_EQ(h.Totp(s, h.CodeAt(kStart)).outcome, Outcome::kInvalidTotpCode);
  EXPECT_EQ(h.Totp(s, h.CodeAt(kStart - kTotpStepMs)).outcome, Outcome::kInvalidTotpCode);
  // The next step works, in any session of the user.
  EXPECT_EQ(h.Totp(h.Identified(), h.CodeAt(kStart + kTotpStepMs)).outcome, Outcome::kOk);
}

TEST(SignInFlowTotpTest, AVerifiedTotpSatisfiesSubmit) {
  Harness h;
  const std::string s = h.Identified();
  const SubmitAnswer before = h.Submit(s);
  ASSERT_EQ(before.outcome, Outcome::kMfaRequired);
  EXPECT_EQ(before.factors, (std::vector<MfaFactor>{MfaFactor::kTotp, MfaFactor::kBackupCode}));
  ASSERT_EQ(h.Totp(s, h.CodeAt(kStart)).outcome, Outcome::kOk);
  EXPECT_EQ(h.Submit(s).outcome, Outcome::kOk);
}

TEST(SignInFlowTotpTest, NeedsAnIdentifiedUserAndAVerificationIdNamesANewSecretsRecord) {
  Harness h;
  const Session anonymous = h.service.CreateSession("", true, InteractionEvent::kSignIn);
  EXPECT_EQ(h.Totp(anonymous.id, h.CodeAt(kStart)).outcome, Outcome::kNotIdentified);
  EXPECT_EQ(h.Backup(anonymous.id, "0123456789").outcome, Outcome::kNotIdentified);
  EXPECT_EQ(h.Totp("nosuchsession", h.CodeAt(kStart)).outcome, Outcome::kSessionNotFound);
  const std::string s = h.Identified();
  EXPECT_EQ(h.Totp(s, h.CodeAt(kStart), "nope").outcome, Outcome::kVerificationNotFound);
  const std::string id = h.Totp(s, h.CodeAt(kStart)).verification_id;
  EXPECT_EQ(h.Totp(s, h.CodeAt(kStart + kTotpStepMs), id).outcome, Outcome::kInvalidTotpCode);
}

TEST(SignInFlowBackupCodeTest, ACodeWorksOnceAndTheLastOneStopsCountingAsLogtoDoes) {
  Harness h;
  const std::string s = h.Identified();
  ASSERT_EQ(h.Backup(s, "0123456789").outcome, Outcome::kOk);
  EXPECT_EQ(h.Backup(s, "0123456789").outcome, Outcome::kInvalidBackupCode);
  EXPECT_EQ(h.Submit(s).outcome, Outcome::kOk);
  // The last code: the factor is gone from the user's list, so its record no longer satisfies
  // submit (Logto filters used-up backup codes before it looks at the records).
  const std::string last = h.Identified();
  ASSERT_EQ(h.Backup(last, "abcdef0123").outcome, Outcome::kOk);
  const SubmitAnswer after = h.Submit(last);
  EXPECT_EQ(after.outcome, Outcome::kMfaRequired);
  EXPECT_EQ(after.factors, (std::vector<MfaFactor>{MfaFactor::kTotp}));
}

TEST(SignInFlowSentinelTest, EachFactorCountsApartAndARightCodeWhileBlockedIsUsedUp) {
  Harness h(/*lockout=*/2);
  const std::string s = h.Identified();
  EXPECT_EQ(h.Totp(s, "000000x").outcome, Outcome::kInvalidTotpCode);
  const PasswordAnswer blocked = h.Totp(s, "000000x");
  EXPECT_EQ(blocked.outcome, Outcome::kVerificationBlocked);
  EXPECT_EQ(blocked.blocked_ms, 3'600'000);
  EXPECT_EQ(h.Totp(s, h.CodeAt(kStart)).outcome, Outcome::kVerificationBlocked);
  // The check ran: the step is used up, and no record was saved.
  EXPECT_EQ(h.users.Get("grace")->totp_last_step, kStart / kTotpStepMs);
  EXPECT_EQ(h.Submit(s).outcome, Outcome::kMfaRequired);
  // Backup codes count apart.
  EXPECT_EQ(h.Backup(s, "0123456789").outcome, Outcome::kOk);
  // An hour later (the block is over, the session too) TOTP works again.
  h.clock.AdvanceMs(3'600'000);
  EXPECT_EQ(h.Totp(h.Identified(), h.CodeAt(kStart + 3'600'000)).outcome, Outcome::kOk);
}

}  // namespace
}  // namespace mfa
