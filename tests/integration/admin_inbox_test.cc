// SPDX-License-Identifier: Apache-2.0
// Admin send and the inbox (issue 2 §3), and Logto-style mock connector files (contract §6).

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/temp_files.h"
#include "tests/support/wait.h"
#include "tests/support/test_values.h"

namespace mfa_test {
namespace {

class AdminInboxTest : public MockServerTest {
 protected:
  HttpResponse AdminSend(std::string_view type, std::string_view identifier) {
    return server().AdminPost("/admin/send", R"({"identifierType":)" + Quote(type) +
                                                 R"(,"identifier":)" + Quote(identifier) + "}");
  }
  Json Inbox(std::string_view query = "") {
    HttpResponse r = server().AdminGet("/admin/inbox" + std::string(query));
    EXPECT_TRUE(HasStatus(r, 200));
    Json j(r.body);
    EXPECT_TRUE(j.IsArray("/messages")) << r.body;
    return j;
  }
};

TEST_F(AdminInboxTest, AdminSendToAnyRecipientAnswers201AndLandsInTheInbox) {
  HttpResponse r = AdminSend("email", "someone@else.io");
  ASSERT_TRUE(HasStatus(r, 201));
  EXPECT_TRUE(IsJsonContentType(r, /*strict=*/false));
  Json body(r.body);
  std::string id = body.String("/verificationId").value_or("");
  std::string code = body.String("/code").value_or("");
  EXPECT_TRUE(IsVerificationId(id)) << r.body;
  EXPECT_TRUE(IsSixDigitCode(code)) << r.body;
  EXPECT_EQ(body.String("/identifierType"), "email");
  EXPECT_EQ(body.String("/identifier"), "someone@else.io");
  EXPECT_TRUE(IsRfc3339Utc(body.String("/expiresAt").value_or(""))) << r.body;

  HttpResponse latest = server().AdminGet("/admin/inbox/latest?to=someone%40else.io");
  ASSERT_TRUE(HasStatus(latest, 200));
  Json message(latest.body);
  EXPECT_EQ(message.String("/channel"), "email");
  EXPECT_EQ(message.String("/to"), "someone@else.io");
  EXPECT_EQ(message.String("/code"), code);
  EXPECT_EQ(message.String("/verificationId"), id);
  EXPECT_EQ(message.String("/template"), "MfaVerification");
  EXPECT_TRUE(IsRfc3339Utc(message.String("/sentAt").value_or(""))) << latest.body;

  EXPECT_TRUE(HasStatus(server().Verify(id, code, "email"), 200));
}

TEST_F(AdminInboxTest, AdminSendSmsLandsInTheInboxAsSms) {
  HttpResponse r = AdminSend("phone", "+4915112345678");
  ASSERT_TRUE(HasStatus(r, 201));
  HttpResponse latest = server().AdminGet("/admin/inbox/latest?to=%2B4915112345678");
  ASSERT_TRUE(HasStatus(latest, 200));
  EXPECT_EQ(Json(latest.body).String("/channel"), "sms");
  EXPECT_EQ(Json(latest.body).String("/code"), Json(r.body).String("/code"));
}

TEST_F(AdminInboxTest, AdminSendIgnoresPublicChecks) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"email":false},)"
                                             R"("defaultUser":{"identified":false}})"),
                        200));
  EXPECT_TRUE(HasStatus(AdminSend("email", "x@y.z"), 201));
}

TEST_F(AdminInboxTest, InvalidAdminSendAnswers400) {
  for (const char* body : {R"({"identifierType":"email"})", R"({"identifier":"a@b.c"})",
                           R"({"identifierType":"fax","identifier":"a@b.c"})",
                           R"({"identifierType":"email","identifier":5})", "[]"}) {
    EXPECT_TRUE(IsErrorCode(server().AdminPost("/admin/send", body), 400, kAdminInvalidRequest))
        << body;
  }
  EXPECT_EQ(Inbox().Size("/messages"), 0u);
}

