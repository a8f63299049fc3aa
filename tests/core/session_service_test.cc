// SPDX-License-Identifier: Apache-2.0
// SessionService (core/session_service.h): Logto's experience flow inside interaction sessions,
// at the domain level. The scenarios of issue 6 item 7 (send+verify for email and phone, invalid
// id, stale id after re-send, type mismatch, code mismatch, reset by PUT /api/experience, the
// 11th send, unidentified, the lockout), in both profiles where they differ, plus session expiry
// and sweep, and the sentinel's relative time.

#include "core/session_service.h"

#include <gtest/gtest.h>

#include <functional>
#include <latch>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/inbox.h"
#include "core/mfa_service.h"
#include "core/send_rate_limiter.h"
#include "core/sessions.h"
#include "core/verification_store.h"

namespace mfa {
namespace {

constexpr IdentifierType kEmail = IdentifierType::kEmail;
constexpr IdentifierType kPhone = IdentifierType::kPhone;
constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

constexpr char kAliceEmail[] = "alice@example.com";
constexpr char kAlicePhone[] = "+15555550101";
constexpr char kBobEmail[] = "bob@example.com";
constexpr char kCarolPhone[] = "+15555550103";

// Everything a session service needs, wired together, with a clock that only moves when told to.
struct Harness {
  explicit Harness(Config config)
      : config_store(std::move(config)),
        store(StoreOptions{16, 0}),
        inbox(1000),
        mfa(config_store, store, inbox, limiter, clock),
        service(mfa, sessions, users, sentinel) {}

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
};

User MakeUser(std::string id, std::string email, std::string phone) {
  User u;
  u.id = std::move(id);
  u.primary_email = std::move(email);
  u.primary_phone = std::move(phone);
  return u;
}

std::string Name(Profile p) { return std::string(ToString(p)); }

class SessionServiceTest : public ::testing::TestWithParam<Profile> {
 protected:
  void SetUp() override {
    Config c;
    c.profile = GetParam();
    h_ = std::make_unique<Harness>(std::move(c));
    ASSERT_TRUE(users().Add(MakeUser("alice", kAliceEmail, kAlicePhone)));
    ASSERT_TRUE(users().Add(MakeUser("bob", kBobEmail, "")));      // no phone
    ASSERT_TRUE(users().Add(MakeUser("carol", "", kCarolPhone)));  // no email
  }

  SessionService& svc() { return h_->service; }
  MfaService& mfa() { return h_->mfa; }
  UserDirectory& users() { return h_->users; }
  SessionStore& sessions() { return h_->sessions; }
  VerificationStore& store() { return h_->store; }
  Inbox& inbox() { return h_->inbox; }
  ManualClock& clock() { return h_->clock; }
  bool documented() const { return GetParam() == Profile::kDocumented; }

  void Configure(const std::function<void(Config&)>& edit) {
    Config c = h_->config_store.Snapshot()->config;
    edit(c);
    ASSERT_EQ(ValidateConfig(c), "");
    h_->config_store.Replace(std::move(c));
  }

  // PUT /api/experience without a cookie: a new session with an interaction.
  std::string Start(InteractionEvent event = InteractionEvent::kSignIn) {
    auto [id, created] = svc().StartInteraction("", event);
    EXPECT_TRUE(created);
    return id;
  }
  // A started session identified as `user_id`.
  std::string StartAs(const std::string& user_id) {
    std::string id = Start();
    EXPECT_EQ(svc().Identify(id, user_id), Outcome::kOk);
    return id;
  }

  SendResult SendOk(const std::string& session, IdentifierType type) {
    SendResult r = svc().Send(session, type);
    EXPECT_EQ(r.outcome, Outcome::kOk);
    return r;
  }

  Outcome Verify(const std::string& session, IdentifierType type, const std::string& id,
                 const std::string& code, int64_t* blocked_ms = nullptr) {
    int64_t ignored = -1;
    return svc().Verify(session, type, id, code, blocked_ms ? blocked_ms : &ignored);
  }

  // A wrong code for `right`: same length, differs in every digit.
  static std::string Wrong(const std::string& right) {
    std::string w = right;
    for (char& c : w) c = c == '9' ? '0' : static_cast<char>(c + 1);
    return w;
  }

