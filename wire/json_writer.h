// SPDX-License-Identifier: Apache-2.0
// The one writer of outgoing JSON bodies. Commas and nesting are tracked, so a call site reads
// like the document it writes; strings keep the project's UTF-8 policy (AppendJsonString:
// invalid UTF-8 becomes U+FFFD, so every body is valid JSON whatever bytes a client sent).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mfa {

// Appends one JSON text to a string it does not own. Not thread-safe (one writer per body).
// REQUIRES: calls form one valid document (a key before each value inside an object, at most
// 32 levels); misuse is a programming error, caught by assertions in debug builds.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  JsonWriter& Key(std::string_view key);

  JsonWriter& String(std::string_view value);
  JsonWriter& StringOrNull(std::string_view value);  // "" is written as null (absent value)
  JsonWriter& Int(int64_t value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Six decimals, as std::to_string writes them (the journal's durationMs has always been so).
  JsonWriter& Fixed6(double value);
  // A value that is already JSON text (an embedded document); written as is.
  JsonWriter& Raw(std::string_view json);

  // Key + value in one call, for the common case of an object member.
  JsonWriter& String(std::string_view key, std::string_view value) {
    return Key(key).String(value);
  }
  JsonWriter& StringOrNull(std::string_view key, std::string_view value) {
    return Key(key).StringOrNull(value);
  }
  JsonWriter& Int(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Bool(std::string_view key, bool value) { return Key(key).Bool(value); }

 private:
  void BeforeValue();
  JsonWriter& Open(char bracket);
  JsonWriter& Close(char bracket);

  std::string& out_;
  uint32_t depth_ = 0;
  uint32_t has_items_ = 0;  // bit d: the container at depth d already holds an item
  bool after_key_ = false;
};

}  // namespace mfa
