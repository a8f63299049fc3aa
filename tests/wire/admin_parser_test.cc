// SPDX-License-Identifier: Apache-2.0
// Admin bodies and seed files -> domain requests (admin/admin_parser.h), without a server.

#include "wire/admin_parser.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <string>
#include <string_view>
#include <vector>

namespace mfa {
namespace {

::testing::AssertionResult IsStrictJson(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    return ::testing::AssertionFailure() << "not strict JSON (error " << doc.GetParseError()
                                         << " at byte " << doc.GetErrorOffset() << "): " << text;
  }
  return ::testing::AssertionSuccess();
}

// --- ParseSeedItems (POST /admin/verifications) -----------------------------------------------

struct SeedItemsResult {
  bool ok;
  std::vector<SeedItem> items;
  AdminParseError error;
};

SeedItemsResult SeedItems(std::string_view body) {
  SeedItemsResult r;
  r.ok = ParseSeedItems(body, &r.items, &r.error);
  return r;
}

TEST(ParseSeedItemsTest, OneObjectIsOneItemWithEveryField) {
  auto r = SeedItems(R"({"verificationId":"seed-1_A","code":"123456","identifierType":"phone",)"
                     R"("identifier":"+1 555 0100","ttlSeconds":60,"identified":false})");
  ASSERT_TRUE(r.ok) << r.error.message;
  ASSERT_EQ(r.items.size(), 1u);
  const SeedItem& item = r.items[0];
  EXPECT_EQ(item.verification_id, "seed-1_A");
  EXPECT_EQ(item.code, "123456");
  EXPECT_EQ(item.type, IdentifierType::kPhone);
  EXPECT_EQ(item.identifier, "+1 555 0100");
  EXPECT_EQ(item.ttl_seconds, 60u);
  EXPECT_FALSE(item.identified);
}

TEST(ParseSeedItemsTest, AbsentFieldsStayUnsetForThePolicyDefaults) {
  auto r = SeedItems(R"([{"identifierType":"email"},{"identifierType":"phone","code":"1"}])");
  ASSERT_TRUE(r.ok) << r.error.message;
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_FALSE(r.items[0].verification_id);
  EXPECT_FALSE(r.items[0].identifier);
  EXPECT_FALSE(r.items[0].code);
  EXPECT_FALSE(r.items[0].ttl_seconds);
  EXPECT_TRUE(r.items[0].identified);
  EXPECT_EQ(r.items[1].code, "1");
}

TEST(ParseSeedItemsTest, ItemErrorsNameTheIndex) {
  auto r = SeedItems(R"([{"identifierType":"email"},{"identifierType":"email","color":"red"}])");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.kind, AdminParseError::kInvalidRequest);
  EXPECT_EQ(r.error.message, "Item 1: unknown field \"color\".");

  r = SeedItems(R"({"code":"1"})");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.message, "Item 0: identifierType is required (\"email\" or \"phone\").");

  r = SeedItems(R"([1])");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.message, "Item 0: must be a JSON object.");
}

TEST(ParseSeedItemsTest, EmptyArrayEmptyBodyAndMalformedJson) {
  auto r = SeedItems("[]");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.kind, AdminParseError::kInvalidRequest);
  EXPECT_EQ(r.error.message, "The array is empty; send at least one item.");

  r = SeedItems(" \n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.kind, AdminParseError::kInvalidJson);

  for (std::string body : {std::string("[{]"), std::string("{\"identifierType\":\"\xff\"}"),
                           std::string(1'000'000, '['), std::string("[1e999]")}) {
    r = SeedItems(body);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.error.kind, AdminParseError::kInvalidJson) << body.substr(0, 40);
    EXPECT_EQ(r.error.message.rfind("The request body is not valid JSON: ", 0), 0u)
        << r.error.message;
  }
}

