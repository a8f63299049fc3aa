// SPDX-License-Identifier: Apache-2.0
// The writer's output is compared byte for byte and parsed back with RapidJSON.
#include "wire/json_writer.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

namespace mfa {
namespace {

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.c_str(), text.size());
  EXPECT_FALSE(doc.HasParseError()) << text;
  return doc;
}

TEST(JsonWriterTest, NestedObjectsAndArraysGetTheirCommas) {
  std::string out;
  JsonWriter json(out);
  json.BeginObject()
      .String("a", "x")
      .Int("n", -42)
      .Bool("t", true)
      .StringOrNull("none", "")
      .Key("list")
      .BeginArray()
      .Int(1)
      .BeginObject()
      .String("k", "v")
      .EndObject()
      .BeginArray()
      .EndArray()
      .Null()
      .EndArray()
      .Key("empty")
      .BeginObject()
      .EndObject()
      .EndObject();
  EXPECT_EQ(out,
            R"({"a":"x","n":-42,"t":true,"none":null,"list":[1,{"k":"v"},[],null],"empty":{}})");
  const rapidjson::Document doc = Parse(out);
  EXPECT_EQ(doc["list"].Size(), 4u);
}

TEST(JsonWriterTest, StringsAreEscapedAndInvalidUtf8Replaced) {
  std::string out;
  JsonWriter(out).BeginObject().String("s", std::string("q\"\\\n\x01\xff", 6)).EndObject();
  const rapidjson::Document doc = Parse(out);
  EXPECT_EQ(std::string(doc["s"].GetString()), "q\"\\\n\x01\xEF\xBF\xBD");
}

TEST(JsonWriterTest, Fixed6WritesAsToStringAndRawEmbeds) {
  std::string out;
  JsonWriter(out).BeginObject().Key("d").Fixed6(0.1220134).Key("r").Raw("{\"x\":1}").EndObject();
  EXPECT_EQ(out, R"({"d":0.122013,"r":{"x":1}})");
  Parse(out);
}

TEST(JsonWriterTest, AppendsToWhatTheStringHolds) {
  std::string out = "prefix:";
  JsonWriter(out).BeginArray().String("a").String("b").EndArray();
  EXPECT_EQ(out, R"(prefix:["a","b"])");
}

}  // namespace
}  // namespace mfa
