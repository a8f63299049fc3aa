// SPDX-License-Identifier: Apache-2.0
// GET/PATCH /admin/config, GET /admin/stats and the mock clock (issue 2 §3).

#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <string>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/test_values.h"

namespace mfa_test {
namespace {

class AdminConfigTest : public MockServerTest {
 protected:
  Json Config() {
    HttpResponse r = server().AdminGet("/admin/config");
    EXPECT_TRUE(HasStatus(r, 200));
    return Json(r.body);
  }
};

TEST_F(AdminConfigTest, DefaultsMatchTheSpec) {
  HttpResponse r = server().AdminGet("/admin/config");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_TRUE(IsJsonContentType(r, /*strict=*/false));
  Json c(r.body);
  EXPECT_EQ(c.String("/profile"), "documented");
  EXPECT_EQ(c.Int("/codeTtlSeconds"), kDefaultTtlSeconds);
  EXPECT_EQ(c.Int("/maxAttempts"), kDefaultMaxAttempts);
  EXPECT_EQ(c.Bool("/connectors/email"), true);
  EXPECT_EQ(c.Bool("/connectors/phone"), true);
  EXPECT_EQ(c.Int("/sendRateLimit/maxSends"), kDefaultMaxSends);
  EXPECT_EQ(c.Int("/sendRateLimit/windowSeconds"), kDefaultWindowSeconds);
  EXPECT_TRUE(c.IsNull("/fixedCode")) << r.body;
  EXPECT_EQ(c.String("/defaultUser/email"), std::string(kDefaultEmail));
  EXPECT_EQ(c.String("/defaultUser/phone"), std::string(kDefaultPhone));
  EXPECT_EQ(c.Bool("/defaultUser/identified"), true);
}

TEST_F(AdminConfigTest, PatchMergesASubsetAndLeavesTheRest) {
  HttpResponse r = server().PatchConfig(R"({"maxAttempts":3})");
  ASSERT_TRUE(HasStatus(r, 200));
  Json c = Config();
  EXPECT_EQ(c.Int("/maxAttempts"), 3);
  EXPECT_EQ(c.Int("/codeTtlSeconds"), kDefaultTtlSeconds);
  EXPECT_EQ(c.String("/profile"), "documented");
}

TEST_F(AdminConfigTest, PatchMergesNestedObjects) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"email":false}})"), 200));
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"defaultUser":{"phone":"+15550001111"}})"), 200));
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"sendRateLimit":{"windowSeconds":60}})"), 200));
  Json c = Config();
  EXPECT_EQ(c.Bool("/connectors/email"), false);
  EXPECT_EQ(c.Bool("/connectors/phone"), true);
  EXPECT_EQ(c.String("/defaultUser/phone"), "+15550001111");
  EXPECT_EQ(c.String("/defaultUser/email"), std::string(kDefaultEmail));
  EXPECT_EQ(c.Bool("/defaultUser/identified"), true);
  EXPECT_EQ(c.Int("/sendRateLimit/windowSeconds"), 60);
  EXPECT_EQ(c.Int("/sendRateLimit/maxSends"), kDefaultMaxSends);
}

TEST_F(AdminConfigTest, PatchOfEveryFieldIsReadBack) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"profile":"logto","codeTtlSeconds":90,)"
                                             R"("maxAttempts":7,"connectors":{"email":false,)"
                                             R"("phone":false},"sendRateLimit":{"maxSends":0,)"
                                             R"("windowSeconds":30},"fixedCode":"0042",)"
                                             R"("defaultUser":{"email":"e@x.io","phone":"+1",)"
                                             R"("identified":false}})"),
                        200));
  Json c = Config();
  EXPECT_EQ(c.String("/profile"), "logto");
  EXPECT_EQ(c.Int("/codeTtlSeconds"), 90);
  EXPECT_EQ(c.Int("/maxAttempts"), 7);
  EXPECT_EQ(c.Bool("/connectors/email"), false);
  EXPECT_EQ(c.Bool("/connectors/phone"), false);
  EXPECT_EQ(c.Int("/sendRateLimit/maxSends"), 0);
  EXPECT_EQ(c.Int("/sendRateLimit/windowSeconds"), 30);
  EXPECT_EQ(c.String("/fixedCode"), "0042");
  EXPECT_EQ(c.String("/defaultUser/email"), "e@x.io");
  EXPECT_EQ(c.String("/defaultUser/phone"), "+1");
  EXPECT_EQ(c.Bool("/defaultUser/identified"), false);
}

