// SPDX-License-Identifier: Apache-2.0
// The contract's fixed strings (../shared/logto-contract.md and issue 2), typed out once and
// independently of the server's own tables, so tests check the server against the spec.
#pragma once

#include <string_view>

namespace mfa_test {

inline constexpr std::string_view kSendPath = "/api/experience/verification/mfa-verification-code";
inline constexpr std::string_view kVerifyPath =
    "/api/experience/verification/mfa-verification-code/verify";

// Open mode's default user (contract §6, issue 2 defaults).
inline constexpr std::string_view kDefaultEmail = "user@example.com";
inline constexpr std::string_view kDefaultPhone = "+15555550100";

// Policy defaults (contract §5).
inline constexpr int kDefaultTtlSeconds = 600;
inline constexpr int kDefaultMaxAttempts = 10;
inline constexpr int kDefaultMaxSends = 10;
inline constexpr int kDefaultWindowSeconds = 600;
inline constexpr int kDefaultPublicMaxBody = 16384;
inline constexpr int kDefaultAdminMaxBody = 8388608;

// Error table (contract §2): codes and exact messages.
inline constexpr std::string_view kInvalidInput = "guard.invalid_input";
inline constexpr std::string_view kInvalidInputMessage = "The request body is invalid.";
inline constexpr std::string_view kInvalidJsonMessage = "The request body is not valid JSON.";
inline constexpr std::string_view kIdentifierNotFound = "session.identifier_not_found";
inline constexpr std::string_view kIdentifierNotFoundMessage =
    "User identifier not found. Please go back and sign in again.";
inline constexpr std::string_view kFactorNotEnabled = "session.mfa.mfa_factor_not_enabled";
inline constexpr std::string_view kFactorNotEnabledMessage = "MFA factor is not enabled.";
inline constexpr std::string_view kVerificationNotFound = "session.verification_session_not_found";
inline constexpr std::string_view kVerificationNotFoundMessage =
    "The verification was not successful. Restart the verification flow and try again.";
inline constexpr std::string_view kCodeNotFound = "verification_code.not_found";
inline constexpr std::string_view kCodeNotFoundMessage =
    "Verification code not found. Please send verification code first.";
inline constexpr std::string_view kCodeExpired = "verification_code.expired";
inline constexpr std::string_view kCodeExpiredMessage =
    "Verification code has expired. Please request a new verification code.";
inline constexpr std::string_view kExceedMaxTry = "verification_code.exceed_max_try";
inline constexpr std::string_view kExceedMaxTryMessage =
    "Verification code retries limitation exceeded. Please request a new verification code.";
inline constexpr std::string_view kCodeMismatch = "verification_code.code_mismatch";
inline constexpr std::string_view kCodeMismatchMessage = "Invalid verification code.";
inline constexpr std::string_view kRateLimited = "request.message_rate_limited";
inline constexpr std::string_view kRateLimitedMessage =
    "Too many messages sent to this recipient. Please try again later.";
inline constexpr std::string_view kConnectorNotFound = "connector.not_found";
inline constexpr std::string_view kEmailConnectorNotFoundMessage =
    "Cannot find any available connector for type: Email.";
inline constexpr std::string_view kSmsConnectorNotFoundMessage =
    "Cannot find any available connector for type: Sms.";

// mfa-mock's own error codes (the lead's decisions, issue 2).
inline constexpr std::string_view kRouteNotFound = "route.not_found";
inline constexpr std::string_view kMethodNotAllowed = "route.method_not_allowed";
inline constexpr std::string_view kBodyTooLarge = "request.body_too_large";
inline constexpr std::string_view kStoreFull = "mock.store_full";
inline constexpr std::string_view kAdminRouteNotFound = "admin.route_not_found";
inline constexpr std::string_view kAdminMethodNotAllowed = "admin.method_not_allowed";
inline constexpr std::string_view kAdminBodyTooLarge = "admin.body_too_large";
inline constexpr std::string_view kAdminInvalidJson = "admin.invalid_json";
inline constexpr std::string_view kAdminInvalidRequest = "admin.invalid_request";
inline constexpr std::string_view kAdminVerificationExists = "admin.verification_exists";
inline constexpr std::string_view kAdminNotFound = "admin.not_found";
inline constexpr std::string_view kAdminUnauthorized = "admin.unauthorized";

}  // namespace mfa_test
