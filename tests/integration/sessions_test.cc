// SPDX-License-Identifier: Apache-2.0
// Logto's interaction sessions through the real binary (issue 6): PUT /api/experience and the
// _interaction cookie, identification through the admin API, send and verify bound to a session,
// GET /api/experience/interaction, --sessions off|optional|required, the sentinel's lockout and
// --users FILE. The scenarios Logto's own integration tests cover for this flow, each asserting
// status, code and exact message, in both profiles where they differ.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/http_client.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/server_process.h"
#include "tests/support/sessions_fixture.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_values.h"

namespace mfa_test {
namespace {

// ============================================================== default server (optional mode)

// Every test runs in both profiles; expectations differ only where the contract says so.
class SessionsTest : public SessionsFixture, public ::testing::WithParamInterface<const char*> {
 protected:
  void SetUp() override {
    SessionsFixture::SetUp();
    if (HasFatalFailure()) return;
    UseProfile(GetParam());
  }
  bool documented() const { return std::string_view(GetParam()) == "documented"; }
};

INSTANTIATE_TEST_SUITE_P(Profiles, SessionsTest, ::testing::Values("documented", "logto"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

TEST_P(SessionsTest, PutExperienceSetsAnHttpOnlyLaxCookieForTheWholeSite) {
  HttpResponse r = PutExperience("");
  ASSERT_TRUE(HasStatus(r, 204));
  EXPECT_TRUE(r.body.empty()) << r.body;
  std::vector<std::string> cookies = r.HeaderValues("Set-Cookie");
  ASSERT_EQ(cookies.size(), 1u) << r.Describe();
  const std::string& header = cookies[0];
  const std::string pair = header.substr(0, header.find(';'));
  ASSERT_EQ(pair.rfind("_interaction=", 0), 0u) << header;
  EXPECT_TRUE(IsVerificationId(SessionIdOf(pair))) << header;
  // Attributes, compared case-insensitively and without spaces.
  std::set<std::string> attributes;
  size_t pos = header.find(';');
  while (pos != std::string::npos) {
    const size_t next = header.find(';', pos + 1);
    std::string attr = header.substr(pos + 1, next == std::string::npos ? next : next - pos - 1);
    std::string compact;
    for (char c : attr) {
      if (c != ' ') compact += c;
    }
    attributes.insert(ToLower(compact));
    pos = next;
  }
  EXPECT_TRUE(attributes.count("httponly")) << header;
  EXPECT_TRUE(attributes.count("samesite=lax")) << header;
  EXPECT_TRUE(attributes.count("path=/")) << header;
}

TEST_P(SessionsTest, PutExperienceWithAnUnknownCookieCreatesAFreshSession) {
  const std::string stale = "_interaction=aaaaaaaaaaaaaaaaaaaaa";
  HttpResponse r = PutExperience(stale);
  ASSERT_TRUE(HasStatus(r, 204));
  const std::string cookie = CookiePair(r);
  ASSERT_FALSE(cookie.empty()) << r.Describe();
  EXPECT_NE(cookie, stale);
  EXPECT_TRUE(HasStatus(Interaction(cookie), 200));
}

TEST_P(SessionsTest, PutExperienceRejectsAnInvalidEvent) {
  HttpResponse r = pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"signin"})");
  EXPECT_TRUE(IsError(r, 400, kInvalidInput, kInvalidInputMessage));
  EXPECT_TRUE(CookiePair(r).empty());
  EXPECT_TRUE(IsError(pub().Request("PUT", kExperiencePath, "{}"), 400, kInvalidInput,
                      kInvalidInputMessage));
}

TEST_P(SessionsTest, EmailSendAndVerifyInASession) {
  const std::string cookie = StartAs("alice");
  HttpResponse sent = SendIn(cookie, "email");
  EXPECT_TRUE(IsJsonContentType(sent));
  const std::string id = IdOf(sent);

  // The code went to alice's primary email; the client never named the address.
  HttpResponse latest = server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kAliceEmail));
  ASSERT_TRUE(HasStatus(latest, 200));
  Json message(latest.body);
  EXPECT_EQ(message.String("/verificationId"), id);
  EXPECT_EQ(message.String("/channel"), "email");
  EXPECT_EQ(message.String("/to"), std::string(kAliceEmail));
  const std::string code = message.String("/code").value_or("");
  ASSERT_TRUE(IsSixDigitCode(code)) << latest.body;

  HttpResponse verified = VerifyIn(cookie, id, code, "email");
  ASSERT_TRUE(HasStatus(verified, 200));
  EXPECT_TRUE(IsJsonContentType(verified));
  EXPECT_EQ(Json(verified.body).String("/verificationId"), id);
  EXPECT_EQ(Json(verified.body).Keys(), std::vector<std::string>{"verificationId"});

  // The passcode is consumed.
  EXPECT_TRUE(
      IsError(VerifyIn(cookie, id, code, "email"), 400, kCodeNotFound, kCodeNotFoundMessage));
}

TEST_P(SessionsTest, PhoneSendAndVerifyInASession) {
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "phone"));
  HttpResponse latest = server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kAlicePhone));
  ASSERT_TRUE(HasStatus(latest, 200));
  Json message(latest.body);
  EXPECT_EQ(message.String("/verificationId"), id);
  EXPECT_EQ(message.String("/channel"), "sms");
  EXPECT_EQ(message.String("/to"), std::string(kAlicePhone));
  const std::string code = message.String("/code").value_or("");
  HttpResponse verified = VerifyIn(cookie, id, code, "phone");
  ASSERT_TRUE(HasStatus(verified, 200));
  EXPECT_EQ(Json(verified.body).String("/verificationId"), id);
}

