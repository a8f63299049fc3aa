// SPDX-License-Identifier: Apache-2.0
// Every expected result of a domain operation. Mapped to HTTP in app/error_table.cc, and to
// metric labels in metrics/; nothing else interprets them.
#pragma once

#include <cstdint>

namespace mfa {

enum class Outcome : uint8_t {
  kOk = 0,
  kInvalidInput,          // guard.invalid_input
  kSessionNotFound,       // session.not_found
  kInteractionNotFound,   // session.interaction_not_found
  kIdentifierNotFound,    // session.identifier_not_found
  kFactorNotEnabled,      // session.mfa.mfa_factor_not_enabled
  kVerificationNotFound,  // session.verification_session_not_found
  kVerificationBlocked,   // session.verification_blocked_too_many_attempts
  kCodeNotFound,          // verification_code.not_found (empty code or already consumed)
  kCodeExpired,           // verification_code.expired
  kExceedMaxTry,          // verification_code.exceed_max_try
  kCodeMismatch,          // verification_code.code_mismatch
  kRateLimited,           // request.message_rate_limited
  kConnectorNotFound,     // connector.not_found
  kNotIdentified,         // session.identifier_not_found, 404 (submit; send's is 400)
  kInvalidCredentials,    // session.invalid_credentials (unknown user or wrong password)
  kVerificationFailed,    // session.verification_failed (record not verified)
  kIdentityConflict,      // session.identity_conflict (identified as another user)
  kMfaRequired,           // session.mfa.require_mfa_verification (submit before the MFA step)
  kMissingMfa,            // user.missing_mfa (Mandatory policy, user has no factor)
  kUserNotFound,          // entity.not_found (the identified user was deleted)
  kCaptchaFailed,         // session.captcha_failed (a captchaToken; the mock has no provider)
  kInvalidTotpCode,       // session.mfa.invalid_totp_code (wrong, reused or no TOTP)
  kInvalidBackupCode,     // session.mfa.invalid_backup_code (unknown or used backup code)
  kNotModelled,           // mfa-mock: a Logto path the mock does not model (registration)
  kStoreFull,             // mfa-mock: --max-records reached
  kStoreUnavailable,      // mfa-mock: the shared store (Redis) did not answer in time
  kStoreBusy,             // mfa-mock: too many calls wait for the shared store on this node
  kInternal,              // unexpected
};
inline constexpr int kOutcomeCount = static_cast<int>(Outcome::kInternal) + 1;

}  // namespace mfa
