// SPDX-License-Identifier: Apache-2.0
// --max-records: a full store answers a clear 503 instead of growing (issue 2 §2).

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"

namespace mfa_test {
namespace {

constexpr int kMaxRecords = 5;

class StoreLimitTest : public MockServerTest {
 public:
  static void SetUpTestSuite() {
    StartSharedServer({"--max-records", std::to_string(kMaxRecords)});
  }

 protected:
  void Fill(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(HasStatus(server().AdminPost("/admin/verifications",
                                               R"({"verificationId":"fill-)" + std::to_string(i) +
                                                   R"(","identifierType":"email"})"),
                            201));
    }
  }
  size_t StoredCount() {
    HttpResponse r = server().AdminGet("/admin/verifications/export?format=ndjson");
    EXPECT_TRUE(HasStatus(r, 200));
    return SplitLines(r.body).size();
  }
};

TEST_F(StoreLimitTest, PublicSendIntoAFullStoreAnswers503) {
  Fill(kMaxRecords);
  HttpResponse r = server().Send("email");
  EXPECT_TRUE(IsErrorCode(r, 503, kStoreFull));
  EXPECT_TRUE(IsJsonContentType(r));
  EXPECT_FALSE(Json(r.body).String("/message").value_or("").empty()) << r.body;
  EXPECT_EQ(StoredCount(), static_cast<size_t>(kMaxRecords));
}

TEST_F(StoreLimitTest, AdminInsertsIntoAFullStoreAnswer503) {
  Fill(kMaxRecords);
  EXPECT_TRUE(
      IsErrorCode(server().AdminPost("/admin/verifications", R"({"identifierType":"email"})"), 503,
                  kStoreFull));
  EXPECT_TRUE(IsErrorCode(server().AdminPost("/admin/verifications/generate",
                                             R"({"count":1,"identifierType":"email"})"),
                          503, kStoreFull));
  EXPECT_TRUE(IsErrorCode(
      server().AdminPost("/admin/send", R"({"identifierType":"email","identifier":"a@b.c"})"), 503,
      kStoreFull));
}

TEST_F(StoreLimitTest, BatchThatDoesNotFitStoresNothing) {
  Fill(kMaxRecords - 1);
  HttpResponse r = server().AdminPost("/admin/verifications",
                                      R"([{"verificationId":"x1","identifierType":"email"},)"
                                      R"({"verificationId":"x2","identifierType":"email"}])");
  EXPECT_TRUE(IsErrorCode(r, 503, kStoreFull));
  EXPECT_TRUE(IsErrorCode(server().AdminGet("/admin/verifications/x1"), 404, kAdminNotFound));
  EXPECT_TRUE(IsErrorCode(server().AdminPost("/admin/verifications/generate",
                                             R"({"count":2,"identifierType":"email"})"),
                          503, kStoreFull));
  EXPECT_EQ(StoredCount(), static_cast<size_t>(kMaxRecords - 1));
  // Exactly filling the store still works.
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
}

TEST_F(StoreLimitTest, DeletingRecordsMakesRoomAgain) {
  Fill(kMaxRecords);
  ASSERT_TRUE(IsErrorCode(server().Send("email"), 503, kStoreFull));
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/verifications/fill-0"), 204));
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
}

TEST_F(StoreLimitTest, VerifyStillWorksWhenFull) {
  Fill(kMaxRecords - 1);
  ASSERT_TRUE(HasStatus(server().AdminPost("/admin/verifications",
                                           R"({"verificationId":"last","identifierType":"email",)"
                                           R"("code":"123456"})"),
                        201));
  EXPECT_TRUE(HasStatus(server().Verify("last", "123456", "email"), 200));
}

// Expired and consumed records are swept in the background (issue 2 §2). --sweep-interval 1 keeps
// the test short; the retention (600 s by default) is passed with the mock clock.
class SweepTest : public MockServerTest {
 public:
  static void SetUpTestSuite() { StartSharedServer({"--sweep-interval", "1"}); }

 protected:
  // Polls GET /admin/verifications/{id} for up to `seconds` until it answers 404.
  bool WaitUntilGone(const std::string& id, int seconds) {
    for (int i = 0; i < seconds * 20; ++i) {
      HttpResponse r = server().AdminGet("/admin/verifications/" + id);
      if (r.ok() && r.status == 404) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
};

TEST_F(SweepTest, ExpiredAndConsumedRecordsAreSweptButLiveOnesStay) {
  ASSERT_TRUE(
      HasStatus(server().AdminPost("/admin/verifications",
                                   R"([{"verificationId":"expiring","identifierType":"email",)"
                                   R"("ttlSeconds":1},)"
                                   R"({"verificationId":"consumed","identifierType":"email",)"
                                   R"("code":"123456","ttlSeconds":100000},)"
                                   R"({"verificationId":"live","identifierType":"email",)"
                                   R"("ttlSeconds":100000}])"),
                201));
  ASSERT_TRUE(HasStatus(server().Verify("consumed", "123456", "email"), 200));
  ASSERT_TRUE(HasStatus(server().AdvanceClock(3600), 200));
  // The 1 s sweeper removes them on its next pass: wait for that (bounded generously), not 4 s.
  EXPECT_TRUE(WaitUntilGone("expiring", 60));
  EXPECT_TRUE(WaitUntilGone("consumed", 60));
  EXPECT_TRUE(HasStatus(server().AdminGet("/admin/verifications/live"), 200));
  EXPECT_TRUE(IsError(server().Verify("expiring", "000000", "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
}

}  // namespace
}  // namespace mfa_test
