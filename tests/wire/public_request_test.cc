// SPDX-License-Identifier: Apache-2.0
// PublicRequestParser and GuardFailureBody: the public routes' body validation, issue by issue as
// Logto's zod guard shapes it (contract §1-2, §6 profiles), without a server.

#include "wire/public_request.h"

#include <gtest/gtest.h>
#include <malloc.h>
#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/support/json_helpers.h"

namespace mfa {
namespace {

using mfa_test::Json;

constexpr std::string_view kDocumentedOptions = "'email' | 'phone' | 'Email' | 'Phone'";
constexpr std::string_view kLogtoOptions = "'email' | 'phone'";

// Strict: the body must be JSON *and* valid UTF-8, as every client's JSON decoder requires.
::testing::AssertionResult IsStrictJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return ::testing::AssertionFailure() << "not strict JSON (error " << doc.GetParseError()
                                         << " at byte " << doc.GetErrorOffset() << "): " << text;
  }
  return ::testing::AssertionSuccess();
}

class PublicRequestTest : public ::testing::Test {
 protected:
  bool Send(std::string_view body, Profile profile = Profile::kDocumented,
            std::string_view content_type = "application/json") {
    out_ = PublicRequest{};
    failure_ = GuardFailure{};
    return parser_.ParseSend(content_type, body, profile, &out_, &failure_);
  }
  bool Verify(std::string_view body, Profile profile = Profile::kDocumented,
              std::string_view content_type = "application/json") {
    out_ = PublicRequest{};
    failure_ = GuardFailure{};
    return parser_.ParseVerify(content_type, body, profile, &out_, &failure_);
  }
  // The rendered 400 body, checked to be strict JSON.
  Json Body() {
    const std::string text = GuardFailureBody(failure_);
    EXPECT_TRUE(IsStrictJson(text));
    return Json(text);
  }

  static constexpr std::string_view kEmail = R"({"identifierType":"email"})";

  PublicRequestParser parser_;
  PublicRequest out_;
  GuardFailure failure_;
};

// --- success -------------------------------------------------------------------------------

// The soak run caught the parser leaking about 1 KiB per request (RapidJSON releases its parse
// stack after each parse, which a persistent pool allocator cannot take back): repeated parses,
// small and large, must leave the heap where it was.
TEST(PublicRequestParserHeapTest, RepeatedParsesDoNotGrowTheHeap) {
  PublicRequestParser parser;
  const std::string small =
      R"({"verificationId":"abcdefghijklmnopqrstu","code":"123456","identifierType":"email"})";
  const std::string large = R"({"verificationId":"abc","code":")" + std::string(6000, '7') +
                            R"(","identifierType":"email"})";
  auto parse_many = [&](int n) {
    for (int i = 0; i < n; ++i) {
      PublicRequest out;
      GuardFailure failure;
      ASSERT_TRUE(parser.ParseVerify("application/json", i % 10 == 0 ? large : small,
                                     Profile::kDocumented, &out, &failure));
    }
  };
  parse_many(1000);  // warm up
  const size_t before = mallinfo2().uordblks;
  parse_many(100000);
  const size_t after = mallinfo2().uordblks;
  EXPECT_LT(after, before + 64 * 1024) << "heap grew by " << (after - before) << " bytes";
}

TEST_F(PublicRequestTest, SendAcceptsLowercaseTypes) {
  ASSERT_TRUE(Send(R"({"identifierType":"email"})"));
  EXPECT_EQ(out_.type, IdentifierType::kEmail);
  ASSERT_TRUE(Send(R"({"identifierType":"phone"})", Profile::kLogto));
  EXPECT_EQ(out_.type, IdentifierType::kPhone);
}

TEST_F(PublicRequestTest, DocumentedProfileAcceptsCapitalisedTypes) {
  ASSERT_TRUE(Send(R"({"identifierType":"Email"})"));
  EXPECT_EQ(out_.type, IdentifierType::kEmail);
  ASSERT_TRUE(Send(R"({"identifierType":"Phone"})"));
  EXPECT_EQ(out_.type, IdentifierType::kPhone);
}

TEST_F(PublicRequestTest, NeitherProfileAcceptsOtherSpellings) {
  for (Profile p : {Profile::kDocumented, Profile::kLogto}) {
    for (const char* body : {R"({"identifierType":"EMAIL"})", R"({"identifierType":"sms"})",
                             R"({"identifierType":" email"})", R"({"identifierType":""})"}) {
      EXPECT_FALSE(Send(body, p)) << body;
    }
  }
}