  std::unique_ptr<Harness> h_;
};

INSTANTIATE_TEST_SUITE_P(Profiles, SessionServiceTest,
                         ::testing::Values(Profile::kDocumented, Profile::kLogto),
                         [](const ::testing::TestParamInfo<Profile>& info) {
                           return Name(info.param);
                         });

// ------------------------------------------------------------------ Check / StartInteraction

TEST_P(SessionServiceTest, CheckUnknownSessionIsSessionNotFound) {
  EXPECT_EQ(svc().Check(""), Outcome::kSessionNotFound);
  EXPECT_EQ(svc().Check("aaaaaaaaaaaaaaaaaaaaa"), Outcome::kSessionNotFound);
}

TEST_P(SessionServiceTest, SessionWithoutInteractionIsInteractionNotFound) {
  Session s = svc().CreateSession("alice", /*start_interaction=*/false, InteractionEvent::kSignIn);
  EXPECT_EQ(svc().Check(s.id), Outcome::kInteractionNotFound);
  EXPECT_EQ(svc().Send(s.id, kEmail).outcome, Outcome::kInteractionNotFound);
  EXPECT_EQ(Verify(s.id, kEmail, "aaaaaaaaaaaaaaaaaaaaa", "123456"), Outcome::kInteractionNotFound);
  EXPECT_EQ(inbox().size(), 0u);
  // PUT /api/experience in that session starts the interaction (same session, no new cookie).
  auto [id, created] = svc().StartInteraction(s.id, InteractionEvent::kSignIn);
  EXPECT_EQ(id, s.id);
  EXPECT_FALSE(created);
  EXPECT_EQ(svc().Check(s.id), Outcome::kOk);
}

TEST_P(SessionServiceTest, StartInteractionCreatesASessionWhenThereIsNoneOrItIsUnknown) {
  auto [a, a_created] = svc().StartInteraction("", InteractionEvent::kRegister);
  EXPECT_TRUE(a_created);
  EXPECT_EQ(a.size(), 21u);
  EXPECT_EQ(svc().Check(a), Outcome::kOk);
  auto view = svc().View(a);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->event, InteractionEvent::kRegister);
  EXPECT_EQ(view->user_id, "");
  EXPECT_TRUE(view->records.empty());

  auto [b, b_created] = svc().StartInteraction("not-a-session", InteractionEvent::kSignIn);
  EXPECT_TRUE(b_created);
  EXPECT_NE(b, "not-a-session");
  EXPECT_NE(b, a);
  EXPECT_EQ(sessions().size(), 2u);
}

TEST_P(SessionServiceTest, StartInteractionWipesRecordsAndIdentificationAndKeepsTheSession) {
  const std::string s = StartAs("alice");
  SendResult email = SendOk(s, kEmail);
  SendResult phone = SendOk(s, kPhone);
  ASSERT_TRUE(store().Get(email.verification_id));

  auto [id, created] = svc().StartInteraction(s, InteractionEvent::kForgotPassword);
  EXPECT_EQ(id, s);
  EXPECT_FALSE(created);
  EXPECT_EQ(sessions().size(), 1u);

  // Old ids are gone, even with their right codes.
  EXPECT_EQ(Verify(s, kEmail, email.verification_id, email.code), Outcome::kVerificationNotFound);
  EXPECT_EQ(Verify(s, kPhone, phone.verification_id, phone.code), Outcome::kVerificationNotFound);
  EXPECT_FALSE(store().Get(email.verification_id));
  EXPECT_FALSE(store().Get(phone.verification_id));
  // Identification is cleared: a send answers identifier_not_found until identified again.
  EXPECT_EQ(svc().Send(s, kEmail).outcome, Outcome::kIdentifierNotFound);
  auto view = svc().View(s);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->event, InteractionEvent::kForgotPassword);
  EXPECT_EQ(view->user_id, "");
  EXPECT_TRUE(view->records.empty());

  ASSERT_EQ(svc().Identify(s, "alice"), Outcome::kOk);
  SendResult again = SendOk(s, kEmail);
  EXPECT_EQ(Verify(s, kEmail, again.verification_id, again.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, StartInteractionRenewsTheSessionLifetime) {
  const std::string s = Start();
  clock().AdvanceMs(3000 * kSecond);
  svc().StartInteraction(s, InteractionEvent::kSignIn);
  clock().AdvanceMs(3000 * kSecond);  // 6000 s after creation, 3000 s after the renewal
  EXPECT_EQ(svc().Check(s), Outcome::kOk);
  clock().AdvanceMs(600 * kSecond);
  EXPECT_EQ(svc().Check(s), Outcome::kSessionNotFound);
}

// ------------------------------------------------------------------ send + verify

TEST_P(SessionServiceTest, EmailCodeGoesToTheIdentifiedUsersPrimaryEmailAndVerifies) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  EXPECT_EQ(sent.identifier, kAliceEmail);
  EXPECT_EQ(sent.verification_id.size(), 21u);
  EXPECT_EQ(sent.code.size(), 6u);

  InboxQuery q;
  auto messages = inbox().List(q);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].type, kEmail);
  EXPECT_EQ(messages[0].to, kAliceEmail);
  EXPECT_EQ(messages[0].code, sent.code);
  EXPECT_EQ(messages[0].verification_id, sent.verification_id);

  auto view = svc().View(s);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->user_id, "alice");
  ASSERT_EQ(view->records.size(), 1u);
  EXPECT_EQ(view->records[0].id, sent.verification_id);
  EXPECT_EQ(view->records[0].type, kEmail);
  EXPECT_EQ(view->records[0].identifier, kAliceEmail);
  EXPECT_FALSE(view->records[0].verified);

  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
  view = svc().View(s);
  ASSERT_EQ(view->records.size(), 1u);
  EXPECT_TRUE(view->records[0].verified);
  // The passcode is consumed.
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kCodeNotFound);
}

