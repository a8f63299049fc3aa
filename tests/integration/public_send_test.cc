// SPDX-License-Identifier: Apache-2.0
// POST /api/experience/verification/mfa-verification-code in open mode (contract §1, §4, §6).

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/test_values.h"

namespace mfa_test {
namespace {

class PublicSendTest : public MockServerTest {};

TEST_F(PublicSendTest, EmailSendReturnsVerificationIdAndDeliversCodeToDefaultEmail) {
  HttpResponse r = server().Send("email");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_TRUE(IsJsonContentType(r));
  Json body(r.body);
  std::optional<std::string> id = body.String("/verificationId");
  ASSERT_TRUE(id) << r.body;
  EXPECT_TRUE(IsVerificationId(*id)) << *id;

  HttpResponse latest = server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kDefaultEmail));
  ASSERT_TRUE(HasStatus(latest, 200));
  Json message(latest.body);
  EXPECT_EQ(message.String("/verificationId"), *id);
  EXPECT_EQ(message.String("/channel"), "email");
  EXPECT_EQ(message.String("/to"), std::string(kDefaultEmail));
  EXPECT_EQ(message.String("/template"), "MfaVerification");
  std::optional<std::string> code = message.String("/code");
  ASSERT_TRUE(code) << latest.body;
  EXPECT_TRUE(IsSixDigitCode(*code)) << *code;
  std::optional<std::string> sent_at = message.String("/sentAt");
  ASSERT_TRUE(sent_at) << latest.body;
  EXPECT_TRUE(IsRfc3339Utc(*sent_at)) << *sent_at;
}

TEST_F(PublicSendTest, PhoneSendDeliversSmsToDefaultPhone) {
  HttpResponse r = server().Send("phone");
  ASSERT_TRUE(HasStatus(r, 200));
  std::optional<std::string> id = Json(r.body).String("/verificationId");
  ASSERT_TRUE(id && IsVerificationId(*id)) << r.body;

  HttpResponse latest = server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kDefaultPhone));
  ASSERT_TRUE(HasStatus(latest, 200));
  Json message(latest.body);
  EXPECT_EQ(message.String("/verificationId"), *id);
  EXPECT_EQ(message.String("/channel"), "sms");
  EXPECT_EQ(message.String("/to"), std::string(kDefaultPhone));
  EXPECT_TRUE(IsSixDigitCode(message.String("/code").value_or(""))) << latest.body;
}

TEST_F(PublicSendTest, SentRecordHasPolicyTtlAndZeroTries) {
  HttpResponse r = server().Send("email");
  ASSERT_TRUE(HasStatus(r, 200));
  std::string id = Json(r.body).String("/verificationId").value_or("");
  HttpResponse record = server().AdminGet("/admin/verifications/" + id);
  ASSERT_TRUE(HasStatus(record, 200));
  Json rec(record.body);
  EXPECT_EQ(rec.String("/identifierType"), "email");
  EXPECT_EQ(rec.String("/identifier"), std::string(kDefaultEmail));
  EXPECT_EQ(rec.Int("/tryCount"), 0);
  EXPECT_EQ(rec.Bool("/consumed"), false);
  EXPECT_EQ(rec.Bool("/verified"), false);
  auto created = ParseRfc3339UtcMs(rec.String("/createdAt").value_or(""));
  auto expires = ParseRfc3339UtcMs(rec.String("/expiresAt").value_or(""));
  ASSERT_TRUE(created && expires) << record.body;
  EXPECT_NEAR(static_cast<double>(*expires - *created), kDefaultTtlSeconds * 1000.0, 1000.0);
}

TEST_F(PublicSendTest, EverySendCreatesAFreshIdAndOlderIdsStayVerifiable) {
  // Open mode: one global map, a new send does not replace older ids (contract §6).
  std::set<std::string> ids;
  std::string first_id;
  std::string first_code;
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = server().Send("email");
    ASSERT_TRUE(HasStatus(r, 200));
    std::string id = Json(r.body).String("/verificationId").value_or("");
    ids.insert(id);
    if (i == 0) {
      first_id = id;
      std::string why;
      first_code = server().LatestCode(kDefaultEmail, &why).value_or("");
      ASSERT_FALSE(first_code.empty()) << why;
    }
  }
  EXPECT_EQ(ids.size(), 3u);
  HttpResponse v = server().Verify(first_id, first_code, "email");
  ASSERT_TRUE(HasStatus(v, 200));
  EXPECT_EQ(Json(v.body).String("/verificationId"), first_id);
}

TEST_F(PublicSendTest, ExtraBodyKeysAreIgnored) {
  HttpResponse r = pub().Post(
      kSendPath,
      R"({"identifierType":"email","foo":1,"bar":{"nested":[1,2,3]},"verificationId":"x"})");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_TRUE(IsVerificationId(Json(r.body).String("/verificationId").value_or(""))) << r.body;
}

TEST_F(PublicSendTest, UnidentifiedDefaultUserAnswersIdentifierNotFound) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"defaultUser":{"identified":false}})"), 200));
  for (const char* type : {"email", "phone"}) {
    HttpResponse r = server().Send(type);
    EXPECT_TRUE(IsError(r, 400, kIdentifierNotFound, kIdentifierNotFoundMessage)) << type;
    EXPECT_TRUE(IsJsonContentType(r));
  }
}

TEST_F(PublicSendTest, UserWithoutEmailAnswersFactorNotEnabledButPhoneStillWorks) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"defaultUser":{"email":""}})"), 200));
  EXPECT_TRUE(IsError(server().Send("email"), 400, kFactorNotEnabled, kFactorNotEnabledMessage));
  EXPECT_TRUE(HasStatus(server().Send("phone"), 200));
}

