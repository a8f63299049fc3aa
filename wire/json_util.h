// SPDX-License-Identifier: Apache-2.0
// Tiny JSON output helpers (escaping, RFC 3339 times) shared by every route.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mfa {

// Appends `s` as a JSON string literal (with quotes) to `out`. Invalid UTF-8 becomes U+FFFD, so
// the output is always valid JSON whatever bytes a client sent.
void AppendJsonString(std::string& out, std::string_view s);
// Like AppendJsonString, but an empty `s` is written as null (absent optional values).
void AppendJsonStringOrNull(std::string& out, std::string_view s);
// True if `s` is well-formed UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
bool IsValidUtf8(std::string_view s);
// "2026-11-26T07:28:14.123Z"
std::string FormatRfc3339(int64_t epoch_ms);

// The body with every "code" string member's value replaced by "******"; bodies that are not
// JSON objects are summarized, never stored raw (they may hold a code).
std::string MaskCodes(std::string_view body);

}  // namespace mfa