TEST_P(SessionServiceTest, PhoneCodeGoesToTheIdentifiedUsersPrimaryPhoneAndVerifies) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kPhone);
  EXPECT_EQ(sent.identifier, kAlicePhone);
  InboxQuery q;
  q.channel = kPhone;
  auto messages = inbox().List(q);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].to, kAlicePhone);
  EXPECT_EQ(Verify(s, kPhone, sent.verification_id, sent.code), Outcome::kOk);
  auto view = svc().View(s);
  ASSERT_EQ(view->records.size(), 1u);
  EXPECT_EQ(view->records[0].type, kPhone);
  EXPECT_EQ(view->records[0].identifier, kAlicePhone);
  EXPECT_TRUE(view->records[0].verified);
}

TEST_P(SessionServiceTest, EmailAndPhoneRecordsLiveSideBySide) {
  const std::string s = StartAs("alice");
  SendResult email = SendOk(s, kEmail);
  SendResult phone = SendOk(s, kPhone);
  auto view = svc().View(s);
  ASSERT_EQ(view->records.size(), 2u);
  EXPECT_EQ(Verify(s, kPhone, phone.verification_id, phone.code), Outcome::kOk);
  EXPECT_EQ(Verify(s, kEmail, email.verification_id, email.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, InvalidIdIsVerificationNotFound) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  EXPECT_EQ(Verify(s, kEmail, "invalid_verification_id", sent.code),
            Outcome::kVerificationNotFound);
  EXPECT_EQ(Verify(s, kEmail, "", sent.code), Outcome::kVerificationNotFound);
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id + "x", sent.code),
            Outcome::kVerificationNotFound);
  // The real record is untouched.
  EXPECT_EQ(store().Get(sent.verification_id)->try_count, 0u);
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, ReSendReplacesTheOlderRecordOfThatTypeOnly) {
  const std::string s = StartAs("alice");
  SendResult phone = SendOk(s, kPhone);
  SendResult first = SendOk(s, kEmail);
  SendResult second = SendOk(s, kEmail);
  ASSERT_NE(first.verification_id, second.verification_id);

  EXPECT_EQ(Verify(s, kEmail, first.verification_id, first.code), Outcome::kVerificationNotFound);
  EXPECT_FALSE(store().Get(first.verification_id)) << "the replaced record must be deleted";
  auto view = svc().View(s);
  ASSERT_EQ(view->records.size(), 2u);
  EXPECT_EQ(Verify(s, kEmail, second.verification_id, second.code), Outcome::kOk);
  // The phone record was not replaced by the email re-send.
  EXPECT_EQ(Verify(s, kPhone, phone.verification_id, phone.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, TypeMismatchIsVerificationNotFoundAndCostsNothing) {
  const std::string s = StartAs("alice");
  SendResult email = SendOk(s, kEmail);
  SendResult phone = SendOk(s, kPhone);
  EXPECT_EQ(Verify(s, kPhone, email.verification_id, email.code), Outcome::kVerificationNotFound);
  EXPECT_EQ(Verify(s, kEmail, phone.verification_id, phone.code), Outcome::kVerificationNotFound);
  EXPECT_EQ(store().Get(email.verification_id)->try_count, 0u);
  EXPECT_EQ(store().Get(phone.verification_id)->try_count, 0u);
  EXPECT_EQ(Verify(s, kEmail, email.verification_id, email.code), Outcome::kOk);
  EXPECT_EQ(Verify(s, kPhone, phone.verification_id, phone.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, CodeMismatchCountsATryAndTheRightCodeStillWorks) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code)), Outcome::kCodeMismatch);
  EXPECT_EQ(store().Get(sent.verification_id)->try_count, 1u);
  EXPECT_FALSE(svc().View(s)->records[0].verified);
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, EmptyCodeExpiryAndMaxTriesFollowTheContractOrder) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, ""), Outcome::kCodeNotFound);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code)), Outcome::kCodeMismatch)
        << "attempt " << i + 1;
  }
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kExceedMaxTry);

  SendResult fresh = SendOk(s, kEmail);
  clock().AdvanceMs(600 * kSecond + 1);
  EXPECT_EQ(Verify(s, kEmail, fresh.verification_id, fresh.code), Outcome::kCodeExpired);
}

