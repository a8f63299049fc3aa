// SPDX-License-Identifier: Apache-2.0
// What the admin route groups share: query parsing, parse errors, record and message bodies.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/inbox.h"
#include "core/mfa_service.h"
#include "core/verification_store.h"
#include "http/reply.h"
#include "http/request.h"
#include "wire/admin_parser.h"
#include "wire/json_util.h"
#include "wire/json_writer.h"

namespace mfa {

// 400 admin.invalid_json or admin.invalid_request with the parser's message.
void SetParseError(Reply& reply, const AdminParseError& error);
// 404 admin.not_found: `what` is e.g. "verification", `id` the id asked for.
void SetNotFound(Reply& reply, std::string_view what, std::string_view id);

// The integer query parameter `name` in [min, max], or `fallback` when absent. False (with a
// 400 set on `reply`) when present but not such an integer.
bool ReadIntQuery(const HttpRequest& request, std::string_view name, int64_t min, int64_t max,
                  int64_t fallback, std::string_view description, int64_t* out, Reply& reply);

void WriteSeeded(JsonWriter& json, const SeededRecord& record);
void WriteRecord(JsonWriter& json, const RecordSnapshot& record);
void WriteMessage(JsonWriter& json, const InboxMessage& message, MessageState state);
// {"now": ..., "offsetSeconds": ...}
std::string ClockBody(const OffsetClock& clock);

}  // namespace mfa