TEST_P(SessionsTest, InteractionShowsTheVerifiedStateAndNoCodes) {
  const std::string cookie = StartAs("alice");
  HttpResponse before = Interaction(cookie);
  ASSERT_TRUE(HasStatus(before, 200));
  EXPECT_TRUE(IsJsonContentType(before));
  Json b(before.body);
  EXPECT_EQ(b.String("/interactionEvent"), "SignIn");
  EXPECT_EQ(b.String("/userId"), "alice");
  EXPECT_EQ(b.Size("/verificationRecords"), 0u);

  const std::string email_id = IdOf(SendIn(cookie, "email"));
  const std::string phone_id = IdOf(SendIn(cookie, "phone"));
  const std::string email_code = CodeOf(email_id);
  const std::string phone_code = CodeOf(phone_id);
  ASSERT_TRUE(HasStatus(VerifyIn(cookie, email_id, email_code, "email"), 200));

  HttpResponse after = Interaction(cookie);
  ASSERT_TRUE(HasStatus(after, 200));
  Json a(after.body);
  ASSERT_EQ(a.Size("/verificationRecords"), 2u) << after.body;
  bool saw_email = false, saw_phone = false;
  for (size_t i = 0; i < 2; ++i) {
    const std::string at = "/verificationRecords/" + std::to_string(i);
    EXPECT_FALSE(a.Has(at + "/code")) << after.body;
    if (a.String(at + "/id") == email_id) {
      saw_email = true;
      EXPECT_EQ(a.String(at + "/type"), "MfaEmailVerificationCode");
      EXPECT_EQ(a.String(at + "/templateType"), "MfaVerification");
      EXPECT_EQ(a.String(at + "/identifier/type"), "email");
      EXPECT_EQ(a.String(at + "/identifier/value"), std::string(kAliceEmail));
      EXPECT_EQ(a.Bool(at + "/verified"), true);
    } else if (a.String(at + "/id") == phone_id) {
      saw_phone = true;
      EXPECT_EQ(a.String(at + "/type"), "MfaPhoneVerificationCode");
      EXPECT_EQ(a.String(at + "/identifier/type"), "phone");
      EXPECT_EQ(a.String(at + "/identifier/value"), std::string(kAlicePhone));
      EXPECT_EQ(a.Bool(at + "/verified"), false);
    }
  }
  EXPECT_TRUE(saw_email && saw_phone) << after.body;
  EXPECT_EQ(after.body.find(email_code), std::string::npos) << after.body;
  EXPECT_EQ(after.body.find(phone_code), std::string::npos) << after.body;
}

TEST_P(SessionsTest, InvalidVerificationIdIs404) {
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  const std::string code = CodeOf(id);
  EXPECT_TRUE(IsError(VerifyIn(cookie, "invalid_verification_id", code, "email"), 404,
                      kVerificationNotFound, kVerificationNotFoundMessage));
  EXPECT_TRUE(IsError(VerifyIn(cookie, "", code, "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, id, code, "email"), 200));
}

TEST_P(SessionsTest, StaleIdAfterResendIs404AndTheNewOneWorks) {
  const std::string cookie = StartAs("alice");
  const std::string first = IdOf(SendIn(cookie, "email"));
  const std::string first_code = CodeOf(first);
  const std::string second = IdOf(SendIn(cookie, "email"));
  const std::string second_code = CodeOf(second);
  ASSERT_NE(first, second);
  EXPECT_TRUE(IsError(VerifyIn(cookie, first, first_code, "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  EXPECT_TRUE(HasStatus(server().AdminGet("/admin/verifications/" + first), 404));
  HttpResponse ok = VerifyIn(cookie, second, second_code, "email");
  ASSERT_TRUE(HasStatus(ok, 200));
  EXPECT_EQ(Json(ok.body).String("/verificationId"), second);
}

TEST_P(SessionsTest, ResendOfOneTypeKeepsTheOtherTypesRecord) {
  const std::string cookie = StartAs("alice");
  const std::string phone = IdOf(SendIn(cookie, "phone"));
  IdOf(SendIn(cookie, "email"));
  IdOf(SendIn(cookie, "email"));
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, phone, CodeOf(phone), "phone"), 200));
}

TEST_P(SessionsTest, TypeMismatchIs404) {
  const std::string cookie = StartAs("alice");
  const std::string email = IdOf(SendIn(cookie, "email"));
  const std::string phone = IdOf(SendIn(cookie, "phone"));
  EXPECT_TRUE(IsError(VerifyIn(cookie, email, CodeOf(email), "phone"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  EXPECT_TRUE(IsError(VerifyIn(cookie, phone, CodeOf(phone), "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  // The mismatches cost nothing.
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, email, CodeOf(email), "email"), 200));
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, phone, CodeOf(phone), "phone"), 200));
}

TEST_P(SessionsTest, CodeMismatchIs400AndTheRightCodeStillWorks) {
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  const std::string code = CodeOf(id);
  EXPECT_TRUE(IsError(VerifyIn(cookie, id, Wrong(code), "email"), 400, kCodeMismatch,
                      kCodeMismatchMessage));
  HttpResponse record = server().AdminGet("/admin/verifications/" + id);
  EXPECT_EQ(Json(record.body).Int("/tryCount"), 1) << record.body;
  EXPECT_TRUE(IsError(VerifyIn(cookie, id, "", "email"), 400, kCodeNotFound, kCodeNotFoundMessage));
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, id, code, "email"), 200));
}

