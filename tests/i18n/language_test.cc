// SPDX-License-Identifier: Apache-2.0
// NegotiateLocale against Logto's koa-i18next + detect-language + i18next 22.4.15. Every
// expectation here was checked with that code itself (scripts/phrases: node with i18next).
#include "i18n/language.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace mfa::i18n {
namespace {

std::string Negotiated(std::string_view header) {
  return std::string(LocaleTag(NegotiateLocale(header)));
}

TEST(NegotiateLocaleTest, NoHeaderIsEnglish) { EXPECT_EQ(Negotiated(""), "en"); }

TEST(NegotiateLocaleTest, ExactSupportedCodes) {
  EXPECT_EQ(Negotiated("fr"), "fr");
  EXPECT_EQ(Negotiated("de"), "de");
  EXPECT_EQ(Negotiated("ja"), "ja");
  EXPECT_EQ(Negotiated("zh-CN"), "zh-CN");
  EXPECT_EQ(Negotiated("zh-TW"), "zh-TW");
  EXPECT_EQ(Negotiated("zh-HK"), "zh-HK");
  EXPECT_EQ(Negotiated("pt-BR"), "pt-BR");
}

TEST(NegotiateLocaleTest, TwoSubtagsAreCaseFoldedLanguageLowerRegionUpper) {
  EXPECT_EQ(Negotiated("zh-cn"), "zh-CN");
  EXPECT_EQ(Negotiated("ZH-TW"), "zh-TW");
  EXPECT_EQ(Negotiated("Fa-iR"), "fa-IR");
}

TEST(NegotiateLocaleTest, OneSubtagIsKeptAsSentSoUpperCaseMatchesNothing) {
  EXPECT_EQ(Negotiated("FR"), "en");
  EXPECT_EQ(Negotiated("Ja"), "en");
}

TEST(NegotiateLocaleTest, NoRegionFallbackAsLogto) {
  // i18next's supportedLngs without nonExplicitSupportedLngs: "fr-CA" is not "fr".
  EXPECT_EQ(Negotiated("fr-CA"), "en");
  EXPECT_EQ(Negotiated("fr-fr"), "en");
  EXPECT_EQ(Negotiated("zh"), "en");
  EXPECT_EQ(Negotiated("zh-Hans-CN"), "en");
  // What browsers send: the bare language follows the regional one.
  EXPECT_EQ(Negotiated("fr-CA,fr;q=0.9,en;q=0.8"), "fr");
  EXPECT_EQ(Negotiated("de-AT, de;q=0.9"), "de");
}

TEST(NegotiateLocaleTest, HighestQualityFirstStableAmongEquals) {
  EXPECT_EQ(Negotiated("de;q=0.5,ja;q=0.8"), "ja");
  EXPECT_EQ(Negotiated("de;q=0.5,ja;q=0.5"), "de");
  EXPECT_EQ(Negotiated("xx,de;q=0.5,fr"), "fr");
  EXPECT_EQ(Negotiated("pt-br;q=0.1, xx"), "pt-BR");
}

TEST(NegotiateLocaleTest, QualityZeroStillCounts) {
  EXPECT_EQ(Negotiated("en;q=0,fr;q=0"), "en");
  EXPECT_EQ(Negotiated("fr;q=0"), "fr");
}

TEST(NegotiateLocaleTest, QualityIsReadAsJavaScriptNumber) {
  EXPECT_EQ(Negotiated("ja;q=abc"), "ja");           // NaN: ignored, q stays 1
  EXPECT_EQ(Negotiated("ja;q=,fr;q=0.5"), "fr");     // Number("") is 0
  EXPECT_EQ(Negotiated("de;Q=0.1,fr;q=0.5"), "de");  // "Q" is not "q": de keeps q=1
  EXPECT_EQ(Negotiated("de;q=0x0,fr;q=.5"), "fr");   // hex 0 < .5
  EXPECT_EQ(Negotiated("de;q=1e-3,fr;q=+2E-3"), "fr");
  EXPECT_EQ(Negotiated("de;q=abc;q=0.1,fr;q=0.5"), "fr");  // the first q that is a number
}

TEST(NegotiateLocaleTest, WildcardAndGarbageAreEnglish) {
  EXPECT_EQ(Negotiated("*"), "en");
  EXPECT_EQ(Negotiated("garbage"), "en");
  EXPECT_EQ(Negotiated(";;;,,,;q=1"), "en");
  EXPECT_EQ(Negotiated("\xff\xfe"), "en");
  EXPECT_EQ(Negotiated("*,ja;q=0.1"), "ja");
}

TEST(NegotiateLocaleTest, SpacesAroundPartsAreTrimmed) {
  EXPECT_EQ(Negotiated("  ja ; q=0.9 ,  de ; q=0.95"), "de");
  EXPECT_EQ(Negotiated("\xa0ja\xa0"), "ja");  // U+00A0 as Node reads the byte: trimmed
}

TEST(NegotiateLocaleTest, CiModeIsI18nextsKeyEcho) {
  EXPECT_EQ(NegotiateLocale("cimode"), kCiMode);
  EXPECT_EQ(Negotiated("CIMODE"), "en");
}

TEST(NegotiateLocaleTest, LocaleQueryParametersComeFirst) {
  const std::vector<std::string> query = {"xx", "ja"};
  EXPECT_EQ(LocaleTag(NegotiateLocale(query, "fr")), "ja");
  const std::vector<std::string> none = {"xx"};
  EXPECT_EQ(LocaleTag(NegotiateLocale(none, "fr")), "fr");
}

TEST(AcceptLanguageRangesTest, OrderLogtoTriesThem) {
  EXPECT_EQ(AcceptLanguageRanges("a;q=0.1, b, c;q=0.5, ;q=1, d"),
            (std::vector<std::string_view>{"b", "d", "c", "a"}));
}

TEST(JsNumberTest, AsJavaScriptNumber) {
  EXPECT_EQ(JsNumber(""), 0.0);
  EXPECT_EQ(JsNumber("  "), 0.0);
  EXPECT_EQ(JsNumber("0.5"), 0.5);
  EXPECT_EQ(JsNumber(" .5 "), 0.5);
  EXPECT_EQ(JsNumber("1."), 1.0);
  EXPECT_EQ(JsNumber("-2"), -2.0);
  EXPECT_EQ(JsNumber("0x1F"), 31.0);
  EXPECT_EQ(JsNumber("0b11"), 3.0);
  EXPECT_EQ(JsNumber("0o17"), 15.0);
  EXPECT_TRUE(std::isinf(*JsNumber("Infinity")));
  EXPECT_TRUE(std::isinf(*JsNumber("1e999")));
  EXPECT_FALSE(JsNumber("abc"));
  EXPECT_FALSE(JsNumber("0x"));
  EXPECT_FALSE(JsNumber("-0x1"));
  EXPECT_FALSE(JsNumber("1e"));
  EXPECT_FALSE(JsNumber("."));
  EXPECT_FALSE(JsNumber("1_0"));
  EXPECT_FALSE(JsNumber("inf"));
}

}  // namespace
}  // namespace mfa::i18n
