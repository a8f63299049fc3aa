// SPDX-License-Identifier: Apache-2.0
#include "wire/public_request.h"

#include <algorithm>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>

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

// How koa-body 8 (Logto's body parser, defaults) reads a body of that Content-Type.
enum class BodyType {
  kJson,         // one of its JSON types
  kLenientJson,  // read as JSON by the mock only: no Content-Type, or another +json type
  kText,         // text/*: a string (forms too: koa-body parses them, the mock does not)
  kNotParsed     // anything else: the guard sees {}
};

// Type and subtype compared case-insensitively, parameters and blanks ignored.
BodyType ClassifyContentType(std::string_view ct, const BodyRules& rules) {
  if (ct.empty())
    return rules.json_without_json_type ? BodyType::kLenientJson : BodyType::kNotParsed;
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
  for (std::string_view json :
       {"application/json", "application/json-patch+json", "application/vnd.api+json",
        "application/csp-report", "application/reports+json"}) {
    if (name == json) return BodyType::kJson;
  }
  if (name.size() > 5 && name.substr(name.size() - 5) == "+json") {
    return rules.json_without_json_type ? BodyType::kLenientJson : BodyType::kNotParsed;
  }
  if (name.substr(0, 5) == "text/" || name == "application/x-www-form-urlencoded") {
    return BodyType::kText;
  }
  return BodyType::kNotParsed;
}

// The member `key` of `obj`: of repeated keys the last, as JSON.parse keeps it; or MemberEnd().
Value::ConstMemberIterator LastMember(const Value& obj, const char* key) {
  Value::ConstMemberIterator found = obj.MemberEnd();
  const size_t length = std::char_traits<char>::length(key);
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    if (it->name.GetStringLength() == length &&
        std::char_traits<char>::compare(it->name.GetString(), key, length) == 0) {
      found = it;
    }
  }
  return found;
}

bool ReadsAsJson(BodyType type) {
  return type == BodyType::kJson || type == BodyType::kLenientJson;
}