TEST_F(PublicRequestTest, VerifyReturnsTheDecodedStrings) {
  ASSERT_TRUE(Verify(R"({"verificationId":"jd8s7Kq2mF0aZ1xYv3Bn","code":"012345",)"
                     R"("identifierType":"phone"})"));
  EXPECT_EQ(out_.verification_id, "jd8s7Kq2mF0aZ1xYv3Bn");
  EXPECT_EQ(out_.code, "012345");
  EXPECT_EQ(out_.type, IdentifierType::kPhone);
}

TEST_F(PublicRequestTest, VerifyDecodesEscapesAndKeepsEmbeddedNul) {
  ASSERT_TRUE(Verify(R"({"verificationId":"a\u0041","code":"1\u00002","identifierType":"email"})"));
  EXPECT_EQ(out_.verification_id, "aA");
  EXPECT_EQ(out_.code, std::string_view("1\0"
                                        "2",
                                        3));
}

TEST_F(PublicRequestTest, VerifyIgnoresExtraKeysAndTakesTheLastOfDuplicates) {
  ASSERT_TRUE(Verify(R"({"extra":{"a":[1,{"b":null}]},"verificationId":"v","code":"1",)"
                     R"("code":"2","identifierType":"email"})"));
  EXPECT_EQ(out_.code, "2");
}

// The plain shape (flat, ASCII strings, no escapes) is read in place without a JSON document;
// every other shape takes the full parse. Both must give the same answers.
TEST_F(PublicRequestTest, VerifyReadsAPlainBodyInPlace) {
  const std::string body = R"({"code":"123456","identifierType":"email","verificationId":"v1"})";
  ASSERT_TRUE(Verify(body));
  EXPECT_EQ(out_.verification_id, "v1");
  EXPECT_EQ(out_.code, "123456");
  EXPECT_GE(out_.code.data(), body.data());
  EXPECT_LE(out_.code.data() + out_.code.size(), body.data() + body.size());
}

TEST_F(PublicRequestTest, PlainAndEscapedBodiesGiveTheSameRequest) {
  ASSERT_TRUE(Verify(R"({"verificationId":"abc","code":"123456","identifierType":"phone"})"));
  const std::string plain_id(out_.verification_id), plain_code(out_.code);
  const IdentifierType plain_type = out_.type;
  ASSERT_TRUE(Verify(
      R"({"verificationId":"ab\u0063","code":"12345\u0036","identifierType":"ph\u006fne"})"));
  EXPECT_EQ(out_.verification_id, plain_id);
  EXPECT_EQ(out_.code, plain_code);
  EXPECT_EQ(out_.type, plain_type);
}

TEST_F(PublicRequestTest, PlainBodiesWithAnErrorGetTheFullParsesIssues) {
  // A repeated key: the last wins, as in the full parse (and JSON.parse).
  ASSERT_TRUE(Verify(R"({"verificationId":"v","code":"1","code":"2","identifierType":"email"})"));
  EXPECT_EQ(out_.code, "2");
  ASSERT_FALSE(Verify(R"({"verificationId":"v","code":"1","identifierType":"EMAIL"})"));
  ASSERT_EQ(failure_.issues.size(), 1u);
  EXPECT_EQ(failure_.issues[0].code, "invalid_enum_value");
  ASSERT_FALSE(Verify(R"({"verificationId":"v","identifierType":"email"})"));
  ASSERT_EQ(failure_.issues.size(), 1u);
  EXPECT_EQ(failure_.issues[0].path, "code");
  ASSERT_FALSE(Verify(R"({"verificationId":"v","code":"1","identifierType":"email"})",
                      Profile::kDocumented, "text/plain"));
  EXPECT_EQ(failure_.issues[0].received, "string");
  ASSERT_FALSE(Send(R"({"identifierType":"Email"})", Profile::kLogto));
  EXPECT_EQ(failure_.issues[0].code, "invalid_enum_value");
  ASSERT_TRUE(Send(R"({"identifierType":"phone","extra":"x"})"));
  EXPECT_EQ(out_.type, IdentifierType::kPhone);
}

TEST_F(PublicRequestTest, EmptyBodyIsAnEmptyObject) {
  // Logto's body parser turns an empty body into {}: the guard then reports the missing key.
  for (const char* body : {""}) {
    ASSERT_FALSE(Send(body)) << '"' << body << '"';
    EXPECT_FALSE(failure_.malformed_json);
    ASSERT_EQ(failure_.issues.size(), 1u);
    EXPECT_EQ(failure_.issues[0].path, "identifierType");
    EXPECT_EQ(failure_.issues[0].message, "Required");
  }
}

