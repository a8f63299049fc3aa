// SPDX-License-Identifier: Apache-2.0
#include "wire/admin_parser.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "core/secure_random.h"
#include "core/totp.h"
#include "wire/json_util.h"
#include "wire/json_writer.h"

namespace mfa {
namespace {

constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
constexpr size_t kMaxIdentifierLength = 254;
constexpr size_t kMaxCodeLength = 64;
constexpr uint32_t kMaxGenerateCount = 1'000'000'000;     // a derived batch
constexpr uint32_t kMaxStoredGenerateCount = 10'000'000;  // one stored record per code

using rapidjson::Document;
using rapidjson::Value;

std::string_view View(const Value& v) { return {v.GetString(), v.GetStringLength()}; }

bool Fail(AdminParseError* error, std::string message) {
  error->kind = AdminParseError::kInvalidRequest;
  error->message = std::move(message);
  return false;
}

bool ParseDocument(std::string_view body, Document* doc, AdminParseError* error) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    error->kind = AdminParseError::kInvalidJson;
    error->message = "The request body is empty; send a JSON document.";
    return false;
  }
  if (const size_t nul = body.find('\0'); nul != std::string_view::npos) {
    // RapidJSON would stop at the NUL and accept whatever came before it.
    error->kind = AdminParseError::kInvalidJson;
    error->message = "The request body is not valid JSON: it contains a NUL byte (at byte " +
                     std::to_string(nul) + ").";
    return false;
  }
  doc->Parse<kParseFlags>(body.data(), body.size());
  if (doc->HasParseError()) {
    error->kind = AdminParseError::kInvalidJson;
    error->message = std::string("The request body is not valid JSON: ") +
                     rapidjson::GetParseError_En(doc->GetParseError()) + " (at byte " +
                     std::to_string(doc->GetErrorOffset()) + ").";
    return false;
  }
  return true;
}

// No control characters, and valid UTF-8 (RapidJSON 1.1 decodes a lone "\udc00" escape to the
// bytes of a surrogate even with validation on; such strings must not reach the store).
bool IsPrintable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return IsValidUtf8(s);
}

bool ReadType(const Value& v, IdentifierType* out) {
  if (!v.IsString()) return false;
  auto t = ParseIdentifierType(View(v));
  if (!t) return false;
  *out = *t;
  return true;
}

// A JSON integer in [lo, hi]; rejects fractions and out-of-range numbers.
bool ReadInt(const Value& v, int64_t lo, int64_t hi, int64_t* out) {
  if (!v.IsInt64()) return false;
  const int64_t n = v.GetInt64();
  if (n < lo || n > hi) return false;
  *out = n;
  return true;
}

bool ParseSeedObject(const Value& obj, SeedItem* item, std::string* why) {
  if (!obj.IsObject()) {
    *why = "must be a JSON object.";
    return false;
  }
  bool has_type = false;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    const std::string_view key = View(it->name);
    const Value& v = it->value;
    if (key == "verificationId") {
      if (!v.IsString() || !IsValidVerificationId(View(v))) {
        *why = "verificationId must be 1-64 characters of [A-Za-z0-9_-].";
        return false;
      }
      item->verification_id = std::string(View(v));
    } else if (key == "identifierType") {
      if (!ReadType(v, &item->type)) {
        *why = "identifierType must be \"email\" or \"phone\".";
        return false;
      }
      has_type = true;
    } else if (key == "identifier") {
      if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > kMaxIdentifierLength ||
          !IsPrintable(View(v))) {
        *why = "identifier must be a string of 1-254 printable characters.";
        return false;
      }
      item->identifier = std::string(View(v));
    } else if (key == "code") {
      if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > kMaxCodeLength ||
          !IsPrintable(View(v))) {
        *why = "code must be a string of 1-64 printable characters.";
        return false;
      }
      item->code = std::string(View(v));
    } else if (key == "ttlSeconds") {
      int64_t ttl;
      if (!ReadInt(v, 1, kMaxTtlSeconds, &ttl)) {
        *why = "ttlSeconds must be an integer from 1 to " + std::to_string(kMaxTtlSeconds) + ".";
        return false;
      }
      item->ttl_seconds = static_cast<uint32_t>(ttl);
    } else if (key == "identified") {
      if (!v.IsBool()) {
        *why = "identified must be true or false.";
        return false;
      }
      item->identified = v.GetBool();
    } else {
      *why = "unknown field \"" + std::string(key) + "\".";
      return false;
    }
  }
  if (!has_type) {
    *why = "identifierType is required (\"email\" or \"phone\").";
    return false;
  }
  return true;
}

}  // namespace

