// SPDX-License-Identifier: Apache-2.0
// POST /api/experience/verification/mfa-verification-code/verify in open mode (contract §3, §6).

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/test_values.h"

namespace mfa_test {
namespace {

class PublicVerifyTest : public MockServerTest {
 protected:
  // Seeds one record through the admin API; returns its id ("" on failure, test failed).
  std::string Seed(std::string_view object_json) {
    std::string why;
    Json rec = server().SeedOne(object_json, &why);
    EXPECT_TRUE(rec.valid()) << why;
    return rec.String("/verificationId").value_or("");
  }
  HttpResponse GetRecord(const std::string& id) {
    return server().AdminGet("/admin/verifications/" + id);
  }
};

TEST_F(PublicVerifyTest, SentCodeVerifiesAndEchoesTheId) {
  HttpResponse send = server().Send("email");
  ASSERT_TRUE(HasStatus(send, 200));
  std::string id = Json(send.body).String("/verificationId").value_or("");
  std::string why;
  std::optional<std::string> code = server().LatestCode(kDefaultEmail, &why);
  ASSERT_TRUE(code) << why;

  HttpResponse r = server().Verify(id, *code, "email");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_TRUE(IsJsonContentType(r));
  EXPECT_EQ(Json(r.body).String("/verificationId"), id);

  Json rec(GetRecord(id).body);
  EXPECT_EQ(rec.Bool("/consumed"), true);
  EXPECT_EQ(rec.Bool("/verified"), true);
}

TEST_F(PublicVerifyTest, PhoneCodeVerifies) {
  HttpResponse send = server().Send("phone");
  ASSERT_TRUE(HasStatus(send, 200));
  std::string id = Json(send.body).String("/verificationId").value_or("");
  std::string code = server().LatestCode(kDefaultPhone).value_or("");
  HttpResponse r = server().Verify(id, code, "phone");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json(r.body).String("/verificationId"), id);
}

TEST_F(PublicVerifyTest, SeededRecordWithCustomIdAndCodeVerifies) {
  std::string id = Seed(R"({"verificationId":"custom_Id-1","identifierType":"email",)"
                        R"("code":"000042"})");
  ASSERT_EQ(id, "custom_Id-1");
  HttpResponse r = server().Verify(id, "000042", "email");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json(r.body).String("/verificationId"), "custom_Id-1");
}

TEST_F(PublicVerifyTest, UnknownIdAnswersVerificationSessionNotFound) {
  HttpResponse r = server().Verify("doesnotexist000000000", "123456", "email");
  EXPECT_TRUE(IsError(r, 404, kVerificationNotFound, kVerificationNotFoundMessage));
  EXPECT_TRUE(IsJsonContentType(r));
}

TEST_F(PublicVerifyTest, RecordOfTheOtherIdentifierTypeAnswersVerificationSessionNotFound) {
  std::string email_id = Seed(R"({"identifierType":"email","code":"111111"})");
  std::string phone_id = Seed(R"({"identifierType":"phone","code":"222222"})");
  EXPECT_TRUE(IsError(server().Verify(email_id, "111111", "phone"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  EXPECT_TRUE(IsError(server().Verify(phone_id, "222222", "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  // The wrong-type attempts did not touch the records.
  EXPECT_TRUE(HasStatus(server().Verify(email_id, "111111", "email"), 200));
  EXPECT_TRUE(HasStatus(server().Verify(phone_id, "222222", "phone"), 200));
}

TEST_F(PublicVerifyTest, EmptyCodeAnswersCodeNotFound) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  EXPECT_TRUE(IsError(server().Verify(id, "", "email"), 400, kCodeNotFound, kCodeNotFoundMessage));
  EXPECT_EQ(Json(GetRecord(id).body).Int("/tryCount"), 0) << "an empty code is not an attempt";
}

TEST_F(PublicVerifyTest, LookupIsCheckedBeforeEmptyCode) {
  EXPECT_TRUE(IsError(server().Verify("unknownid", "", "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
}

TEST_F(PublicVerifyTest, SecondVerifyOfAConsumedCodeAnswersCodeNotFound) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  ASSERT_TRUE(HasStatus(server().Verify(id, "123456", "email"), 200));
  EXPECT_TRUE(
      IsError(server().Verify(id, "123456", "email"), 400, kCodeNotFound, kCodeNotFoundMessage));
  EXPECT_TRUE(
      IsError(server().Verify(id, "999999", "email"), 400, kCodeNotFound, kCodeNotFoundMessage));
}

TEST_F(PublicVerifyTest, WrongCodeAnswersCodeMismatchAndCountsTheAttempt) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  HttpResponse r = server().Verify(id, "654321", "email");
  EXPECT_TRUE(IsError(r, 400, kCodeMismatch, kCodeMismatchMessage));
  EXPECT_TRUE(IsJsonContentType(r));
  EXPECT_EQ(Json(GetRecord(id).body).Int("/tryCount"), 1);
  ASSERT_TRUE(
      IsError(server().Verify(id, "000000", "email"), 400, kCodeMismatch, kCodeMismatchMessage));
  EXPECT_EQ(Json(GetRecord(id).body).Int("/tryCount"), 2);
  EXPECT_TRUE(HasStatus(server().Verify(id, "123456", "email"), 200));
}

TEST_F(PublicVerifyTest, CodeCompareIsExactWithoutTrimming) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  for (const char* wrong : {" 123456", "123456 ", "0123456", "12345", "１２３４５６"}) {
    EXPECT_TRUE(
        IsError(server().Verify(id, wrong, "email"), 400, kCodeMismatch, kCodeMismatchMessage))
        << "'" << wrong << "'";
  }
  EXPECT_TRUE(HasStatus(server().Verify(id, "123456", "email"), 200));
}

TEST_F(PublicVerifyTest, EleventhAttemptAnswersExceedMaxTryEvenWithTheRightCode) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  for (int i = 1; i <= kDefaultMaxAttempts; ++i) {
    ASSERT_TRUE(
        IsError(server().Verify(id, "000000", "email"), 400, kCodeMismatch, kCodeMismatchMessage))
        << "attempt " << i;
  }
  EXPECT_TRUE(
      IsError(server().Verify(id, "123456", "email"), 400, kExceedMaxTry, kExceedMaxTryMessage));
  EXPECT_TRUE(
      IsError(server().Verify(id, "000000", "email"), 400, kExceedMaxTry, kExceedMaxTryMessage));
  EXPECT_EQ(Json(GetRecord(id).body).Int("/tryCount"), kDefaultMaxAttempts);
}

TEST_F(PublicVerifyTest, MaxAttemptsFromConfigApplies) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"maxAttempts":2})"), 200));
  std::string id = Seed(R"({"identifierType":"phone","code":"123456"})");
  EXPECT_TRUE(IsErrorCode(server().Verify(id, "1", "phone"), 400, kCodeMismatch));
  EXPECT_TRUE(IsErrorCode(server().Verify(id, "2", "phone"), 400, kCodeMismatch));
  EXPECT_TRUE(
      IsError(server().Verify(id, "123456", "phone"), 400, kExceedMaxTry, kExceedMaxTryMessage));
}

TEST_F(PublicVerifyTest, ExpiredCodeAnswersExpired) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456","ttlSeconds":1})");
  ASSERT_TRUE(HasStatus(server().AdvanceClock(5), 200));
  EXPECT_TRUE(
      IsError(server().Verify(id, "123456", "email"), 400, kCodeExpired, kCodeExpiredMessage));
}

