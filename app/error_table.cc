#include "app/error_table.h"

#include <array>

#include "app/json_util.h"

namespace mfa {
namespace {

constexpr std::array<HttpError, kOutcomeCount> kTable = {{
    /* kOk */ {200, "", ""},
    /* kInvalidInput */ {400, "guard.invalid_input", "The request body is invalid."},
    /* kSessionNotFound */
    {400, "session.not_found", "Session not found. Please go back and sign in again."},
    /* kInteractionNotFound */
    {404, "session.interaction_not_found",
     "Interaction session not found. Please go back and start the session again."},
    /* kIdentifierNotFound */
    {400, "session.identifier_not_found",
     "User identifier not found. Please go back and sign in again."},
    /* kFactorNotEnabled */
    {400, "session.mfa.mfa_factor_not_enabled", "MFA factor is not enabled."},
    /* kVerificationNotFound */
    {404, "session.verification_session_not_found",
     "The verification was not successful. Restart the verification flow and try again."},
    /* kVerificationBlocked */
    {400, "session.verification_blocked_too_many_attempts",
     "Too many attempts in a short time. Please try again {{relativeTime}}."},
    /* kCodeNotFound */
    {400, "verification_code.not_found",
     "Verification code not found. Please send verification code first."},
    /* kCodeExpired */
    {400, "verification_code.expired",
     "Verification code has expired. Please request a new verification code."},
    /* kExceedMaxTry */
    {400, "verification_code.exceed_max_try",
     "Verification code retries limitation exceeded. Please request a new verification code."},
    /* kCodeMismatch */ {400, "verification_code.code_mismatch", "Invalid verification code."},
    /* kRateLimited */
    {429, "request.message_rate_limited",
     "Too many messages sent to this recipient. Please try again later."},
    /* kConnectorNotFound */
    {501, "connector.not_found", "Cannot find any available connector for type: {type}."},
    /* kStoreFull */
    {503, "mock.store_full",
     "The mock's record store is full (--max-records). Delete records or raise the cap."},
    /* kInternal */ {500, "unexpected", "Internal server error."},
}};

}  // namespace

const HttpError& ErrorFor(Outcome outcome) { return kTable[static_cast<size_t>(outcome)]; }

std::string ErrorBody(Outcome outcome, IdentifierType type, std::string_view relative_time) {
  const HttpError& e = ErrorFor(outcome);
  std::string message(e.message);
  if (const size_t at = message.find("{type}"); at != std::string::npos) {
    message.replace(at, 6, ConnectorTypeName(type));
  }
  if (const size_t at = message.find("{{relativeTime}}"); at != std::string::npos) {
    message.replace(at, 16, relative_time);
  }
  return SimpleErrorBody(e.code, message);
}

std::string SessionNotFoundBody() {
  const HttpError& e = ErrorFor(Outcome::kSessionNotFound);
  std::string body = "{\"code\":";
  AppendJsonString(body, e.code);
  body += ",\"message\":";
  AppendJsonString(body, e.message);
  body += ",\"error\":\"invalid_request\",\"error_description\":";
  AppendJsonString(body, e.message);
  body += '}';
  return body;
}

std::string SimpleErrorBody(std::string_view code, std::string_view message) {
  std::string body;
  body.reserve(32 + code.size() + message.size());
  body += "{\"code\":";
  AppendJsonString(body, code);
  body += ",\"message\":";
  AppendJsonString(body, message);
  body += '}';
  return body;
}

}  // namespace mfa