// --- content types ---------------------------------------------------------------------------

TEST_F(PublicRequestTest, JsonContentTypesAreAccepted) {
  for (const char* ct :
       {"", "application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8",
        " application/json ", "application/vnd.api+json", "application/merge-patch+json",
        "application/vnd.example.a-very-long-vendor-media-type-name-past-sixty-four-bytes+json"}) {
    EXPECT_TRUE(Send(R"({"identifierType":"email"})", Profile::kDocumented, ct)) << ct;
  }
}

TEST_F(PublicRequestTest, TextAndFormsAreAStringToTheGuard) {
  for (const char* ct : {"text/plain", "text/json", "application/x-www-form-urlencoded"}) {
    ASSERT_FALSE(Send(R"({"identifierType":"email"})", Profile::kDocumented, ct)) << ct;
    EXPECT_FALSE(failure_.malformed_json);
    ASSERT_EQ(failure_.issues.size(), 1u) << ct;
    const GuardIssue& issue = failure_.issues[0];
    EXPECT_EQ(issue.code, "invalid_type");
    EXPECT_EQ(issue.path, "");
    EXPECT_EQ(issue.expected, "object");
    EXPECT_EQ(issue.received, "string");
    EXPECT_EQ(issue.message, "Expected object, received string");
    Json body = Body();
    EXPECT_NE(body.String("/details").value_or("").find(std::string("got ") + ct),
              std::string::npos)
        << body.Dump();
  }
}

TEST_F(PublicRequestTest, OtherContentTypesAreNotParsedSoTheGuardSeesAnEmptyObject) {
  for (const char* ct :
       {"multipart/form-data", "application/jsonp", "json", "application/json-patch",
        "application/xml",
        "application/vnd.example.a-very-long-vendor-media-type-name-past-sixty-four-bytes"}) {
    ASSERT_FALSE(Send(R"({"identifierType":"email"})", Profile::kDocumented, ct)) << ct;
    EXPECT_FALSE(failure_.malformed_json);
    ASSERT_EQ(failure_.issues.size(), 1u) << ct;
    EXPECT_EQ(failure_.issues[0].path, "identifierType") << ct;
    EXPECT_EQ(failure_.issues[0].received, "undefined") << ct;
    EXPECT_NE(Body().String("/details").value_or("").find(std::string("got ") + ct),
              std::string::npos)
        << ct;
  }
}

// --- guard issues: exactly zod's ---------------------------------------------------------------

TEST_F(PublicRequestTest, MissingKeysAreInvalidTypeUndefinedRequired) {
  ASSERT_FALSE(Verify("{}"));
  ASSERT_EQ(failure_.issues.size(), 3u);
  // zod reports every failing key, in the schema's order.
  const char* paths[] = {"verificationId", "code", "identifierType"};
  for (size_t i = 0; i < 3; ++i) {
    const GuardIssue& issue = failure_.issues[i];
    EXPECT_EQ(issue.code, "invalid_type");
    EXPECT_EQ(issue.path, paths[i]);
    EXPECT_EQ(issue.received, "undefined");
    EXPECT_EQ(issue.message, "Required");
    EXPECT_TRUE(issue.options.empty());
  }
  EXPECT_EQ(failure_.issues[0].expected, "string");
  EXPECT_EQ(failure_.issues[1].expected, "string");
  EXPECT_EQ(failure_.issues[2].expected, kDocumentedOptions);
}

TEST_F(PublicRequestTest, WrongJsonTypesAreNamedAsZodNamesThem) {
  struct Case {
    const char* value;
    const char* zod_type;
  };
  for (const Case& c : {Case{"1", "number"}, Case{"-0.5e3", "number"}, Case{"null", "null"},
                        Case{"true", "boolean"}, Case{"false", "boolean"}, Case{"[]", "array"},
                        Case{R"({"a":1})", "object"}}) {
    const std::string body =
        std::string(R"({"verificationId":"v","code":)") + c.value + R"(,"identifierType":"email"})";
    ASSERT_FALSE(Verify(body)) << body;
    ASSERT_EQ(failure_.issues.size(), 1u) << body;
    const GuardIssue& issue = failure_.issues[0];
    EXPECT_EQ(issue.code, "invalid_type");
    EXPECT_EQ(issue.path, "code");
    EXPECT_EQ(issue.expected, "string");
    EXPECT_EQ(issue.received, c.zod_type);
    EXPECT_EQ(issue.message, std::string("Expected string, received ") + c.zod_type);
  }
}