TEST_P(SessionsTest, PutExperienceResetsRecordsAndIdentification) {
  const std::string cookie = StartAs("alice");
  const std::string email = IdOf(SendIn(cookie, "email"));
  const std::string phone = IdOf(SendIn(cookie, "phone"));
  const std::string email_code = CodeOf(email);
  const std::string phone_code = CodeOf(phone);

  HttpResponse reset = PutExperience(cookie, "Register");
  ASSERT_TRUE(HasStatus(reset, 204));
  EXPECT_TRUE(CookiePair(reset).empty()) << "the session is kept: " << reset.Describe();

  EXPECT_TRUE(IsError(VerifyIn(cookie, email, email_code, "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  EXPECT_TRUE(IsError(VerifyIn(cookie, phone, phone_code, "phone"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  HttpResponse view = Interaction(cookie);
  ASSERT_TRUE(HasStatus(view, 200));
  Json v(view.body);
  EXPECT_EQ(v.String("/interactionEvent"), "Register");
  EXPECT_FALSE(v.Has("/userId")) << view.body;  // Logto omits it until identification
  EXPECT_EQ(v.Size("/verificationRecords"), 0u) << view.body;
  EXPECT_TRUE(
      IsError(SendIn(cookie, "email"), 400, kIdentifierNotFound, kIdentifierNotFoundMessage));

  // Identified again, the flow works in the same session.
  ASSERT_TRUE(HasStatus(Identify(cookie, "alice"), 200));
  const std::string fresh = IdOf(SendIn(cookie, "email"));
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, fresh, CodeOf(fresh), "email"), 200));
}

TEST_P(SessionsTest, EleventhSendIs429WhileAnotherRecipientStillWorks) {
  const std::string cookie = StartAs("alice");
  std::string last;
  for (int i = 1; i <= kDefaultMaxSends; ++i) {
    HttpResponse r = SendIn(cookie, "email");
    ASSERT_TRUE(HasStatus(r, 200)) << "send " << i;
    last = IdOf(r);
  }
  HttpResponse eleventh = SendIn(cookie, "email");
  EXPECT_TRUE(IsError(eleventh, 429, kRateLimited, kRateLimitedMessage));
  EXPECT_TRUE(IsJsonContentType(eleventh));
  // The refused send replaced nothing.
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, last, CodeOf(last), "email"), 200));
  // Other recipients: alice's phone, bob's email in another session.
  EXPECT_TRUE(HasStatus(SendIn(cookie, "phone"), 200));
  const std::string bob = StartAs("bob");
  EXPECT_TRUE(HasStatus(SendIn(bob, "email"), 200));
  // Per recipient, not per session: alice in a new session is still refused.
  const std::string again = StartAs("alice");
  EXPECT_TRUE(IsError(SendIn(again, "email"), 429, kRateLimited, kRateLimitedMessage));
}

TEST_P(SessionsTest, UnidentifiedSendIs400IdentifierNotFound) {
  const std::string cookie = StartSession();
  EXPECT_TRUE(
      IsError(SendIn(cookie, "email"), 400, kIdentifierNotFound, kIdentifierNotFoundMessage));
  EXPECT_TRUE(
      IsError(SendIn(cookie, "phone"), 400, kIdentifierNotFound, kIdentifierNotFoundMessage));
  EXPECT_EQ(Json(server().AdminGet("/admin/inbox").body).Size("/messages"), 0u);
}

TEST_P(SessionsTest, UnidentifiedVerifyOfAnUnknownIdIs404) {
  // No record can exist in an unidentified session: the lookup answers first in both profiles.
  const std::string cookie = StartSession();
  EXPECT_TRUE(IsError(VerifyIn(cookie, "aaaaaaaaaaaaaaaaaaaaa", "123456", "email"), 404,
                      kVerificationNotFound, kVerificationNotFoundMessage));
}

TEST_P(SessionsTest, UserWithoutAnAddressOfThatTypeIs400FactorNotEnabled) {
  const std::string bob = StartAs("bob");
  EXPECT_TRUE(IsError(SendIn(bob, "phone"), 400, kFactorNotEnabled, kFactorNotEnabledMessage));
  EXPECT_TRUE(HasStatus(SendIn(bob, "email"), 200));
  const std::string carol = StartAs("carol");
  EXPECT_TRUE(IsError(SendIn(carol, "email"), 400, kFactorNotEnabled, kFactorNotEnabledMessage));
  EXPECT_TRUE(HasStatus(SendIn(carol, "phone"), 200));
}

TEST_P(SessionsTest, UnknownCookieIs400SessionNotFoundBeforeBodyValidation) {
  const std::string cookie = "_interaction=aaaaaaaaaaaaaaaaaaaaa";
  EXPECT_TRUE(IsSessionNotFound(SendIn(cookie, "email")));
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kSendPath, kInvalidSendBody, WithCookie(cookie))));
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kSendPath, "not json", WithCookie(cookie))));
  EXPECT_TRUE(IsSessionNotFound(VerifyIn(cookie, "aaaaaaaaaaaaaaaaaaaaa", "123456", "email")));
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kVerifyPath, "{}", WithCookie(cookie))));
  EXPECT_TRUE(IsSessionNotFound(Interaction(cookie)));
}

TEST_P(SessionsTest, InteractionWithoutACookieIs400SessionNotFound) {
  EXPECT_TRUE(IsSessionNotFound(Interaction("")));
}