TEST(ParseSeedItemsTest, FieldRules) {
  struct Case {
    std::string field;
    bool ok;
  };
  const std::string id64(64, 'a'), code64(64, '9'), addr254(254, 'x');
  for (const Case& c : std::vector<Case>{
           {R"("verificationId":")" + id64 + '"', true},
           {R"("verificationId":")" + id64 + "a\"", false},
           {R"("verificationId":"")", false},
           {R"("verificationId":"a.b")", false},
           {R"("verificationId":7)", false},
           {R"("code":")" + code64 + '"', true},
           {R"("code":")" + code64 + "9\"", false},
           {R"("code":"")", false},
           {R"("code":"12\n3")", false},
           {R"("code":"12\u007f")", false},
           {R"("code":123456)", false},
           {R"("identifier":")" + addr254 + '"', true},
           {R"("identifier":")" + addr254 + "x\"", false},
           {R"("identifier":"")", false},
           {R"("identifier":"a\tb")", false},
           {R"("ttlSeconds":1)", true},
           {R"("ttlSeconds":315360000)", true},
           {R"("ttlSeconds":315360001)", false},
           {R"("ttlSeconds":0)", false},
           {R"("ttlSeconds":-5)", false},
           {R"("ttlSeconds":1.5)", false},
           {R"("ttlSeconds":"60")", false},
           {R"("ttlSeconds":18446744073709551616)", false},
           {R"("identified":true)", true},
           {R"("identified":1)", false},
           {R"("identifierType":"Email")", false},
       }) {
    const std::string body = R"({"identifierType":"email",)" + c.field + "}";
    auto r = SeedItems(body);
    EXPECT_EQ(r.ok, c.ok) << body << " -> " << r.error.message;
    if (!r.ok) {
      EXPECT_EQ(r.error.message.rfind("Item 0: ", 0), 0u) << r.error.message;
    }
  }
}

// --- the other admin bodies ---------------------------------------------------------------------

TEST(AdminBodiesTest, GenerateSpec) {
  GenerateSpec spec;
  AdminParseError error;
  ASSERT_TRUE(ParseGenerateSpec(
      R"({"count":10000000,"identifierType":"phone","identifier":"+1555{n}","code":"000000",)"
      R"("ttlSeconds":30})",
      &spec, &error))
      << error.message;
  EXPECT_EQ(spec.count, 10'000'000u);
  EXPECT_EQ(spec.type, IdentifierType::kPhone);
  EXPECT_TRUE(spec.derived);
  EXPECT_FALSE(
      ParseGenerateSpec(R"({"count":1000000001,"identifierType":"email"})", &spec, &error));
  EXPECT_EQ(error.message, "count must be an integer from 1 to 1000000000.");
  EXPECT_FALSE(ParseGenerateSpec(R"({"count":0,"identifierType":"email"})", &spec, &error));
  EXPECT_FALSE(ParseGenerateSpec(R"({"identifierType":"email"})", &spec, &error));
  EXPECT_EQ(error.message, "count is required (1 to 1000000000).");
  EXPECT_FALSE(ParseGenerateSpec(R"({"count":1})", &spec, &error));
  EXPECT_EQ(error.message, "identifierType is required (\"email\" or \"phone\").");
  EXPECT_FALSE(ParseGenerateSpec("[]", &spec, &error));
  EXPECT_EQ(error.message, "The body must be a JSON object.");
}

