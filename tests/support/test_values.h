// SPDX-License-Identifier: Apache-2.0
// Checks and conversions for the values the contract defines (ids, codes, times).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mfa_test {

// 21 characters of [0-9a-z] (contract §5).
bool IsVerificationId(std::string_view s);
// 6 decimal digits (contract §5).
bool IsSixDigitCode(std::string_view s);
// RFC 3339 in UTC with a literal Z: 2026-01-02T03:04:05Z or with fractional seconds.
bool IsRfc3339Utc(std::string_view s);
// Milliseconds since the Unix epoch of an IsRfc3339Utc() string.
std::optional<int64_t> ParseRfc3339UtcMs(std::string_view s);
// Percent-encodes everything except RFC 3986 unreserved characters.
std::string UrlEncode(std::string_view s);
// Lowercased copy (ASCII).
std::string ToLower(std::string_view s);

}  // namespace mfa_test