TEST_P(SessionsTest, SessionWithoutInteractionIs404BeforeBodyValidation) {
  HttpResponse created =
      server().AdminPost("/admin/sessions", R"({"userId":"alice","startInteraction":false})");
  ASSERT_TRUE(HasStatus(created, 201));
  const std::string cookie = Json(created.body).String("/cookie").value_or("");
  ASSERT_EQ(cookie.rfind("_interaction=", 0), 0u) << created.body;

  EXPECT_TRUE(
      IsError(SendIn(cookie, "email"), 404, kInteractionNotFound, kInteractionNotFoundMessage));
  EXPECT_TRUE(IsError(pub().Post(kSendPath, kInvalidSendBody, WithCookie(cookie)), 404,
                      kInteractionNotFound, kInteractionNotFoundMessage));
  EXPECT_TRUE(IsError(VerifyIn(cookie, "aaaaaaaaaaaaaaaaaaaaa", "123456", "email"), 404,
                      kInteractionNotFound, kInteractionNotFoundMessage));
  EXPECT_TRUE(IsError(pub().Post(kVerifyPath, "{}", WithCookie(cookie)), 404, kInteractionNotFound,
                      kInteractionNotFoundMessage));
  EXPECT_TRUE(IsError(Interaction(cookie), 404, kInteractionNotFound, kInteractionNotFoundMessage));
  EXPECT_EQ(Json(server().AdminGet("/admin/inbox").body).Size("/messages"), 0u);

  // PUT /api/experience starts the interaction in that session (no new cookie).
  HttpResponse put = PutExperience(cookie);
  ASSERT_TRUE(HasStatus(put, 204));
  EXPECT_TRUE(CookiePair(put).empty()) << put.Describe();
  EXPECT_TRUE(HasStatus(Interaction(cookie), 200));
}

TEST_P(SessionsTest, CapitalisedIdentifierTypeFollowsTheProfile) {
  const std::string cookie = StartAs("alice");
  HttpResponse sent = SendIn(cookie, "Email");
  if (!documented()) {
    EXPECT_TRUE(IsError(sent, 400, kInvalidInput, kInvalidInputMessage));
    return;
  }
  const std::string id = IdOf(sent);
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, id, CodeOf(id), "Email"), 200));
  const std::string phone = IdOf(SendIn(cookie, "Phone"));
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, phone, CodeOf(phone), "phone"), 200));
}

TEST_P(SessionsTest, ConnectorOffIs501OnSendAndOnVerifyOnlyInDocumented) {
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  const std::string code = CodeOf(id);
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"email":false}})"), 200));
  EXPECT_TRUE(
      IsError(SendIn(cookie, "email"), 501, kConnectorNotFound, kEmailConnectorNotFoundMessage));
  HttpResponse verified = VerifyIn(cookie, id, code, "email");
  if (documented()) {
    EXPECT_TRUE(IsError(verified, 501, kConnectorNotFound, kEmailConnectorNotFoundMessage));
  } else {
    EXPECT_TRUE(HasStatus(verified, 200));
  }
}

TEST_P(SessionsTest, SendChecksIdentificationFactorLimitThenConnector) {
  // Contract §4 inside a session: 3 identification, 4 factor, 5 rate limit, 6 connector.
  ASSERT_TRUE(
      HasStatus(server().PatchConfig(R"({"connectors":{"email":false,"phone":false}})"), 200));
  EXPECT_TRUE(IsError(SendIn(StartSession(), "email"), 400, kIdentifierNotFound,
                      kIdentifierNotFoundMessage));
  EXPECT_TRUE(
      IsError(SendIn(StartAs("bob"), "phone"), 400, kFactorNotEnabled, kFactorNotEnabledMessage));
  EXPECT_TRUE(IsError(SendIn(StartAs("bob"), "email"), 501, kConnectorNotFound,
                      kEmailConnectorNotFoundMessage));
  EXPECT_TRUE(IsError(SendIn(StartAs("carol"), "phone"), 501, kConnectorNotFound,
                      kSmsConnectorNotFoundMessage));
  ASSERT_TRUE(
      HasStatus(server().PatchConfig(R"({"connectors":{"email":true,"phone":true}})"), 200));
  const std::string alice = StartAs("alice");
  for (int i = 1; i <= kDefaultMaxSends; ++i) {
    ASSERT_TRUE(HasStatus(SendIn(alice, "email"), 200)) << "send " << i;
  }
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"email":false}})"), 200));
  EXPECT_TRUE(IsError(SendIn(alice, "email"), 429, kRateLimited, kRateLimitedMessage));
}

TEST_P(SessionsTest, TheCookieIsFoundAmongOtherCookies) {
  const std::string cookie = StartAs("alice");
  const std::string header = "theme=dark; " + cookie + "; _ga=GA1.1.123";
  HttpResponse sent = pub().Post(kSendPath, SendBody("email"), {{"Cookie", header}});
  const std::string id = IdOf(sent);
  HttpResponse ok =
      pub().Post(kVerifyPath, VerifyBody(id, CodeOf(id), "email"), {{"Cookie", header}});
  EXPECT_TRUE(HasStatus(ok, 200));
  HttpResponse view = pub().Get(kInteractionPath, {{"Cookie", header}});
  ASSERT_TRUE(HasStatus(view, 200));
  EXPECT_EQ(Json(view.body).Bool("/verificationRecords/0/verified"), true);
}

TEST_P(SessionsTest, OpenModeWithoutACookieStillWorks) {
  // --sessions optional (the default): no cookie = open mode, the default user.
  HttpResponse sent = server().Send("email");
  const std::string id = IdOf(sent);
  const std::string code = server().LatestCode(kDefaultEmail).value_or("");
  EXPECT_TRUE(HasStatus(server().Verify(id, code, "email"), 200));
}