bool IsValidVerificationId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ParseSeedItems(std::string_view body, std::vector<SeedItem>* items, AdminParseError* error) {
  Document doc;
  if (!ParseDocument(body, &doc, error)) return false;
  std::string why;
  if (doc.IsArray()) {
    if (doc.Empty()) return Fail(error, "The array is empty; send at least one item.");
    items->reserve(doc.Size());
    for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
      SeedItem item;
      if (!ParseSeedObject(doc[i], &item, &why)) {
        return Fail(error, "Item " + std::to_string(i) + ": " + why);
      }
      items->push_back(std::move(item));
    }
    return true;
  }
  SeedItem item;
  if (!ParseSeedObject(doc, &item, &why)) return Fail(error, "Item 0: " + why);
  items->push_back(std::move(item));
  return true;
}

bool ParseGenerateSpec(std::string_view body, GenerateSpec* spec, AdminParseError* error) {
  Document doc;
  if (!ParseDocument(body, &doc, error)) return false;
  if (!doc.IsObject()) return Fail(error, "The body must be a JSON object.");
  bool has_count = false, has_type = false;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string_view key = View(it->name);
    const Value& v = it->value;
    if (key == "count") {
      int64_t n;
      if (!ReadInt(v, 1, kMaxGenerateCount, &n)) {
        return Fail(error, "count must be an integer from 1 to 1000000000.");
      }
      spec->count = static_cast<uint32_t>(n);
      has_count = true;
    } else if (key == "identifierType") {
      if (!ReadType(v, &spec->type)) {
        return Fail(error, "identifierType must be \"email\" or \"phone\".");
      }
      has_type = true;
    } else if (key == "identifier") {
      if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > kMaxIdentifierLength ||
          !IsPrintable(View(v))) {
        return Fail(error, "identifier must be a pattern of 1-254 printable characters.");
      }
      spec->identifier_pattern = std::string(View(v));
    } else if (key == "ttlSeconds") {
      int64_t ttl;
      if (!ReadInt(v, 1, kMaxTtlSeconds, &ttl)) {
        return Fail(error, "ttlSeconds must be an integer from 1 to " +
                               std::to_string(kMaxTtlSeconds) + ".");
      }
      spec->ttl_seconds = static_cast<uint32_t>(ttl);
    } else if (key == "code") {
      if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > kMaxCodeLength ||
          !IsPrintable(View(v))) {
        return Fail(error, "code must be a string of 1-64 printable characters.");
      }
      spec->code = std::string(View(v));
    } else if (key == "derived") {
      if (!v.IsBool()) return Fail(error, "derived must be true or false.");
      spec->derived = v.GetBool();
    } else {
      return Fail(error, "unknown field \"" + std::string(key) + "\".");
    }
  }
  if (!has_count) return Fail(error, "count is required (1 to 1000000000).");
  if (!spec->derived && spec->count > kMaxStoredGenerateCount) {
    return Fail(error, "count must be at most 10000000 when derived is false.");
  }
  if (!has_type) return Fail(error, "identifierType is required (\"email\" or \"phone\").");
  return true;
}

bool ParseAdminSend(std::string_view body, IdentifierType* type, std::string* identifier,
                    AdminParseError* error) {
  Document doc;
  if (!ParseDocument(body, &doc, error)) return false;
  if (!doc.IsObject()) return Fail(error, "The body must be a JSON object.");
  bool has_type = false, has_identifier = false;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string_view key = View(it->name);
    const Value& v = it->value;
    if (key == "identifierType") {
      if (!ReadType(v, type)) return Fail(error, "identifierType must be \"email\" or \"phone\".");
      has_type = true;
    } else if (key == "identifier") {
      if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > kMaxIdentifierLength ||
          !IsPrintable(View(v))) {
        return Fail(error, "identifier must be a string of 1-254 printable characters.");
      }
      *identifier = std::string(View(v));
      has_identifier = true;
    } else {
      return Fail(error, "unknown field \"" + std::string(key) + "\".");
    }
  }
  if (!has_type) return Fail(error, "identifierType is required (\"email\" or \"phone\").");
  if (!has_identifier) return Fail(error, "identifier is required.");
  return true;
}

