// SPDX-License-Identifier: Apache-2.0
// POST /connectors/http-email and /connectors/http-sms: what a real Logto's HTTP connectors
// (@logto/connector-http-email, -sms) post, kept in the inbox; their Authorization rules. The
// same against the real npm packages: tests/connectors/.
#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/wait.h"

namespace mfa_test {
namespace {

constexpr char kEmailPath[] = "/connectors/http-email";
constexpr char kSmsPath[] = "/connectors/http-sms";

// What @logto/connector-http-email 0.4 posts for an MFA code (Logto core's passcode library adds
// the interaction's context to the payload).
std::string LogtoBody(std::string_view to, std::string_view type, std::string_view code) {
  return R"({"to":")" + std::string(to) + R"(","type":")" + std::string(type) +
         R"(","payload":{"code":")" + std::string(code) +
         R"(","locale":"en","uiLocales":"en fr","application":{"id":"app1","name":"Demo"}},)"
         R"("ip":"203.0.113.7"})";
}

size_t InboxSize(MockServer& server) {
  return Json(server.AdminGet("/admin/inbox").body).Size("/messages").value_or(999);
}

int64_t WaitersOf(MockServer& server) {
  return Json(server.AdminGet("/admin/stats").body).Int("/inboxWaiters").value_or(-1);
}

class HttpConnectorsTest : public MockServerTest {};