// ------------------------------------------------------------------ send failures

TEST_P(SessionServiceTest, UnidentifiedSessionSendIsIdentifierNotFound) {
  const std::string s = Start();
  EXPECT_EQ(svc().Send(s, kEmail).outcome, Outcome::kIdentifierNotFound);
  EXPECT_EQ(svc().Send(s, kPhone).outcome, Outcome::kIdentifierNotFound);
  EXPECT_EQ(inbox().size(), 0u);
  EXPECT_EQ(store().size(), 0u);
}

TEST_P(SessionServiceTest, UnidentifiedSessionVerifyOfAnUnknownIdIsVerificationNotFound) {
  // Both profiles: the record lookup comes first and there is no record (send never worked).
  const std::string s = Start();
  EXPECT_EQ(Verify(s, kEmail, "aaaaaaaaaaaaaaaaaaaaa", "123456"), Outcome::kVerificationNotFound);
}

// Logto's findUserById answers entity.not_found for the deleted user (logto-flow.md, 7).
TEST_P(SessionServiceTest, IdentifiedUserDeletedMeanwhileSendIsUserNotFound) {
  const std::string s = StartAs("alice");
  ASSERT_TRUE(users().Remove("alice"));
  EXPECT_EQ(svc().Send(s, kEmail).outcome, Outcome::kUserNotFound);
}

TEST_P(SessionServiceTest, ACodeSentBeforeTheUserWasDeletedStillVerifies) {
  // Deleting a user does not end its sessions (docs/sessions.md): the record is the session's.
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  ASSERT_TRUE(users().Remove("alice"));
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, UserWithoutThatAddressIsFactorNotEnabled) {
  const std::string bob = StartAs("bob");
  EXPECT_EQ(svc().Send(bob, kPhone).outcome, Outcome::kFactorNotEnabled);
  EXPECT_EQ(SendOk(bob, kEmail).identifier, kBobEmail);
  const std::string carol = StartAs("carol");
  EXPECT_EQ(svc().Send(carol, kEmail).outcome, Outcome::kFactorNotEnabled);
  EXPECT_EQ(SendOk(carol, kPhone).identifier, kCarolPhone);
}

TEST_P(SessionServiceTest, UnknownOrExpiredSessionIsSessionNotFound) {
  EXPECT_EQ(svc().Send("unknown", kEmail).outcome, Outcome::kSessionNotFound);
  EXPECT_EQ(Verify("unknown", kEmail, "aaaaaaaaaaaaaaaaaaaaa", "123456"),
            Outcome::kSessionNotFound);
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  clock().AdvanceMs(kHour);
  EXPECT_EQ(svc().Send(s, kEmail).outcome, Outcome::kSessionNotFound);
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kSessionNotFound);
  EXPECT_FALSE(svc().View(s));
}

TEST_P(SessionServiceTest, EleventhSendToARecipientIsRateLimitedOtherRecipientsStillWork) {
  const std::string s = StartAs("alice");
  SendResult last;
  for (int i = 0; i < 10; ++i) {
    last = svc().Send(s, kEmail);
    ASSERT_EQ(last.outcome, Outcome::kOk) << "send " << i + 1;
  }
  SendResult eleventh = svc().Send(s, kEmail);
  EXPECT_EQ(eleventh.outcome, Outcome::kRateLimited);
  EXPECT_TRUE(eleventh.verification_id.empty());
  EXPECT_EQ(inbox().size(), 10u);
  // The refused send replaced nothing: the 10th record still verifies.
  EXPECT_EQ(svc().View(s)->records.size(), 1u);
  EXPECT_EQ(Verify(s, kEmail, last.verification_id, last.code), Outcome::kOk);

  // Another recipient: alice's phone, and bob's email in another session.
  EXPECT_EQ(svc().Send(s, kPhone).outcome, Outcome::kOk);
  const std::string bob = StartAs("bob");
  EXPECT_EQ(svc().Send(bob, kEmail).outcome, Outcome::kOk);
  // The limit is per recipient, not per session: a new session for alice is refused too.
  const std::string s2 = StartAs("alice");
  EXPECT_EQ(svc().Send(s2, kEmail).outcome, Outcome::kRateLimited);
  // After the window the recipient may receive again.
  clock().AdvanceMs(600 * kSecond);
  EXPECT_EQ(svc().Send(s2, kEmail).outcome, Outcome::kOk);
}

TEST_P(SessionServiceTest, ConnectorOffFailsSendInBothProfilesAndVerifyOnlyInDocumented) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  Configure([](Config& c) { c.email_connector = false; });
  EXPECT_EQ(svc().Send(s, kEmail).outcome, Outcome::kConnectorNotFound);
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code),
            documented() ? Outcome::kConnectorNotFound : Outcome::kOk);
  // The send that failed on the connector did not replace the record.
  if (documented()) {
    Configure([](Config& c) { c.email_connector = true; });
    EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
  }
}