namespace {

constexpr size_t kMaxTemplateLength = 64;

// Logto's TemplateType values are identifiers ("SignIn", "MfaVerification"); any such name is
// taken, so a template newer than this mock still lands in the inbox.
bool IsTemplateName(std::string_view s) {
  if (s.empty() || s.size() > kMaxTemplateLength) return false;
  for (char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

bool ParseConnectorMessage(std::string_view body, IdentifierType channel, InboxMessage* message,
                           AdminParseError* error) {
  Document doc;
  if (!ParseDocument(body, &doc, error)) return false;
  if (!doc.IsObject()) return Fail(error, "The body must be a JSON object.");
  bool has_to = false, has_type = false, has_payload = false;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string_view key = View(it->name);
    const Value& v = it->value;
    if (key == "to") {
      if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > kMaxIdentifierLength ||
          !IsPrintable(View(v))) {
        return Fail(error, "to must be a string of 1-254 printable characters.");
      }
      message->to = std::string(View(v));
      has_to = true;
    } else if (key == "type") {
      if (!v.IsString() || !IsTemplateName(View(v))) {
        return Fail(error,
                    "type must be Logto's template type, e.g. \"MfaVerification\" (1-64 of "
                    "[A-Za-z0-9_-]).");
      }
      message->template_type = std::string(View(v));
      has_type = true;
    } else if (key == "payload") {
      if (!v.IsObject())
        return Fail(error, "payload must be an object, e.g. {\"code\": \"123456\"}.");
      has_payload = true;
      if (auto code = v.FindMember("code"); code != v.MemberEnd()) {
        const Value& c = code->value;
        if (!c.IsString() || c.GetStringLength() == 0 || c.GetStringLength() > kMaxCodeLength ||
            !IsPrintable(View(c))) {
          return Fail(error, "payload.code must be a string of 1-64 printable characters.");
        }
        message->code = std::string(View(c));
      }
    } else if (key == "ip") {
      if (!v.IsString()) return Fail(error, "ip must be a string.");
    }
  }
  if (!has_to) return Fail(error, "to is required: the recipient.");
  if (!has_type) return Fail(error, "type is required: Logto's template type.");
  if (!has_payload) return Fail(error, "payload is required (an object).");
  message->type = channel;
  return true;
}

namespace {

bool PatchUint(const Value& v, const char* name, uint32_t* out, AdminParseError* error) {
  int64_t n;
  if (!ReadInt(v, 0, std::numeric_limits<uint32_t>::max(), &n)) {
    return Fail(error, std::string(name) + " must be a non-negative integer.");
  }
  *out = static_cast<uint32_t>(n);
  return true;
}

bool PatchBool(const Value& v, const char* name, bool* out, AdminParseError* error) {
  if (!v.IsBool()) return Fail(error, std::string(name) + " must be true or false.");
  *out = v.GetBool();
  return true;
}

bool PatchAddress(const Value& v, const char* name, std::string* out, AdminParseError* error) {
  if (v.IsNull()) {
    out->clear();
    return true;
  }
  if (!v.IsString() || !IsPrintable(View(v))) {
    return Fail(error, std::string(name) + " must be a string (empty or null = none).");
  }
  *out = std::string(View(v));
  return true;
}

}  // namespace

namespace {

bool ReadRate(const Value& v, const char* name, double* out, AdminParseError* error) {
  if (!v.IsNumber() || v.GetDouble() < 0 || v.GetDouble() > 1) {
    return Fail(error, std::string(name) + " must be a number from 0 to 1.");
  }
  *out = v.GetDouble();
  return true;
}

// One route's rule: {"delayMs": N | {"min", "max"}, "error": {"rate", "status", "code",
// "message"}, "resetRate": R}; null resets the rule.
bool PatchFaultRule(const Value& v, const std::string& where, FaultRule* rule,
                    AdminParseError* error) {
  if (v.IsNull()) {
    *rule = FaultRule{};
    return true;
  }
  if (!v.IsObject()) return Fail(error, where + " must be an object or null.");
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    const std::string_view key = View(it->name);
    const Value& f = it->value;
    if (key == "delayMs") {
      if (f.IsUint()) {
        rule->delay_min_ms = rule->delay_max_ms = f.GetUint();
      } else if (f.IsObject() && f.HasMember("min") && f.HasMember("max") && f["min"].IsUint() &&
                 f["max"].IsUint() && f.MemberCount() == 2) {
        rule->delay_min_ms = f["min"].GetUint();
        rule->delay_max_ms = f["max"].GetUint();
      } else {
        return Fail(error, where + ".delayMs must be milliseconds or {\"min\", \"max\"}.");
      }
    } else if (key == "resetRate") {
      if (!ReadRate(f, (where + ".resetRate").c_str(), &rule->reset_rate, error)) return false;
    } else if (key == "error") {
      if (f.IsNull()) {
        rule->error_rate = 0;
        continue;
      }
      if (!f.IsObject()) return Fail(error, where + ".error must be an object or null.");
      for (auto e = f.MemberBegin(); e != f.MemberEnd(); ++e) {
        const std::string_view ek = View(e->name);
        if (ek == "rate") {
          if (!ReadRate(e->value, (where + ".error.rate").c_str(), &rule->error_rate, error)) {
            return false;
          }
        } else if (ek == "status") {
          if (!e->value.IsInt()) return Fail(error, where + ".error.status must be an integer.");
          rule->error_status = e->value.GetInt();
        } else if (ek == "code" || ek == "message") {
          if (!e->value.IsString() || e->value.GetStringLength() > 200 ||
              !IsPrintable(View(e->value))) {
            return Fail(error, where + ".error." + std::string(ek) +
                                   " must be a string of at most 200 printable characters.");
          }
          (ek == "code" ? rule->error_code : rule->error_message) = std::string(View(e->value));
        } else {
          return Fail(error, "unknown field \"" + where + ".error." + std::string(ek) + "\".");
        }
      }
    } else {
      return Fail(error, "unknown field \"" + where + "." + std::string(key) + "\".");
    }
  }
  return true;
}

// Shortest form that reads back as the same double (std::to_string keeps only 6 decimals).
std::string FormatRate(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  for (int precision = 1; precision < 17; ++precision) {
    char shorter[32];
    std::snprintf(shorter, sizeof(shorter), "%.*g", precision, v);
    if (std::strtod(shorter, nullptr) == v) return shorter;
  }
  return buf;
}

void WriteFaultRule(JsonWriter& json, const FaultRule& r) {
  json.BeginObject()
      .Key("delayMs")
      .BeginObject()
      .Int("min", r.delay_min_ms)
      .Int("max", r.delay_max_ms)
      .EndObject()
      .Key("error")
      .BeginObject()
      .Key("rate")
      .Raw(FormatRate(r.error_rate))
      .Int("status", r.error_status)
      .String("code", r.error_code)
      .String("message", r.error_message)
      .EndObject()
      .Key("resetRate")
      .Raw(FormatRate(r.reset_rate))
      .EndObject();
}

}  // namespace