TEST_F(PublicVerifyTest, ExpiredIsAnsweredBeforeExceedMaxTry) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456","ttlSeconds":60})");
  for (int i = 0; i < kDefaultMaxAttempts; ++i) {
    ASSERT_TRUE(IsErrorCode(server().Verify(id, "000000", "email"), 400, kCodeMismatch));
  }
  ASSERT_TRUE(IsErrorCode(server().Verify(id, "123456", "email"), 400, kExceedMaxTry));
  ASSERT_TRUE(HasStatus(server().AdvanceClock(120), 200));
  EXPECT_TRUE(
      IsError(server().Verify(id, "123456", "email"), 400, kCodeExpired, kCodeExpiredMessage));
}

TEST_F(PublicVerifyTest, ConsumedIsAnsweredBeforeExpired) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456","ttlSeconds":60})");
  ASSERT_TRUE(HasStatus(server().Verify(id, "123456", "email"), 200));
  ASSERT_TRUE(HasStatus(server().AdvanceClock(120), 200));
  EXPECT_TRUE(
      IsError(server().Verify(id, "123456", "email"), 400, kCodeNotFound, kCodeNotFoundMessage));
}

TEST_F(PublicVerifyTest, ExpiredWrongCodeAnswersExpiredAndIsNotCounted) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456","ttlSeconds":1})");
  ASSERT_TRUE(HasStatus(server().AdvanceClock(5), 200));
  EXPECT_TRUE(
      IsError(server().Verify(id, "000000", "email"), 400, kCodeExpired, kCodeExpiredMessage));
  EXPECT_EQ(Json(GetRecord(id).body).Int("/tryCount"), 0);
}

TEST_F(PublicVerifyTest, CodeTtlFromConfigAppliesToNewSends) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"codeTtlSeconds":30})"), 200));
  HttpResponse send = server().Send("email");
  ASSERT_TRUE(HasStatus(send, 200));
  std::string id = Json(send.body).String("/verificationId").value_or("");
  std::string code = server().LatestCode(kDefaultEmail).value_or("");
  ASSERT_TRUE(HasStatus(server().AdvanceClock(31), 200));
  EXPECT_TRUE(IsError(server().Verify(id, code, "email"), 400, kCodeExpired, kCodeExpiredMessage));
}

TEST_F(PublicVerifyTest, UnexpiredCodeStillVerifiesAfterTheClockMovesLessThanTheTtl) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456","ttlSeconds":600})");
  ASSERT_TRUE(HasStatus(server().AdvanceClock(300), 200));
  EXPECT_TRUE(HasStatus(server().Verify(id, "123456", "email"), 200));
}

