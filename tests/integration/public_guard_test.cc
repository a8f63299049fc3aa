// SPDX-License-Identifier: Apache-2.0
// Body validation on the public routes: guard.invalid_input (contract §1, §2) and malformed JSON.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"

namespace mfa_test {
namespace {

class PublicGuardTest : public MockServerTest {
 protected:
  // Asserts the full Logto-style guard body: code, exact message, data.issues[] with
  // code/path/message, and a details string naming the key path.
  static ::testing::AssertionResult IsGuardFailure(const HttpResponse& r, std::string_view field) {
    ::testing::AssertionResult base = IsError(r, 400, kInvalidInput, kInvalidInputMessage);
    if (!base) return base;
    Json body(r.body);
    std::optional<size_t> issues = body.Size("/data/issues");
    if (!issues || *issues == 0) {
      return ::testing::AssertionFailure() << "no data.issues array: " << r.body;
    }
    if (!body.String("/data/issues/0/code") || !body.String("/data/issues/0/message") ||
        !body.IsArray("/data/issues/0/path")) {
      return ::testing::AssertionFailure() << "issue lacks code/path/message: " << r.body;
    }
    std::optional<std::string> details = body.String("/details");
    if (!details) return ::testing::AssertionFailure() << "no details string: " << r.body;
    if (!field.empty()) {
      if (body.String("/data/issues/0/path/0") != std::optional<std::string>(field)) {
        return ::testing::AssertionFailure()
               << "issue path does not start with \"" << field << "\": " << r.body;
      }
      std::string key_path = "Error in key path \"" + std::string(field) + "\"";
      if (details->find(key_path) == std::string::npos) {
        return ::testing::AssertionFailure()
               << "details does not contain '" << key_path << "': " << r.body;
      }
    }
    if (!IsJsonContentType(r)) return IsJsonContentType(r);
    return ::testing::AssertionSuccess();
  }
};

TEST_F(PublicGuardTest, SendWithoutIdentifierTypeIsAGuardFailure) {
  EXPECT_TRUE(IsGuardFailure(pub().Post(kSendPath, "{}"), "identifierType"));
  EXPECT_TRUE(IsGuardFailure(pub().Post(kSendPath, R"({"identifier":"email"})"), "identifierType"));
}

TEST_F(PublicGuardTest, SendWithWrongJsonTypeIsAGuardFailure) {
  for (const char* body :
       {R"({"identifierType":1})", R"({"identifierType":null})", R"({"identifierType":true})",
        R"({"identifierType":["email"]})", R"({"identifierType":{"type":"email"}})"}) {
    EXPECT_TRUE(IsGuardFailure(pub().Post(kSendPath, body), "identifierType")) << body;
  }
}

TEST_F(PublicGuardTest, SendWithUnknownEnumValueIsAGuardFailureWithInvalidEnumIssue) {
  HttpResponse r = pub().Post(kSendPath, R"({"identifierType":"sms"})");
  ASSERT_TRUE(IsGuardFailure(r, "identifierType"));
  Json body(r.body);
  EXPECT_EQ(body.String("/data/issues/0/code"), "invalid_enum_value") << r.body;
  EXPECT_NE(body.String("/details").value_or("").find("(invalid_enum_value)"), std::string::npos)
      << r.body;
}

TEST_F(PublicGuardTest, GuardBodyKeysFollowLogtoOrder) {
  HttpResponse r = pub().Post(kSendPath, R"({"identifierType":"sms"})");
  ASSERT_TRUE(IsGuardFailure(r, "identifierType"));
  std::vector<std::string> expected = {"code", "data", "details", "message"};
  EXPECT_EQ(Json(r.body).Keys(), expected) << r.body;
}

TEST_F(PublicGuardTest, ArrayBodiesAreGuardFailures) {
  for (const char* body : {"[]", R"(["email"])"}) {
    EXPECT_TRUE(IsGuardFailure(pub().Post(kSendPath, body), "")) << body;
    EXPECT_TRUE(IsGuardFailure(pub().Post(kVerifyPath, body), "")) << body;
  }
}

TEST_F(PublicGuardTest, ScalarBodiesGetKoaBodysMessage) {
  for (const char* body : {R"("email")", "1", "null", "true", "nope"}) {
    for (std::string_view path : {kSendPath, kVerifyPath}) {
      EXPECT_TRUE(IsError(pub().Post(path, body), 400, kInvalidInput,
                          "invalid JSON, only supports object and array"))
          << body;
    }
  }
}

TEST_F(PublicGuardTest, VerifyWithMissingFieldsIsAGuardFailure) {
  EXPECT_TRUE(IsGuardFailure(pub().Post(kVerifyPath, R"({"code":"1","identifierType":"email"})"),
                             "verificationId"));
  EXPECT_TRUE(IsGuardFailure(
      pub().Post(kVerifyPath, R"({"verificationId":"a","identifierType":"email"})"), "code"));
  EXPECT_TRUE(IsGuardFailure(pub().Post(kVerifyPath, R"({"verificationId":"a","code":"1"})"),
                             "identifierType"));
  EXPECT_TRUE(IsGuardFailure(pub().Post(kVerifyPath, "{}"), ""));
}

TEST_F(PublicGuardTest, VerifyWithWrongJsonTypesIsAGuardFailure) {
  EXPECT_TRUE(IsGuardFailure(
      pub().Post(kVerifyPath, R"({"verificationId":42,"code":"1","identifierType":"email"})"),
      "verificationId"));
  EXPECT_TRUE(IsGuardFailure(
      pub().Post(kVerifyPath, R"({"verificationId":"a","code":123456,"identifierType":"email"})"),
      "code"));
  EXPECT_TRUE(IsGuardFailure(
      pub().Post(kVerifyPath, R"({"verificationId":"a","code":null,"identifierType":"email"})"),
      "code"));
  EXPECT_TRUE(IsGuardFailure(
      pub().Post(kVerifyPath, R"({"verificationId":"a","code":"1","identifierType":"fax"})"),
      "identifierType"));
}

TEST_F(PublicGuardTest, VerifyValidationComesBeforeTheLookup) {
  // An unknown id with a bad field: 400 guard, not 404.
  EXPECT_TRUE(IsGuardFailure(
      pub().Post(kVerifyPath, R"({"verificationId":"nope","code":5,"identifierType":"email"})"),
      "code"));
}

TEST_F(PublicGuardTest, VerifyIgnoresExtraKeys) {
  std::string why;
  Json rec = server().SeedOne(R"({"identifierType":"email","code":"123456"})", &why);
  ASSERT_TRUE(rec.valid()) << why;
  std::string id = rec.String("/verificationId").value_or("");
  HttpResponse r = pub().Post(kVerifyPath, R"({"verificationId":)" + Quote(id) +
                                               R"(,"code":"123456","identifierType":"email",)"
                                               R"("extra":{"a":[1,{"b":null}]},"x":1})");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json(r.body).String("/verificationId"), id);
}

TEST_F(PublicGuardTest, MalformedJsonAnswersGuardInvalidInputWithItsOwnMessage) {
  for (const char* body : {R"({"identifierType":"email")", R"({identifierType: "email"})",
                           R"({"identifierType":"email",})", "{'a':1}"}) {
    HttpResponse r = pub().Post(kSendPath, body);
    EXPECT_TRUE(IsError(r, 400, kInvalidInput, kInvalidJsonMessage)) << body;
    EXPECT_TRUE(IsJsonContentType(r)) << body;
    EXPECT_TRUE(IsError(pub().Post(kVerifyPath, body), 400, kInvalidInput, kInvalidJsonMessage))
        << body;
  }
}

TEST_F(PublicGuardTest, TrailingGarbageAfterJsonIsMalformed) {
  EXPECT_TRUE(IsError(pub().Post(kSendPath, R"({"identifierType":"email"} x)"), 400, kInvalidInput,
                      kInvalidJsonMessage));
}

TEST_F(PublicGuardTest, InvalidUtf8IsRejectedAs400) {
  HttpResponse r = pub().Post(kSendPath, "{\"identifierType\":\"email\",\"x\":\"\xff\xfe\"}");
  EXPECT_TRUE(IsErrorCode(r, 400, kInvalidInput));
}

TEST_F(PublicGuardTest, EmptyBodyIsA400GuardFailure) {
  EXPECT_TRUE(IsErrorCode(pub().Post(kSendPath, ""), 400, kInvalidInput));
  EXPECT_TRUE(IsErrorCode(pub().Post(kVerifyPath, ""), 400, kInvalidInput));
}

TEST_F(PublicGuardTest, DeeplyNestedJsonIsRejectedAndTheServerSurvives) {
  std::string deep(12000, '[');
  HttpResponse r = pub().Post(kSendPath, deep);
  EXPECT_TRUE(IsErrorCode(r, 400, kInvalidInput));
  std::string closed = std::string(5000, '[') + std::string(5000, ']');
  EXPECT_TRUE(IsErrorCode(pub().Post(kSendPath, closed), 400, kInvalidInput));
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
}

}  // namespace
}  // namespace mfa_test