TEST_F(PublicRequestTest, NonStringTypeIsInvalidTypeWithTheEnumAsExpected) {
  // z.enum([...]) given a number reports invalid_type, expected "'email' | 'phone'".
  ASSERT_FALSE(Send(R"({"identifierType":1})", Profile::kLogto));
  ASSERT_EQ(failure_.issues.size(), 1u);
  EXPECT_EQ(failure_.issues[0].code, "invalid_type");
  EXPECT_EQ(failure_.issues[0].expected, kLogtoOptions);
  EXPECT_EQ(failure_.issues[0].received, "number");
  EXPECT_EQ(failure_.issues[0].message, "Expected 'email' | 'phone', received number");
}

TEST_F(PublicRequestTest, UnknownEnumValueIsInvalidEnumValueWithTheProfilesOptions) {
  ASSERT_FALSE(Send(R"({"identifierType":"sms"})"));
  ASSERT_EQ(failure_.issues.size(), 1u);
  GuardIssue issue = failure_.issues[0];
  EXPECT_EQ(issue.code, "invalid_enum_value");
  EXPECT_EQ(issue.path, "identifierType");
  EXPECT_EQ(issue.received, "sms");
  EXPECT_EQ(issue.options, (std::vector<std::string>{"email", "phone", "Email", "Phone"}));
  EXPECT_EQ(issue.message,
            "Invalid enum value. Expected 'email' | 'phone' | 'Email' | 'Phone', received 'sms'");

  ASSERT_FALSE(Send(R"({"identifierType":"Email"})", Profile::kLogto));
  ASSERT_EQ(failure_.issues.size(), 1u);
  issue = failure_.issues[0];
  EXPECT_EQ(issue.code, "invalid_enum_value");
  EXPECT_EQ(issue.received, "Email");
  EXPECT_EQ(issue.options, (std::vector<std::string>{"email", "phone"}));
  EXPECT_EQ(issue.message, "Invalid enum value. Expected 'email' | 'phone', received 'Email'");
}

// koa-body parses only objects and arrays (co-body's strict mode): an array reaches the guard,
// anything else is refused before, with koa-body's message.
TEST_F(PublicRequestTest, ScalarOrBlankBodiesGetKoaBodysMessage) {
  for (const char* body : {R"("email")", "1", "null", "true", " \r\n\t ", "nope", " 01"}) {
    for (bool verify : {false, true}) {
      ASSERT_FALSE(verify ? Verify(body) : Send(body)) << body;
      EXPECT_TRUE(failure_.malformed_json) << body;
      EXPECT_TRUE(failure_.not_object_or_array) << body;
      EXPECT_TRUE(failure_.issues.empty()) << body;
      Json rendered = Body();
      EXPECT_EQ(rendered.String("/message"), "invalid JSON, only supports object and array");
      EXPECT_EQ(rendered.String("/code"), "guard.invalid_input");
    }
  }
  // An empty body is {} (co-body returns {} for no text).
  ASSERT_FALSE(Send(""));
  EXPECT_FALSE(failure_.malformed_json);
  EXPECT_EQ(failure_.issues.at(0).received, "undefined");
}

TEST_F(PublicRequestTest, ArrayBodiesAreOneIssueAtTheRoot) {
  struct Case {
    const char* body;
    const char* zod_type;
  };
  for (const Case& c : {Case{"[]", "array"}, Case{R"(["email"])", "array"}}) {
    for (bool verify : {false, true}) {
      ASSERT_FALSE(verify ? Verify(c.body) : Send(c.body)) << c.body;
      ASSERT_EQ(failure_.issues.size(), 1u) << c.body;
      EXPECT_EQ(failure_.issues[0].code, "invalid_type");
      EXPECT_EQ(failure_.issues[0].path, "");
      EXPECT_EQ(failure_.issues[0].expected, "object");
      EXPECT_EQ(failure_.issues[0].received, c.zod_type);
      EXPECT_EQ(failure_.issues[0].message, std::string("Expected object, received ") + c.zod_type);
    }
  }
}

// --- the rendered 400 body ---------------------------------------------------------------------

