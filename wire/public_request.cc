// SPDX-License-Identifier: Apache-2.0
#include "wire/public_request.h"

#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <array>
#include <cctype>
#include <cstdint>

#include "wire/flat_json.h"
#include "wire/json_util.h"
#include "wire/json_writer.h"

namespace mfa {
namespace {

using Allocator = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;
using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Allocator, Allocator>;
using Value = rapidjson::GenericValue<rapidjson::UTF8<>, Allocator>;

constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

const char* ZodTypeName(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "boolean";
    case rapidjson::kObjectType:
      return "object";
    case rapidjson::kArrayType:
      return "array";
    case rapidjson::kStringType:
      return "string";
    case rapidjson::kNumberType:
      return "number";
  }
  return "unknown";
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// application/json or any +json type, parameters ignored, case-insensitive, blanks dropped.
bool IsJsonContentType(std::string_view ct) {
  if (ct.empty()) return true;
  const std::string_view type = ct.substr(0, ct.find(';'));
  char small[64];  // every real media type fits: no allocation on the request path
  std::string large;
  char* lower = small;
  if (type.size() > sizeof(small)) {
    large.resize(type.size());
    lower = large.data();
  }
  size_t len = 0;
  for (char c : type) {
    if (c != ' ' && c != '\t') lower[len++] = AsciiLower(c);
  }
  const std::string_view name(lower, len);
  return name == "application/json" || (name.size() > 5 && name.substr(name.size() - 5) == "+json");
}

// identifierType's accepted values: the documented profile also takes the capitalised ones.
bool ReadTypeName(std::string_view s, Profile profile, IdentifierType* out) {
  const bool documented = profile == Profile::kDocumented;
  if (s == "email" || (documented && s == "Email")) {
    *out = IdentifierType::kEmail;
    return true;
  }
  if (s == "phone" || (documented && s == "Phone")) {
    *out = IdentifierType::kPhone;
    return true;
  }
  return false;
}

// The plain-shape bodies (see flat_json.h), read without building a document: true only when
// each of `keys` appears exactly once, as a string (its value then in `values`, same order).
// Unknown keys are ignored, as zod strips them; anything else, a repeated key included (the full
// parse decides which wins), is left to the full parse.
template <size_t N>
bool ScanPlainBody(std::string_view body, const std::array<std::string_view, N>& keys,
                   std::array<std::string_view, N>* values) {
  FlatMember members[8];
  const int count = ScanFlatStringObject(body, members, 8);
  if (count < static_cast<int>(N)) return false;
  std::array<bool, N> seen{};
  for (int i = 0; i < count; ++i) {
    for (size_t k = 0; k < N; ++k) {
      if (members[i].key != keys[k]) continue;
      if (seen[k]) return false;
      seen[k] = true;
      (*values)[k] = members[i].value;
    }
  }
  for (bool found : seen) {
    if (!found) return false;
  }
  return true;
}

bool ScanVerifyBody(std::string_view body, Profile profile, PublicRequest* out) {
  std::array<std::string_view, 3> values;
  if (!ScanPlainBody<3>(body, {"verificationId", "code", "identifierType"}, &values) ||
      !ReadTypeName(values[2], profile, &out->type)) {
    return false;
  }
  out->verification_id = values[0];
  out->code = values[1];
  return true;
}

bool ScanSendBody(std::string_view body, Profile profile, PublicRequest* out) {
  std::array<std::string_view, 1> values;
  return ScanPlainBody<1>(body, {"identifierType"}, &values) &&
         ReadTypeName(values[0], profile, &out->type);
}

void AddTypeIssue(GuardFailure* f, std::string path, std::string expected, std::string received) {
  GuardIssue issue;
  issue.code = "invalid_type";
  issue.path = std::move(path);
  issue.expected = std::move(expected);
  issue.message = received == "undefined" ? "Required"
                                          : "Expected " + issue.expected + ", received " + received;
  issue.received = std::move(received);
  f->issues.push_back(std::move(issue));
}

}  // namespace

struct PublicRequestParser::Impl {
  // Small bodies (all valid ones) parse inside these buffers; larger ones spill to heap chunks.
  char value_buffer[4096];
  char stack_buffer[4096];
  // The parsed values live here until the next parse: the views handed out point into it.
  Allocator values{value_buffer, sizeof(value_buffer)};
};

// One parse: the previous parse's values are released, and the parse stack gets an allocator of
// its own that dies with the document. (A persistent document leaked: RapidJSON "frees" its
// stack after every parse, which a pool allocator cannot do, and allocates a new one next time.)
class ParseScope {
 public:
  explicit ParseScope(char* stack_buffer, size_t size, Allocator& values)
      : stack_(stack_buffer, size), doc_(Cleared(values), 1024, &stack_) {}
  Document& doc() { return doc_; }