// identifierType's accepted values: the documented profile also takes the capitalised ones.
bool ReadTypeName(std::string_view s, Profile profile, IdentifierType* out, DeviationSet* noted) {
  const bool documented = profile == Profile::kDocumented;
  if (s == "email" || (documented && s == "Email")) {
    *out = IdentifierType::kEmail;
  } else if (s == "phone" || (documented && s == "Phone")) {
    *out = IdentifierType::kPhone;
  } else {
    return false;
  }
  if (s[0] == 'E' || s[0] == 'P') noted->Add(Deviation::kCapitalisedType);
  return true;
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

bool ScanVerifyBody(std::string_view body, Profile profile, PublicRequest* out,
                    DeviationSet* noted) {
  std::array<std::string_view, 3> values;
  if (!ScanPlainBody<3>(body, {"verificationId", "code", "identifierType"}, &values) ||
      !ReadTypeName(values[2], profile, &out->type, noted)) {
    return false;
  }
  out->verification_id = values[0];
  out->code = values[1];
  return true;
}

bool ScanSendBody(std::string_view body, Profile profile, PublicRequest* out, DeviationSet* noted) {
  std::array<std::string_view, 1> values;
  return ScanPlainBody<1>(body, {"identifierType"}, &values) &&
         ReadTypeName(values[0], profile, &out->type, noted);
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

// Parses `body` into `doc` as koa-body would read it; on success checks it is an object.
// Returns the object or null.
const Value* ParseObject(Document& doc, std::string_view content_type, std::string_view body,
                         const BodyRules& rules, GuardFailure* failure, DeviationSet* noted) {
  const BodyType type = ClassifyContentType(content_type, rules);
  if (!ReadsAsJson(type)) {
    failure->hint = "Content-Type must be application/json, got " +
                    (content_type.empty() ? std::string("none") : std::string(content_type)) + ".";
  }
  if (type == BodyType::kText) {
    // A text body stays a string: the guard then sees a string.
    AddTypeIssue(failure, "", "object", "string");
    return nullptr;
  }
  if (type == BodyType::kNotParsed) {
    // Not parsed at all: Logto's guard falls back to {}, and names the missing keys.
    doc.SetObject();
    return &doc;
  }
  if (type == BodyType::kLenientJson) noted->Add(Deviation::kJsonWithoutJsonType);
  if (body.empty()) {
    doc.SetObject();  // an empty body is {} to Logto's body parser
    return &doc;
  }
  // co-body's strict mode checks, before JSON.parse, that the body opens an object or an array.
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || (body[first] != '{' && body[first] != '[')) {
    failure->malformed_json = true;
    failure->not_object_or_array = true;
    failure->parse_error = std::string(kOnlyObjectAndArray);
    return nullptr;
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
  auto it = LastMember(obj, key);
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

bool ReadType(const Value& obj, Profile profile, IdentifierType* out, GuardFailure* f,
              DeviationSet* noted) {
  const bool documented = profile == Profile::kDocumented;
  const char* options = documented ? "'email' | 'phone' | 'Email' | 'Phone'" : "'email' | 'phone'";
  auto it = LastMember(obj, "identifierType");
  if (it == obj.MemberEnd()) {
    AddTypeIssue(f, "identifierType", options, "undefined");
    return false;
  }
  if (!it->value.IsString()) {
    AddTypeIssue(f, "identifierType", options, ZodTypeName(it->value));
    return false;
  }
  const std::string_view s(it->value.GetString(), it->value.GetStringLength());
  if (ReadTypeName(s, profile, out, noted)) return true;
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

// "'a' | 'b'", as zod joins an enum's values.
std::string JoinedOptions(const std::vector<std::string>& options) {
  std::string joined;
  for (const std::string& option : options)
    joined += (joined.empty() ? "'" : " | '") + option + "'";
  return joined;
}

// A z.nativeEnum of strings at `prefix` + `key`: the value, or nullopt with zod's issue. A
// string or a number outside the values is invalid_enum_value (a number reported as itself);
// any other type, or none, invalid_type.
std::optional<std::string_view> ReadNativeEnum(const Value& obj, const char* key,
                                               std::vector<std::string> options, GuardFailure* f,
                                               std::string_view prefix = {}) {
  const std::string path = std::string(prefix) + key;
  auto it = LastMember(obj, key);
  if (it == obj.MemberEnd() || !(it->value.IsString() || it->value.IsNumber())) {
    AddTypeIssue(f, path, JoinedOptions(options),
                 it == obj.MemberEnd() ? "undefined" : ZodTypeName(it->value));
    return std::nullopt;
  }
  std::string received;
  if (it->value.IsString()) {
    const std::string_view s(it->value.GetString(), it->value.GetStringLength());
    for (const std::string& option : options) {
      if (s == option) return s;
    }
    received.assign(s);
  }
  GuardIssue issue;
  issue.code = "invalid_enum_value";
  issue.path = path;
  if (it->value.IsNumber()) {
    char number[32];
    const auto end =
        it->value.IsInt64()
            ? std::to_chars(number, number + sizeof(number), it->value.GetInt64()).ptr
            : std::to_chars(number, number + sizeof(number), it->value.GetDouble()).ptr;
    received.assign(number, end);  // the shortest form, as JavaScript prints most numbers
    issue.received_number = received;
  }
  issue.message =
      "Invalid enum value. Expected " + JoinedOptions(options) + ", received '" + received + "'";
  issue.received = std::move(received);
  issue.options = std::move(options);
  f->issues.push_back(std::move(issue));
  return std::nullopt;
}

// z.string().min(1) at `key`: the value in *out, or zod's issue.
void ReadNonEmptyString(const Value& obj, const char* key, std::string* out, GuardFailure* f) {
  auto it = LastMember(obj, key);
  if (it == obj.MemberEnd() || !it->value.IsString()) {
    AddTypeIssue(f, key, "string", it == obj.MemberEnd() ? "undefined" : ZodTypeName(it->value));
  } else if (it->value.GetStringLength() == 0) {
    GuardIssue issue;
    issue.code = "too_small";
    issue.path = key;
    issue.minimum = 1;
    issue.message = "String must contain at least 1 character(s)";
    f->issues.push_back(std::move(issue));
  } else {
    out->assign(it->value.GetString(), it->value.GetStringLength());
  }
}

// z.string().optional() at `key`: *out stays as it is when absent.
void ReadOptionalString(const Value& obj, const char* key, std::string* out, GuardFailure* f) {
  auto it = LastMember(obj, key);
  if (it == obj.MemberEnd()) return;
  if (it->value.IsString()) {
    out->assign(it->value.GetString(), it->value.GetStringLength());
  } else {
    AddTypeIssue(f, key, "string", ZodTypeName(it->value));
  }
}

}  // namespace

bool PublicRequestParser::ParseSend(std::string_view content_type, std::string_view body,
                                    const BodyRules& rules, PublicRequest* out,
                                    GuardFailure* failure) {
  noted_ = {};
  const Profile profile = rules.profile;
  const BodyType type = ClassifyContentType(content_type, rules);
  if (ReadsAsJson(type) && ScanSendBody(body, profile, out, &noted_)) {
    if (type == BodyType::kLenientJson) noted_.Add(Deviation::kJsonWithoutJsonType);
    return true;
  }
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  const Value* obj = ParseObject(doc, content_type, body, rules, failure, &noted_);
  if (obj == nullptr) return false;
  return ReadType(*obj, profile, &out->type, failure, &noted_);
}

bool PublicRequestParser::ParseVerify(std::string_view content_type, std::string_view body,
                                      const BodyRules& rules, PublicRequest* out,
                                      GuardFailure* failure) {
  noted_ = {};
  const Profile profile = rules.profile;
  const BodyType type = ClassifyContentType(content_type, rules);
  if (ReadsAsJson(type) && ScanVerifyBody(body, profile, out, &noted_)) {
    if (type == BodyType::kLenientJson) noted_.Add(Deviation::kJsonWithoutJsonType);
    return true;
  }
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  const Value* obj = ParseObject(doc, content_type, body, rules, failure, &noted_);
  if (obj == nullptr) return false;
  // zod reports every failing key, in the schema's order.
  bool ok = ReadString(*obj, "verificationId", &out->verification_id, failure);
  ok = ReadString(*obj, "code", &out->code, failure) && ok;
  ok = ReadType(*obj, profile, &out->type, failure, &noted_) && ok;
  return ok;
}

bool PublicRequestParser::ParseInteractionEvent(std::string_view content_type,
                                                std::string_view body, std::string* event,
                                                std::string* captcha_token, GuardFailure* failure,
                                                const BodyRules& rules) {
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  noted_ = {};
  const Value* obj = ParseObject(doc, content_type, body, rules, failure, &noted_);
  if (obj == nullptr) return false;
  const std::optional<std::string_view> s =
      ReadNativeEnum(*obj, "interactionEvent", {"SignIn", "Register", "ForgotPassword"}, failure);
  if (s) *event = std::string(*s);
  auto captcha = LastMember(*obj, "captchaToken");
  if (captcha != obj->MemberEnd()) {
    if (!captcha->value.IsString()) {
      AddTypeIssue(failure, "captchaToken", "string", ZodTypeName(captcha->value));
    } else {
      captcha_token->assign(captcha->value.GetString(), captcha->value.GetStringLength());
    }
  }
  return failure->issues.empty();
}

bool PublicRequestParser::ParsePassword(std::string_view content_type, std::string_view body,
                                        SignInIdentifier* type, std::string* value,
                                        std::string* password, GuardFailure* failure,
                                        const BodyRules& rules) {
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  noted_ = {};
  const Value* obj = ParseObject(doc, content_type, body, rules, failure, &noted_);
  if (obj == nullptr) return false;
  auto identifier = LastMember(*obj, "identifier");
  if (identifier == obj->MemberEnd() || !identifier->value.IsObject()) {
    AddTypeIssue(failure, "identifier", "object",
                 identifier == obj->MemberEnd() ? "undefined" : ZodTypeName(identifier->value));
  } else {
    const Value& id = identifier->value;
    if (const std::optional<std::string_view> name =
            ReadNativeEnum(id, "type", {"username", "email", "phone"}, failure, "identifier.")) {
      *type = *ParseSignInIdentifier(*name);
    }
    auto v = LastMember(id, "value");
    if (v == id.MemberEnd() || !v->value.IsString()) {
      AddTypeIssue(failure, "identifier.value", "string",
                   v == id.MemberEnd() ? "undefined" : ZodTypeName(v->value));
    } else {
      value->assign(v->value.GetString(), v->value.GetStringLength());
    }
  }
  ReadNonEmptyString(*obj, "password", password, failure);
  return failure->issues.empty();
}

bool PublicRequestParser::ParseIdentification(std::string_view content_type, std::string_view body,
                                              std::string* verification_id, GuardFailure* failure,
                                              const BodyRules& rules) {
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  noted_ = {};
  const Value* obj = ParseObject(doc, content_type, body, rules, failure, &noted_);
  if (obj == nullptr) return false;
  ReadOptionalString(*obj, "verificationId", verification_id, failure);
  auto link = LastMember(*obj, "linkSocialIdentity");
  if (link != obj->MemberEnd() && !link->value.IsBool()) {
    AddTypeIssue(failure, "linkSocialIdentity", "boolean", ZodTypeName(link->value));
  }
  return failure->issues.empty();
}

bool PublicRequestParser::ParseMfaCode(std::string_view content_type, std::string_view body,
                                       std::string* code, std::string* verification_id,
                                       GuardFailure* failure, const BodyRules& rules) {
  ParseScope scope(impl_->stack_buffer, sizeof(impl_->stack_buffer), impl_->values);
  Document& doc = scope.doc();
  noted_ = {};
  const Value* obj = ParseObject(doc, content_type, body, rules, failure, &noted_);
  if (obj == nullptr) return false;
  ReadNonEmptyString(*obj, "code", code, failure);
  if (verification_id != nullptr) {
    ReadOptionalString(*obj, "verificationId", verification_id, failure);
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
    // A body that is not an object or array gets koa-body's own message, as Logto answers it.
    json.String("details", failure.parse_error)
        .String("message", failure.not_object_or_array ? kOnlyObjectAndArray
                                                       : "The request body is not valid JSON.")
        .EndObject();
    return body;
  }
  // data is the ZodError as JSON.stringify writes it: its issues, each in the key order zod
  // builds it for that schema type, then its name. details is Logto's formatZodError.
  std::string details;
  json.Key("data").BeginObject().Key("issues").BeginArray();
  for (const GuardIssue& issue : failure.issues) {
    if (!details.empty()) details += '\n';
    auto path = [&] {
      json.Key("path").BeginArray();
      for (size_t from = 0; from < issue.path.size();) {
        const size_t dot = std::min(issue.path.find('.', from), issue.path.size());
        json.String(std::string_view(issue.path).substr(from, dot - from));
        from = dot + 1;
      }
      json.EndArray();
    };
    json.BeginObject();
    if (issue.code == "invalid_type") {
      // z.enum and z.nativeEnum put expected and received before code; other types after.
      const bool enum_type = !issue.expected.empty() && issue.expected[0] == '\'';
      if (!enum_type) json.String("code", issue.code);
      json.String("expected", issue.expected).String("received", issue.received);
      if (enum_type) json.String("code", issue.code);
      path();
      json.String("message", issue.message);
    } else if (issue.code == "too_small") {
      json.String("code", issue.code)
          .Int("minimum", issue.minimum)
          .String("type", "string")
          .Bool("inclusive", true)
          .Bool("exact", false)
          .String("message", issue.message);
      path();
    } else {
      json.Key("received");
      if (issue.received_number.empty()) {
        json.String(issue.received);
      } else {
        json.Raw(issue.received_number);
      }
      json.String("code", issue.code).Key("options").BeginArray();
      for (const std::string& option : issue.options) json.String(option);
      json.EndArray();
      path();
      json.String("message", issue.message);
    }
    json.EndObject();
    details += "Error in key path \"" + issue.path + "\": (" + issue.code + ") ";
    details += issue.code == "invalid_type"
                   ? "Expected " + issue.expected + " but received " + issue.received + "."
                   : issue.message;
  }
  if (!failure.hint.empty()) details += "\n" + failure.hint;
  json.EndArray()
      .String("name", "ZodError")
      .EndObject()
      .String("details", details)
      .String("message", "The request body is invalid.")
      .EndObject();
  return body;
}

}  // namespace mfa