// Profiles (contract §6).
TEST_F(PublicVerifyTest, DocumentedProfileAnswersIdentifierNotFoundForUnidentifiedRecord) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456","identified":false})");
  EXPECT_TRUE(IsError(server().Verify(id, "123456", "email"), 400, kIdentifierNotFound,
                      kIdentifierNotFoundMessage));
}

TEST_F(PublicVerifyTest, LogtoProfileAnswersVerificationNotFoundForUnidentifiedRecord) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"profile":"logto"})"), 200));
  std::string id = Seed(R"({"identifierType":"email","code":"123456","identified":false})");
  EXPECT_TRUE(IsError(server().Verify(id, "123456", "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
}

TEST_F(PublicVerifyTest, DocumentedProfileAnswers501WhenTheConnectorIsOff) {
  std::string email_id = Seed(R"({"identifierType":"email","code":"123456"})");
  std::string phone_id = Seed(R"({"identifierType":"phone","code":"123456"})");
  ASSERT_TRUE(
      HasStatus(server().PatchConfig(R"({"connectors":{"email":false,"phone":false}})"), 200));
  EXPECT_TRUE(IsError(server().Verify(email_id, "123456", "email"), 501, kConnectorNotFound,
                      kEmailConnectorNotFoundMessage));
  EXPECT_TRUE(IsError(server().Verify(phone_id, "123456", "phone"), 501, kConnectorNotFound,
                      kSmsConnectorNotFoundMessage));
}

TEST_F(PublicVerifyTest, DocumentedProfileChecksTheConnectorRightAfterValidation) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"email":false}})"), 200));
  // Before the lookup: an unknown id still answers 501.
  EXPECT_TRUE(IsError(server().Verify("unknown", "123456", "email"), 501, kConnectorNotFound,
                      kEmailConnectorNotFoundMessage));
  // After validation: a bad body still answers 400.
  EXPECT_TRUE(IsError(pub().Post(kVerifyPath, R"({"identifierType":"email"})"), 400, kInvalidInput,
                      kInvalidInputMessage));
}

TEST_F(PublicVerifyTest, LogtoProfileNeverAnswers501OnVerify) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"profile":"logto"})"), 200));
  std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  ASSERT_TRUE(
      HasStatus(server().PatchConfig(R"({"connectors":{"email":false,"phone":false}})"), 200));
  EXPECT_TRUE(IsError(server().Verify("unknown", "123456", "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  EXPECT_TRUE(IsErrorCode(server().Verify(id, "000000", "email"), 400, kCodeMismatch));
  HttpResponse ok = server().Verify(id, "123456", "email");
  ASSERT_TRUE(HasStatus(ok, 200));
  EXPECT_EQ(Json(ok.body).String("/verificationId"), id);
}

TEST_F(PublicVerifyTest, DocumentedProfileAcceptsCapitalisedIdentifierTypeOnVerify) {
  std::string email_id = Seed(R"({"identifierType":"email","code":"123456"})");
  std::string phone_id = Seed(R"({"identifierType":"phone","code":"654321"})");
  EXPECT_TRUE(HasStatus(server().Verify(email_id, "123456", "Email"), 200));
  EXPECT_TRUE(HasStatus(server().Verify(phone_id, "654321", "Phone"), 200));
}

TEST_F(PublicVerifyTest, LogtoProfileRejectsCapitalisedIdentifierTypeOnVerify) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"profile":"logto"})"), 200));
  std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  EXPECT_TRUE(
      IsError(server().Verify(id, "123456", "Email"), 400, kInvalidInput, kInvalidInputMessage));
  EXPECT_TRUE(HasStatus(server().Verify(id, "123456", "email"), 200));
}

TEST_F(PublicVerifyTest, ConcurrentCorrectVerifiesSucceedExactlyOnce) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  constexpr int kThreads = 8;
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < kThreads; ++i) {
    clients.push_back(server().NewPublicClient());
    ASSERT_TRUE(HasStatus(clients.back()->Get("/warm-up-connection"), 404));
  }
  const std::string body =
      R"({"verificationId":)" + Quote(id) + R"(,"code":"123456","identifierType":"email"})";
  std::atomic<bool> go{false};
  std::vector<HttpResponse> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      results[i] = clients[i]->Post(kVerifyPath, body);
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  int ok = 0;
  int not_found = 0;
  for (const HttpResponse& r : results) {
    if (r.ok() && r.status == 200) ++ok;
    if (IsError(r, 400, kCodeNotFound, kCodeNotFoundMessage)) ++not_found;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(not_found, kThreads - 1);
}

TEST_F(PublicVerifyTest, ConcurrentWrongAttemptsAreCountedExactly) {
  std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"maxAttempts":100})"), 200));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 10;
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  const std::string body =
      R"({"verificationId":)" + Quote(id) + R"(,"code":"000000","identifierType":"email"})";
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      auto client = server().NewPublicClient();
      for (int j = 0; j < kPerThread; ++j) {
        if (IsErrorCode(client->Post(kVerifyPath, body), 400, kCodeMismatch)) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), kThreads * kPerThread);
  EXPECT_EQ(Json(GetRecord(id).body).Int("/tryCount"), kThreads * kPerThread);
}

}  // namespace
}  // namespace mfa_test