 private:
  static Allocator* Cleared(Allocator& values) {
    values.Clear();
    return &values;
  }

  Allocator stack_;
  Document doc_;
};

PublicRequestParser::PublicRequestParser() : impl_(new Impl) {}
PublicRequestParser::~PublicRequestParser() { delete impl_; }

namespace {

// Parses `body` into `doc`; on success checks it is an object. Returns the object or null.
const Value* ParseObject(Document& doc, std::string_view content_type, std::string_view body,
                         GuardFailure* failure) {
  if (!IsJsonContentType(content_type)) {
    // Logto's body parser leaves a non-JSON body as text: the guard then sees a string.
    AddTypeIssue(failure, "", "object", "string");
    failure->hint = "Content-Type must be application/json, got " + std::string(content_type) + ".";
    return nullptr;
  }
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    doc.SetObject();  // an empty body is {} to Logto's body parser
    return &doc;
  }
  if (body.find('\0') != std::string_view::npos) {
    // RapidJSON would stop at the NUL and accept whatever came before it.
    failure->malformed_json = true;
    failure->parse_error =
        "The body contains a NUL byte (at byte " + std::to_string(body.find('\0')) + ")";
    return nullptr;
  }
  doc.Parse<kParseFlags>(body.data(), body.size());
  if (doc.HasParseError()) {
    failure->malformed_json = true;
    failure->parse_error = std::string(rapidjson::GetParseError_En(doc.GetParseError())) +
                           " (at byte " + std::to_string(doc.GetErrorOffset()) + ")";
    return nullptr;
  }
  if (!doc.IsObject()) {
    AddTypeIssue(failure, "", "object", ZodTypeName(doc));
    return nullptr;
  }
  return &doc;
}

bool ReadString(const Value& obj, const char* key, std::string_view* out, GuardFailure* f) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd()) {
    AddTypeIssue(f, key, "string", "undefined");
    return false;
  }
  if (!it->value.IsString()) {
    AddTypeIssue(f, key, "string", ZodTypeName(it->value));
    return false;
  }
  *out = std::string_view(it->value.GetString(), it->value.GetStringLength());
  return true;
}

bool ReadType(const Value& obj, Profile profile, IdentifierType* out, GuardFailure* f) {
  const bool documented = profile == Profile::kDocumented;
  const char* options = documented ? "'email' | 'phone' | 'Email' | 'Phone'" : "'email' | 'phone'";
  auto it = obj.FindMember("identifierType");
  if (it == obj.MemberEnd()) {
    AddTypeIssue(f, "identifierType", options, "undefined");
    return false;
  }
  if (!it->value.IsString()) {
    AddTypeIssue(f, "identifierType", options, ZodTypeName(it->value));
    return false;
  }
  const std::string_view s(it->value.GetString(), it->value.GetStringLength());
  if (ReadTypeName(s, profile, out)) return true;
  GuardIssue issue;
  issue.code = "invalid_enum_value";
  issue.path = "identifierType";
  issue.received = std::string(s);
  issue.options = documented ? std::vector<std::string>{"email", "phone", "Email", "Phone"}
                             : std::vector<std::string>{"email", "phone"};
  issue.message = "Invalid enum value. Expected " + std::string(options) + ", received '" +
                  issue.received + "'";
  f->issues.push_back(std::move(issue));
  return false;
}

}  // namespace

