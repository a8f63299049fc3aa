// SPDX-License-Identifier: Apache-2.0
#include "tests/support/json_helpers.h"

#include <rapidjson/error/en.h>
#include <rapidjson/pointer.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace mfa_test {

Json::Json(std::string_view text) {
  doc_.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(text.data(),
                                                                                     text.size());
  if (doc_.HasParseError()) {
    error_ = std::string(rapidjson::GetParseError_En(doc_.GetParseError())) + " at offset " +
             std::to_string(doc_.GetErrorOffset()) + " in: " + std::string(text.substr(0, 300));
  } else {
    error_.clear();
  }
}

const rapidjson::Value* Json::Find(std::string_view pointer) const {
  if (!valid()) return nullptr;
  if (pointer.empty()) return &doc_;
  rapidjson::Pointer p(pointer.data(), pointer.size());
  if (!p.IsValid()) return nullptr;
  return p.Get(doc_);
}

std::optional<std::string> Json::String(std::string_view pointer) const {
  const rapidjson::Value* v = Find(pointer);
  if (v == nullptr || !v->IsString()) return std::nullopt;
  return std::string(v->GetString(), v->GetStringLength());
}

std::optional<int64_t> Json::Int(std::string_view pointer) const {
  const rapidjson::Value* v = Find(pointer);
  if (v == nullptr || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

std::optional<double> Json::Number(std::string_view pointer) const {
  const rapidjson::Value* v = Find(pointer);
  if (v == nullptr || !v->IsNumber()) return std::nullopt;
  return v->GetDouble();
}

std::optional<bool> Json::Bool(std::string_view pointer) const {
  const rapidjson::Value* v = Find(pointer);
  if (v == nullptr || !v->IsBool()) return std::nullopt;
  return v->GetBool();
}

bool Json::IsNull(std::string_view pointer) const {
  const rapidjson::Value* v = Find(pointer);
  return v != nullptr && v->IsNull();
}

bool Json::IsObject(std::string_view pointer) const {
  const rapidjson::Value* v = Find(pointer);
  return v != nullptr && v->IsObject();
}

bool Json::IsArray(std::string_view pointer) const {
  const rapidjson::Value* v = Find(pointer);
  return v != nullptr && v->IsArray();
}

std::optional<size_t> Json::Size(std::string_view pointer) const {
  const rapidjson::Value* v = Find(pointer);
  if (v == nullptr || !v->IsArray()) return std::nullopt;
  return v->Size();
}

std::vector<std::string> Json::Keys(std::string_view pointer) const {
  std::vector<std::string> keys;
  const rapidjson::Value* v = Find(pointer);
  if (v == nullptr || !v->IsObject()) return keys;
  for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
    keys.emplace_back(it->name.GetString(), it->name.GetStringLength());
  }
  return keys;
}

std::string Json::Dump(std::string_view pointer) const {
  const rapidjson::Value* v = Find(pointer);
  if (v == nullptr) return "<missing>";
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  v->Accept(writer);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string Quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

::testing::AssertionResult HasStatus(const HttpResponse& r, int status) {
  if (!r.ok()) {
    return ::testing::AssertionFailure() << "no complete response: " << r.Describe();
  }
  if (r.status != status) {
    return ::testing::AssertionFailure() << "expected status " << status << ", got:\n"
                                         << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsErrorCode(const HttpResponse& r, int status, std::string_view code) {
  ::testing::AssertionResult s = HasStatus(r, status);
  if (!s) return s;
  Json body(r.body);
  if (!body.valid()) {
    return ::testing::AssertionFailure() << "body is not JSON (" << body.error() << ")";
  }
  if (body.String("/code") != std::optional<std::string>(code)) {
    return ::testing::AssertionFailure()
           << "expected code \"" << code << "\", got body: " << r.body;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsError(const HttpResponse& r, int status, std::string_view code,
                                   std::string_view message) {
  ::testing::AssertionResult s = IsErrorCode(r, status, code);
  if (!s) return s;
  Json body(r.body);
  if (body.String("/message") != std::optional<std::string>(message)) {
    return ::testing::AssertionFailure()
           << "expected message \"" << message << "\", got body: " << r.body;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsJsonContentType(const HttpResponse& r, bool strict) {
  std::optional<std::string> ct = r.Header("Content-Type");
  if (!ct) return ::testing::AssertionFailure() << "no Content-Type header";
  std::string lower;
  for (char c : *ct) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  std::string compact;
  for (char c : lower) {
    if (c != ' ') compact += c;
  }
  bool ok = strict ? compact == "application/json;charset=utf-8"
                   : compact.rfind("application/json", 0) == 0;
  if (!ok) return ::testing::AssertionFailure() << "Content-Type is '" << *ct << "'";
  return ::testing::AssertionSuccess();
}

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.emplace_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return lines;
}

}  // namespace mfa_test
