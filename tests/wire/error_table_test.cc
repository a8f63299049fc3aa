// SPDX-License-Identifier: Apache-2.0
#include "wire/error_table.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <set>

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
                     ApiError::kTooManyWaiters}) {
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
      ErrorBody(Outcome::kVerificationBlocked, IdentifierType::kEmail, "in 60 minutes"),
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

}  // namespace
}  // namespace mfa
