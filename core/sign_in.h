// SPDX-License-Identifier: Apache-2.0
// The sign-in steps around the MFA step, as Logto's experience API runs them: the password
// verification record, identification, and submit's MFA guard (which factors a user has, how
// their addresses are masked, when submit must answer 403 first).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mfa {

struct User;

// Logto's MfaFactor, in its declaration order.
enum class MfaFactor : uint8_t {
  kTotp = 0,
  kWebAuthn,
  kBackupCode,
  kEmailVerificationCode,
  kPhoneVerificationCode,
};
inline constexpr int kMfaFactorCount = 5;
std::string_view ToString(MfaFactor factor);
std::optional<MfaFactor> ParseMfaFactor(std::string_view s);

// The MFA prompt policies the mock models. Logto's prompt policies (PromptAtSignInAndSignUp, ...)
// lead to the binding screens, which the mock does not serve.
enum class MfaPolicy : uint8_t {
  kNoPrompt = 0,  // users with factors verify one; users without sign in directly
  kMandatory,     // users without a factor get 422 user.missing_mfa at submit
};
std::string_view ToString(MfaPolicy policy);
std::optional<MfaPolicy> ParseMfaPolicy(std::string_view s);

// The sign-in experience's MFA part: the enabled factors (a bit per MfaFactor) and the policy.
struct MfaSettings {
  uint8_t factors = (1u << static_cast<int>(MfaFactor::kEmailVerificationCode)) |
                    (1u << static_cast<int>(MfaFactor::kPhoneVerificationCode));
  MfaPolicy policy = MfaPolicy::kNoPrompt;

  bool enabled(MfaFactor f) const { return (factors >> static_cast<int>(f)) & 1u; }
  // The enabled factors, in MfaFactor's order.
  std::vector<MfaFactor> Enabled() const {
    std::vector<MfaFactor> out;
    for (int f = 0; f < kMfaFactorCount; ++f) {
      if (enabled(static_cast<MfaFactor>(f))) out.push_back(static_cast<MfaFactor>(f));
    }
    return out;
  }
  void set(MfaFactor f, bool on) {
    const auto bit = static_cast<uint8_t>(1u << static_cast<int>(f));
    factors = on ? (factors | bit) : (factors & ~bit);
  }
};

// The identifier types of the password verification (Logto's SignInIdentifier).
enum class SignInIdentifier : uint8_t { kUsername = 0, kEmail, kPhone };
std::string_view ToString(SignInIdentifier type);
std::optional<SignInIdentifier> ParseSignInIdentifier(std::string_view s);

// A password verification record of an interaction (Logto keeps one per type: a new one
// replaces the last).
struct PasswordRecord {
  std::string id;  // empty = none
  SignInIdentifier identifier_type = SignInIdentifier::kUsername;
  std::string identifier;
  bool verified = false;
};

// A verified TOTP or backup-code record of an interaction. Logto keeps one per type, and saves
// an existing factor's record only once it is verified, so the mock keeps only verified ones.
struct MfaRecord {
  std::string id;    // empty = none
  std::string code;  // backup code: the code used (Logto's sanitized record shows it)
};

// Logto's validateBackupCodes: exactly 10 codes of 10 hexadecimal digits (either case).
inline constexpr size_t kBackupCodeCount = 10;
bool IsValidBackupCodes(const std::vector<std::string>& codes);

// Whether `user` is the one Logto's findUserByIdentifier finds for (type, value): usernames
// exactly (case-sensitive, Logto's default), emails ignoring case, phones by their digits.
bool UserMatches(const User& user, SignInIdentifier type, std::string_view value);

// The factors the 403 lists (Logto's availableUserMfaVerificationTypes), each only when the
// sign-in experience enables it: the user's stored TOTP, then the implicit ones (phone before
// email, when the user has the address), backup codes last and only while one is unused.
std::vector<MfaFactor> AvailableMfaFactors(const MfaSettings& settings, const User& user);

// Logto's getConfiguredMfaFactors (the 422 user.missing_mfa lists them): the enabled factors but
// backup codes, in sortMfaFactors' order (WebAuthn, TOTP, phone, email).
std::vector<MfaFactor> ConfiguredMfaFactors(const MfaSettings& settings);

// Logto's masks (shared/src/utils/mask.ts): "alic****@example.com", "****0101".
std::string MaskEmail(std::string_view email);
std::string MaskPhone(std::string_view phone);

}  // namespace mfa
