// SPDX-License-Identifier: Apache-2.0
// json_util: the JSON string writer every answer goes through (escapes, and only valid UTF-8
// out), the UTF-8 check, and RFC 3339 timestamps.

#include "wire/json_util.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace mfa {
namespace {

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

// What a strict JSON reader (RapidJSON validating UTF-8) reads back from AppendJsonString.
std::optional<std::string> ReadBack(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsString()) return std::nullopt;
  return std::string(doc.GetString(), doc.GetStringLength());
}

TEST(JsonUtilTest, PlainTextIsQuotedAsIs) {
  EXPECT_EQ(Quoted(""), R"("")");
  EXPECT_EQ(Quoted("8m7usta97y0m6ii9un06z"), R"("8m7usta97y0m6ii9un06z")");
  EXPECT_EQ(Quoted("a b/c:{}[],~"), R"("a b/c:{}[],~")");
}

TEST(JsonUtilTest, AppendsToWhatIsAlreadyThere) {
  std::string out = "{\"id\":";
  AppendJsonString(out, "x");
  EXPECT_EQ(out, R"({"id":"x")");
}

TEST(JsonUtilTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(Quoted("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(Quoted("\n\r\t"), R"("\n\r\t")");
  EXPECT_EQ(Quoted(std::string_view("\0\x01\x1f\x7f", 4)), R"("\u0000\u0001\u001f\u007f")");
  EXPECT_EQ(Quoted("x\"y\"z"), R"("x\"y\"z")");  // runs between escapes are kept
}

TEST(JsonUtilTest, KeepsValidUtf8AndReplacesEverythingElse) {
  EXPECT_EQ(Quoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  EXPECT_EQ(Quoted("a\xffz"), R"("a\ufffdz")");                            // not a lead byte
  EXPECT_EQ(Quoted("a\xc3"), R"("a\ufffd")");                              // truncated sequence
  EXPECT_EQ(Quoted("\xc0\xaf"), R"("\ufffd\ufffd")");                      // overlong
  EXPECT_EQ(Quoted("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");            // a surrogate
  EXPECT_EQ(Quoted("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // past U+10FFFF
}

TEST(JsonUtilTest, AnyBytesComeOutAsStrictJsonThatReadsBackTheValidParts) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 'a' + rng() % 26);
    const std::string json = Quoted(s);
    const std::optional<std::string> back = ReadBack(json);
    ASSERT_TRUE(back) << json;
    EXPECT_TRUE(IsValidUtf8(*back));
    if (IsValidUtf8(s)) {
      EXPECT_EQ(*back, s);
    }
  }
}

TEST(JsonUtilTest, NullForEmpty) {
  std::string out;
  AppendJsonStringOrNull(out, "");
  AppendJsonStringOrNull(out, "x");
  EXPECT_EQ(out, R"(null"x")");
}

TEST(JsonUtilTest, IsValidUtf8FollowsRfc3629) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"));
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xc1\xbf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xbf\xbf"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
}

TEST(JsonUtilTest, FormatsRfc3339InUtcWithMilliseconds) {
  EXPECT_EQ(FormatRfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(1764153600123), "2025-11-26T10:40:00.123Z");
  EXPECT_EQ(FormatRfc3339(-1), "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace mfa