TEST_F(HttpConnectorsTest, AnEmailFromLogtoLandsInTheInboxWithItsTemplate) {
  const HttpResponse r =
      admin().Post(kEmailPath, LogtoBody("Alice@Example.com", "MfaVerification", "012345"),
                   {{"Content-Type", "application/json"}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_TRUE(IsJsonContentType(r));
  const Json answered(r.body);
  EXPECT_EQ(answered.String("/channel"), "email");
  EXPECT_EQ(answered.String("/to"), "Alice@Example.com");
  EXPECT_EQ(answered.String("/code"), "012345");  // the leading zero stays
  EXPECT_EQ(answered.String("/template"), "MfaVerification");
  EXPECT_TRUE(answered.IsNull("/verificationId"));
  EXPECT_EQ(answered.String("/state"), "external");
  EXPECT_GT(answered.Int("/cursor").value_or(0), 0);

  const Json listed(server().AdminGet("/admin/inbox?to=alice%40example.com").body);
  ASSERT_EQ(listed.Size("/messages"), 1u) << listed.Dump();
  EXPECT_EQ(listed.Dump("/messages/0"), answered.Dump());
}

TEST_F(HttpConnectorsTest, AnSmsKeepsLogtosTemplateTypeAndItsChannel) {
  const HttpResponse r = admin().Post(kSmsPath, LogtoBody("+1 555 010 0199", "SignIn", "777001"));
  ASSERT_EQ(r.status, 200) << r.Describe();
  const Json message(server().AdminGet("/admin/inbox/latest?channel=sms").body);
  EXPECT_EQ(message.String("/channel"), "sms");
  EXPECT_EQ(message.String("/to"), "+1 555 010 0199");
  EXPECT_EQ(message.String("/code"), "777001");
  EXPECT_EQ(message.String("/template"), "SignIn");
  EXPECT_EQ(message.String("/state"), "external");
  // Phones match by digits, as for the mock's own sends.
  EXPECT_EQ(Json(server().AdminGet("/admin/inbox/latest?to=%2B15550100199").body).String("/code"),
            "777001");
  EXPECT_EQ(server().AdminGet("/admin/inbox/latest?channel=email").status, 404);
}

TEST_F(HttpConnectorsTest, ATestWaitingForTheCodeIsAnsweredWhenLogtoPostsIt) {
  const uint64_t head = static_cast<uint64_t>(
      Json(server().AdminGet("/admin/inbox?limit=1").body).Int("/messages/0/cursor").value_or(0));
  auto waiting = std::async(std::launch::async, [client = server().NewAdminClient(), head] {
    return client->Get("/admin/inbox/latest?to=waiter%40example.com&wait=30&after=" +
                       std::to_string(head));
  });
  ASSERT_TRUE(WaitFor("the waiter registered", [&] { return WaitersOf(server()) == 1; }));
  ASSERT_EQ(admin().Post(kEmailPath, LogtoBody("other@example.com", "SignIn", "111111")).status,
            200);
  ASSERT_EQ(admin().Post(kEmailPath, LogtoBody("waiter@example.com", "SignIn", "424242")).status,
            200);
  const HttpResponse answered = waiting.get();
  ASSERT_EQ(answered.status, 200) << answered.Describe();
  EXPECT_EQ(Json(answered.body).String("/code"), "424242");
  EXPECT_EQ(Json(answered.body).String("/template"), "SignIn");
}

TEST_F(HttpConnectorsTest, AMessageWithoutACodeIsKeptWithANullCode) {
  // An organization invitation carries a link, not a code.
  const HttpResponse r = admin().Post(
      kEmailPath,
      R"({"to":"invitee@example.com","type":"OrganizationInvitation","payload":{"link":"https://x.example/i/1"}})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_TRUE(Json(r.body).IsNull("/code"));
  EXPECT_EQ(Json(r.body).String("/template"), "OrganizationInvitation");
}

TEST_F(HttpConnectorsTest, MembersLogtoMayAddAreIgnored) {
  const HttpResponse r = admin().Post(
      kEmailPath,
      R"({"to":"a@example.com","type":"BindMfa","payload":{"code":"5","extra":[1,{"x":null}]},)"
      R"("futureMember":{"y":2}})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(Json(r.body).String("/code"), "5");
}

TEST_F(HttpConnectorsTest, BadBodiesAnswer400AndAddNothing) {
  struct Case {
    const char* body;
    std::string_view code;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"", kAdminInvalidJson, "empty"},
      {"{\"to\":", kAdminInvalidJson, "not valid JSON"},
      {"[]", kAdminInvalidRequest, "JSON object"},
      {R"({"type":"SignIn","payload":{"code":"1"}})", kAdminInvalidRequest, "to is required"},
      {R"({"to":"a@b.c","payload":{"code":"1"}})", kAdminInvalidRequest, "type is required"},
      {R"({"to":"a@b.c","type":"SignIn"})", kAdminInvalidRequest, "payload is required"},
      {R"({"to":"","type":"SignIn","payload":{}})", kAdminInvalidRequest, "to must be"},
      {R"({"to":7,"type":"SignIn","payload":{}})", kAdminInvalidRequest, "to must be"},
      {R"({"to":"a@b.c","type":"Sign In","payload":{}})", kAdminInvalidRequest, "type must be"},
      {R"({"to":"a@b.c","type":"SignIn","payload":"123456"})", kAdminInvalidRequest,
       "payload must be an object"},
      {R"({"to":"a@b.c","type":"SignIn","payload":{"code":123456}})", kAdminInvalidRequest,
       "payload.code must be"},
      {R"({"to":"a@b.c","type":"SignIn","payload":{"code":"1"},"ip":5})", kAdminInvalidRequest,
       "ip must be a string"},
  };
  for (const Case& c : cases) {
    for (const char* path : {kEmailPath, kSmsPath}) {
      const HttpResponse r = admin().Post(path, c.body);
      EXPECT_TRUE(IsErrorCode(r, 400, c.code)) << path << " " << c.body;
      EXPECT_NE(Json(r.body).String("/message").value_or("").find(c.message_part),
                std::string::npos)
          << c.body << " -> " << r.body;
    }
  }
  EXPECT_EQ(InboxSize(server()), 0u);
}

TEST_F(HttpConnectorsTest, ABodyOver64KiBAnswers413) {
  const std::string padding(64 * 1024, 'x');
  const HttpResponse r =
      admin().Post(kEmailPath, R"({"to":"a@b.c","type":"SignIn","payload":{"code":"1","pad":")" +
                                   padding + "\"}}");
  EXPECT_TRUE(IsErrorCode(r, 413, kAdminBodyTooLarge)) << r.Describe();
  EXPECT_EQ(InboxSize(server()), 0u);
}

TEST_F(HttpConnectorsTest, OnlyPostIsRouted) {
  EXPECT_TRUE(IsErrorCode(admin().Get(kEmailPath), 405, kAdminMethodNotAllowed));
}

// --connector-authorization: the connector routes require exactly that value, and the admin
// token neither opens them nor is opened by it.
constexpr char kAdminToken[] = "admin-Token_9";
constexpr char kConnectorAuth[] = "Bearer logto-connector-s3cret";

class ConnectorAuthorizationTest : public MockServerTest {
 public:
  static void SetUpTestSuite() {
    StartSharedServer({"--admin-token", kAdminToken, "--connector-authorization", kConnectorAuth},
                      {}, kAdminToken);
  }

 protected:
  HttpClient Bare() { return HttpClient(server().process().admin_port()); }
};

TEST_F(ConnectorAuthorizationTest, TheConfiguredValueIsAccepted) {
  HttpClient bare = Bare();
  const HttpResponse r = bare.Post(kEmailPath, LogtoBody("a@example.com", "SignIn", "123456"),
                                   {{"Authorization", kConnectorAuth}});
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(Json(server().AdminGet("/admin/inbox/latest").body).String("/code"), "123456");
}

TEST_F(ConnectorAuthorizationTest, AMissingOrWrongValueAnswers401AndAddsNothing) {
  HttpClient bare = Bare();
  const std::vector<Headers> refused = {
      {},
      {{"Authorization", "Bearer wrong"}},
      {{"Authorization", std::string(kConnectorAuth) + " "}},
      {{"Authorization", std::string("Bearer ") + kAdminToken}},  // the admin token is not it
  };
  for (const char* path : {kEmailPath, kSmsPath}) {
    for (const Headers& headers : refused) {
      const HttpResponse r = bare.Post(path, LogtoBody("a@example.com", "SignIn", "1"), headers);
      EXPECT_TRUE(IsErrorCode(r, 401, kAdminUnauthorized)) << path << " " << r.Describe();
      EXPECT_NE(r.body.find("--connector-authorization"), std::string::npos) << r.body;
    }
  }
  EXPECT_EQ(InboxSize(server()), 0u);
}

TEST_F(ConnectorAuthorizationTest, TheConnectorValueDoesNotOpenTheAdminApi) {
  HttpClient bare = Bare();
  EXPECT_TRUE(IsErrorCode(bare.Get("/admin/inbox", {{"Authorization", kConnectorAuth}}), 401,
                          kAdminUnauthorized));
}

TEST_F(ConnectorAuthorizationTest, TheCheckComesBeforeTheBodyIsRead) {
  HttpClient bare = Bare();
  EXPECT_TRUE(IsErrorCode(bare.Post(kEmailPath, "not json"), 401, kAdminUnauthorized));
}

// Without --connector-authorization, the connector routes follow the admin token.
class ConnectorAdminTokenTest : public MockServerTest {
 public:
  static void SetUpTestSuite() {
    StartSharedServer({"--admin-token", kAdminToken}, {}, kAdminToken);
  }
};

TEST_F(ConnectorAdminTokenTest, TheAdminTokenIsRequired) {
  HttpClient bare(server().process().admin_port());
  const std::string body = LogtoBody("a@example.com", "SignIn", "654321");
  EXPECT_TRUE(IsErrorCode(bare.Post(kSmsPath, body), 401, kAdminUnauthorized));
  EXPECT_EQ(
      bare.Post(kSmsPath, body, {{"Authorization", std::string("Bearer ") + kAdminToken}}).status,
      200);
  EXPECT_EQ(Json(server().AdminGet("/admin/inbox/latest").body).String("/code"), "654321");
}

}  // namespace
}  // namespace mfa_test