TEST(AdminBodiesTest, GenerateSpecChoosesDerivedOrStoredRecords) {
  GenerateSpec spec;
  AdminParseError error;
  ASSERT_TRUE(ParseGenerateSpec(R"({"count":1000000000,"identifierType":"email"})", &spec, &error))
      << error.message;
  EXPECT_TRUE(spec.derived);
  EXPECT_EQ(spec.count, 1'000'000'000u);
  GenerateSpec stored;
  ASSERT_TRUE(ParseGenerateSpec(R"({"count":10000000,"identifierType":"email","derived":false})",
                                &stored, &error))
      << error.message;
  EXPECT_FALSE(stored.derived);
  EXPECT_FALSE(ParseGenerateSpec(R"({"count":10000001,"identifierType":"email","derived":false})",
                                 &stored, &error));
  EXPECT_EQ(error.message, "count must be at most 10000000 when derived is false.");
  EXPECT_FALSE(
      ParseGenerateSpec(R"({"count":1,"identifierType":"email","derived":"no"})", &stored, &error));
  EXPECT_EQ(error.message, "derived must be true or false.");
}

TEST(AdminBodiesTest, AdminSend) {
  IdentifierType type;
  std::string identifier;
  AdminParseError error;
  ASSERT_TRUE(ParseAdminSend(R"({"identifierType":"email","identifier":"a@b.c"})", &type,
                             &identifier, &error));
  EXPECT_EQ(type, IdentifierType::kEmail);
  EXPECT_EQ(identifier, "a@b.c");
  EXPECT_FALSE(ParseAdminSend(R"({"identifierType":"email"})", &type, &identifier, &error));
  EXPECT_EQ(error.message, "identifier is required.");
  EXPECT_FALSE(ParseAdminSend(R"({"identifierType":"email","identifier":"a","x":1})", &type,
                              &identifier, &error));
  EXPECT_EQ(error.message, "unknown field \"x\".");
}

TEST(AdminBodiesTest, ClockAdvance) {
  int64_t seconds = -1;
  AdminParseError error;
  ASSERT_TRUE(ParseClockAdvance(R"({"seconds":0})", &seconds, &error));
  EXPECT_EQ(seconds, 0);
  ASSERT_TRUE(ParseClockAdvance(R"({"seconds":3153600000})", &seconds, &error));
  for (const char* body : {R"({"seconds":3153600001})", R"({"seconds":-1})", R"({"seconds":1.5})",
                           R"({"seconds":1,"x":2})", R"({})", "[]", R"({"seconds":"1"})"}) {
    EXPECT_FALSE(ParseClockAdvance(body, &seconds, &error)) << body;
  }
  EXPECT_EQ(error.message, "Send {\"seconds\": N} with N a non-negative integer.");
}

// --- ApplyConfigPatch (PATCH /admin/config) -----------------------------------------------------

class ConfigPatchTest : public ::testing::Test {
 protected:
  bool Patch(std::string_view body) {
    error_ = AdminParseError{};
    return ApplyConfigPatch(body, &config_, &error_);
  }
  // Rejected, and the config is exactly what it was.
  ::testing::AssertionResult Rejected(std::string_view body) {
    const std::string before = ConfigToJson(config_);
    if (Patch(body)) return ::testing::AssertionFailure() << "accepted: " << body;
    if (ConfigToJson(config_) != before) {
      return ::testing::AssertionFailure()
             << "config changed by a rejected patch " << body << ": " << ConfigToJson(config_);
    }
    if (error_.message.empty()) return ::testing::AssertionFailure() << "no message: " << body;
    return ::testing::AssertionSuccess();
  }

  Config config_;
  AdminParseError error_;
};

TEST_F(ConfigPatchTest, EmptyPatchChangesNothing) {
  const std::string before = ConfigToJson(config_);
  ASSERT_TRUE(Patch("{}")) << error_.message;
  EXPECT_EQ(ConfigToJson(config_), before);
}

TEST_F(ConfigPatchTest, TopLevelFields) {
  ASSERT_TRUE(Patch(R"({"profile":"logto","codeTtlSeconds":60,"maxAttempts":3})"))
      << error_.message;
  EXPECT_EQ(config_.profile, Profile::kLogto);
  EXPECT_EQ(config_.code_ttl_seconds, 60u);
  EXPECT_EQ(config_.max_attempts, 3u);
}

TEST_F(ConfigPatchTest, NestedObjectsMergeKeyByKey) {
  ASSERT_TRUE(Patch(R"({"connectors":{"phone":false}})")) << error_.message;
  EXPECT_TRUE(config_.email_connector);
  EXPECT_FALSE(config_.phone_connector);

  ASSERT_TRUE(Patch(R"({"sendRateLimit":{"windowSeconds":60}})")) << error_.message;
  EXPECT_EQ(config_.send_rate_limit.max_sends, 10u);
  EXPECT_EQ(config_.send_rate_limit.window_seconds, 60u);

  ASSERT_TRUE(Patch(R"({"defaultUser":{"email":"x@y.z"}})")) << error_.message;
  EXPECT_EQ(config_.default_user.email, "x@y.z");
  EXPECT_EQ(config_.default_user.phone, "+15555550100");
  EXPECT_TRUE(config_.default_user.identified);
}

TEST_F(ConfigPatchTest, NullClearsFixedCodeAndAddresses) {
  ASSERT_TRUE(Patch(R"({"fixedCode":"000123"})")) << error_.message;
  EXPECT_EQ(config_.fixed_code, "000123");
  ASSERT_TRUE(Patch(R"({"fixedCode":null,"defaultUser":{"email":null,"phone":""}})"))
      << error_.message;
  EXPECT_FALSE(config_.fixed_code);
  EXPECT_EQ(config_.default_user.email, "");
  EXPECT_EQ(config_.default_user.phone, "");
}

TEST_F(ConfigPatchTest, RejectionsLeaveTheConfigUnchanged) {
  ASSERT_TRUE(Patch(R"({"maxAttempts":5,"fixedCode":"42"})"));
  for (const char* body : {
           R"({"profile":"Logto"})",
           R"({"profile":null})",
           R"({"codeTtlSeconds":0})",
           R"({"codeTtlSeconds":315360001})",
           R"({"maxAttempts":1001})",
           R"({"maxAttempts":-1})",
           R"({"maxAttempts":2.5})",
           R"({"maxAttempts":"3"})",
           R"({"maxAttempts":4294967296})",
           R"({"maxAttempts":1e400})",
           R"({"connectors":{"email":1}})",
           R"({"connectors":{"fax":true}})",
           R"({"connectors":true})",
           R"({"sendRateLimit":{"maxSends":100001}})",
           R"({"sendRateLimit":{"windowSeconds":0}})",
           R"({"fixedCode":"12a"})",
           R"({"fixedCode":""})",
           R"({"fixedCode":123})",
           R"({"fixedCode":"123456789012345678901234567890123"})",
           R"({"defaultUser":{"email":7}})",
           R"({"defaultUser":{"phone":"+1\n5"}})",
           R"({"defaultUser":{"identified":"yes"}})",
           R"({"defaultUser":{"name":"x"}})",
           R"({"unknown":1})",
           // A valid change followed by an invalid one: nothing is applied.
           R"({"profile":"logto","maxAttempts":0})",
           R"({"connectors":{"email":false,"phone":"no"}})",
           "[]",
           "",
           "{",
       }) {
    EXPECT_TRUE(Rejected(body)) << body;
  }
  EXPECT_EQ(config_.max_attempts, 5u);
  EXPECT_EQ(config_.fixed_code, "42");
}

TEST_F(ConfigPatchTest, ErrorsNameTheField) {
  ASSERT_FALSE(Patch(R"({"connectors":{"fax":true}})"));
  EXPECT_EQ(error_.message, "unknown field \"connectors.fax\".");
  ASSERT_FALSE(Patch(R"({"sendRateLimit":{"maxSends":-1}})"));
  EXPECT_EQ(error_.message, "sendRateLimit.maxSends must be a non-negative integer.");
  ASSERT_FALSE(Patch(R"({"maxAttempts":0})"));
  EXPECT_EQ(error_.message, "maxAttempts must be between 1 and 1000.");
  ASSERT_FALSE(Patch("{"));
  EXPECT_EQ(error_.kind, AdminParseError::kInvalidJson);
}

TEST_F(ConfigPatchTest, GetConfigRoundTripsThroughPatch) {
  ASSERT_TRUE(Patch(R"({"profile":"logto","fixedCode":"9","connectors":{"email":false},)"
                    R"("defaultUser":{"email":"Ann \"A\" <a@b.c>","identified":false}})"))
      << error_.message;
  const std::string json = ConfigToJson(config_);
  EXPECT_TRUE(IsStrictJson(json));
  Config rebuilt;
  AdminParseError error;
  ASSERT_TRUE(ApplyConfigPatch(json, &rebuilt, &error)) << error.message;
  EXPECT_EQ(ConfigToJson(rebuilt), json);
}