// ------------------------------------------------------------------ isolation

TEST_P(SessionServiceTest, ARecordBelongsToItsSessionOnly) {
  const std::string a = StartAs("alice");
  const std::string b = StartAs("alice");
  SendResult in_a = SendOk(a, kEmail);
  EXPECT_EQ(Verify(b, kEmail, in_a.verification_id, in_a.code), Outcome::kVerificationNotFound);
  // Open mode (no cookie) cannot verify a session-bound record either.
  EXPECT_EQ(mfa().Verify(kEmail, in_a.verification_id, in_a.code), Outcome::kVerificationNotFound);
  EXPECT_EQ(store().Get(in_a.verification_id)->try_count, 0u);
  EXPECT_EQ(Verify(a, kEmail, in_a.verification_id, in_a.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, OpenModeRecordCannotBeVerifiedInASession) {
  SendResult open = mfa().Send(kEmail);
  ASSERT_EQ(open.outcome, Outcome::kOk);
  const std::string s = StartAs("alice");
  EXPECT_EQ(Verify(s, kEmail, open.verification_id, open.code), Outcome::kVerificationNotFound);
  EXPECT_EQ(mfa().Verify(kEmail, open.verification_id, open.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, ConcurrentSendsInOneSessionLeaveExactlyOneRecord) {
  const std::string s = StartAs("alice");
  constexpr int kThreads = 8;
  std::latch go(kThreads);
  std::vector<SendResult> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      go.arrive_and_wait();
      results[i] = svc().Send(s, kEmail);
    });
  }
  for (auto& t : threads) t.join();
  for (const SendResult& r : results) ASSERT_EQ(r.outcome, Outcome::kOk);
  // Last send wins; every replaced record is deleted, none leaks.
  EXPECT_EQ(store().size(), 1u);
  auto view = svc().View(s);
  ASSERT_EQ(view->records.size(), 1u);
  int verified = 0;
  for (const SendResult& r : results) {
    if (Verify(s, kEmail, r.verification_id, r.code) == Outcome::kOk) ++verified;
  }
  EXPECT_EQ(verified, 1);
}

// ------------------------------------------------------------------ admin: identify, sessions

TEST_P(SessionServiceTest, IdentifyChecksUserAndSession) {
  const std::string s = Start();
  EXPECT_EQ(svc().Identify(s, "nobody"), Outcome::kIdentifierNotFound);
  EXPECT_EQ(svc().Identify("unknown", "alice"), Outcome::kSessionNotFound);
  EXPECT_EQ(svc().Identify(s, "alice"), Outcome::kOk);
  EXPECT_EQ(svc().View(s)->user_id, "alice");
  // Re-identifying switches the user the codes go to.
  EXPECT_EQ(svc().Identify(s, "bob"), Outcome::kOk);
  EXPECT_EQ(SendOk(s, kEmail).identifier, kBobEmail);
}

TEST_P(SessionServiceTest, CreateSessionForTestsSkipsPutExperience) {
  Session s = svc().CreateSession("alice", true, InteractionEvent::kRegister);
  EXPECT_EQ(svc().Check(s.id), Outcome::kOk);
  EXPECT_EQ(s.user_id, "alice");
  EXPECT_EQ(s.expires_ms, clock().NowMs() + 3600 * kSecond);
  EXPECT_EQ(svc().View(s.id)->event, InteractionEvent::kRegister);
  SendResult sent = SendOk(s.id, kPhone);
  EXPECT_EQ(Verify(s.id, kPhone, sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(SessionServiceTest, ViewOfUnknownSessionIsEmpty) { EXPECT_FALSE(svc().View("unknown")); }

// ------------------------------------------------------------------ expiry and sweep

TEST_P(SessionServiceTest, SessionsExpireAfterTheDefaultTtlOf3600Seconds) {
  const std::string s = StartAs("alice");
  clock().AdvanceMs(3600 * kSecond - 1);
  EXPECT_EQ(svc().Check(s), Outcome::kOk);
  clock().AdvanceMs(1);
  EXPECT_EQ(svc().Check(s), Outcome::kSessionNotFound);
  EXPECT_EQ(svc().Identify(s, "alice"), Outcome::kSessionNotFound);
}

TEST_P(SessionServiceTest, SessionTtlIsConfigurable) {
  Configure([](Config& c) { c.session_ttl_seconds = 60; });
  const std::string s = Start();
  Session admin = svc().CreateSession("", true, InteractionEvent::kSignIn);
  clock().AdvanceMs(60 * kSecond - 1);
  EXPECT_EQ(svc().Check(s), Outcome::kOk);
  EXPECT_EQ(svc().Check(admin.id), Outcome::kOk);
  clock().AdvanceMs(1);
  EXPECT_EQ(svc().Check(s), Outcome::kSessionNotFound);
  EXPECT_EQ(svc().Check(admin.id), Outcome::kSessionNotFound);
}

TEST_P(SessionServiceTest, SweepRemovesExpiredSessionsOnly) {
  Configure([](Config& c) { c.session_ttl_seconds = 60; });
  const std::string old_session = Start();
  clock().AdvanceMs(30 * kSecond);
  const std::string young_session = Start();
  EXPECT_EQ(svc().Sweep(), 0u);
  clock().AdvanceMs(30 * kSecond);
  EXPECT_EQ(svc().Sweep(), 1u);
  EXPECT_EQ(sessions().size(), 1u);
  EXPECT_EQ(svc().Check(young_session), Outcome::kOk);
  EXPECT_EQ(svc().Check(old_session), Outcome::kSessionNotFound);
}

TEST_P(SessionServiceTest, TheRecordSweepPassAlsoSweepsSessions) {
  // main.cc installs SessionService::Sweep as MfaService's sweep hook.
  mfa().set_sweep_hook([this] { svc().Sweep(); });
  Start();
  clock().AdvanceMs(kHour);
  mfa().SweepOnce();
  EXPECT_EQ(sessions().size(), 0u);
}

// Logto keeps an interaction's records as long as the interaction: an expired code keeps
// answering expired, a verified record stays.
TEST_P(SessionServiceTest, SessionRecordsOutliveTheRetentionWhileTheirSessionLives) {
  const std::string s = StartAs("alice");
  const SendResult sent = SendOk(s, IdentifierType::kEmail);
  clock().AdvanceMs(30 * 60 * kSecond);  // code TTL 600 s + retention 600 s long past
  mfa().SweepOnce();
  EXPECT_TRUE(store().Get(sent.verification_id));
  EXPECT_EQ(Verify(s, IdentifierType::kEmail, sent.verification_id, sent.code),
            Outcome::kCodeExpired);
}

TEST_P(SessionServiceTest, EndedSessionsTakeTheirRecordsWithThem) {
  const std::string swept = StartAs("alice");
  const SendResult swept_record = SendOk(swept, IdentifierType::kEmail);
  clock().AdvanceMs(kHour);
  const std::string cleared = StartAs("alice");
  const SendResult cleared_record = SendOk(cleared, IdentifierType::kPhone);
  EXPECT_EQ(svc().Sweep(), 1u);
  EXPECT_FALSE(store().Get(swept_record.verification_id));
  EXPECT_TRUE(store().Get(cleared_record.verification_id));
  EXPECT_EQ(svc().ClearSessions(), 1u);
  EXPECT_FALSE(store().Get(cleared_record.verification_id));
}

// ------------------------------------------------------------------ lockout (sentinel)

class SessionLockoutTest : public SessionServiceTest {
 protected:
  void SetUp() override {
    SessionServiceTest::SetUp();
    Configure([](Config& c) { c.lockout.max_failures = 3; });
  }
};

INSTANTIATE_TEST_SUITE_P(Profiles, SessionLockoutTest,
                         ::testing::Values(Profile::kDocumented, Profile::kLogto),
                         [](const ::testing::TestParamInfo<Profile>& info) {
                           return Name(info.param);
                         });

TEST_P(SessionLockoutTest, DefaultPolicyIs100FailuresPerHourFor60Minutes) {
  const LockoutPolicy defaults;
  EXPECT_EQ(defaults.max_failures, 100u);
  EXPECT_EQ(defaults.window_seconds, 3600u);
  EXPECT_EQ(defaults.duration_seconds, 3600u);
}

// Logto's withSentinel (basic-sentinel.test.ts: with maxAttempts 5, attempts 1-4 fail normally
// and the 5th is blocked): the failure that reaches the threshold is answered blocked.
TEST_P(SessionLockoutTest, TheFailureThatReachesTheThresholdIsAnsweredBlocked) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code)), Outcome::kCodeMismatch)
        << "failure " << i + 1;
  }
  int64_t blocked_ms = -1;
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code), &blocked_ms),
            Outcome::kVerificationBlocked);
  EXPECT_EQ(blocked_ms, kHour);
  EXPECT_EQ(store().Get(sent.verification_id)->try_count, 3u);
}