TEST_F(AdminConfigTest, InvalidPatchAnswers400AndChangesNothing) {
  const std::string before = Config().Dump();
  for (const char* body : {
           R"({"maxAttempts":0})",
           R"({"maxAttempts":"3"})",
           R"({"codeTtlSeconds":0})",
           R"({"codeTtlSeconds":-1})",
           R"({"codeTtlSeconds":1.5})",
           R"({"profile":"strict"})",
           R"({"profile":"Logto"})",
           R"({"fixedCode":"12ab"})",
           R"({"fixedCode":""})",
           R"({"fixedCode":123456})",
           R"({"connectors":{"email":"yes"}})",
           R"({"connectors":false})",
           R"({"sendRateLimit":{"maxSends":-1}})",
           R"({"sendRateLimit":{"windowSeconds":0}})",
           R"({"defaultUser":{"identified":"no"}})",
           R"({"defaultUser":{"email":5}})",
           R"({"maxAttempts":3,"profile":"bad"})",
           R"({"codeTtlSeconds":30,"connectors":{"email":false,"phone":"x"}})",
           R"([])",
           R"("config")",
       }) {
    HttpResponse r = server().PatchConfig(body);
    EXPECT_TRUE(IsErrorCode(r, 400, kAdminInvalidRequest)) << body;
    EXPECT_EQ(Config().Dump(), before) << "after " << body;
  }
}

TEST_F(AdminConfigTest, MalformedPatchAnswersInvalidJson) {
  const std::string before = Config().Dump();
  EXPECT_TRUE(IsErrorCode(server().PatchConfig(R"({"maxAttempts":)"), 400, kAdminInvalidJson));
  EXPECT_EQ(Config().Dump(), before);
}

TEST_F(AdminConfigTest, ChangesApplyToTheNextRequest) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"profile":"logto"})"), 200));
  EXPECT_TRUE(IsErrorCode(server().Send("Email"), 400, kInvalidInput));
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"profile":"documented"})"), 200));
  EXPECT_TRUE(HasStatus(server().Send("Email"), 200));
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"phone":false}})"), 200));
  EXPECT_TRUE(IsErrorCode(server().Send("phone"), 501, kConnectorNotFound));
}

TEST_F(AdminConfigTest, CodeTtlAppliesToSeededRecordsWithoutTtl) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"codeTtlSeconds":45})"), 200));
  Json rec = server().SeedOne(R"({"identifierType":"email"})");
  ASSERT_TRUE(rec.valid());
  HttpResponse full =
      server().AdminGet("/admin/verifications/" + rec.String("/verificationId").value_or(""));
  Json f(full.body);
  auto created = ParseRfc3339UtcMs(f.String("/createdAt").value_or(""));
  auto expires = ParseRfc3339UtcMs(f.String("/expiresAt").value_or(""));
  ASSERT_TRUE(created && expires) << full.body;
  EXPECT_NEAR(static_cast<double>(*expires - *created), 45000.0, 1000.0);
}

// Stats: "at least record count, shard count, inbox size" (names not fixed by the issue).
std::optional<int64_t> FindCounter(const Json& stats, std::string_view word) {
  for (const std::string& key : stats.Keys()) {
    if (ToLower(key).find(word) != std::string::npos) {
      if (auto v = stats.Int("/" + key)) return v;
    }
  }
  return std::nullopt;
}

TEST_F(AdminConfigTest, StatsReportRecordsShardsAndInbox) {
  ASSERT_TRUE(
      HasStatus(server().AdminPost("/admin/verifications", R"([{"identifierType":"email"},)"
                                                           R"({"identifierType":"phone"},)"
                                                           R"({"identifierType":"email"}])"),
                201));
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  ASSERT_TRUE(HasStatus(server().Send("phone"), 200));
  HttpResponse r = server().AdminGet("/admin/stats");
  ASSERT_TRUE(HasStatus(r, 200));
  Json stats(r.body);
  ASSERT_TRUE(stats.IsObject()) << r.body;
  EXPECT_EQ(FindCounter(stats, "record"), 5) << r.body;
  std::optional<int64_t> shards = FindCounter(stats, "shard");
  ASSERT_TRUE(shards) << r.body;
  EXPECT_GT(*shards, 0);
  EXPECT_EQ(*shards & (*shards - 1), 0) << "a power of two";
  EXPECT_EQ(FindCounter(stats, "inbox"), 2) << r.body;
}

TEST_F(AdminConfigTest, ClockAdvanceRejectsBadInput) {
  for (const char* body : {R"({"seconds":-5})", R"({"seconds":"5"})", R"({})"}) {
    HttpResponse r = server().AdminPost("/admin/clock/advance", body);
    EXPECT_TRUE(IsErrorCode(r, 400, kAdminInvalidRequest)) << body;
  }
}

class ShardsFlagTest : public MockServerTest {
 public:
  static void SetUpTestSuite() { StartSharedServer({"--shards", "8"}); }
};

TEST_F(ShardsFlagTest, StatsShowTheConfiguredShardCount) {
  HttpResponse r = server().AdminGet("/admin/stats");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(FindCounter(Json(r.body), "shard"), 8) << r.body;
}

}  // namespace
}  // namespace mfa_test
