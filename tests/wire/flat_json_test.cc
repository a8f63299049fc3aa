// SPDX-License-Identifier: Apache-2.0
// ScanFlatStringObject: the one-pass reader of flat string-only JSON objects. It must accept
// only what RapidJSON parses to exactly the same members, and refuse everything else (the
// caller then runs the full parse), so the differential test below is the heart of this file.

#include "wire/flat_json.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace mfa {
namespace {

std::vector<FlatMember> Scan(std::string_view text, int capacity = 8) {
  FlatMember members[16];
  const int n = ScanFlatStringObject(text, members, capacity);
  if (n < 0) return {{"<refused>", ""}};
  return std::vector<FlatMember>(members, members + n);
}

bool Refused(std::string_view text, int capacity = 8) {
  FlatMember members[16];
  return ScanFlatStringObject(text, members, capacity) < 0;
}

TEST(FlatJsonTest, ReadsTheVerifyBodyAsClientsSendIt) {
  const auto m = Scan(R"({"verificationId":"abc","code":"123456","identifierType":"email"})");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].key, "verificationId");
  EXPECT_EQ(m[0].value, "abc");
  EXPECT_EQ(m[1].key, "code");
  EXPECT_EQ(m[1].value, "123456");
  EXPECT_EQ(m[2].key, "identifierType");
  EXPECT_EQ(m[2].value, "email");
}

TEST(FlatJsonTest, AcceptsJsonWhitespaceEverywhereJsonDoes) {
  const auto m = Scan(" \t\r\n{ \"a\" :\t\"1\" ,\n\"b\"\r:\"\" } \n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].value, "1");
  EXPECT_EQ(m[1].key, "b");
  EXPECT_EQ(m[1].value, "");
}

TEST(FlatJsonTest, ViewsPointIntoTheInput) {
  const std::string text = R"({"k":"value"})";
  FlatMember members[1];
  ASSERT_EQ(ScanFlatStringObject(text, members, 1), 1);
  EXPECT_EQ(members[0].value.data(), text.data() + 6);
}

TEST(FlatJsonTest, RefusesEverythingThatIsNotAFlatObjectOfPlainStrings) {
  for (const char* text : {
           "",
           "   ",
           "{}",
           "{ }",
           "[]",
           "\"a\"",
           "null",
           R"({"a":1})",
           R"({"a":true})",
           R"({"a":null})",
           R"({"a":{}})",
           R"({"a":["x"]})",
           R"({"a":"x\"y"})",       // an escape
           R"({"a":"\u0041"})",     // an escape
           R"({"a\n":"x"})",        // an escape in a key
           "{\"a\":\"x\ty\"}",      // a raw control character (invalid JSON)
           "{\"a\":\"\xc3\xa9\"}",  // non-ASCII: left to the validating parse
           "{\"a\":\"x\0y\"}",      // (the literal stops at the NUL: "{"a":"x)
           R"({"a":"x",})",         // trailing comma
           R"({"a":"x" "b":"y"})",
           R"({"a" "x"})",
           R"({'a':'x'})",
           R"({a:"x"})",
           R"({"a":"x"}})",
           R"({"a":"x"} {})",
           R"({"a":"x")",
           R"({"a":"x)",
           R"({"a)",
           "{",
           R"({"a":"x"}x)",
       }) {
    EXPECT_TRUE(Refused(text)) << text;
  }
  EXPECT_TRUE(Refused(std::string_view("{\"a\":\"x\0y\"}", 11)));  // an embedded NUL
  EXPECT_TRUE(Refused(std::string_view("{\"a\":\"x\"}\0", 10)));   // a NUL after the object
}

TEST(FlatJsonTest, RefusesMoreMembersThanTheCapacity) {
  EXPECT_TRUE(Refused(R"({"a":"1","b":"2","c":"3"})", 2));
  EXPECT_EQ(Scan(R"({"a":"1","b":"2","c":"3"})", 3).size(), 3u);
}

TEST(FlatJsonTest, KeepsRepeatedKeysInOrderForTheCallerToJudge) {
  const auto m = Scan(R"({"a":"1","a":"2"})");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].value, "1");
  EXPECT_EQ(m[1].value, "2");
}

// Every input the scanner accepts, RapidJSON parses to the same members in the same order; and
// every flat string-only ASCII object RapidJSON accepts, the scanner accepts too (no silent
// fallback for the common shape). Inputs: random mutations of valid bodies.
TEST(FlatJsonTest, AgreesWithRapidJsonOnRandomMutations) {
  const std::vector<std::string> seeds = {
      R"({"verificationId":"abc123","code":"123456","identifierType":"email"})",
      R"( { "identifierType" : "phone" } )",
      R"({"a":"","b":"x y","c":"{}[],:"})",
  };
  const std::string alphabet = "{}[]:,\" \t\r\n\\abcu01eE.-+\x01\x7f\xc3\xa9";
  std::mt19937 rng(12345);
  int accepted = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string text = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const size_t at = rng() % (text.size() + 1);
      switch (rng() % 3) {
        case 0:
          text.insert(at, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (at < text.size()) text.erase(at, 1);
          break;
        default:
          if (at < text.size()) text[at] = alphabet[rng() % alphabet.size()];
          break;
      }
    }
    FlatMember members[8];
    const int n = ScanFlatStringObject(text, members, 8);
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    const bool json_ok = !doc.HasParseError() && text.find('\0') == std::string::npos;
    if (n >= 0) {
      ++accepted;
      ASSERT_TRUE(json_ok) << text;
      ASSERT_TRUE(doc.IsObject()) << text;
      ASSERT_EQ(doc.MemberCount(), static_cast<size_t>(n)) << text;
      int i = 0;
      for (const auto& m : doc.GetObject()) {
        ASSERT_TRUE(m.value.IsString()) << text;
        ASSERT_EQ(std::string_view(m.name.GetString(), m.name.GetStringLength()), members[i].key)
            << text;
        ASSERT_EQ(std::string_view(m.value.GetString(), m.value.GetStringLength()),
                  members[i].value)
            << text;
        ++i;
      }
      continue;
    }
    // Refused: fine unless it was the plain shape the scanner exists for.
    if (!json_ok || !doc.IsObject() || doc.MemberCount() == 0 || doc.MemberCount() > 8) continue;
    bool plain = true;
    for (const auto& m : doc.GetObject()) {
      plain = plain && m.value.IsString();
    }
    const bool ascii_no_escapes =
        text.find('\\') == std::string::npos && std::all_of(text.begin(), text.end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return u >= 0x20 ? u <= 0x7e : (c == ' ' || c == '\t' || c == '\n' || c == '\r');
        });
    ASSERT_FALSE(plain && ascii_no_escapes) << "refused a plain flat object: " << text;
  }
  EXPECT_GT(accepted, 1000);  // the mutations do reach the accepting path
}

}  // namespace
}  // namespace mfa
