// SPDX-License-Identifier: Apache-2.0
#include "admin/admin_support.h"

#include <cstdlib>

#include "wire/json_util.h"

namespace mfa {

void SetParseError(Reply& reply, const AdminParseError& error) {
  SetError(reply,
           error.kind == AdminParseError::kInvalidJson ? ApiError::kInvalidJson
                                                       : ApiError::kInvalidRequest,
           error.message);
}

void SetNotFound(Reply& reply, std::string_view what, std::string_view id) {
  SetError(reply, ApiError::kNotFound,
           "No " + std::string(what) + " with id \"" + std::string(id) + "\".");
}

bool ReadIntQuery(const HttpRequest& request, std::string_view name, int64_t min, int64_t max,
                  int64_t fallback, std::string_view description, int64_t* out, Reply& reply) {
  const std::optional<std::string> text = request.Query(name);
  if (!text) {
    *out = fallback;
    return true;
  }
  char* end = nullptr;
  const long long n = std::strtoll(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || n < min || n > max) {
    SetError(reply, ApiError::kInvalidRequest,
             std::string(name) + " must be " + std::string(description) + ".");
    return false;
  }
  *out = n;
  return true;
}

namespace {

// The members every record body starts with.
JsonWriter& WriteCodeFields(JsonWriter& json, std::string_view id, IdentifierType type,
                            std::string_view identifier, std::string_view code) {
  return json.String("verificationId", id)
      .String("identifierType", ToString(type))
      .String("identifier", identifier)
      .String("code", code);
}

}  // namespace

void WriteSeeded(JsonWriter& json, const SeededRecord& r) {
  json.BeginObject();
  WriteCodeFields(json, r.verification_id, r.type, r.identifier, r.code)
      .String("expiresAt", FormatRfc3339(r.expires_ms))
      .EndObject();
}

void WriteRecord(JsonWriter& json, const RecordSnapshot& r) {
  json.BeginObject();
  WriteCodeFields(json, r.verification_id, r.identifier_type, r.identifier, r.code)
      .String("createdAt", FormatRfc3339(r.created_ms))
      .String("expiresAt", FormatRfc3339(r.expires_ms))
      .Int("tryCount", r.try_count)
      .Bool("consumed", r.consumed)
      .Bool("verified", r.verified)
      .Bool("identified", r.identified)
      .StringOrNull("batchId", r.batch_id)
      .EndObject();
}

void WriteMessage(JsonWriter& json, const InboxMessage& m, MessageState state) {
  json.BeginObject()
      .String("channel", ChannelName(m.type))
      .String("to", m.to)
      .StringOrNull("code", m.code)  // null: a connector's message without a code
      .StringOrNull("verificationId", m.verification_id)
      .String("template", m.template_type.empty() ? "MfaVerification" : m.template_type)
      .String("sentAt", FormatRfc3339(m.sent_ms))
      .String("state", ToString(state))
      .Int("cursor", static_cast<int64_t>(m.seq))
      .StringOrNull("sessionId", m.session_id)
      .EndObject();
}

std::string ClockBody(const OffsetClock& clock) {
  std::string body;
  JsonWriter(body)
      .BeginObject()
      .String("now", FormatRfc3339(clock.NowMs()))
      .Int("offsetSeconds", clock.offset_ms() / 1000)
      .EndObject();
  return body;
}

}  // namespace mfa