bool ApplyConfigPatch(std::string_view body, Config* config, AdminParseError* error) {
  Document doc;
  if (!ParseDocument(body, &doc, error)) return false;
  if (!doc.IsObject()) return Fail(error, "The body must be a JSON object (a merge patch).");
  Config next = *config;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string_view key = View(it->name);
    const Value& v = it->value;
    if (key == "profile") {
      auto p = v.IsString() ? ParseProfile(View(v)) : std::nullopt;
      if (!p) return Fail(error, "profile must be \"documented\" or \"logto\".");
      next.profile = *p;
    } else if (key == "codeTtlSeconds") {
      if (!PatchUint(v, "codeTtlSeconds", &next.code_ttl_seconds, error)) return false;
    } else if (key == "maxAttempts") {
      if (!PatchUint(v, "maxAttempts", &next.max_attempts, error)) return false;
    } else if (key == "connectors") {
      if (!v.IsObject()) return Fail(error, "connectors must be an object {email, phone}.");
      for (auto c = v.MemberBegin(); c != v.MemberEnd(); ++c) {
        const std::string_view ck = View(c->name);
        if (ck == "email") {
          if (!PatchBool(c->value, "connectors.email", &next.email_connector, error)) return false;
        } else if (ck == "phone") {
          if (!PatchBool(c->value, "connectors.phone", &next.phone_connector, error)) return false;
        } else {
          return Fail(error, "unknown field \"connectors." + std::string(ck) + "\".");
        }
      }
    } else if (key == "sendRateLimit") {
      if (!v.IsObject()) {
        return Fail(error, "sendRateLimit must be an object {maxSends, windowSeconds}.");
      }
      for (auto c = v.MemberBegin(); c != v.MemberEnd(); ++c) {
        const std::string_view ck = View(c->name);
        if (ck == "maxSends") {
          if (!PatchUint(c->value, "sendRateLimit.maxSends", &next.send_rate_limit.max_sends,
                         error)) {
            return false;
          }
        } else if (ck == "windowSeconds") {
          if (!PatchUint(c->value, "sendRateLimit.windowSeconds",
                         &next.send_rate_limit.window_seconds, error)) {
            return false;
          }
        } else {
          return Fail(error, "unknown field \"sendRateLimit." + std::string(ck) + "\".");
        }
      }
    } else if (key == "sessions") {
      auto m = v.IsString() ? ParseSessionMode(View(v)) : std::nullopt;
      if (!m) return Fail(error, "sessions must be \"off\", \"optional\" or \"required\".");
      next.sessions = *m;
    } else if (key == "sessionTtlSeconds") {
      if (!PatchUint(v, "sessionTtlSeconds", &next.session_ttl_seconds, error)) return false;
    } else if (key == "lockout") {
      if (!v.IsObject()) {
        return Fail(error,
                    "lockout must be an object {maxFailures, windowSeconds, durationSeconds}.");
      }
      for (auto c = v.MemberBegin(); c != v.MemberEnd(); ++c) {
        const std::string_view ck = View(c->name);
        uint32_t* target = ck == "maxFailures"       ? &next.lockout.max_failures
                           : ck == "windowSeconds"   ? &next.lockout.window_seconds
                           : ck == "durationSeconds" ? &next.lockout.duration_seconds
                                                     : nullptr;
        if (target == nullptr) {
          return Fail(error, "unknown field \"lockout." + std::string(ck) + "\".");
        }
        if (!PatchUint(c->value, ("lockout." + std::string(ck)).c_str(), target, error)) {
          return false;
        }
      }
    } else if (key == "faults") {
      if (v.IsNull()) {
        next.faults = Faults{};
        continue;
      }
      if (!v.IsObject()) return Fail(error, "faults must be an object {send, verify} or null.");
      for (auto c = v.MemberBegin(); c != v.MemberEnd(); ++c) {
        const std::string_view ck = View(c->name);
        FaultRule* rule = ck == "send"     ? &next.faults.send
                          : ck == "verify" ? &next.faults.verify
                                           : nullptr;
        if (rule == nullptr) {
          return Fail(error, "unknown field \"faults." + std::string(ck) + "\" (send or verify).");
        }
        if (!PatchFaultRule(c->value, "faults." + std::string(ck), rule, error)) return false;
      }
    } else if (key == "fixedCode") {
      if (v.IsNull()) {
        next.fixed_code.reset();
      } else if (v.IsString()) {
        next.fixed_code = std::string(View(v));
      } else {
        return Fail(error, "fixedCode must be null or a string of digits.");
      }
    } else if (key == "defaultUser") {
      if (!v.IsObject()) {
        return Fail(error, "defaultUser must be an object {email, phone, identified}.");
      }
      for (auto c = v.MemberBegin(); c != v.MemberEnd(); ++c) {
        const std::string_view ck = View(c->name);
        if (ck == "email") {
          if (!PatchAddress(c->value, "defaultUser.email", &next.default_user.email, error)) {
            return false;
          }
        } else if (ck == "phone") {
          if (!PatchAddress(c->value, "defaultUser.phone", &next.default_user.phone, error)) {
            return false;
          }
        } else if (ck == "identified") {
          if (!PatchBool(c->value, "defaultUser.identified", &next.default_user.identified,
                         error)) {
            return false;
          }
        } else {
          return Fail(error, "unknown field \"defaultUser." + std::string(ck) + "\".");
        }
      }
    } else {
      return Fail(error, "unknown field \"" + std::string(key) + "\".");
    }
  }
  if (std::string why = ValidateConfig(next); !why.empty()) return Fail(error, why);
  *config = std::move(next);
  return true;
}