// While blocked, Logto still runs the verification (sentinel-guard.ts): a right code is used up
// (the interaction does not learn it was verified), a wrong one still counts a try.
TEST_P(SessionLockoutTest, WhileBlockedTheVerificationStillRuns) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  for (int i = 0; i < 3; ++i) Verify(s, kEmail, sent.verification_id, Wrong(sent.code));
  ASSERT_EQ(store().Get(sent.verification_id)->try_count, 3u);

  SendResult fresh = SendOk(s, kEmail);
  int64_t blocked_ms = -1;
  EXPECT_EQ(Verify(s, kEmail, fresh.verification_id, Wrong(fresh.code), &blocked_ms),
            Outcome::kVerificationBlocked);
  EXPECT_EQ(blocked_ms, kHour);
  EXPECT_EQ(store().Get(fresh.verification_id)->try_count, 1u);
  EXPECT_EQ(Verify(s, kEmail, fresh.verification_id, fresh.code), Outcome::kVerificationBlocked);
  EXPECT_TRUE(store().Get(fresh.verification_id)->consumed);
  EXPECT_FALSE(store().Get(fresh.verification_id)->verified);
  std::optional<InteractionView> view = svc().View(s);
  ASSERT_TRUE(view);
  ASSERT_EQ(view->records.size(), 1u);
  EXPECT_FALSE(view->records[0].verified);
}

