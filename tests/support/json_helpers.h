// SPDX-License-Identifier: Apache-2.0
// Reading JSON response bodies in assertions, with RapidJSON.
#pragma once

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/http_client.h"

namespace mfa_test {

// A parsed JSON text. Fields are addressed with JSON Pointers ("/data/issues/0/path/0";
// "" is the root). Every accessor answers nullopt/false/null when the value is missing or of
// another type, so a test fails on the expectation rather than crashing.
class Json {
 public:
  Json() = default;
  explicit Json(std::string_view text);
  static Json Parse(std::string_view text) { return Json(text); }

  bool valid() const { return error_.empty(); }
  // The parse error, if any, with the offending text's start.
  const std::string& error() const { return error_; }

  const rapidjson::Value* Find(std::string_view pointer) const;
  bool Has(std::string_view pointer) const { return Find(pointer) != nullptr; }
  std::optional<std::string> String(std::string_view pointer) const;
  std::optional<int64_t> Int(std::string_view pointer) const;
  std::optional<double> Number(std::string_view pointer) const;
  std::optional<bool> Bool(std::string_view pointer) const;
  bool IsNull(std::string_view pointer) const;
  bool IsObject(std::string_view pointer = "") const;
  bool IsArray(std::string_view pointer = "") const;
  // Array length, or nullopt if not an array.
  std::optional<size_t> Size(std::string_view pointer = "") const;
  // Member names of an object, in document order.
  std::vector<std::string> Keys(std::string_view pointer = "") const;
  // The value re-serialized (compact), or "<missing>".
  std::string Dump(std::string_view pointer = "") const;

  const rapidjson::Document& doc() const { return doc_; }

 private:
  rapidjson::Document doc_;
  std::string error_ = "not parsed";
};

// JSON-escapes `s` and wraps it in quotes.
std::string Quote(std::string_view s);

// Succeeds if `r` is a complete response with `status`, a JSON body whose "code" and
// "message" are exactly `code` and `message`.
::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code,
                                   std::string_view message);
// Like IsError, but only the status and code are checked.
::testing::AssertionResult IsErrorCode(const HttpResponse& r, int status, std::string_view code);
// Succeeds if `r` is a complete response with `status`.
::testing::AssertionResult HasStatus(const HttpResponse& r, int status);
// Succeeds if Content-Type is application/json (charset=utf-8 required when `strict`).
::testing::AssertionResult IsJsonContentType(const HttpResponse& r, bool strict = true);

// Lines of a text body, without the line ends; a trailing empty line is dropped.
std::vector<std::string> SplitLines(std::string_view text);

}  // namespace mfa_test