TEST_F(AdminInboxTest, InboxListsMessagesNewestFirstWithFilters) {
  HttpResponse first = server().Send("email");
  HttpResponse second = server().Send("phone");
  HttpResponse third = AdminSend("email", "b@x.io");
  ASSERT_TRUE(HasStatus(first, 200));
  ASSERT_TRUE(HasStatus(second, 200));
  ASSERT_TRUE(HasStatus(third, 201));
  std::string id1 = Json(first.body).String("/verificationId").value_or("");
  std::string id2 = Json(second.body).String("/verificationId").value_or("");
  std::string id3 = Json(third.body).String("/verificationId").value_or("");

  Json all = Inbox();
  ASSERT_EQ(all.Size("/messages"), 3u) << all.Dump();
  EXPECT_EQ(all.String("/messages/0/verificationId"), id3);
  EXPECT_EQ(all.String("/messages/1/verificationId"), id2);
  EXPECT_EQ(all.String("/messages/2/verificationId"), id1);
  for (int i = 0; i < 3; ++i) {
    std::string p = "/messages/" + std::to_string(i);
    EXPECT_EQ(all.String(p + "/template"), "MfaVerification");
    EXPECT_TRUE(IsSixDigitCode(all.String(p + "/code").value_or(""))) << all.Dump(p);
    EXPECT_TRUE(IsRfc3339Utc(all.String(p + "/sentAt").value_or(""))) << all.Dump(p);
  }

  Json email = Inbox("?channel=email");
  ASSERT_EQ(email.Size("/messages"), 2u) << email.Dump();
  EXPECT_EQ(email.String("/messages/0/verificationId"), id3);
  EXPECT_EQ(email.String("/messages/1/verificationId"), id1);

  Json sms = Inbox("?channel=sms");
  ASSERT_EQ(sms.Size("/messages"), 1u) << sms.Dump();
  EXPECT_EQ(sms.String("/messages/0/to"), std::string(kDefaultPhone));

  Json to = Inbox("?to=" + UrlEncode(kDefaultEmail));
  ASSERT_EQ(to.Size("/messages"), 1u) << to.Dump();
  EXPECT_EQ(to.String("/messages/0/verificationId"), id1);

  Json limited = Inbox("?limit=1");
  ASSERT_EQ(limited.Size("/messages"), 1u) << limited.Dump();
  EXPECT_EQ(limited.String("/messages/0/verificationId"), id3);

  Json combined = Inbox("?channel=email&limit=1&to=b%40x.io");
  ASSERT_EQ(combined.Size("/messages"), 1u) << combined.Dump();
  EXPECT_EQ(combined.String("/messages/0/verificationId"), id3);

  EXPECT_EQ(Inbox("?to=nobody%40x.io").Size("/messages"), 0u);
}

TEST_F(AdminInboxTest, LatestAnswersTheNewestMessageForTheRecipient) {
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  HttpResponse second = server().Send("email");
  ASSERT_TRUE(HasStatus(second, 200));
  ASSERT_TRUE(HasStatus(server().Send("phone"), 200));
  HttpResponse latest = server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kDefaultEmail));
  ASSERT_TRUE(HasStatus(latest, 200));
  EXPECT_EQ(Json(latest.body).String("/verificationId"),
            Json(second.body).String("/verificationId"));
}

TEST_F(AdminInboxTest, LatestAnswers404WhenThereIsNoMessage) {
  HttpResponse r = server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kDefaultEmail));
  ASSERT_TRUE(HasStatus(r, 404));
  EXPECT_EQ(Json(r.body).String("/code").value_or("").rfind("admin.", 0), 0u) << r.body;
  ASSERT_TRUE(HasStatus(server().Send("phone"), 200));
  EXPECT_TRUE(
      HasStatus(server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kDefaultEmail)), 404));
}

TEST_F(AdminInboxTest, DeletingTheInboxEmptiesIt) {
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  ASSERT_TRUE(HasStatus(AdminSend("phone", "+100"), 201));
  HttpResponse del = server().AdminDelete("/admin/inbox");
  EXPECT_TRUE(HasStatus(del, 204));
  EXPECT_TRUE(del.body.empty());
  EXPECT_EQ(Inbox().Size("/messages"), 0u);
  EXPECT_TRUE(
      HasStatus(server().AdminGet("/admin/inbox/latest?to=" + UrlEncode(kDefaultEmail)), 404));
  // New sends are listed again.
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  EXPECT_EQ(Inbox().Size("/messages"), 1u);
}

// --inbox-size N: the inbox keeps the newest N messages.
class InboxSizeFlagTest : public MockServerTest {
 public:
  static void SetUpTestSuite() { StartSharedServer({"--inbox-size", "3"}); }
};