TEST_P(SessionLockoutTest, RelativeTimeCountsDownAndTheBlockEnds) {
  Configure([](Config& c) { c.code_ttl_seconds = 7200; });
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  for (int i = 0; i < 3; ++i) Verify(s, kEmail, sent.verification_id, Wrong(sent.code));
  int64_t blocked_ms = -1;

  clock().AdvanceMs(30 * kMinute);
  ASSERT_EQ(Verify(s, kEmail, sent.verification_id, sent.code, &blocked_ms),
            Outcome::kVerificationBlocked);
  EXPECT_EQ(blocked_ms, 30 * kMinute);

  clock().AdvanceMs(29 * kMinute);
  ASSERT_EQ(Verify(s, kEmail, sent.verification_id, sent.code, &blocked_ms),
            Outcome::kVerificationBlocked);
  EXPECT_EQ(blocked_ms, kMinute);

  clock().AdvanceMs(30 * kSecond);
  ASSERT_EQ(Verify(s, kEmail, sent.verification_id, sent.code, &blocked_ms),
            Outcome::kVerificationBlocked);
  EXPECT_EQ(blocked_ms, 30 * kSecond);

  clock().AdvanceMs(30 * kSecond);  // exactly 60 minutes after the block
  // The session (3600 s) is gone by now; a new one for the same user verifies again.
  const std::string s2 = StartAs("alice");
  SendResult again = SendOk(s2, kEmail);
  EXPECT_EQ(Verify(s2, kEmail, again.verification_id, again.code), Outcome::kOk);
}

TEST_P(SessionLockoutTest, DurationIsConfigurable) {
  Configure([](Config& c) { c.lockout.duration_seconds = 30; });
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  for (int i = 0; i < 2; ++i) Verify(s, kEmail, sent.verification_id, Wrong(sent.code));
  int64_t blocked_ms = -1;
  ASSERT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code), &blocked_ms),
            Outcome::kVerificationBlocked);
  EXPECT_EQ(blocked_ms, 30 * kSecond);
  clock().AdvanceMs(30 * kSecond);
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(SessionLockoutTest, BlockIsPerIdentifierValueAcrossSessions) {
  const std::string s = StartAs("alice");
  const std::string other_tab = StartAs("alice");
  const std::string bob = StartAs("bob");
  SendResult sent = SendOk(s, kEmail);
  SendResult other = SendOk(other_tab, kEmail);
  SendResult phone = SendOk(s, kPhone);
  SendResult bob_sent = SendOk(bob, kEmail);
  for (int i = 0; i < 3; ++i) Verify(s, kEmail, sent.verification_id, Wrong(sent.code));

  // alice@example.com is blocked in every session.
  EXPECT_EQ(Verify(other_tab, kEmail, other.verification_id, other.code),
            Outcome::kVerificationBlocked);
  // alice's phone and bob's email are other identifiers.
  EXPECT_EQ(Verify(s, kPhone, phone.verification_id, phone.code), Outcome::kOk);
  EXPECT_EQ(Verify(bob, kEmail, bob_sent.verification_id, bob_sent.code), Outcome::kOk);
}

TEST_P(SessionLockoutTest, FailuresAcrossRecordsAndKindsAddUp) {
  const std::string s = StartAs("alice");
  SendResult a = SendOk(s, kEmail);
  EXPECT_EQ(Verify(s, kEmail, a.verification_id, ""), Outcome::kCodeNotFound);             // 1
  EXPECT_EQ(Verify(s, kEmail, a.verification_id, Wrong(a.code)), Outcome::kCodeMismatch);  // 2
  SendResult b = SendOk(s, kEmail);  // replaces a
  EXPECT_EQ(Verify(s, kEmail, b.verification_id, Wrong(b.code)),
            Outcome::kVerificationBlocked);  // 3
  EXPECT_EQ(Verify(s, kEmail, b.verification_id, b.code), Outcome::kVerificationBlocked);
}