// fuzz_config_patch, invalid UTF-8 in GET /admin/config: RapidJSON 1.1 decodes a lone low
// surrogate escape ("\udc00") to the bytes ED B0 80 (not UTF-8, although the parse validates
// encoding), PatchAddress accepts them, and ConfigToJson then emits a body no strict client can
// decode; PATCHing that body back fails with "Invalid encoding in string".
TEST_F(ConfigPatchTest, RegressionLoneSurrogateInAnAddressKeepsGetConfigUtf8) {
  if (Patch(R"({"defaultUser":{"email":"\udc00@example.com"}})")) {
    const std::string json = ConfigToJson(config_);
    EXPECT_TRUE(IsStrictJson(json));
    Config rebuilt;
    AdminParseError error;
    EXPECT_TRUE(ApplyConfigPatch(json, &rebuilt, &error)) << error.message;
  }
}

// --- ParseSeedFile (--seed FILE) ----------------------------------------------------------------

struct SeedFileResult {
  bool ok;
  std::vector<SeedItem> items;
  std::vector<size_t> lines;
  std::string error;
};

SeedFileResult SeedFile(std::string_view content) {
  SeedFileResult r;
  r.ok = ParseSeedFile(content, &r.items, &r.error, &r.lines);
  return r;
}

TEST(ParseSeedFileTest, EmptyFileSeedsNothing) {
  for (const char* content : {"", "\n\n", " \r\n\t"}) {
    auto r = SeedFile(content);
    EXPECT_TRUE(r.ok) << r.error;
    EXPECT_TRUE(r.items.empty());
  }
}

