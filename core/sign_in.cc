// SPDX-License-Identifier: Apache-2.0
#include "core/sign_in.h"

#include <algorithm>
#include <array>

#include "core/recipient.h"
#include "core/sessions.h"

namespace mfa {
namespace {

constexpr std::array<std::string_view, kMfaFactorCount> kFactorNames = {
    "Totp", "WebAuthn", "BackupCode", "EmailVerificationCode", "PhoneVerificationCode"};

}  // namespace

std::string_view ToString(MfaFactor factor) { return kFactorNames[static_cast<size_t>(factor)]; }

std::optional<MfaFactor> ParseMfaFactor(std::string_view s) {
  for (size_t i = 0; i < kFactorNames.size(); ++i) {
    if (kFactorNames[i] == s) return static_cast<MfaFactor>(i);
  }
  return std::nullopt;
}

std::string_view ToString(MfaPolicy policy) {
  return policy == MfaPolicy::kMandatory ? "Mandatory" : "NoPrompt";
}

std::optional<MfaPolicy> ParseMfaPolicy(std::string_view s) {
  if (s == "NoPrompt") return MfaPolicy::kNoPrompt;
  if (s == "Mandatory") return MfaPolicy::kMandatory;
  return std::nullopt;
}

std::string_view ToString(SignInIdentifier type) {
  switch (type) {
    case SignInIdentifier::kUsername:
      return "username";
    case SignInIdentifier::kEmail:
      return "email";
    case SignInIdentifier::kPhone:
      return "phone";
  }
  return "username";
}

std::optional<SignInIdentifier> ParseSignInIdentifier(std::string_view s) {
  if (s == "username") return SignInIdentifier::kUsername;
  if (s == "email") return SignInIdentifier::kEmail;
  if (s == "phone") return SignInIdentifier::kPhone;
  return std::nullopt;
}

bool UserMatches(const User& user, SignInIdentifier type, std::string_view value) {
  switch (type) {
    case SignInIdentifier::kUsername:
      return !user.username.empty() && user.username == value;
    case SignInIdentifier::kEmail:
      return !user.primary_email.empty() &&
             NormalizeRecipient(IdentifierType::kEmail, user.primary_email) ==
                 NormalizeRecipient(IdentifierType::kEmail, value);
    case SignInIdentifier::kPhone: {
      const std::string digits = NormalizeRecipient(IdentifierType::kPhone, value);
      return !user.primary_phone.empty() && !digits.empty() &&
             NormalizeRecipient(IdentifierType::kPhone, user.primary_phone) == digits;
    }
  }
  return false;
}

bool IsValidBackupCodes(const std::vector<std::string>& codes) {
  if (codes.size() != kBackupCodeCount) return false;
  return std::all_of(codes.begin(), codes.end(), [](const std::string& code) {
    return code.size() == 10 && std::all_of(code.begin(), code.end(), [](char c) {
             return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
           });
  });
}

std::vector<MfaFactor> AvailableMfaFactors(const MfaSettings& settings, const User& user) {
  std::vector<MfaFactor> factors;
  if (settings.enabled(MfaFactor::kTotp) && !user.totp_secret.empty()) {
    factors.push_back(MfaFactor::kTotp);
  }
  if (settings.enabled(MfaFactor::kPhoneVerificationCode) && !user.primary_phone.empty()) {
    factors.push_back(MfaFactor::kPhoneVerificationCode);
  }
  if (settings.enabled(MfaFactor::kEmailVerificationCode) && !user.primary_email.empty()) {
    factors.push_back(MfaFactor::kEmailVerificationCode);
  }
  // Logto's filterOutEmptyBackupCodes: a factor whose codes are all used is gone.
  if (settings.enabled(MfaFactor::kBackupCode) &&
      std::any_of(user.backup_codes.begin(), user.backup_codes.end(),
                  [](const BackupCode& c) { return !c.used; })) {
    factors.push_back(MfaFactor::kBackupCode);
  }
  return factors;
}

std::vector<MfaFactor> ConfiguredMfaFactors(const MfaSettings& settings) {
  std::vector<MfaFactor> factors;
  for (MfaFactor f : {MfaFactor::kWebAuthn, MfaFactor::kTotp, MfaFactor::kPhoneVerificationCode,
                      MfaFactor::kEmailVerificationCode}) {
    if (settings.enabled(f)) factors.push_back(f);
  }
  return factors;
}

std::string MaskEmail(std::string_view email) {
  const size_t at = email.find('@');
  const std::string_view name = email.substr(0, at);
  // JavaScript's split('@')[1]: the text up to the next '@', if any.
  std::string_view domain;
  if (at != std::string_view::npos) {
    domain = email.substr(at + 1);
    domain = domain.substr(0, domain.find('@'));
  }
  // JavaScript counts UTF-16 units; code points are the same for every address in the BMP.
  size_t cut = 0;
  int points = 0;
  for (size_t i = 0; i < name.size() && points <= 4; ++i) {
    if ((static_cast<unsigned char>(name[i]) & 0xC0) != 0x80) {
      if (++points == 5) cut = i;
    }
  }
  std::string out(points > 4 ? name.substr(0, cut) : std::string_view());
  out += "****@";
  out += domain;
  return out;
}

std::string MaskPhone(std::string_view phone) {
  return "****" + std::string(phone.size() > 4 ? phone.substr(phone.size() - 4) : phone);
}

}  // namespace mfa