TEST_P(SessionLockoutTest, LookupFailuresDoNotCount) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Verify(s, kEmail, "aaaaaaaaaaaaaaaaaaaaa", sent.code),
              Outcome::kVerificationNotFound);
    EXPECT_EQ(Verify(s, kPhone, sent.verification_id, sent.code), Outcome::kVerificationNotFound);
  }
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(SessionLockoutTest, WindowSlides) {
  Configure([](Config& c) { c.lockout.window_seconds = 60; });
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  const std::string wrong = Wrong(sent.code);
  ASSERT_EQ(Verify(s, kEmail, sent.verification_id, wrong), Outcome::kCodeMismatch);  // t=0
  clock().AdvanceMs(30 * kSecond);
  ASSERT_EQ(Verify(s, kEmail, sent.verification_id, wrong), Outcome::kCodeMismatch);  // t=30
  clock().AdvanceMs(30 * kSecond);
  // t=60: the t=0 failure has left the window; two failures count, no block.
  ASSERT_EQ(Verify(s, kEmail, sent.verification_id, wrong), Outcome::kCodeMismatch);
  EXPECT_EQ(Verify(s, kEmail, "aaaaaaaaaaaaaaaaaaaaa", wrong), Outcome::kVerificationNotFound);
  clock().AdvanceMs(kSecond);
  // t=61: 30, 60, 61 are inside the window: this failure is the third and blocks.
  int64_t blocked_ms = -1;
  ASSERT_EQ(Verify(s, kEmail, sent.verification_id, wrong, &blocked_ms),
            Outcome::kVerificationBlocked);
  EXPECT_EQ(blocked_ms, kHour);
}

TEST_P(SessionLockoutTest, SlowFailuresNeverBlock) {
  Configure([](Config& c) {
    c.lockout.window_seconds = 60;
    c.max_attempts = 100;
  });
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code)), Outcome::kCodeMismatch)
        << "failure " << i + 1;
    clock().AdvanceMs(31 * kSecond);  // at most two failures in any 60 s
  }
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(SessionLockoutTest, ThresholdZeroIsOff) {
  Configure([](Config& c) {
    c.lockout.max_failures = 0;
    c.max_attempts = 100;
  });
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code)), Outcome::kCodeMismatch)
        << "failure " << i + 1;
  }
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(SessionLockoutTest, OpenModeHasNoLockout) {
  Configure([](Config& c) { c.max_attempts = 100; });
  SendResult open = mfa().Send(kEmail);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(mfa().Verify(kEmail, open.verification_id, Wrong(open.code)), Outcome::kCodeMismatch);
  }
  EXPECT_EQ(mfa().Verify(kEmail, open.verification_id, open.code), Outcome::kOk);
}

TEST_P(SessionLockoutTest, StartInteractionDoesNotLiftABlock) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  for (int i = 0; i < 3; ++i) Verify(s, kEmail, sent.verification_id, Wrong(sent.code));
  svc().StartInteraction(s, InteractionEvent::kSignIn);
  ASSERT_EQ(svc().Identify(s, "alice"), Outcome::kOk);
  SendResult fresh = SendOk(s, kEmail);
  EXPECT_EQ(Verify(s, kEmail, fresh.verification_id, fresh.code), Outcome::kVerificationBlocked);
}

TEST_P(SessionLockoutTest, SweepForgetsStaleFailures) {
  Configure([](Config& c) { c.lockout.window_seconds = 60; });
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  Verify(s, kEmail, sent.verification_id, Wrong(sent.code));
  Verify(s, kEmail, sent.verification_id, Wrong(sent.code));
  clock().AdvanceMs(60 * kSecond);
  svc().Sweep();
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code)), Outcome::kCodeMismatch);
  EXPECT_EQ(Verify(s, kEmail, sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(SessionLockoutTest, ClearSessionsEndsEverySessionAndLiftsEveryBlock) {
  const std::string s = StartAs("alice");
  SendResult sent = SendOk(s, kEmail);
  for (int i = 0; i < 2; ++i) {
    ASSERT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code)), Outcome::kCodeMismatch);
  }
  ASSERT_EQ(Verify(s, kEmail, sent.verification_id, Wrong(sent.code)),
            Outcome::kVerificationBlocked);
  StartAs("bob");
  EXPECT_EQ(svc().ClearSessions(), 2u);
  EXPECT_EQ(svc().Check(s), Outcome::kSessionNotFound);
  const std::string again = StartAs("alice");
  SendResult fresh = SendOk(again, kEmail);
  EXPECT_EQ(Verify(again, kEmail, fresh.verification_id, fresh.code), Outcome::kOk);
}

}  // namespace
}  // namespace mfa