bool ParseClockAdvance(std::string_view body, int64_t* seconds, AdminParseError* error) {
  Document doc;
  if (!ParseDocument(body, &doc, error)) return false;
  if (!doc.IsObject() || !doc.HasMember("seconds") || doc.MemberCount() != 1 ||
      !ReadInt(doc["seconds"], 0, int64_t{kMaxTtlSeconds} * 10, seconds)) {
    return Fail(error, "Send {\"seconds\": N} with N a non-negative integer.");
  }
  return true;
}

namespace {

// Splits one CSV line; fields may be quoted ("a,b" with "" for a quote).
bool SplitCsv(std::string_view line, std::vector<std::string>* fields) {
  fields->clear();
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field.push_back(c);
      }
    } else if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else {
      field.push_back(c);
    }
  }
  if (quoted) return false;
  fields->push_back(std::move(field));
  return true;
}

}  // namespace

bool ParseSeedFile(std::string_view content, std::vector<SeedItem>* items, std::string* error,
                   std::vector<size_t>* lines) {
  const size_t first = content.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return true;  // an empty file seeds nothing
  const bool ndjson = content[first] == '{';
  size_t line_no = 0;
  std::vector<std::string> header, fields;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (ndjson) {
      if (line.find('\0') != std::string_view::npos) {
        *error = where + "contains a NUL byte.";  // RapidJSON would stop reading there
        return false;
      }
      Document doc;
      doc.Parse<kParseFlags>(line.data(), line.size());
      if (doc.HasParseError()) {
        *error = where + "not valid JSON: " + rapidjson::GetParseError_En(doc.GetParseError());
        return false;
      }
      SeedItem item;
      std::string why;
      if (!ParseSeedObject(doc, &item, &why)) {
        *error = where + why;
        return false;
      }
      items->push_back(std::move(item));
      if (lines) lines->push_back(line_no);
      continue;
    }
    if (!SplitCsv(line, &fields)) {
      *error = where + "unterminated quoted field.";
      return false;
    }
    if (header.empty()) {
      header = fields;
      bool has_id = false, has_code = false, has_type = false;
      for (const std::string& h : header) {
        if (h == "verificationId") {
          has_id = true;
        } else if (h == "code") {
          has_code = true;
        } else if (h == "identifierType") {
          has_type = true;
        } else if (h != "identifier" && h != "ttlSeconds" && h != "identified") {
          *error = where + "unknown CSV column \"" + h +
                   "\" (expected verificationId,code,identifierType,identifier[,ttlSeconds]"
                   "[,identified]).";
          return false;
        }
      }
      if (!has_id || !has_code || !has_type) {
        *error = where +
                 "the CSV header must name verificationId, code and identifierType (and may name "
                 "identifier, ttlSeconds, identified).";
        return false;
      }
      continue;
    }
    if (fields.size() != header.size()) {
      *error = where + "expected " + std::to_string(header.size()) + " fields, found " +
               std::to_string(fields.size()) + ".";
      return false;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!IsValidUtf8(fields[i])) {
        *error = where + header[i] + " is not valid UTF-8.";
        return false;
      }
    }
    // Reuse the JSON validation so both formats accept exactly the same values.
    std::string json = "{";
    for (size_t i = 0; i < header.size(); ++i) {
      // An empty optional cell takes the default, as an absent column would.
      if ((header[i] == "identifier" || header[i] == "ttlSeconds" || header[i] == "identified") &&
          fields[i].empty()) {
        continue;
      }
      if (json.size() > 1) json += ',';
      AppendJsonString(json, header[i]);
      json += ':';
      if (header[i] == "ttlSeconds") {
        const bool digits = !fields[i].empty() && fields[i].size() <= 10 &&
                            fields[i].find_first_not_of("0123456789") == std::string::npos;
        if (!digits) {
          *error = where + "ttlSeconds must be a positive integer.";
          return false;
        }
        json += std::to_string(std::stoull(fields[i]));  // "0600" is 600, not invalid JSON
      } else if (header[i] == "identified") {
        if (fields[i] != "true" && fields[i] != "false") {
          *error = where + "identified must be true or false.";
          return false;
        }
        json += fields[i];
      } else {
        AppendJsonString(json, fields[i]);
      }
    }
    json += '}';
    Document doc;
    doc.Parse<kParseFlags>(json.data(), json.size());
    SeedItem item;
    std::string why;
    if (doc.HasParseError()) {
      *error = where + "invalid characters.";
      return false;
    }
    if (!ParseSeedObject(doc, &item, &why)) {
      *error = where + why;
      return false;
    }
    items->push_back(std::move(item));
    if (lines) lines->push_back(line_no);
  }
  return true;
}