TEST(ParseSeedFileTest, CsvWithLineNumbers) {
  auto r = SeedFile(
      "verificationId,code,identifierType,identifier,ttlSeconds\n"
      "seed-1,123456,email,a@example.com,600\n"
      "\n"
      "seed-2,000001,phone,,60\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.lines, (std::vector<size_t>{2, 4}));
  EXPECT_EQ(r.items[0].verification_id, "seed-1");
  EXPECT_EQ(r.items[0].code, "123456");
  EXPECT_EQ(r.items[0].identifier, "a@example.com");
  EXPECT_EQ(r.items[0].ttl_seconds, 600u);
  EXPECT_EQ(r.items[1].type, IdentifierType::kPhone);
  EXPECT_EQ(r.items[1].code, "000001");  // leading zeros kept: a code is text
  EXPECT_FALSE(r.items[1].identifier);   // an empty identifier takes the default user's
}

TEST(ParseSeedFileTest, CsvCrlfAndColumnsInAnyOrder) {
  auto r = SeedFile("identifierType,code,verificationId\r\nphone,42,b\r\nemail,43,c");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.items[0].verification_id, "b");
  EXPECT_EQ(r.items[0].code, "42");
  EXPECT_EQ(r.items[1].code, "43");  // no newline at the end of the file
  EXPECT_EQ(r.lines, (std::vector<size_t>{2, 3}));
}