bool PublicRequestParser::ParseSend(std::string_view content_type, std::string_view body,
                                    Profile profile, PublicRequest* out, GuardFailure* failure) {
  if (IsJsonContentType(content_type) && ScanSendBody(body, profile, out)) return true;
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  const Value* obj = ParseObject(doc, content_type, body, failure);
  if (obj == nullptr) return false;
  return ReadType(*obj, profile, &out->type, failure);
}

bool PublicRequestParser::ParseVerify(std::string_view content_type, std::string_view body,
                                      Profile profile, PublicRequest* out, GuardFailure* failure) {
  if (IsJsonContentType(content_type) && ScanVerifyBody(body, profile, out)) return true;
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  const Value* obj = ParseObject(doc, content_type, body, failure);
  if (obj == nullptr) return false;
  // zod reports every failing key, in the schema's order.
  bool ok = ReadString(*obj, "verificationId", &out->verification_id, failure);
  ok = ReadString(*obj, "code", &out->code, failure) && ok;
  ok = ReadType(*obj, profile, &out->type, failure) && ok;
  return ok;
}

bool PublicRequestParser::ParseInteractionEvent(std::string_view content_type,
                                                std::string_view body, std::string* event,
                                                GuardFailure* failure) {
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  const Value* obj = ParseObject(doc, content_type, body, failure);
  if (obj == nullptr) return false;
  constexpr const char* kOptions = "'SignIn' | 'Register' | 'ForgotPassword'";
  auto it = obj->FindMember("interactionEvent");
  if (it == obj->MemberEnd() || !it->value.IsString()) {
    AddTypeIssue(failure, "interactionEvent", kOptions,
                 it == obj->MemberEnd() ? "undefined" : ZodTypeName(it->value));
    return false;
  }
  const std::string_view s(it->value.GetString(), it->value.GetStringLength());
  if (s != "SignIn" && s != "Register" && s != "ForgotPassword") {
    GuardIssue issue;
    issue.code = "invalid_enum_value";
    issue.path = "interactionEvent";
    issue.received = std::string(s);
    issue.options = {"SignIn", "Register", "ForgotPassword"};
    issue.message = "Invalid enum value. Expected " + std::string(kOptions) + ", received '" +
                    issue.received + "'";
    failure->issues.push_back(std::move(issue));
    return false;
  }
  *event = std::string(s);
  return true;
}

namespace {

void AddEnumIssue(GuardFailure* f, std::string path, std::vector<std::string> options,
                  std::string received) {
  std::string expected;
  for (const std::string& option : options) {
    expected += (expected.empty() ? "'" : " | '") + option + "'";
  }
  GuardIssue issue;
  issue.code = "invalid_enum_value";
  issue.path = std::move(path);
  issue.received = std::move(received);
  issue.options = std::move(options);
  issue.message =
      "Invalid enum value. Expected " + expected + ", received '" + issue.received + "'";
  f->issues.push_back(std::move(issue));
}

}  // namespace