TEST_F(PublicRequestTest, GuardBodyHasLogtosKeysInLogtosOrder) {
  ASSERT_FALSE(Verify(R"({"verificationId":7,"identifierType":"fax"})"));
  Json body = Body();
  EXPECT_EQ(body.Keys(), (std::vector<std::string>{"code", "data", "details", "message"}));
  EXPECT_EQ(body.String("/code"), "guard.invalid_input");
  EXPECT_EQ(body.String("/message"), "The request body is invalid.");
  ASSERT_EQ(body.Size("/data/issues"), 3u) << body.Dump();

  EXPECT_EQ(body.Keys("/data/issues/0"),
            (std::vector<std::string>{"code", "expected", "received", "path", "message"}));
  EXPECT_EQ(body.String("/data/issues/0/code"), "invalid_type");
  EXPECT_EQ(body.String("/data/issues/0/expected"), "string");
  EXPECT_EQ(body.String("/data/issues/0/received"), "number");
  EXPECT_EQ(body.String("/data/issues/0/path/0"), "verificationId");
  EXPECT_EQ(body.String("/data/issues/0/message"), "Expected string, received number");

  EXPECT_EQ(body.String("/data/issues/1/path/0"), "code");
  EXPECT_EQ(body.String("/data/issues/1/message"), "Required");

  EXPECT_EQ(body.Keys("/data/issues/2"),
            (std::vector<std::string>{"received", "code", "options", "path", "message"}));
  EXPECT_EQ(body.String("/data/issues/2/code"), "invalid_enum_value");
  EXPECT_EQ(body.String("/data/issues/2/received"), "fax");
  EXPECT_EQ(body.Size("/data/issues/2/options"), 4u);
  EXPECT_EQ(body.String("/data/issues/2/path/0"), "identifierType");

  EXPECT_EQ(
      body.String("/details"),
      "Error in key path \"verificationId\": (invalid_type) Expected string but received number.\n"
      "Error in key path \"code\": (invalid_type) Expected string but received undefined.\n"
      "Error in key path \"identifierType\": (invalid_enum_value) Invalid enum value. "
      "Expected 'email' | 'phone' | 'Email' | 'Phone', received 'fax'");
}

TEST_F(PublicRequestTest, RootIssueHasAnEmptyPath) {
  ASSERT_FALSE(Send("[]"));
  Json body = Body();
  EXPECT_EQ(body.Size("/data/issues/0/path"), 0u) << body.Dump();
  EXPECT_EQ(body.String("/details"),
            "Error in key path \"\": (invalid_type) Expected object but received array.");
}

// Logto's body is RequestError.toBody: data is the ZodError as JSON.stringify writes it, and each
// issue's keys come in the order zod builds them for its schema type (checked against zod 3.24.3,
// Logto's version, under node).
TEST_F(PublicRequestTest, IssuesKeepZodsKeyOrderPerSchemaTypeAndTheErrorsName) {
  ASSERT_FALSE(Verify("{}", Profile::kLogto));
  Json body = Body();
  EXPECT_EQ(body.Keys("/data"), (std::vector<std::string>{"issues", "name"})) << body.Dump();
  EXPECT_EQ(body.String("/data/name"), "ZodError");
  // z.string(): code first; z.enum(): expected and received first.
  EXPECT_EQ(body.Keys("/data/issues/0"),
            (std::vector<std::string>{"code", "expected", "received", "path", "message"}));
  EXPECT_EQ(body.Keys("/data/issues/2"),
            (std::vector<std::string>{"expected", "received", "code", "path", "message"}));
  EXPECT_EQ(body.String("/details"),
            "Error in key path \"verificationId\": (invalid_type) Expected string but received "
            "undefined.\nError in key path \"code\": (invalid_type) Expected string but received "
            "undefined.\nError in key path \"identifierType\": (invalid_type) Expected 'email' | "
            "'phone' but received undefined.");
}

TEST_F(PublicRequestTest, PasswordIssuesAreZodsForEachSchemaType) {
  SignInIdentifier type{};
  std::string value, password;
  ASSERT_FALSE(parser_.ParsePassword("application/json",
                                     R"({"identifier":{"type":"x","value":2},"password":""})",
                                     &type, &value, &password, &failure_));
  Json body = Body();
  // z.nativeEnum's invalid_enum_value, z.string()'s invalid_type, min(1)'s too_small (message
  // before path).
  EXPECT_EQ(body.Keys("/data/issues/0"),
            (std::vector<std::string>{"received", "code", "options", "path", "message"}));
  EXPECT_EQ(body.Keys("/data/issues/1"),
            (std::vector<std::string>{"code", "expected", "received", "path", "message"}));
  EXPECT_EQ(body.Keys("/data/issues/2"),
            (std::vector<std::string>{"code", "minimum", "type", "inclusive", "exact", "message",
                                      "path"}));
}