TEST_P(SessionsTest, OpenModeCannotVerifyASessionRecordNorASessionAnOpenRecord) {
  const std::string cookie = StartAs("alice");
  const std::string bound = IdOf(SendIn(cookie, "email"));
  const std::string bound_code = CodeOf(bound);
  EXPECT_TRUE(IsError(server().Verify(bound, bound_code, "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));

  const std::string open = IdOf(server().Send("email"));
  const std::string open_code = CodeOf(open);
  EXPECT_TRUE(IsError(VerifyIn(cookie, open, open_code, "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));

  // Neither attempt cost the records anything.
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, bound, bound_code, "email"), 200));
  EXPECT_TRUE(HasStatus(server().Verify(open, open_code, "email"), 200));
}

TEST_P(SessionsTest, ARecordIsNotFoundFromAnotherSession) {
  const std::string tab1 = StartAs("alice");
  const std::string tab2 = StartAs("alice");
  const std::string id = IdOf(SendIn(tab1, "email"));
  EXPECT_TRUE(IsError(VerifyIn(tab2, id, CodeOf(id), "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  EXPECT_TRUE(HasStatus(VerifyIn(tab1, id, CodeOf(id), "email"), 200));
}

TEST_P(SessionsTest, SessionsOffIgnoresTheCookie) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"sessions":"off"})"), 200));
  const std::string unknown = "_interaction=aaaaaaaaaaaaaaaaaaaaa";
  const std::string id = IdOf(SendIn(unknown, "email"));
  const std::string code = server().LatestCode(kDefaultEmail).value_or("");
  EXPECT_TRUE(HasStatus(VerifyIn(unknown, id, code, "email"), 200));
}

TEST_P(SessionsTest, SessionsExpireAfterTheirTtl) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"sessionTtlSeconds":60})"), 200));
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  const std::string code = CodeOf(id);
  ASSERT_TRUE(HasStatus(server().AdvanceClock(60), 200));
  EXPECT_TRUE(IsSessionNotFound(SendIn(cookie, "email")));
  EXPECT_TRUE(IsSessionNotFound(VerifyIn(cookie, id, code, "email")));
  EXPECT_TRUE(IsSessionNotFound(Interaction(cookie)));
  EXPECT_TRUE(IsErrorCode(server().AdminGet("/admin/sessions/" + SessionIdOf(cookie)), 404,
                          kAdminNotFound));
  // PUT /api/experience with the expired cookie starts over in a new session.
  HttpResponse put = PutExperience(cookie);
  ASSERT_TRUE(HasStatus(put, 204));
  EXPECT_FALSE(CookiePair(put).empty());
  EXPECT_NE(CookiePair(put), cookie);
}

TEST_P(SessionsTest, ConfigShowsTheSessionSettingsAndPatchChangesThem) {
  Json config(server().AdminGet("/admin/config").body);
  EXPECT_EQ(config.String("/sessions"), "optional");
  EXPECT_EQ(config.Int("/sessionTtlSeconds"), 3600);
  EXPECT_EQ(config.Int("/lockout/maxFailures"), 100);
  EXPECT_EQ(config.Int("/lockout/windowSeconds"), 3600);
  EXPECT_EQ(config.Int("/lockout/durationSeconds"), 3600);
  HttpResponse patched = server().PatchConfig(
      R"({"sessions":"required","sessionTtlSeconds":120,"lockout":{"maxFailures":5}})");
  ASSERT_TRUE(HasStatus(patched, 200));
  Json after(patched.body);
  EXPECT_EQ(after.String("/sessions"), "required");
  EXPECT_EQ(after.Int("/sessionTtlSeconds"), 120);
  EXPECT_EQ(after.Int("/lockout/maxFailures"), 5);
  EXPECT_EQ(after.Int("/lockout/windowSeconds"), 3600);
  EXPECT_TRUE(IsSessionNotFound(server().Send("email")));
  EXPECT_TRUE(
      IsErrorCode(server().PatchConfig(R"({"sessions":"sometimes"})"), 400, kAdminInvalidRequest));
  EXPECT_TRUE(
      IsErrorCode(server().PatchConfig(R"({"sessionTtlSeconds":0})"), 400, kAdminInvalidRequest));
  EXPECT_TRUE(IsErrorCode(server().PatchConfig(R"({"lockout":{"windowSeconds":0}})"), 400,
                          kAdminInvalidRequest));
  EXPECT_TRUE(IsErrorCode(server().PatchConfig(R"({"lockout":{"maxAttempts":3}})"), 400,
                          kAdminInvalidRequest));
  EXPECT_EQ(Json(server().AdminGet("/admin/config").body).Int("/sessionTtlSeconds"), 120);
}

// ------------------------------------------------------------ admin: users and sessions

TEST_P(SessionsTest, AdminUsersCrud) {
  HttpResponse created = server().AdminPost(
      "/admin/users", R"({"id":"dave","username":"dave","primaryEmail":"dave@example.com"})");
  ASSERT_TRUE(HasStatus(created, 201));
  Json user(created.body);
  EXPECT_EQ(user.String("/id"), "dave");
  EXPECT_EQ(user.String("/username"), "dave");
  EXPECT_EQ(user.String("/primaryEmail"), "dave@example.com");
  EXPECT_TRUE(user.IsNull("/primaryPhone")) << created.body;

  EXPECT_TRUE(IsErrorCode(server().AdminPost("/admin/users", R"({"id":"dave"})"), 409,
                          "admin.user_exists"));
  HttpResponse got = server().AdminGet("/admin/users/dave");
  ASSERT_TRUE(HasStatus(got, 200));
  EXPECT_EQ(Json(got.body).String("/primaryEmail"), "dave@example.com");
  EXPECT_EQ(Json(server().AdminGet("/admin/users").body).Size("/users"), 4u);

  // Without an id the mock makes one up.
  HttpResponse anonymous =
      server().AdminPost("/admin/users", R"({"primaryEmail":"eve@example.com"})");
  ASSERT_TRUE(HasStatus(anonymous, 201));
  EXPECT_FALSE(Json(anonymous.body).String("/id").value_or("").empty());

  EXPECT_TRUE(HasStatus(server().AdminDelete("/admin/users/dave"), 204));
  EXPECT_TRUE(IsErrorCode(server().AdminGet("/admin/users/dave"), 404, kAdminNotFound));
  EXPECT_TRUE(IsErrorCode(server().AdminDelete("/admin/users/dave"), 404, kAdminNotFound));
  EXPECT_TRUE(IsErrorCode(server().AdminPost("/admin/users", R"({"nickname":"x"})"), 400,
                          kAdminInvalidRequest));
}