TEST(ParseSeedFileTest, CsvQuoting) {
  auto r = SeedFile(
      "verificationId,code,identifierType,identifier\n"
      "\"q-1\",\"12,34\",email,\"Ann \"\"the admin\"\" <a@example.com>\"\n"
      "q-2,\"\"\"\",phone,x\"y\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.items[0].verification_id, "q-1");
  EXPECT_EQ(r.items[0].code, "12,34");
  EXPECT_EQ(r.items[0].identifier, "Ann \"the admin\" <a@example.com>");
  EXPECT_EQ(r.items[1].code, "\"");
  EXPECT_EQ(r.items[1].identifier, "x\"y");  // a quote inside an unquoted field is literal
}

TEST(ParseSeedFileTest, CsvErrorsNameTheLine) {
  // Each error starts with "line N: " and then says what to fix.
  struct Case {
    const char* content;
    const char* error_prefix;
  };
  for (const Case& c : {
           Case{"id,code,type\n", "line 1: unknown CSV column \"id\" (expected verificationId,"},
           Case{"\n\nverificationId,code\n",
                "line 3: the CSV header must name verificationId, code and identifierType"},
           Case{"verificationId,code,identifierType\na,1\n", "line 2: expected 3 fields, found 2."},
           Case{"verificationId,code,identifierType\na,1,email\n\nb,\"2,email\n",
                "line 4: unterminated quoted field."},
           Case{"verificationId,code,identifierType,ttlSeconds\na,1,email,1h\n",
                "line 2: ttlSeconds must be a positive integer."},
           Case{"verificationId,code,identifierType\nx,1,fax\n",
                "line 2: identifierType must be \"email\" or \"phone\"."},
           Case{"verificationId,code,identifierType\na.b,1,email\n",
                "line 2: verificationId must be 1-64 characters of [A-Za-z0-9_-]."},
       }) {
    auto r = SeedFile(c.content);
    EXPECT_FALSE(r.ok) << c.content;
    EXPECT_EQ(r.error.rfind(c.error_prefix, 0), 0u) << c.content << " -> " << r.error;
  }
}

TEST(ParseSeedFileTest, CsvEmptyOptionalCellsTakeTheDefaults) {
  auto r = SeedFile("verificationId,code,identifierType,identifier,ttlSeconds\na,1,email,,\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_FALSE(r.items[0].identifier);
  EXPECT_FALSE(r.items[0].ttl_seconds);
}

TEST(ParseSeedFileTest, CsvTtlOutOfRangeIsAnError) {
  auto r = SeedFile("verificationId,code,identifierType,ttlSeconds\na,1,email,9999999999\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("line 2: ttlSeconds must be an integer from 1 to ", 0), 0u) << r.error;
  r = SeedFile("verificationId,code,identifierType,ttlSeconds\na,1,email,0\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("line 2: ttlSeconds", 0), 0u) << r.error;
}

TEST(ParseSeedFileTest, CsvInvalidUtf8AndControlCharacters) {
  auto r = SeedFile("verificationId,code,identifierType\na,\xff\xfe,email\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("line 2: ", 0), 0u) << r.error;
  r =
      SeedFile(std::string("verificationId,code,identifierType\na,1\0"
                           "2,email\n",
                           45));
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error, "line 2: code must be a string of 1-64 printable characters.");
}

TEST(ParseSeedFileTest, NdjsonWithLineNumbers) {
  auto r = SeedFile(
      "{\"verificationId\":\"n1\",\"code\":\"1\",\"identifierType\":\"email\"}\n"
      "\n"
      "   \n"
      "{\"verificationId\":\"n2\",\"identifierType\":\"phone\",\"identified\":false}\r\n");
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.lines, (std::vector<size_t>{1, 4}));
  EXPECT_FALSE(r.items[1].identified);
}

TEST(ParseSeedFileTest, NdjsonErrorsNameTheLine) {
  auto r = SeedFile(
      "{\"identifierType\":\"email\"}\n"
      "\n"
      "{\"identifierType\":\"email\",\"code\":1}\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error, "line 3: code must be a string of 1-64 printable characters.");

  r = SeedFile("{\"identifierType\":\"email\"}\n{\"identifierType\":\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("line 2: not valid JSON: ", 0), 0u) << r.error;

  r = SeedFile("{\"identifierType\":\"email\"}\n[1]\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error, "line 2: must be a JSON object.");

  r = SeedFile("{\"identifierType\":\"email\"}\n" + std::string(100'000, '[') + "\n");
  ASSERT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("line 2: not valid JSON: ", 0), 0u) << r.error.substr(0, 80);
}

// --- found by review
// ------------------------------------------------------------------------------

// A CSV ttlSeconds with a leading zero ("0600") passes the digits check, is pasted into JSON as a
// number and fails to parse there, so the line is rejected as "invalid characters." instead of
// being read as 600 or rejected with a message naming ttlSeconds.
TEST(ParseSeedFileTest, CsvTtlWithALeadingZeroIsReadOrNamed) {
  auto r = SeedFile("verificationId,code,identifierType,ttlSeconds\na,1,email,0600\n");
  if (r.ok) {
    ASSERT_EQ(r.items.size(), 1u);
    EXPECT_EQ(r.items[0].ttl_seconds, 600u);
  } else {
    EXPECT_EQ(r.error.rfind("line 2: ttlSeconds", 0), 0u) << r.error;
  }
}

// fuzz_admin_seed (CSV round trip): a lone low surrogate escape in an NDJSON or JSON seed item is
// decoded by RapidJSON 1.1 to the bytes ED B0 80, which are not UTF-8; the seeded code is then
// echoed in JSON (GET /admin/verifications, the inbox) that strict clients cannot decode.
TEST(ParseSeedItemsTest, RegressionLoneSurrogateIsNotSeededAsInvalidUtf8) {
  auto r = SeedItems(R"({"identifierType":"email","code":"\udc00"})");
  if (r.ok) {
    ASSERT_EQ(r.items.size(), 1u);
    std::string json = "\"" + r.items[0].code.value_or("") + "\"";
    EXPECT_TRUE(IsStrictJson(json));
  }
}

// POST /connectors/http-*: what @logto/connector-http-email and -sms post.
TEST(ParseConnectorMessageTest, ReadsWhatLogtosConnectorsSend) {
  InboxMessage m;
  AdminParseError error;
  ASSERT_TRUE(ParseConnectorMessage(
      R"({"to":"a@example.com","type":"MfaVerification","payload":{"code":"012345","locale":"en",)"
      R"("application":{"id":"x"}},"ip":"203.0.113.7","later":[1]})",
      IdentifierType::kEmail, &m, &error))
      << error.message;
  EXPECT_EQ(m.type, IdentifierType::kEmail);
  EXPECT_EQ(m.to, "a@example.com");
  EXPECT_EQ(m.code, "012345");
  EXPECT_EQ(m.template_type, "MfaVerification");
  EXPECT_TRUE(m.verification_id.empty());
}

TEST(ParseConnectorMessageTest, APayloadWithoutACodeLeavesItEmpty) {
  InboxMessage m;
  AdminParseError error;
  ASSERT_TRUE(ParseConnectorMessage(
      R"({"to":"+15555550123","type":"OrganizationInvitation","payload":{"link":"https://x"}})",
      IdentifierType::kPhone, &m, &error));
  EXPECT_EQ(m.type, IdentifierType::kPhone);
  EXPECT_TRUE(m.code.empty());
}

TEST(ParseConnectorMessageTest, BadBodiesNameWhatToFix) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "empty"},
      {"[1]", "The body must be a JSON object."},
      {R"({"type":"SignIn","payload":{}})", "to is required: the recipient."},
      {R"({"to":"a@b.c","payload":{}})", "type is required: Logto's template type."},
      {R"({"to":"a@b.c","type":"SignIn"})", "payload is required (an object)."},
      {R"({"to":"a\u0001","type":"SignIn","payload":{}})", "to must be"},
      {R"({"to":")" + std::string(255, 'a') + R"(","type":"SignIn","payload":{}})", "to must be"},
      {R"({"to":"a@b.c","type":"","payload":{}})", "type must be"},
      {R"({"to":"a@b.c","type":")" + std::string(65, 'A') + R"(","payload":{}})", "type must be"},
      {R"({"to":"a@b.c","type":"SignIn","payload":[]})", "payload must be an object"},
      {R"({"to":"a@b.c","type":"SignIn","payload":{"code":""}})", "payload.code must be"},
      {R"({"to":"a@b.c","type":"SignIn","payload":{"code":")" + std::string(65, '1') + R"("}})",
       "payload.code must be"},
      {R"({"to":"a@b.c","type":"SignIn","payload":{},"ip":null})", "ip must be a string."},
  };
  for (const auto& [body, message] : cases) {
    InboxMessage m;
    AdminParseError error;
    EXPECT_FALSE(ParseConnectorMessage(body, IdentifierType::kEmail, &m, &error)) << body;
    EXPECT_NE(error.message.find(message), std::string::npos) << body << " -> " << error.message;
  }
  InboxMessage m;
  AdminParseError error;
  EXPECT_FALSE(ParseConnectorMessage("{", IdentifierType::kEmail, &m, &error));
  EXPECT_EQ(error.kind, AdminParseError::kInvalidJson);
}

}  // namespace
}  // namespace mfa