TEST_F(PublicSendTest, UserWithoutPhoneAnswersFactorNotEnabled) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"defaultUser":{"phone":""}})"), 200));
  EXPECT_TRUE(IsError(server().Send("phone"), 400, kFactorNotEnabled, kFactorNotEnabledMessage));
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
}

TEST_F(PublicSendTest, EmailConnectorOffAnswers501NamingEmail) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"email":false}})"), 200));
  HttpResponse r = server().Send("email");
  EXPECT_TRUE(IsError(r, 501, kConnectorNotFound, kEmailConnectorNotFoundMessage));
  EXPECT_TRUE(IsJsonContentType(r));
  EXPECT_TRUE(HasStatus(server().Send("phone"), 200));
}

TEST_F(PublicSendTest, PhoneConnectorOffAnswers501NamingSms) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"phone":false}})"), 200));
  EXPECT_TRUE(
      IsError(server().Send("phone"), 501, kConnectorNotFound, kSmsConnectorNotFoundMessage));
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
}

TEST_F(PublicSendTest, FailedSendsAreNotRecordedInTheInbox) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"email":false}})"), 200));
  ASSERT_TRUE(HasStatus(server().Send("email"), 501));
  HttpResponse inbox = server().AdminGet("/admin/inbox");
  ASSERT_TRUE(HasStatus(inbox, 200));
  EXPECT_EQ(Json(inbox.body).Size("/messages"), 0u) << inbox.body;
}

// Contract §4: validation (2) before identification (3) before factor (4) before rate limit (5)
// before connector (6).
TEST_F(PublicSendTest, ValidationIsCheckedBeforeIdentification) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"defaultUser":{"identified":false}})"), 200));
  EXPECT_TRUE(IsError(pub().Post(kSendPath, R"({"identifierType":"fax"})"), 400, kInvalidInput,
                      kInvalidInputMessage));
}

TEST_F(PublicSendTest, IdentificationIsCheckedBeforeFactor) {
  ASSERT_TRUE(
      HasStatus(server().PatchConfig(R"({"defaultUser":{"identified":false,"email":""}})"), 200));
  EXPECT_TRUE(
      IsError(server().Send("email"), 400, kIdentifierNotFound, kIdentifierNotFoundMessage));
}

TEST_F(PublicSendTest, FactorIsCheckedBeforeConnector) {
  ASSERT_TRUE(HasStatus(
      server().PatchConfig(R"({"defaultUser":{"email":""},"connectors":{"email":false}})"), 200));
  EXPECT_TRUE(IsError(server().Send("email"), 400, kFactorNotEnabled, kFactorNotEnabledMessage));
}

TEST_F(PublicSendTest, RateLimitIsCheckedBeforeConnector) {
  for (int i = 0; i < kDefaultMaxSends; ++i) ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"email":false}})"), 200));
  EXPECT_TRUE(IsError(server().Send("email"), 429, kRateLimited, kRateLimitedMessage));
}

TEST_F(PublicSendTest, FixedCodeIsSentWhenConfigured) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"fixedCode":"123456"})"), 200));
  HttpResponse r = server().Send("email");
  ASSERT_TRUE(HasStatus(r, 200));
  std::string id = Json(r.body).String("/verificationId").value_or("");
  EXPECT_EQ(server().LatestCode(kDefaultEmail), "123456");
  EXPECT_TRUE(HasStatus(server().Verify(id, "123456", "email"), 200));

  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"fixedCode":null})"), 200));
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  EXPECT_TRUE(IsSixDigitCode(server().LatestCode(kDefaultEmail).value_or("")));
}

TEST_F(PublicSendTest, ChangedDefaultAddressReceivesTheNextCode) {
  ASSERT_TRUE(
      HasStatus(server().PatchConfig(
                    R"({"defaultUser":{"email":"other@example.org","phone":"+4915100000"}})"),
                200));
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  ASSERT_TRUE(HasStatus(server().Send("phone"), 200));
  EXPECT_TRUE(server().LatestCode("other@example.org").has_value());
  EXPECT_TRUE(server().LatestCode("+4915100000").has_value());
}

TEST_F(PublicSendTest, DocumentedProfileAcceptsCapitalisedIdentifierTypes) {
  HttpResponse email = server().Send("Email");
  ASSERT_TRUE(HasStatus(email, 200));
  HttpResponse latest = server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kDefaultEmail));
  ASSERT_TRUE(HasStatus(latest, 200));
  EXPECT_EQ(Json(latest.body).String("/channel"), "email");

  HttpResponse phone = server().Send("Phone");
  ASSERT_TRUE(HasStatus(phone, 200));
  latest = server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kDefaultPhone));
  ASSERT_TRUE(HasStatus(latest, 200));
  EXPECT_EQ(Json(latest.body).String("/channel"), "sms");
}

TEST_F(PublicSendTest, LogtoProfileRejectsCapitalisedIdentifierTypes) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"profile":"logto"})"), 200));
  for (const char* type : {"Email", "Phone", "EMAIL"}) {
    EXPECT_TRUE(IsError(server().Send(type), 400, kInvalidInput, kInvalidInputMessage)) << type;
  }
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
  EXPECT_TRUE(HasStatus(server().Send("phone"), 200));
}

TEST_F(PublicSendTest, DocumentedProfileStillRejectsOtherSpellings) {
  for (const char* type : {"EMAIL", "sms", "Sms", "", " email"}) {
    EXPECT_TRUE(IsError(server().Send(type), 400, kInvalidInput, kInvalidInputMessage))
        << "'" << type << "'";
  }
}

}  // namespace
}  // namespace mfa_test