TEST_P(SessionsTest, AdminCreatedSessionIsReadyForSendAndVerify) {
  HttpResponse created = server().AdminPost("/admin/sessions", R"({"userId":"alice"})");
  ASSERT_TRUE(HasStatus(created, 201));
  Json body(created.body);
  const std::string session_id = body.String("/sessionId").value_or("");
  EXPECT_TRUE(IsVerificationId(session_id)) << created.body;
  const std::string cookie = body.String("/cookie").value_or("");
  EXPECT_EQ(cookie, "_interaction=" + session_id);

  const std::string id = IdOf(SendIn(cookie, "email"));
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, id, CodeOf(id), "email"), 200));

  HttpResponse view = server().AdminGet("/admin/sessions/" + session_id);
  ASSERT_TRUE(HasStatus(view, 200));
  Json v(view.body);
  EXPECT_EQ(v.String("/sessionId"), session_id);
  EXPECT_EQ(v.Bool("/interactionStarted"), true);
  EXPECT_EQ(v.String("/interactionEvent"), "SignIn");
  EXPECT_EQ(v.String("/userId"), "alice");
  EXPECT_TRUE(IsRfc3339Utc(v.String("/expiresAt").value_or(""))) << view.body;
  EXPECT_EQ(v.Size("/verificationIds"), 1u);
  EXPECT_EQ(v.String("/verificationIds/0"), id);

  EXPECT_TRUE(IsErrorCode(server().AdminPost("/admin/sessions", R"({"userId":"nobody"})"), 404,
                          kAdminNotFound));
}

TEST_P(SessionsTest, IdentifyAnswers404ForUnknownUserOrSession) {
  const std::string cookie = StartSession();
  EXPECT_TRUE(IsErrorCode(Identify(cookie, "nobody"), 404, kAdminNotFound));
  EXPECT_TRUE(IsErrorCode(
      server().AdminPost("/admin/sessions/aaaaaaaaaaaaaaaaaaaaa/identify", R"({"userId":"alice"})"),
      404, kAdminNotFound));
  HttpResponse ok = Identify(cookie, "alice");
  ASSERT_TRUE(HasStatus(ok, 200));
  EXPECT_EQ(Json(ok.body).String("/userId"), "alice");
  EXPECT_EQ(Json(ok.body).String("/sessionId"), SessionIdOf(cookie));
  EXPECT_EQ(Json(Interaction(cookie).body).String("/userId"), "alice");
}

TEST_P(SessionsTest, DeleteAdminSessionsEndsEverySession) {
  const std::string a = StartAs("alice");
  const std::string b = StartSession();
  HttpResponse deleted = server().AdminDelete("/admin/sessions");
  ASSERT_TRUE(HasStatus(deleted, 200));
  EXPECT_EQ(Json(deleted.body).Int("/deleted"), 2);
  EXPECT_TRUE(IsSessionNotFound(SendIn(a, "email")));
  EXPECT_TRUE(IsSessionNotFound(Interaction(b)));
}

// ============================================================== --sessions required

class SessionsRequiredTest : public SessionsFixture {
 public:
  static void SetUpTestSuite() { StartSharedServer({"--sessions", "required"}); }
};

TEST_F(SessionsRequiredTest, NoCookieIs400SessionNotFoundBeforeBodyValidation) {
  EXPECT_TRUE(IsSessionNotFound(server().Send("email")));
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kSendPath, kInvalidSendBody)));
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kSendPath, "not json")));
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kSendPath, "")));
  EXPECT_TRUE(IsSessionNotFound(server().Verify("aaaaaaaaaaaaaaaaaaaaa", "123456", "email")));
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kVerifyPath, "{}")));
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kVerifyPath, "[1,2]")));
  HttpResponse r = server().Send("email");
  EXPECT_TRUE(IsJsonContentType(r));
  // Key order as Logto's error body: code, message first.
  EXPECT_EQ(Json(r.body).Keys(),
            (std::vector<std::string>{"code", "message", "error", "error_description"}))
      << r.body;
  EXPECT_EQ(Json(server().AdminGet("/admin/inbox").body).Size("/messages"), 0u);
}

TEST_F(SessionsRequiredTest, InBothProfiles) {
  UseProfile("logto");
  EXPECT_TRUE(IsSessionNotFound(server().Send("email")));
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kSendPath, R"({"identifierType":"Email"})")));
  EXPECT_TRUE(IsSessionNotFound(server().Verify("x", "1", "phone")));
}

TEST_F(SessionsRequiredTest, UnknownCookieIs400SessionNotFound) {
  const std::string cookie = "_interaction=aaaaaaaaaaaaaaaaaaaaa";
  EXPECT_TRUE(IsSessionNotFound(SendIn(cookie, "email")));
  EXPECT_TRUE(IsSessionNotFound(VerifyIn(cookie, "aaaaaaaaaaaaaaaaaaaaa", "123456", "email")));
  EXPECT_TRUE(IsSessionNotFound(Interaction(cookie)));
  EXPECT_TRUE(IsSessionNotFound(Interaction("")));
}

