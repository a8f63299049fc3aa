// SPDX-License-Identifier: Apache-2.0
#include "wire/error_table.h"

#include <array>

#include "i18n/message.h"
#include "i18n/relative_time.h"
#include "wire/json_util.h"
#include "wire/json_writer.h"

namespace mfa {
namespace {

constexpr std::array<HttpError, kOutcomeCount> kOutcomes = {{
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
    /* kNotIdentified */
    {404, "session.identifier_not_found",
     "User identifier not found. Please go back and sign in again."},
    /* kInvalidCredentials */
    {422, "session.invalid_credentials", "Incorrect account or password. Please check your input."},
    /* kVerificationFailed */
    {400, "session.verification_failed",
     "The verification was not successful. Restart the verification flow and try again."},
    /* kIdentityConflict */
    {409, "session.identity_conflict",
     "Identity mismatch detected. Please initiate a new session to proceed with a different "
     "identity."},
    /* kMfaRequired */
    {403, "session.mfa.require_mfa_verification", "Mfa verification is required to sign in."},
    /* kMissingMfa */
    {422, "user.missing_mfa", "You need to bind additional MFA before signing-in."},
    /* kUserNotFound */ {404, "entity.not_found", "The resource does not exist."},
    /* kCaptchaFailed */ {422, "session.captcha_failed", "Captcha verification failed."},
    /* kInvalidTotpCode */ {400, "session.mfa.invalid_totp_code", "Invalid TOTP code."},
    /* kInvalidBackupCode */ {400, "session.mfa.invalid_backup_code", "Invalid backup code."},
    /* kNotModelled */
    {501, "mock.not_modelled",
     "mfa-mock does not model this step of Logto's flow (registration through the experience "
     "API)."},
    /* kStoreFull */
    {503, "mock.store_full",
     "The mock's record store is full (--max-records, or the shared store's maxmemory). Delete "
     "records or raise the cap."},
    /* kStoreUnavailable */
    {503, "mock.store_unavailable",
     "The mock's shared store (Redis) did not answer in time. Try again; GET /readyz on the admin "
     "listener tells when it is back."},
    /* kStoreBusy */
    {503, "mock.store_busy",
     "Too many requests wait for the mock's shared store (Redis) on this node. Try again."},
    /* kInternal */ {500, "unexpected", "Internal server error."},
}};

constexpr std::array<HttpError, kApiErrorCount> kApiErrors = {{
    /* kRouteNotFound */ {404, "route.not_found", "No route matches the request."},
    /* kMethodNotAllowed */
    {405, "route.method_not_allowed", "Method not allowed on this path."},
    /* kBodyTooLarge */ {413, "request.body_too_large", "The request body is too large."},
    /* kAdminRouteNotFound */ {404, "admin.route_not_found", "No route matches the request."},
    /* kAdminMethodNotAllowed */
    {405, "admin.method_not_allowed", "Method not allowed on this path."},
    /* kAdminBodyTooLarge */ {413, "admin.body_too_large", "The request body is too large."},
    /* kHeadersTooLarge */
    {431, "request.headers_too_large", "The request headers are too large."},
    /* kMalformedRequest */ {400, "request.malformed", "Malformed HTTP request."},
    /* kUnsupportedEncoding */ {501, "request.malformed", "Unsupported transfer encoding."},
    /* kRequestTimeout */ {408, "request.timeout", "The request took too long to arrive."},
    /* kShuttingDown */ {503, "request.shutting_down", "The mock is shutting down."},
    /* kDeadlineExceeded */
    {503, "request.deadline_exceeded", "The mock could not answer in time."},
    /* kUnauthorized */
    {401, "admin.unauthorized",
     "Missing or invalid admin token: send Authorization: Bearer <token>."},
    /* kInvalidJson */ {400, "admin.invalid_json", "The request body is not valid JSON."},
    /* kInvalidRequest */ {400, "admin.invalid_request", "The request is invalid."},
    /* kNotFound */ {404, "admin.not_found", "Not found."},
    /* kVerificationExists */
    {409, "admin.verification_exists", "A verification with this verificationId already exists."},
    /* kUserExists */ {409, "admin.user_exists", "A user with this id already exists."},
    /* kTooManyWaiters */
    {503, "admin.too_many_waiters",
     "Too many requests already wait for the inbox on this node (--inbox-max-waiters). Try again "
     "later, or wait with fewer clients."},
    /* kTooManyExports */
    {503, "admin.too_many_exports",
     "Four exports already stream from this node. Try again when one of them ends."},
}};

}  // namespace

const HttpError& ErrorFor(Outcome outcome) { return kOutcomes[static_cast<size_t>(outcome)]; }

const HttpError& ErrorFor(ApiError error) { return kApiErrors[static_cast<size_t>(error)]; }

std::string ErrorBody(Outcome outcome, IdentifierType type, int64_t remaining_ms) {
  const HttpError& e = ErrorFor(outcome);
  std::string message(e.message);
  if (const size_t at = message.find("{type}"); at != std::string::npos) {
    message.replace(at, 6, ConnectorTypeName(type));
  }
  if (const size_t at = message.find("{{relativeTime}}"); at != std::string::npos) {
    message.replace(at, 16, i18n::MinutesFromNow(remaining_ms, i18n::EnglishLocale()));
  }
  return SimpleErrorBody(e.code, message);
}

std::string ErrorBodyWithData(Outcome outcome, std::string_view data_json) {
  const HttpError& e = ErrorFor(outcome);
  std::string body;
  JsonWriter(body)
      .BeginObject()
      .String("code", e.code)
      .Key("data")
      .Raw(data_json)
      .String("message", e.message)
      .EndObject();
  return body;
}

std::string ErrorBody(ApiError error, std::string_view message) {
  const HttpError& e = ErrorFor(error);
  return SimpleErrorBody(e.code, message.empty() ? e.message : message);
}

std::string SessionNotFoundBody() {
  const HttpError& e = ErrorFor(Outcome::kSessionNotFound);
  std::string body;
  JsonWriter(body)
      .BeginObject()
      .String("code", e.code)
      .String("message", e.message)
      .String("error", "invalid_request")
      .String("error_description", e.message)
      .EndObject();
  return body;
}

std::string SimpleErrorBody(std::string_view code, std::string_view message) {
  std::string body;
  body.reserve(32 + code.size() + message.size());
  JsonWriter(body).BeginObject().String("code", code).String("message", message).EndObject();
  return body;
}

TranslatableError TranslatableFor(Outcome outcome, IdentifierType type, int64_t remaining_ms) {
  const HttpError& e = ErrorFor(outcome);
  // koa-guard throws guard.invalid_input with {type: "body"}; connector.not_found names the
  // connector type.
  const std::string_view type_value =
      outcome == Outcome::kInvalidInput ? std::string_view("body") : ConnectorTypeName(type);
  return {e.code, type_value, remaining_ms};
}

namespace {

// The end of the JSON string that starts at body[at] (a '"'), one past its closing quote.
size_t StringEnd(std::string_view body, size_t at) {
  for (size_t i = at + 1; i < body.size(); ++i) {
    if (body[i] == '\\') {
      ++i;
    } else if (body[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Where the value of the top-level member "message" is (its quotes included), if it is a string.
bool FindTopLevelMessage(std::string_view body, size_t* begin, size_t* end) {
  int depth = 0;
  bool expecting_key = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '"') {
      const size_t close = StringEnd(body, i);
      if (close == std::string_view::npos) return false;
      if (depth == 1 && expecting_key) {
        const bool is_message = body.substr(i, close - i) == "\"message\"";
        size_t value = close;
        while (value < body.size() && (body[value] == ':' || body[value] == ' ')) ++value;
        if (is_message && value < body.size() && body[value] == '"') {
          *begin = value;
          *end = StringEnd(body, value);
          return *end != std::string_view::npos;
        }
        expecting_key = false;
      }
      i = close - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
      expecting_key = depth == 1 && c == '{';
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expecting_key = true;
    }
  }
  return false;
}

}  // namespace

bool LocalizeErrorBody(std::string& body, const TranslatableError& error, i18n::LocaleId locale) {
  if (error.code.empty() || locale == i18n::EnglishLocale()) return false;
  const std::optional<std::string> message =
      i18n::LogtoMessage(error.code, locale, {error.type, error.remaining_ms});
  if (!message) return false;
  size_t begin = 0;
  size_t end = 0;
  if (!FindTopLevelMessage(body, &begin, &end)) return false;
  std::string quoted;
  AppendJsonString(quoted, *message);
  body.replace(begin, end - begin, quoted);
  return true;
}

}  // namespace mfa
