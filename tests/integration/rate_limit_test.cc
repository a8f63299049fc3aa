// SPDX-License-Identifier: Apache-2.0
// The per-recipient send rate limit (contract §4 step 5): 10 sends per 600 s, then 429.

#include <gtest/gtest.h>

#include <string>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"

namespace mfa_test {
namespace {

// Each test sends to its own recipient so the tests do not depend on each other's windows.
class RateLimitTest : public MockServerTest {
 protected:
  void UseRecipients(std::string_view email, std::string_view phone) {
    ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"defaultUser":{"email":)" + Quote(email) +
                                               R"(,"phone":)" + Quote(phone) + "}}"),
                          200));
  }
  void SendTimes(std::string_view type, int n) {
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE(HasStatus(server().Send(type), 200)) << "send " << i;
    }
  }
};

TEST_F(RateLimitTest, EleventhEmailSendWithinTheWindowAnswers429) {
  UseRecipients("rl1@example.com", "+15550000001");
  SendTimes("email", kDefaultMaxSends);
  HttpResponse r = server().Send("email");
  EXPECT_TRUE(IsError(r, 429, kRateLimited, kRateLimitedMessage));
  EXPECT_TRUE(IsJsonContentType(r));
  EXPECT_TRUE(IsError(server().Send("email"), 429, kRateLimited, kRateLimitedMessage));
}

TEST_F(RateLimitTest, EleventhPhoneSendWithinTheWindowAnswers429) {
  UseRecipients("rl2@example.com", "+15550000002");
  SendTimes("phone", kDefaultMaxSends);
  EXPECT_TRUE(IsError(server().Send("phone"), 429, kRateLimited, kRateLimitedMessage));
}

TEST_F(RateLimitTest, LimitIsPerRecipient) {
  UseRecipients("rl3@example.com", "+15550000003");
  SendTimes("email", kDefaultMaxSends);
  ASSERT_TRUE(IsErrorCode(server().Send("email"), 429, kRateLimited));
  EXPECT_TRUE(HasStatus(server().Send("phone"), 200));
  UseRecipients("rl3-other@example.com", "+15550000003");
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
}

TEST_F(RateLimitTest, RateLimitedSendsAreNotDelivered) {
  UseRecipients("rl4@example.com", "+15550000004");
  SendTimes("email", kDefaultMaxSends);
  ASSERT_TRUE(IsErrorCode(server().Send("email"), 429, kRateLimited));
  HttpResponse inbox = server().AdminGet("/admin/inbox?to=rl4%40example.com&limit=100");
  ASSERT_TRUE(HasStatus(inbox, 200));
  EXPECT_EQ(Json(inbox.body).Size("/messages"), static_cast<size_t>(kDefaultMaxSends));
}

TEST_F(RateLimitTest, SendsAreAllowedAgainAfterTheWindow) {
  UseRecipients("rl5@example.com", "+15550000005");
  SendTimes("email", kDefaultMaxSends);
  ASSERT_TRUE(IsErrorCode(server().Send("email"), 429, kRateLimited));
  ASSERT_TRUE(HasStatus(server().AdvanceClock(kDefaultWindowSeconds + 1), 200));
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
}

TEST_F(RateLimitTest, ZeroMaxSendsDisablesTheLimit) {
  UseRecipients("rl6@example.com", "+15550000006");
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"sendRateLimit":{"maxSends":0}})"), 200));
  SendTimes("email", kDefaultMaxSends + 5);
}

TEST_F(RateLimitTest, ConfiguredLimitAndWindowApply) {
  UseRecipients("rl7@example.com", "+15550000007");
  ASSERT_TRUE(HasStatus(
      server().PatchConfig(R"({"sendRateLimit":{"maxSends":3,"windowSeconds":60}})"), 200));
  SendTimes("email", 3);
  EXPECT_TRUE(IsError(server().Send("email"), 429, kRateLimited, kRateLimitedMessage));
  ASSERT_TRUE(HasStatus(server().AdvanceClock(61), 200));
  EXPECT_TRUE(HasStatus(server().Send("email"), 200));
}

TEST_F(RateLimitTest, EmailsCompareCaseInsensitively) {
  UseRecipients("rl8@example.com", "+15550000008");
  SendTimes("email", kDefaultMaxSends);
  UseRecipients("RL8@Example.COM", "+15550000008");
  EXPECT_TRUE(IsError(server().Send("email"), 429, kRateLimited, kRateLimitedMessage));
}

TEST_F(RateLimitTest, PhonesCompareByDigitsOnly) {
  UseRecipients("rl9@example.com", "+15550000009");
  SendTimes("phone", kDefaultMaxSends);
  UseRecipients("rl9@example.com", "+1 (555) 000-0009");
  EXPECT_TRUE(IsError(server().Send("phone"), 429, kRateLimited, kRateLimitedMessage));
}

}  // namespace
}  // namespace mfa_test
