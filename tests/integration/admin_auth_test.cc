// SPDX-License-Identifier: Apache-2.0
// --admin-token / MFA_MOCK_ADMIN_TOKEN: every /admin/* route requires the Bearer token.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"

namespace mfa_test {
namespace {

constexpr char kToken[] = "s3cret-Token_1";

struct AdminCall {
  const char* method;
  const char* target;
  const char* body;
};

// Every admin route of issue 2, with a body that would succeed.
const std::vector<AdminCall>& AllAdminCalls() {
  static const std::vector<AdminCall> calls = {
      {"POST", "/admin/verifications", R"({"identifierType":"email"})"},
      {"POST", "/admin/verifications/generate", R"({"count":1,"identifierType":"email"})"},
      {"GET", "/admin/verifications/export?format=csv", ""},
      {"GET", "/admin/verifications/some-id", ""},
      {"DELETE", "/admin/verifications/some-id", ""},
      {"DELETE", "/admin/verifications", ""},
      {"POST", "/admin/send", R"({"identifierType":"email","identifier":"a@b.c"})"},
      {"GET", "/admin/inbox", ""},
      {"GET", "/admin/inbox/latest?to=a%40b.c", ""},
      {"DELETE", "/admin/inbox", ""},
      {"GET", "/admin/config", ""},
      {"PATCH", "/admin/config", R"({"maxAttempts":1})"},
      {"GET", "/admin/stats", ""},
      {"POST", "/admin/clock/advance", R"({"seconds":1})"},
  };
  return calls;
}

class AdminAuthTest : public MockServerTest {
 public:
  static void SetUpTestSuite() { StartSharedServer({"--admin-token", kToken}, {}, kToken); }

 protected:
  // An admin client without the token.
  HttpClient Bare() { return HttpClient(server().process().admin_port()); }
};

TEST_F(AdminAuthTest, EveryAdminRouteWithoutTokenAnswers401AndDoesNothing) {
  HttpClient bare = Bare();
  for (const AdminCall& call : AllAdminCalls()) {
    HttpResponse r = bare.Request(call.method, call.target, call.body);
    EXPECT_TRUE(IsErrorCode(r, 401, kAdminUnauthorized)) << call.method << " " << call.target;
    EXPECT_TRUE(IsJsonContentType(r, /*strict=*/false)) << call.target;
  }
  // Nothing happened: no record, default config.
  Json config(server().AdminGet("/admin/config").body);
  EXPECT_EQ(config.Int("/maxAttempts"), kDefaultMaxAttempts);
  HttpResponse export_all = server().AdminGet("/admin/verifications/export?format=ndjson");
  ASSERT_TRUE(HasStatus(export_all, 200));
  EXPECT_EQ(export_all.body, "");
}

TEST_F(AdminAuthTest, WrongTokensAnswer401) {
  HttpClient bare = Bare();
  const std::string token(kToken);
  for (const std::string& value : std::vector<std::string>{
           "Bearer wrong", "Bearer " + token.substr(0, token.size() - 1), "Bearer " + token + "x",
           "Bearer", "Bearer ", token, "Basic " + token, "Bearer  " + token + " extra"}) {
    HttpResponse r = bare.Get("/admin/config", {{"Authorization", value}});
    EXPECT_TRUE(IsErrorCode(r, 401, kAdminUnauthorized)) << "Authorization: " << value;
  }
}

TEST_F(AdminAuthTest, RightTokenIsAccepted) {
  HttpClient bare = Bare();
  HttpResponse r = bare.Get("/admin/config", {{"Authorization", std::string("Bearer ") + kToken}});
  EXPECT_TRUE(HasStatus(r, 200));
  for (const AdminCall& call : AllAdminCalls()) {
    HttpResponse ok = server().admin().Request(call.method, call.target, call.body);
    ASSERT_TRUE(ok.ok()) << ok.error;
    EXPECT_NE(ok.status, 401) << call.method << " " << call.target << "\n" << ok.Describe();
  }
}

TEST_F(AdminAuthTest, HealthzStaysOpen) {
  HttpClient bare = Bare();
  HttpResponse r = bare.Get("/healthz");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json(r.body).String("/status"), "ok");
}

TEST_F(AdminAuthTest, PublicRoutesNeedNoToken) {
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
}

TEST(AdminTokenLengthTest, TokensOfAnyLengthAreAccepted) {
  for (size_t length : {1, 8, 9, 15, 16, 32, 64, 200}) {
    std::string token;
    for (size_t i = 0; i < length; ++i) token += "abcdefghijklmnopqrstuvwxyz0123456789-_"[i % 38];
    MockServer s;
    ASSERT_TRUE(s.Start({"--admin-token", token})) << s.error();
    HttpClient bare(s.process().admin_port());
    EXPECT_TRUE(HasStatus(bare.Get("/admin/config", {{"Authorization", "Bearer " + token}}), 200))
        << "token of " << length << " characters";
    EXPECT_TRUE(IsErrorCode(bare.Get("/admin/config", {{"Authorization", "Bearer " + token + "!"}}),
                            401, kAdminUnauthorized))
        << "token of " << length << " characters";
  }
}

class AdminAuthEnvTest : public MockServerTest {
 public:
  static void SetUpTestSuite() {
    StartSharedServer({}, {{"MFA_MOCK_ADMIN_TOKEN", "from-env"}}, "from-env");
  }
};

TEST_F(AdminAuthEnvTest, TokenFromEnvironmentIsRequired) {
  HttpClient bare(server().process().admin_port());
  EXPECT_TRUE(IsErrorCode(bare.Get("/admin/config"), 401, kAdminUnauthorized));
  EXPECT_TRUE(IsErrorCode(bare.Get("/admin/config", {{"Authorization", "Bearer wrong"}}), 401,
                          kAdminUnauthorized));
  EXPECT_TRUE(HasStatus(bare.Get("/admin/config", {{"Authorization", "Bearer from-env"}}), 200));
  EXPECT_TRUE(HasStatus(bare.Get("/healthz"), 200));
}

}  // namespace
}  // namespace mfa_test
