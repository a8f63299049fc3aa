// SPDX-License-Identifier: Apache-2.0
// MinutesFromNow against V8's Intl.RelativeTimeFormat (node -e on the build machine, Node 20 with
// ICU 78, for the same values): what Logto writes into {{relativeTime}}.
#include "i18n/relative_time.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace mfa::i18n {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;

LocaleId L(std::string_view tag) { return *FindLocale(tag); }

TEST(RoundedMinutesTest, MathRoundOfMinutes) {
  EXPECT_EQ(RoundedMinutes(60 * kMinute), 60);
  EXPECT_EQ(RoundedMinutes(60 * kMinute - 500), 60);
  EXPECT_EQ(RoundedMinutes(59 * kMinute + 30 * kSecond), 60);  // 59.5 rounds up
  EXPECT_EQ(RoundedMinutes(59 * kMinute + 29'999), 59);
  EXPECT_EQ(RoundedMinutes(30 * kSecond), 1);
  EXPECT_EQ(RoundedMinutes(29'999), 0);
  EXPECT_EQ(RoundedMinutes(0), 0);
  EXPECT_FALSE(std::signbit(RoundedMinutes(0)));
  EXPECT_TRUE(std::signbit(RoundedMinutes(-1)));  // Math.round(-0.0000166) is -0
  EXPECT_EQ(RoundedMinutes(-30 * kSecond), 0);    // Math.round(-0.5) is -0
  EXPECT_EQ(RoundedMinutes(-31 * kSecond), -1);
}

TEST(MinutesFromNowTest, EnglishAsV8) {
  const LocaleId en = EnglishLocale();
  EXPECT_EQ(MinutesFromNow(60 * kMinute, en), "in 60 minutes");
  EXPECT_EQ(MinutesFromNow(59 * kMinute + 30 * kSecond, en), "in 60 minutes");
  EXPECT_EQ(MinutesFromNow(kMinute, en), "in 1 minute");
  EXPECT_EQ(MinutesFromNow(30 * kSecond, en), "in 1 minute");
  EXPECT_EQ(MinutesFromNow(29 * kSecond, en), "in 0 minutes");
  EXPECT_EQ(MinutesFromNow(0, en), "in 0 minutes");
  EXPECT_EQ(MinutesFromNow(-1, en), "0 minutes ago");
  EXPECT_EQ(MinutesFromNow(kCiMode == kCiMode ? 2 * kMinute : 0, kCiMode), "in 2 minutes");
}

TEST(MinutesFromNowTest, FrenchGermanJapaneseChineseAsV8) {
  EXPECT_EQ(MinutesFromNow(60 * kMinute, L("fr")), "dans 60 minutes");
  EXPECT_EQ(MinutesFromNow(kMinute, L("fr")), "dans 1 minute");
  EXPECT_EQ(MinutesFromNow(0, L("fr")), "dans 0 minute");
  EXPECT_EQ(MinutesFromNow(60 * kMinute, L("de")), "in 60 Minuten");
  EXPECT_EQ(MinutesFromNow(kMinute, L("de")), "in 1 Minute");
  EXPECT_EQ(MinutesFromNow(60 * kMinute, L("ja")), "60 分後");
  EXPECT_EQ(MinutesFromNow(0, L("ja")), "0 分後");
  EXPECT_EQ(MinutesFromNow(60 * kMinute, L("zh-CN")), "60分钟后");
  EXPECT_EQ(MinutesFromNow(kMinute, L("zh-CN")), "1分钟后");
  EXPECT_EQ(MinutesFromNow(60 * kMinute, L("zh-TW")), "60 分鐘後");
}

TEST(MinutesFromNowTest, OtherLocalesAsV8) {
  EXPECT_EQ(MinutesFromNow(60 * kMinute, L("ar")), "خلال 60 دقيقة");  // Latin digits, as V8
  EXPECT_EQ(MinutesFromNow(2 * kMinute, L("ar")), "خلال دقيقتين");
  EXPECT_EQ(MinutesFromNow(60 * kMinute, L("fa-IR")), "۶۰ دقیقه بعد");
  EXPECT_EQ(MinutesFromNow(2 * kMinute, L("ru")), "через 2 минуты");
  EXPECT_EQ(MinutesFromNow(60 * kMinute, L("ko")), "60분 후");
  EXPECT_EQ(MinutesFromNow(kMinute, L("pl-PL")), "za 1 minutę");
  EXPECT_EQ(MinutesFromNow(0, L("pt-BR")), "em 0 minuto");
  EXPECT_EQ(MinutesFromNow(5 * kMinute, L("tr-TR")), "5 dakika sonra");
  EXPECT_EQ(MinutesFromNow(5 * kMinute, L("th")), "ในอีก 5 นาที");
}

}  // namespace
}  // namespace mfa::i18n
