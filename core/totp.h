// SPDX-License-Identifier: Apache-2.0
// RFC 6238 time-based one-time passwords as Logto checks them (otplib's authenticator: base32
// secrets, HMAC-SHA1, 30 s steps, 6 digits, one step of tolerance either way), over OpenSSL's
// HMAC. The building block of the TOTP MFA factor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mfa {

inline constexpr int64_t kTotpStepMs = 30'000;

// Logto's validateTotpSecret: 16 to 32 characters of RFC 4648 base32 (A-Z, 2-7, '=' padding).
bool IsValidTotpSecret(std::string_view secret);
// The bytes of an RFC 4648 base32 text (upper or lower case, padding optional); nullopt when a
// character is not base32.
std::optional<std::string> DecodeBase32(std::string_view text);
// RFC 4226's HOTP of `key` at `counter`, `digits` long with leading zeros.
std::string HotpCode(std::string_view key, uint64_t counter, int digits = 6);
// The time step whose code `code` is, among the step of `now_ms` and one step before and after
// (otplib's window of 1), or nullopt. `key` is the decoded secret.
std::optional<int64_t> TotpMatchingStep(std::string_view key, std::string_view code,
                                        int64_t now_ms);

}  // namespace mfa