TEST_F(InboxSizeFlagTest, OldestMessagesAreDroppedPastTheSize) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = server().Send(i % 2 == 0 ? "email" : "phone");
    ASSERT_TRUE(HasStatus(r, 200));
    ids.push_back(Json(r.body).String("/verificationId").value_or(""));
  }
  HttpResponse r = server().AdminGet("/admin/inbox");
  ASSERT_TRUE(HasStatus(r, 200));
  Json inbox(r.body);
  ASSERT_EQ(inbox.Size("/messages"), 3u) << r.body;
  EXPECT_EQ(inbox.String("/messages/0/verificationId"), ids[4]);
  EXPECT_EQ(inbox.String("/messages/1/verificationId"), ids[3]);
  EXPECT_EQ(inbox.String("/messages/2/verificationId"), ids[2]);
}

// --connector-dir DIR: each send overwrites DIR/mock_email_record.txt or mock_sms_record.txt.
class ConnectorDirTest : public MockServerTest {
 public:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<TempDir>();
    StartSharedServer({"--connector-dir", dir_->path()});
  }
  static void TearDownTestSuite() {
    StopSharedServer();
    dir_.reset();
  }

 protected:
  // The file's JSON once its "code" equals `code` (polled for up to kStateTimeout).
  static Json WaitForRecord(const std::string& file, const std::string& code) {
    std::string last;
    const bool seen = WaitFor(
        file + " showing code " + code,
        [&] {
          std::optional<std::string> content = ReadFile(dir_->File(file));
          if (content) last = *content;
          return content && Json(*content).String("/code") == code;
        },
        [&] { return "last content: '" + last + "'"; });
    if (!seen) {
      ADD_FAILURE() << file << " never showed code " << code << "; last content: '" << last
                    << "'";
      return Json();
    }
    return Json(last);
  }

  static inline std::unique_ptr<TempDir> dir_;
};

TEST_F(ConnectorDirTest, PublicEmailSendWritesMockEmailRecord) {
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  std::string code = server().LatestCode(kDefaultEmail).value_or("");
  Json record = WaitForRecord("mock_email_record.txt", code);
  EXPECT_EQ(record.String("/address"), std::string(kDefaultEmail));
  EXPECT_EQ(record.String("/code"), code);
  EXPECT_EQ(record.String("/type"), "MfaVerification");
  EXPECT_EQ(record.String("/payload/code"), code);
  std::string content = ReadFile(dir_->File("mock_email_record.txt")).value_or("");
  EXPECT_EQ(SplitLines(content).size(), 1u) << "one JSON line: " << content;
}

TEST_F(ConnectorDirTest, PublicSmsSendWritesMockSmsRecord) {
  ASSERT_TRUE(HasStatus(server().Send("phone"), 200));
  std::string code = server().LatestCode(kDefaultPhone).value_or("");
  Json record = WaitForRecord("mock_sms_record.txt", code);
  EXPECT_EQ(record.String("/phone"), std::string(kDefaultPhone));
  EXPECT_EQ(record.String("/code"), code);
  EXPECT_EQ(record.String("/type"), "MfaVerification");
  EXPECT_EQ(record.String("/payload/code"), code);
}

TEST_F(ConnectorDirTest, EachSendOverwritesTheFile) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"fixedCode":"111111"})"), 200));
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  WaitForRecord("mock_email_record.txt", "111111");
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"fixedCode":"222222"})"), 200));
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  WaitForRecord("mock_email_record.txt", "222222");
  std::string content = ReadFile(dir_->File("mock_email_record.txt")).value_or("");
  EXPECT_EQ(SplitLines(content).size(), 1u) << content;
  EXPECT_EQ(content.find("111111"), std::string::npos) << content;
}

TEST_F(ConnectorDirTest, AdminSendAlsoWritesTheFile) {
  HttpResponse r =
      server().AdminPost("/admin/send", R"({"identifierType":"email","identifier":"adm@x.io"})");
  ASSERT_TRUE(HasStatus(r, 201));
  std::string code = Json(r.body).String("/code").value_or("");
  Json record = WaitForRecord("mock_email_record.txt", code);
  EXPECT_EQ(record.String("/address"), "adm@x.io");
}

}  // namespace
}  // namespace mfa_test