namespace {

bool ParseUserObject(const Value& obj, User* user, std::string* why) {
  if (!obj.IsObject()) {
    *why = "must be a JSON object.";
    return false;
  }
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    const std::string_view key = View(it->name);
    const Value& v = it->value;
    std::string* field = nullptr;
    if (key == "id") {
      if (!v.IsString() || !IsValidVerificationId(View(v))) {
        *why = "id must be 1-64 characters of [A-Za-z0-9_-].";
        return false;
      }
      user->id = std::string(View(v));
      continue;
    }
    // The user's stored MFA factors, as Logto's POST /users/{id}/mfa-verifications takes them.
    if (key == "totpSecret") {
      if (v.IsNull()) {
        user->totp_secret.clear();
        continue;
      }
      if (!v.IsString() || !IsValidTotpSecret(View(v))) {
        *why =
            "totpSecret must be 16 to 32 characters of base32 (A-Z, 2-7, '=' padding), as "
            "Logto's user.totp_secret_invalid requires.";
        return false;
      }
      user->totp_secret = std::string(View(v));
      continue;
    }
    if (key == "backupCodes") {
      user->backup_codes.clear();
      if (v.IsNull()) continue;
      std::vector<std::string> codes;
      if (v.IsArray()) {
        for (const Value& c : v.GetArray()) {
          if (!c.IsString()) break;
          codes.emplace_back(View(c));
        }
      }
      if (!v.IsArray() || codes.size() != v.Size() || !IsValidBackupCodes(codes)) {
        *why =
            "backupCodes must be 10 codes of 10 hexadecimal digits (Logto's "
            "user.wrong_backup_code_format).";
        return false;
      }
      for (std::string& c : codes) user->backup_codes.push_back({std::move(c), false});
      continue;
    }
    if (key == "username") field = &user->username;
    if (key == "primaryEmail") field = &user->primary_email;
    if (key == "primaryPhone") field = &user->primary_phone;
    if (key == "password") field = &user->password;
    if (field == nullptr) {
      *why = "unknown field \"" + std::string(key) + "\".";
      return false;
    }
    if (v.IsNull()) {
      field->clear();
      continue;
    }
    if (!v.IsString() || v.GetStringLength() > kMaxIdentifierLength || !IsPrintable(View(v))) {
      *why = std::string(key) + " must be a string of at most 254 printable characters.";
      return false;
    }
    *field = std::string(View(v));
  }
  // Logto's session.mfa.backup_code_can_not_be_alone: backup codes back up another stored factor.
  if (!user->backup_codes.empty() && user->totp_secret.empty()) {
    *why =
        "backupCodes need a totpSecret: backup codes cannot be a user's only factor (Logto's "
        "session.mfa.backup_code_can_not_be_alone).";
    return false;
  }
  if (user->id.empty()) user->id = "u_" + SecureRandom::NewId().substr(0, 12);
  return true;
}

}  // namespace

