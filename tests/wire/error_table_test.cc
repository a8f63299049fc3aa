// SPDX-License-Identifier: Apache-2.0
#include "wire/error_table.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>
#include <string>

#include "i18n/message.h"

namespace mfa {
namespace {

TEST(ErrorTableTest, EveryErrorHasAStatusACodeAndAMessage) {
  for (int i = 1; i < kOutcomeCount; ++i) {
    const HttpError& e = ErrorFor(static_cast<Outcome>(i));
    EXPECT_GE(e.status, 400) << i;
    EXPECT_FALSE(e.code.empty()) << i;
    EXPECT_FALSE(e.message.empty()) << i;
  }
  for (int i = 0; i < kApiErrorCount; ++i) {
    const HttpError& e = ErrorFor(static_cast<ApiError>(i));
    EXPECT_GE(e.status, 400) << i;
    EXPECT_FALSE(e.code.empty()) << i;
    EXPECT_FALSE(e.message.empty()) << i;
  }
}

TEST(ErrorTableTest, AdminErrorsHaveOneCodeEach) {
  std::set<std::string_view> codes;
  for (ApiError e : {ApiError::kUnauthorized, ApiError::kInvalidJson, ApiError::kInvalidRequest,
                     ApiError::kNotFound, ApiError::kVerificationExists, ApiError::kUserExists,
                     ApiError::kTooManyWaiters, ApiError::kTooManyExports}) {
    EXPECT_TRUE(codes.insert(ErrorFor(e).code).second) << ErrorFor(e).code;
  }
  // A full store is one outcome with one code, whichever listener answers it.
  EXPECT_EQ(ErrorFor(Outcome::kStoreFull).code, "mock.store_full");
}

TEST(ErrorTableTest, BodiesFillPlaceholdersAndParse) {
  EXPECT_EQ(
      ErrorBody(Outcome::kConnectorNotFound, IdentifierType::kPhone),
      R"({"code":"connector.not_found","message":"Cannot find any available connector for type: Sms."})");
  EXPECT_EQ(
      ErrorBody(Outcome::kVerificationBlocked, IdentifierType::kEmail, 60 * 60'000),
      R"({"code":"session.verification_blocked_too_many_attempts","message":"Too many attempts in a short time. Please try again in 60 minutes."})");
  EXPECT_EQ(ErrorBody(ApiError::kNotFound, "No user with id \"u\"."),
            R"({"code":"admin.not_found","message":"No user with id \"u\"."})");
  EXPECT_EQ(ErrorBody(ApiError::kShuttingDown),
            R"({"code":"request.shutting_down","message":"The mock is shutting down."})");
  rapidjson::Document doc;
  doc.Parse(SessionNotFoundBody().c_str());
  ASSERT_FALSE(doc.HasParseError());
  EXPECT_STREQ(doc["error"].GetString(), "invalid_request");
}

TEST(ErrorTableTest, LockoutTimeIsLogtosRoundedMinutes) {
  // Math.round(ms / 60000) minutes, never seconds: 59.5 min -> 60, 30 s -> 1, 29 s -> 0.
  EXPECT_NE(ErrorBody(Outcome::kVerificationBlocked, IdentifierType::kEmail, 59 * 60'000 + 30'000)
                .find("again in 60 minutes."),
            std::string::npos);
  EXPECT_NE(ErrorBody(Outcome::kVerificationBlocked, IdentifierType::kEmail, 30'000)
                .find("again in 1 minute."),
            std::string::npos);
  EXPECT_NE(ErrorBody(Outcome::kVerificationBlocked, IdentifierType::kEmail, 29'000)
                .find("again in 0 minutes."),
            std::string::npos);
}

// The table's English is Logto's (the package's) English, placeholders filled alike.
TEST(ErrorTableTest, EnglishMessagesAreThePackages) {
  int compared = 0;
  for (int i = 1; i < kOutcomeCount; ++i) {
    const auto outcome = static_cast<Outcome>(i);
    const TranslatableError t = TranslatableFor(outcome, IdentifierType::kPhone, 3'600'000);
    const auto english =
        i18n::LogtoMessage(t.code, i18n::EnglishLocale(), {t.type, t.remaining_ms});
    if (!english) continue;  // mfa-mock's own codes (mock.*, unexpected)
    rapidjson::Document doc;
    doc.Parse(ErrorBody(outcome, IdentifierType::kPhone, 3'600'000).c_str());
    ASSERT_FALSE(doc.HasParseError());
    EXPECT_EQ(std::string(doc["message"].GetString()), *english) << t.code;
    ++compared;
  }
  EXPECT_GE(compared, 13);
}

TEST(LocalizeErrorBodyTest, RewordsOnlyTheTopLevelMessage) {
  std::string body = ErrorBody(Outcome::kCodeMismatch, IdentifierType::kEmail);
  ASSERT_TRUE(
      LocalizeErrorBody(body, TranslatableFor(Outcome::kCodeMismatch), *i18n::FindLocale("fr")));
  EXPECT_EQ(
      body,
      R"({"code":"verification_code.code_mismatch","message":"Code de vérification invalide."})");

  std::string nested =
      R"({"code":"guard.invalid_input","data":{"issues":[{"message":"Required","x":"}"}]},"details":"a"message"","message":"The request body is invalid."})";
  ASSERT_TRUE(
      LocalizeErrorBody(nested, TranslatableFor(Outcome::kInvalidInput), *i18n::FindLocale("de")));
  EXPECT_EQ(
      nested,
      R"({"code":"guard.invalid_input","data":{"issues":[{"message":"Required","x":"}"}]},"details":"a"message"","message":"Die Anfrage body ist ungültig."})");

  std::string session = SessionNotFoundBody();
  ASSERT_TRUE(LocalizeErrorBody(session, TranslatableFor(Outcome::kSessionNotFound),
                                *i18n::FindLocale("ja")));
  EXPECT_EQ(
      session,
      R"({"code":"session.not_found","message":"セッションが見つかりません。戻って再度サインインしてください。","error":"invalid_request","error_description":"Session not found. Please go back and sign in again."})");
}

TEST(LocalizeErrorBodyTest, LeavesEnglishAndMockCodesAlone) {
  const std::string english = ErrorBody(Outcome::kCodeExpired, IdentifierType::kEmail);
  std::string body = english;
  EXPECT_FALSE(
      LocalizeErrorBody(body, TranslatableFor(Outcome::kCodeExpired), i18n::EnglishLocale()));
  EXPECT_EQ(body, english);
  std::string mock = ErrorBody(Outcome::kStoreFull, IdentifierType::kEmail);
  const std::string before = mock;
  EXPECT_FALSE(
      LocalizeErrorBody(mock, TranslatableFor(Outcome::kStoreFull), *i18n::FindLocale("fr")));
  EXPECT_EQ(mock, before);
  std::string no_code = english;
  EXPECT_FALSE(LocalizeErrorBody(no_code, TranslatableError{}, *i18n::FindLocale("fr")));
}

}  // namespace
}  // namespace mfa