bool PublicRequestParser::ParsePassword(std::string_view content_type, std::string_view body,
                                        SignInIdentifier* type, std::string* value,
                                        std::string* password, GuardFailure* failure) {
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  const Value* obj = ParseObject(doc, content_type, body, failure);
  if (obj == nullptr) return false;
  constexpr const char* kTypes = "'username' | 'email' | 'phone'";
  auto identifier = obj->FindMember("identifier");
  if (identifier == obj->MemberEnd() || !identifier->value.IsObject()) {
    AddTypeIssue(failure, "identifier", "object",
                 identifier == obj->MemberEnd() ? "undefined" : ZodTypeName(identifier->value));
  } else {
    const Value& id = identifier->value;
    auto t = id.FindMember("type");
    if (t == id.MemberEnd() || !t->value.IsString()) {
      AddTypeIssue(failure, "identifier.type", kTypes,
                   t == id.MemberEnd() ? "undefined" : ZodTypeName(t->value));
    } else {
      const std::string_view name(t->value.GetString(), t->value.GetStringLength());
      if (auto parsed = ParseSignInIdentifier(name)) {
        *type = *parsed;
      } else {
        AddEnumIssue(failure, "identifier.type", {"username", "email", "phone"}, std::string(name));
      }
    }
    auto v = id.FindMember("value");
    if (v == id.MemberEnd() || !v->value.IsString()) {
      AddTypeIssue(failure, "identifier.value", "string",
                   v == id.MemberEnd() ? "undefined" : ZodTypeName(v->value));
    } else {
      value->assign(v->value.GetString(), v->value.GetStringLength());
    }
  }
  auto p = obj->FindMember("password");
  if (p == obj->MemberEnd() || !p->value.IsString()) {
    AddTypeIssue(failure, "password", "string",
                 p == obj->MemberEnd() ? "undefined" : ZodTypeName(p->value));
  } else if (p->value.GetStringLength() == 0) {
    GuardIssue issue;
    issue.code = "too_small";
    issue.path = "password";
    issue.minimum = 1;
    issue.message = "String must contain at least 1 character(s)";
    failure->issues.push_back(std::move(issue));
  } else {
    password->assign(p->value.GetString(), p->value.GetStringLength());
  }
  return failure->issues.empty();
}

bool PublicRequestParser::ParseIdentification(std::string_view content_type, std::string_view body,
                                              std::string* verification_id, GuardFailure* failure) {
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  const Value* obj = ParseObject(doc, content_type, body, failure);
  if (obj == nullptr) return false;
  auto id = obj->FindMember("verificationId");
  if (id != obj->MemberEnd()) {
    if (id->value.IsString()) {
      verification_id->assign(id->value.GetString(), id->value.GetStringLength());
    } else {
      AddTypeIssue(failure, "verificationId", "string", ZodTypeName(id->value));
    }
  }
  auto link = obj->FindMember("linkSocialIdentity");
  if (link != obj->MemberEnd() && !link->value.IsBool()) {
    AddTypeIssue(failure, "linkSocialIdentity", "boolean", ZodTypeName(link->value));
  }
  return failure->issues.empty();
}

std::string GuardFailureBody(const GuardFailure& failure) {
  std::string body;
  JsonWriter json(body);
  json.BeginObject().String("code", "guard.invalid_input");
  if (!failure.details_only.empty()) {
    json.String("details", failure.details_only)
        .String("message", "The request body is invalid.")
        .EndObject();
    return body;
  }
  if (failure.malformed_json) {
    json.String("details", failure.parse_error)
        .String("message", "The request body is not valid JSON.")
        .EndObject();
    return body;
  }
  std::string details;
  json.Key("data").BeginObject().Key("issues").BeginArray();
  for (const GuardIssue& issue : failure.issues) {
    if (!details.empty()) details += '\n';
    json.BeginObject().String("code", issue.code);
    if (issue.code == "invalid_type") {
      json.String("expected", issue.expected).String("received", issue.received);
    } else if (issue.code == "too_small") {
      json.Int("minimum", issue.minimum)
          .String("type", "string")
          .Bool("inclusive", true)
          .Bool("exact", false);
    } else {
      json.String("received", issue.received).Key("options").BeginArray();
      for (const std::string& option : issue.options) json.String(option);
      json.EndArray();
    }
    json.Key("path").BeginArray();
    for (size_t from = 0; from < issue.path.size();) {
      const size_t dot = std::min(issue.path.find('.', from), issue.path.size());
      json.String(std::string_view(issue.path).substr(from, dot - from));
      from = dot + 1;
    }
    json.EndArray().String("message", issue.message).EndObject();
    details += "Error in key path \"" + issue.path + "\": (" + issue.code + ") " + issue.message;
  }
  if (!failure.hint.empty()) details += "\n" + failure.hint;
  json.EndArray()
      .EndObject()
      .String("details", details)
      .String("message", "The request body is invalid.")
      .EndObject();
  return body;
}

}  // namespace mfa