bool ParseUser(std::string_view body, User* user, AdminParseError* error) {
  Document doc;
  if (!ParseDocument(body, &doc, error)) return false;
  std::string why;
  if (!ParseUserObject(doc, user, &why)) return Fail(error, why);
  return true;
}

bool ParseUsersFile(std::string_view content, std::vector<User>* users, std::string* error) {
  Document doc;
  doc.Parse<kParseFlags>(content.data(), content.size());
  if (doc.HasParseError()) {
    *error = std::string("not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()) +
             " (at byte " + std::to_string(doc.GetErrorOffset()) + ")";
    return false;
  }
  if (!doc.IsArray()) {
    *error = "must be a JSON array of users";
    return false;
  }
  for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
    User user;
    std::string why;
    if (!ParseUserObject(doc[i], &user, &why)) {
      *error = "item " + std::to_string(i) + ": " + why;
      return false;
    }
    users->push_back(std::move(user));
  }
  return true;
}

bool ParseCreateSession(std::string_view body, std::string* user_id, InteractionEvent* event,
                        bool* start_interaction, AdminParseError* error) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return true;  // all defaults
  Document doc;
  if (!ParseDocument(body, &doc, error)) return false;
  if (!doc.IsObject()) return Fail(error, "The body must be a JSON object.");
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string_view key = View(it->name);
    const Value& v = it->value;
    if (key == "userId") {
      if (!v.IsString() || !IsValidVerificationId(View(v))) {
        return Fail(error, "userId must be 1-64 characters of [A-Za-z0-9_-].");
      }
      *user_id = std::string(View(v));
    } else if (key == "interactionEvent") {
      auto e = v.IsString() ? ParseInteractionEvent(View(v)) : std::nullopt;
      if (!e) return Fail(error, "interactionEvent must be SignIn, Register or ForgotPassword.");
      *event = *e;
    } else if (key == "startInteraction") {
      if (!v.IsBool()) return Fail(error, "startInteraction must be true or false.");
      *start_interaction = v.GetBool();
    } else {
      return Fail(error, "unknown field \"" + std::string(key) + "\".");
    }
  }
  return true;
}