// --- Content-Type, as koa-body 8 reads bodies, and what the mock reads beyond it -------------

TEST_F(PublicRequestTest, KoaBodysJsonTypesAreParsedWithoutNotingAnything) {
  for (const char* type :
       {"application/json", "Application/JSON; charset=utf-8", "application/json-patch+json",
        "application/vnd.api+json", "application/csp-report", "application/reports+json"}) {
    EXPECT_TRUE(Send(kEmail, Profile::kLogto, type)) << type;
    EXPECT_TRUE(parser_.noted().empty()) << type;
  }
}

TEST_F(PublicRequestTest, NoContentTypeOrAnotherJsonTypeIsLenientAndNoted) {
  for (const char* type : {"", "application/ld+json", "application/problem+json"}) {
    EXPECT_TRUE(Send(kEmail, Profile::kLogto, type)) << type;
    EXPECT_TRUE(parser_.noted().Has(Deviation::kJsonWithoutJsonType)) << type;
  }
  // Strict: koa-body leaves them unparsed, and the guard sees {}.
  BodyRules strict(Profile::kLogto);
  strict.json_without_json_type = false;
  for (const char* type : {"", "application/ld+json", "application/xml", "multipart/form-data"}) {
    failure_ = GuardFailure{};
    EXPECT_FALSE(parser_.ParseSend(type, kEmail, strict, &out_, &failure_)) << type;
    ASSERT_EQ(failure_.issues.size(), 1u) << type;
    EXPECT_EQ(failure_.issues[0].path, "identifierType");
    EXPECT_EQ(failure_.issues[0].received, "undefined");
    EXPECT_TRUE(parser_.noted().empty()) << type;
  }
}

TEST_F(PublicRequestTest, TextIsAStringAndOtherTypesAreNotParsed) {
  EXPECT_FALSE(Send(kEmail, Profile::kLogto, "text/plain"));
  EXPECT_EQ(failure_.issues.at(0).received, "string");
  EXPECT_FALSE(Send(kEmail, Profile::kLogto, "application/xml"));
  EXPECT_EQ(failure_.issues.at(0).received, "undefined");
  EXPECT_EQ(failure_.issues.at(0).path, "identifierType");
}

TEST_F(PublicRequestTest, ACapitalisedTypeIsNotedOnlyWhenAccepted) {
  EXPECT_TRUE(Verify(R"({"verificationId":"a","code":"1","identifierType":"Phone"})"));
  EXPECT_TRUE(parser_.noted().Has(Deviation::kCapitalisedType));
  EXPECT_TRUE(Verify(R"({"verificationId":"a","code":"1","identifierType":"phone"})"));
  EXPECT_TRUE(parser_.noted().empty());
  EXPECT_FALSE(Send(R"({"identifierType":"Email"})", Profile::kLogto));
  EXPECT_TRUE(parser_.noted().empty());
}

TEST_F(PublicRequestTest, OfRepeatedKeysTheLastWinsAsInJsonParse) {
  ASSERT_TRUE(Verify(
      R"({"verificationId":"a","code":"1","identifierType":"sms","code":"2","identifierType":"phone"})"));
  EXPECT_EQ(out_.code, "2");
  EXPECT_EQ(out_.type, IdentifierType::kPhone);
  ASSERT_FALSE(Send(R"({"identifierType":"email","identifierType":"fax"})"));
  EXPECT_EQ(failure_.issues.at(0).received, "fax");
}

TEST_F(PublicRequestTest, ANumberForANativeEnumIsReportedAsTheNumber) {
  std::string event, captcha;
  ASSERT_FALSE(parser_.ParseInteractionEvent("application/json",
                                             R"({"interactionEvent":3,"captchaToken":1})", &event,
                                             &captcha, &failure_));
  Json body = Body();
  ASSERT_TRUE(body.valid()) << body.error();
  EXPECT_EQ(body.Dump("/data/issues/0/received"), "3") << body.Dump();
  EXPECT_EQ(body.String("/data/issues/0/message"),
            "Invalid enum value. Expected 'SignIn' | 'Register' | 'ForgotPassword', received '3'");
  // Every failing key is reported, as zod does.
  EXPECT_EQ(body.String("/data/issues/1/path/0"), "captchaToken") << body.Dump();
}

TEST_F(PublicRequestTest, ReceivedValuesAreEscapedInTheBody) {
  ASSERT_FALSE(Send(R"({"identifierType":"a\"b\\c\n\u0001"})"));
  Json body = Body();
  ASSERT_TRUE(body.valid()) << body.error();
  EXPECT_EQ(body.String("/data/issues/0/received"), "a\"b\\c\n\x01");
}