TEST_F(SessionsRequiredTest, TheWholeFlowWorksWithACookie) {
  // The mock stands in for /oidc/auth: PUT /api/experience without a cookie creates the session.
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  HttpResponse ok = VerifyIn(cookie, id, CodeOf(id), "email");
  ASSERT_TRUE(HasStatus(ok, 200));
  EXPECT_EQ(Json(ok.body).String("/verificationId"), id);
  EXPECT_EQ(Json(Interaction(cookie).body).Bool("/verificationRecords/0/verified"), true);
}

// ============================================================== lockout

class SessionsLockoutTest : public SessionsFixture,
                            public ::testing::WithParamInterface<const char*> {
 public:
  static void SetUpTestSuite() { StartSharedServer({"--lockout-threshold", "3"}); }

 protected:
  void SetUp() override {
    SessionsFixture::SetUp();
    if (HasFatalFailure()) return;
    UseProfile(GetParam());
  }
  // Three wrong codes for `id` in `cookie`: the third reaches the threshold and is already
  // answered blocked, as Logto's withSentinel answers it.
  void FailThreeTimes(const std::string& cookie, const std::string& id, const std::string& code) {
    for (int i = 1; i <= 2; ++i) {
      ASSERT_TRUE(IsError(VerifyIn(cookie, id, Wrong(code), "email"), 400, kCodeMismatch,
                          kCodeMismatchMessage))
          << "failure " << i;
    }
    ASSERT_TRUE(IsError(VerifyIn(cookie, id, Wrong(code), "email"), 400, kBlocked,
                        BlockedMessage("in 60 minutes")))
        << "failure 3";
  }
};

INSTANTIATE_TEST_SUITE_P(Profiles, SessionsLockoutTest, ::testing::Values("documented", "logto"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param);
                         });

TEST_P(SessionsLockoutTest, StartUpFlagSetsTheThreshold) {
  Json config(server().AdminGet("/admin/config").body);
  EXPECT_EQ(config.Int("/lockout/maxFailures"), 3);
}

TEST_P(SessionsLockoutTest, AtTheThresholdVerifyIsBlockedFor60Minutes) {
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  const std::string code = CodeOf(id);
  FailThreeTimes(cookie, id, code);
  HttpResponse blocked = VerifyIn(cookie, id, code, "email");
  EXPECT_TRUE(IsError(blocked, 400, kBlocked,
                      "Too many attempts in a short time. Please try again in 60 minutes."));
  EXPECT_TRUE(IsJsonContentType(blocked));
  // A fresh code for the same address is blocked too, in any session.
  const std::string other_tab = StartAs("alice");
  const std::string fresh = IdOf(SendIn(other_tab, "email"));
  EXPECT_TRUE(IsError(VerifyIn(other_tab, fresh, CodeOf(fresh), "email"), 400, kBlocked,
                      BlockedMessage("in 60 minutes")));
  // As in Logto, the verification ran all the same: the right code was used up, without the
  // interaction learning it was verified.
  Json record(server().AdminGet("/admin/verifications/" + id).body);
  EXPECT_EQ(record.Bool("/consumed"), true);
  EXPECT_EQ(record.Bool("/verified"), false);
  EXPECT_EQ(Json(Interaction(cookie).body).Dump("/verificationRecords/0/verified"), "false");
}

TEST_P(SessionsLockoutTest, OtherIdentifiersAreNotBlocked) {
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  const std::string phone = IdOf(SendIn(cookie, "phone"));
  const std::string bob = StartAs("bob");
  const std::string bob_id = IdOf(SendIn(bob, "email"));
  FailThreeTimes(cookie, id, CodeOf(id));
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, phone, CodeOf(phone), "phone"), 200));
  EXPECT_TRUE(HasStatus(VerifyIn(bob, bob_id, CodeOf(bob_id), "email"), 200));
}

TEST_P(SessionsLockoutTest, RelativeTimeCountsDownAndTheBlockEnds) {
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  const std::string code = CodeOf(id);
  FailThreeTimes(cookie, id, code);
  ASSERT_TRUE(HasStatus(server().AdvanceClock(30 * 60), 200));
  // (The first right code is used up; later tries count as failures, still blocked.)
  EXPECT_TRUE(
      IsError(VerifyIn(cookie, id, code, "email"), 400, kBlocked, BlockedMessage("in 30 minutes")));
  ASSERT_TRUE(HasStatus(server().AdvanceClock(29 * 60), 200));
  EXPECT_TRUE(
      IsError(VerifyIn(cookie, id, code, "email"), 400, kBlocked, BlockedMessage("in 1 minute")));
  ASSERT_TRUE(HasStatus(server().AdvanceClock(40), 200));  // about 20 s left: rounds to 0
  EXPECT_TRUE(
      IsError(VerifyIn(cookie, id, code, "email"), 400, kBlocked, BlockedMessage("in 0 minutes")));
  ASSERT_TRUE(HasStatus(server().AdvanceClock(20), 200));
  // 60 minutes later: the session (3600 s) has ended too; a new one verifies again.
  const std::string later = StartAs("alice");
  const std::string fresh = IdOf(SendIn(later, "email"));
  EXPECT_TRUE(HasStatus(VerifyIn(later, fresh, CodeOf(fresh), "email"), 200));
}

TEST_P(SessionsLockoutTest, DurationAndThresholdAreConfigurableAtRunTime) {
  ASSERT_TRUE(HasStatus(
      server().PatchConfig(R"({"lockout":{"maxFailures":2,"durationSeconds":45}})"), 200));
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  const std::string code = CodeOf(id);
  ASSERT_TRUE(IsErrorCode(VerifyIn(cookie, id, Wrong(code), "email"), 400, kCodeMismatch));
  // 45 s, less a few ms: rounds to 1.
  EXPECT_TRUE(IsError(VerifyIn(cookie, id, Wrong(code), "email"), 400, kBlocked,
                      BlockedMessage("in 1 minute")));
  ASSERT_TRUE(HasStatus(server().AdvanceClock(45), 200));
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, id, code, "email"), 200));
}

