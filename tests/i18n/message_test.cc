// SPDX-License-Identifier: Apache-2.0
#include "i18n/message.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace mfa::i18n {
namespace {

using Values = std::vector<std::pair<std::string_view, std::string_view>>;

LocaleId L(std::string_view tag) { return *FindLocale(tag); }

TEST(InterpolateTest, FillsNamedPlaceholders) {
  const Values values = {{"type", "Email"}, {"relativeTime", "in 1 minute"}};
  EXPECT_EQ(Interpolate("type: {{type}}.", values), "type: Email.");
  EXPECT_EQ(Interpolate("{{ type }}/{{- type}}/{{type, uppercase}}", values), "Email/Email/Email");
  EXPECT_EQ(Interpolate("again {{relativeTime}} and {{type}}", values),
            "again in 1 minute and Email");
}

TEST(InterpolateTest, MissingValuesStayAsWritten) {
  EXPECT_EQ(Interpolate("for type: {{type}}.", {}), "for type: {{type}}.");
  EXPECT_EQ(Interpolate("{{}} {{ {x}}", {}), "{{}} {{ {x}}");
  EXPECT_EQ(Interpolate("{{a\n}}", {}), "{{a\n}}");
}

TEST(InterpolateTest, ValuesAreNotRescanned) {
  const Values values = {{"a", "{{b}}"}, {"b", "B"}};
  EXPECT_EQ(Interpolate("{{a}} {{b}}", values), "{{b}} B");
}

TEST(LogtoMessageTest, InTheLocaleWithPlaceholdersFilled) {
  EXPECT_EQ(LogtoMessage("verification_code.code_mismatch", L("fr"), {}),
            "Code de vérification invalide.");
  EXPECT_EQ(LogtoMessage("session.verification_blocked_too_many_attempts", L("zh-CN"),
                         {.remaining_ms = 3'600'000}),
            "尝试次数过多。请稍后再试 60分钟后。");
  EXPECT_EQ(LogtoMessage("session.verification_blocked_too_many_attempts", EnglishLocale(),
                         {.remaining_ms = 29'000}),
            "Too many attempts in a short time. Please try again in 0 minutes.");
  EXPECT_EQ(LogtoMessage("connector.not_found", L("de"), {.type = "Sms"}),
            "Kein verfügbarer Connector für Typ Sms gefunden.");
  EXPECT_EQ(LogtoMessage("guard.invalid_input", EnglishLocale(), {.type = "body"}),
            "The request body is invalid.");
}

TEST(LogtoMessageTest, CiModeAnswersTheCode) {
  EXPECT_EQ(LogtoMessage("session.not_found", kCiMode, {}), "session.not_found");
}

TEST(LogtoMessageTest, UnknownCodesHaveNone) {
  EXPECT_FALSE(LogtoMessage("mock.store_full", L("fr"), {}));
  EXPECT_FALSE(LogtoMessage("admin.not_found", L("fr"), {}));
}

}  // namespace
}  // namespace mfa::i18n