// --- malformed JSON --------------------------------------------------------------------------

TEST_F(PublicRequestTest, MalformedJsonIsReportedWithItsOffset) {
  for (const char* text : {R"({"identifierType":"email")", R"({identifierType:"email"})",
                           R"({"identifierType":"email",})", "{'a':1}",
                           R"({"identifierType":"email"} x)", "[1,]", "[\"\\x\"]"}) {
    ASSERT_FALSE(Send(text)) << text;
    EXPECT_TRUE(failure_.malformed_json) << text;
    EXPECT_TRUE(failure_.issues.empty()) << text;
    EXPECT_NE(failure_.parse_error.find("(at byte "), std::string::npos) << failure_.parse_error;
    Json body = Body();
    EXPECT_EQ(body.Keys(), (std::vector<std::string>{"code", "details", "message"})) << text;
    EXPECT_EQ(body.String("/code"), "guard.invalid_input");
    EXPECT_EQ(body.String("/message"), "The request body is not valid JSON.");
    EXPECT_EQ(body.String("/details"), failure_.parse_error);
  }
}

TEST_F(PublicRequestTest, InvalidUtf8IsMalformed) {
  for (std::string text : {std::string("{\"identifierType\":\"email\",\"x\":\"\xff\xfe\"}"),
                           std::string("{\"identifierType\":\"\xc0\xaf\"}"),      // overlong '/'
                           std::string("{\"identifierType\":\"\xed\xa0\x80\"}"),  // raw surrogate
                           std::string("{\"identifierType\":\"\xe2\x82\"}")}) {   // truncated
    EXPECT_FALSE(Send(text));
    EXPECT_TRUE(failure_.malformed_json) << text;
  }
}

TEST_F(PublicRequestTest, NulBytesInsideTheDocumentAreMalformed) {
  EXPECT_FALSE(Send(std::string("{\"identifierType\":\"em\0ail\"}", 27)));
  EXPECT_TRUE(failure_.malformed_json);
  EXPECT_FALSE(Send(std::string("{\"identifierType\"\0:\"email\"}", 27)));
  EXPECT_TRUE(failure_.malformed_json);
}

TEST_F(PublicRequestTest, DeepNestingIsMalformedOrAnIssueWithoutExhaustingTheStack) {
  // Parsing is iterative: a million '[' is an ordinary parse error.
  ASSERT_FALSE(Send(std::string(1'000'000, '[')));
  EXPECT_TRUE(failure_.malformed_json);
  const std::string closed = std::string(100'000, '[') + std::string(100'000, ']');
  ASSERT_FALSE(Send(closed));
  EXPECT_FALSE(failure_.malformed_json);
  EXPECT_EQ(failure_.issues.at(0).received, "array");
  ASSERT_TRUE(Send(R"({"identifierType":"email","x":)" + closed + "}"));
}

TEST_F(PublicRequestTest, HugeNumbersAreNumbersOrMalformedNeverACrash) {
  ASSERT_FALSE(Verify(R"({"verificationId":123456789012345678901234567890,"code":1e308,)"
                      R"("identifierType":-1e-400})"));
  ASSERT_EQ(failure_.issues.size(), 3u);
  EXPECT_EQ(failure_.issues[0].received, "number");
  EXPECT_EQ(failure_.issues[1].received, "number");
  ASSERT_FALSE(Send(R"({"identifierType":1e999})"));  // out of double range
  EXPECT_TRUE(failure_.malformed_json);
}

TEST_F(PublicRequestTest, TheParserIsReusableAcrossRequests) {
  // One parser per worker thread: a failure must not leak into the next request.
  ASSERT_FALSE(Verify("{"));
  ASSERT_TRUE(Verify(R"({"verificationId":"a","code":"1","identifierType":"email"})"));
  EXPECT_TRUE(failure_.issues.empty());
  EXPECT_EQ(out_.verification_id, "a");
  ASSERT_FALSE(Send(std::string(5000, '[')));
  ASSERT_TRUE(Send(R"({"identifierType":"phone"})"));
  EXPECT_EQ(out_.type, IdentifierType::kPhone);
}

// --- regressions found by fuzzing (tests/fuzz/fuzz_public_request) ---------------------------

// fuzz_public_request, heap-use-after-free: ParseVerify's views point into the RapidJSON pool's
// heap chunks once the body outgrows the parser's 2 KB inline buffer, and those chunks are freed
// when ParseVerify returns. The public verify route then reads freed memory. Any long field does
// it; the allocations below reuse the freed memory so a build without ASan sees it too. (A
// number member makes these bodies take the full parse, not the in-place scan; the body itself
// must outlive the views, as the request's body does in the server.)
TEST_F(PublicRequestTest, RegressionVerifyViewsOfALargeBodyOutliveTheParse) {
  const std::string code(3000, '7');
  const std::string id(40, 'v');
  const std::string body = R"({"n":1,"verificationId":")" + id + R"(","code":")" + code +
                           R"(","identifierType":"email"})";
  ASSERT_TRUE(Verify(body));
  std::vector<std::string> churn;
  for (int i = 0; i < 8; ++i) churn.emplace_back(70 * 1024, 'X');
  EXPECT_EQ(out_.verification_id, id);
  EXPECT_TRUE(out_.code == code) << "the code view now reads \"" << out_.code.substr(0, 40)
                                 << "...\"";
}