TEST_P(SessionsLockoutTest, ThresholdZeroTurnsTheLockoutOff) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"lockout":{"maxFailures":0}})"), 200));
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  const std::string code = CodeOf(id);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(IsError(VerifyIn(cookie, id, Wrong(code), "email"), 400, kCodeMismatch,
                        kCodeMismatchMessage))
        << "failure " << i;
  }
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, id, code, "email"), 200));
}

TEST_P(SessionsLockoutTest, OpenModeHasNoLockout) {
  const std::string id = IdOf(server().Send("email"));
  const std::string code = CodeOf(id);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(IsErrorCode(server().Verify(id, Wrong(code), "email"), 400, kCodeMismatch));
  }
  EXPECT_TRUE(HasStatus(server().Verify(id, code, "email"), 200));
}

TEST_P(SessionsLockoutTest, DeleteAdminSessionsLiftsBlocks) {
  const std::string cookie = StartAs("alice");
  const std::string id = IdOf(SendIn(cookie, "email"));
  FailThreeTimes(cookie, id, CodeOf(id));
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/sessions"), 200));
  const std::string again = StartAs("alice");
  const std::string fresh = IdOf(SendIn(again, "email"));
  EXPECT_TRUE(HasStatus(VerifyIn(again, fresh, CodeOf(fresh), "email"), 200));
}

// ============================================================== --users FILE

class SessionsUsersFileTest : public SessionsFixture {
 public:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    const std::string path = dir_->File("users.json");
    ASSERT_TRUE(WriteFile(path, R"([
  {"id": "file-user", "username": "fileuser", "primaryEmail": "file@example.com",
   "primaryPhone": "+15555550199"},
  {"id": "mail-only", "primaryEmail": "mailonly@example.com"},
  {"id": "totp-user", "totpSecret": "JBSWY3DPEHPK3PXP", "backupCodes": ["0123456789",
   "abcdef0123", "1111111111", "2222222222", "3333333333", "4444444444", "5555555555",
   "6666666666", "7777777777", "8888888888"]}
])"));
    StartSharedServer({"--users", path});
  }
  static void TearDownTestSuite() {
    StopSharedServer();
    dir_.reset();
  }

 protected:
  SessionsUsersFileTest() { manage_users_ = false; }

  static inline std::unique_ptr<TempDir> dir_;
};

TEST_F(SessionsUsersFileTest, UsersFromTheFileAreListed) {
  HttpResponse r = server().AdminGet("/admin/users");
  ASSERT_TRUE(HasStatus(r, 200));
  Json users(r.body);
  ASSERT_EQ(users.Size("/users"), 3u) << r.body;
  EXPECT_EQ(users.String("/users/0/id"), "file-user");
  EXPECT_EQ(users.String("/users/0/username"), "fileuser");
  EXPECT_EQ(users.String("/users/0/primaryEmail"), "file@example.com");
  EXPECT_EQ(users.String("/users/0/primaryPhone"), "+15555550199");
  EXPECT_EQ(users.String("/users/1/id"), "mail-only");
  EXPECT_TRUE(users.IsNull("/users/1/primaryPhone")) << r.body;
  EXPECT_EQ(users.Dump("/users/1/mfaVerifications"), "[]");
  // The file's MFA factors, shown as Logto shows them: never the secret or the codes.
  EXPECT_EQ(users.String("/users/2/id"), "totp-user");
  EXPECT_EQ(users.Dump("/users/2/mfaVerifications"),
            R"([{"type":"Totp"},{"type":"BackupCode","remainCodes":10}])");
  EXPECT_EQ(r.body.find("JBSWY3DPEHPK3PXP"), std::string::npos);
}

TEST_F(SessionsUsersFileTest, AFileUserRunsTheFlow) {
  const std::string cookie = StartAs("file-user");
  const std::string id = IdOf(SendIn(cookie, "phone"));
  HttpResponse latest = server().AdminGet("/admin/inbox/latest?to=" + UrlEncode("+15555550199"));
  ASSERT_TRUE(HasStatus(latest, 200));
  EXPECT_EQ(Json(latest.body).String("/verificationId"), id);
  EXPECT_TRUE(HasStatus(VerifyIn(cookie, id, CodeOf(id), "phone"), 200));

  const std::string mail_only = StartAs("mail-only");
  EXPECT_TRUE(
      IsError(SendIn(mail_only, "phone"), 400, kFactorNotEnabled, kFactorNotEnabledMessage));
}

TEST(SessionsUsersFileCliTest, ABadUsersFileStopsStartUpWithAUsageError) {
  TempDir dir;
  struct Case {
    const char* content;
    const char* expected;
  } cases[] = {
      {"{not json", "--users"},
      {R"({"id":"a"})", "must be a JSON array of users"},
      {R"([{"id":"a"},{"id":"a"}])", "user id \"a\" appears twice"},
      {R"([{"id":"a","nickname":"x"}])", "item 0: unknown field \"nickname\""},
      {R"([{"id":"a","totpSecret":"not-base32-at-all!"}])", "item 0: totpSecret must be"},
  };
  for (const Case& c : cases) {
    const std::string path = dir.File("users.json");
    ASSERT_TRUE(WriteFile(path, c.content));
    RunResult r =
        RunBinary({"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--users", path});
    EXPECT_EQ(r.exit_code, 2) << c.content << "\n" << r.Describe();
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.content << "\n" << r.Describe();
  }
}

}  // namespace
}  // namespace mfa_test