bool ParseIdentify(std::string_view body, std::string* user_id, AdminParseError* error) {
  Document doc;
  if (!ParseDocument(body, &doc, error)) return false;
  if (!doc.IsObject() || !doc.HasMember("userId") || !doc["userId"].IsString() ||
      doc.MemberCount() != 1) {
    return Fail(error, "Send {\"userId\": \"...\"}.");
  }
  *user_id = std::string(View(doc["userId"]));
  return true;
}

std::string UserToJson(const User& u) {
  std::string out;
  JsonWriter json(out);
  json.BeginObject()
      .String("id", u.id)
      .StringOrNull("username", u.username)
      .StringOrNull("primaryEmail", u.primary_email)
      .StringOrNull("primaryPhone", u.primary_phone)
      .Bool("hasPassword", !u.password.empty());
  // Logto's GET /users/{id}/mfa-verifications: the factors, never the secret or the codes.
  json.Key("mfaVerifications").BeginArray();
  if (!u.totp_secret.empty()) json.BeginObject().String("type", "Totp").EndObject();
  if (!u.backup_codes.empty()) {
    const auto remain = std::count_if(u.backup_codes.begin(), u.backup_codes.end(),
                                      [](const BackupCode& c) { return !c.used; });
    json.BeginObject()
        .String("type", "BackupCode")
        .Int("remainCodes", static_cast<int64_t>(remain))
        .EndObject();
  }
  json.EndArray().EndObject();
  return out;
}

std::string ConfigToJson(const Config& c) {
  std::string out;
  JsonWriter json(out);
  json.BeginObject()
      .String("profile", ToString(c.profile))
      .Int("codeTtlSeconds", c.code_ttl_seconds)
      .Int("maxAttempts", c.max_attempts)
      .Key("connectors")
      .BeginObject()
      .Bool("email", c.email_connector)
      .Bool("phone", c.phone_connector)
      .EndObject()
      .Key("sendRateLimit")
      .BeginObject()
      .Int("maxSends", c.send_rate_limit.max_sends)
      .Int("windowSeconds", c.send_rate_limit.window_seconds)
      .EndObject()
      .StringOrNull("fixedCode", c.fixed_code.value_or(""))
      .Key("defaultUser")
      .BeginObject()
      .String("email", c.default_user.email)
      .String("phone", c.default_user.phone)
      .Bool("identified", c.default_user.identified)
      .EndObject()
      .String("sessions", ToString(c.sessions))
      .Int("sessionTtlSeconds", c.session_ttl_seconds)
      .Key("lockout")
      .BeginObject()
      .Int("maxFailures", c.lockout.max_failures)
      .Int("windowSeconds", c.lockout.window_seconds)
      .Int("durationSeconds", c.lockout.duration_seconds)
      .EndObject()
      .Key("faults")
      .BeginObject()
      .Key("send");
  WriteFaultRule(json, c.faults.send);
  json.Key("verify");
  WriteFaultRule(json, c.faults.verify);
  json.EndObject().EndObject();
  return out;
}

}  // namespace mfa