TEST_F(PublicRequestTest, RegressionVerifyViewsAfterALargeIgnoredKey) {
  const std::string padding(5000, 'p');
  const std::string body =
      R"({"n":1,"padding":")" + padding +
      R"(","verificationId":"abcdefghijklmnopqrstuvwxyz0123456789","code":"123456",)"
      R"("identifierType":"email"})";
  ASSERT_TRUE(Verify(body));
  std::vector<std::string> churn;
  for (int i = 0; i < 8; ++i) churn.emplace_back(70 * 1024, 'X');
  EXPECT_EQ(out_.verification_id, "abcdefghijklmnopqrstuvwxyz0123456789");
  EXPECT_EQ(out_.code, "123456");
}

// The in-place scan's views point into the body: a large plain body, read after churn.
TEST_F(PublicRequestTest, PlainLargeBodyViewsStayValidWhileTheBodyLives) {
  const std::string code(3000, '7');
  const std::string body =
      R"({"verificationId":"v","code":")" + code + R"(","identifierType":"email"})";
  ASSERT_TRUE(Verify(body));
  std::vector<std::string> churn;
  for (int i = 0; i < 8; ++i) churn.emplace_back(70 * 1024, 'X');
  EXPECT_TRUE(out_.code == code);
}

// fuzz_public_request, invalid UTF-8 in the 400 body: RapidJSON 1.1 decodes a lone low surrogate
// escape ("\udc00") to the bytes ED B0 80, which are not UTF-8, and the invalid_enum_value issue
// echoes them back. Logto (JSON.stringify) answers "\udc00" as an escape.
TEST_F(PublicRequestTest, RegressionLoneSurrogateEchoedInTheGuardBodyIsStillUtf8) {
  ASSERT_FALSE(Send(R"({"identifierType":"\udc00"})"));
  EXPECT_TRUE(IsStrictJson(GuardFailureBody(failure_)));
  ASSERT_FALSE(Send(R"({"identifierType":"x\udfff"})", Profile::kLogto));
  EXPECT_TRUE(IsStrictJson(GuardFailureBody(failure_)));
}

// fuzz_public_request, invalid UTF-8 in the 400 body: a Content-Type header with bytes >= 0x80
// (HTTP allows obs-text) is copied verbatim into `details` by the non-JSON content type hint.
TEST_F(PublicRequestTest, RegressionNonUtf8ContentTypeEchoedInTheHintIsStillUtf8) {
  ASSERT_FALSE(
      Send(R"({"identifierType":"email"})", Profile::kDocumented, "text/plain; charset=\xff\xfe"));
  EXPECT_TRUE(IsStrictJson(GuardFailureBody(failure_)));
}

// --- found by review ----------------------------------------------------------------------------

// Trailing bytes after the JSON document make it malformed (Logto's JSON.parse rejects them).
// RapidJSON's length-bounded Parse treats a NUL byte as the end of input, so anything after a NUL
// following the document is silently ignored.
TEST_F(PublicRequestTest, RegressionBytesAfterANulFollowingTheDocumentAreMalformed) {
  const std::string body = std::string("{\"identifierType\":\"email\"}\0garbage", 34);
  EXPECT_FALSE(Send(body));
  EXPECT_TRUE(failure_.malformed_json);
  const std::string nul_only = std::string("{\"identifierType\":\"email\"}\0", 27);
  EXPECT_FALSE(Send(nul_only));
  EXPECT_TRUE(failure_.malformed_json);
}

}  // namespace
}  // namespace mfa
