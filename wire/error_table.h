// SPDX-License-Identifier: Apache-2.0
// The one table of error answers: every domain outcome and every error of the HTTP layer and
// the admin API, each with its status, its one Logto-style code and its message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/outcome.h"
#include "core/types.h"
#include "i18n/phrases.h"

namespace mfa {

struct HttpError {
  int status;
  std::string_view code;
  std::string_view message;  // may hold {type} or {{relativeTime}}; a default for ApiErrors
};

// Errors outside the domain (core/outcome.h): the listeners' and the admin API's.
enum class ApiError : uint8_t {
  kRouteNotFound = 0,      // public listener: unknown path
  kMethodNotAllowed,       // public listener: known path, other method
  kBodyTooLarge,           // public listener
  kAdminRouteNotFound,     // admin and metrics listeners
  kAdminMethodNotAllowed,  //
  kAdminBodyTooLarge,      //
  kHeadersTooLarge,        // header block past the limit
  kMalformedRequest,       // unparseable request line, headers or Content-Length
  kUnsupportedEncoding,    // a Transfer-Encoding Pistache cannot read
  kRequestTimeout,         // the request did not arrive in time
  kShuttingDown,           // draining before exit
  kDeadlineExceeded,       // an answer completed later did not complete in time
  kUnauthorized,           // admin token missing or wrong
  kInvalidJson,            // admin body is not JSON
  kInvalidRequest,         // admin body or query is JSON but not what the route takes
  kNotFound,               // admin: no such record, user, session, batch or message
  kVerificationExists,     // admin: a verificationId already taken
  kUserExists,             // admin: a user id already taken
  kTooManyWaiters,         // admin: --inbox-max-waiters requests already wait for the inbox
  kTooManyExports,         // admin: the node's exports at once already stream
};
inline constexpr int kApiErrorCount = static_cast<int>(ApiError::kTooManyExports) + 1;

// REQUIRES: outcome != Outcome::kOk.
const HttpError& ErrorFor(Outcome outcome);
const HttpError& ErrorFor(ApiError error);

// The JSON error body {"code","message"} in English with placeholders filled for `type`.
// `remaining_ms` (the lockout's remaining time) fills {{relativeTime}} as Logto does: "in 60
// minutes" (i18n/relative_time.h).
std::string ErrorBody(Outcome outcome, IdentifierType type, int64_t remaining_ms = -1);
// {"code", "data", "message"}: an outcome whose answer carries data (Logto's RequestError with
// data, e.g. the MFA guard's factors). `data_json` is a JSON value.
std::string ErrorBodyWithData(Outcome outcome, std::string_view data_json);
// The body of `error`; `message` replaces the table's default when not empty.
std::string ErrorBody(ApiError error, std::string_view message = {});
// session.not_found as Logto sends it: with OIDC's "error" and "error_description" too.
std::string SessionNotFoundBody();
// {"code": code, "message": message}: only for errors whose code the user chose (injected
// faults); everything else goes through the table.
std::string SimpleErrorBody(std::string_view code, std::string_view message);

// What an error answer in Logto's words needs to be said again in another language: plain
// views of static strings and a number, so a reply carries it at no cost. Empty `code`: the
// answer is mfa-mock's own (admin.*, mock.*, route.*, injected faults) and stays English.
struct TranslatableError {
  std::string_view code;      // the Logto code (= the i18n key), a string literal
  std::string_view type;      // {{type}}: "Email"/"Sms" (connector.not_found), "body" (guard)
  int64_t remaining_ms = -1;  // {{relativeTime}}; < 0: none
};
TranslatableError TranslatableFor(Outcome outcome, IdentifierType type = IdentifierType::kEmail,
                                  int64_t remaining_ms = -1);

// Rewrites the top-level "message" of an English error `body` (any JSON object written by this
// folder) into `locale`, as Logto's RequestError.toBody translates it; every other member stays
// byte for byte. Returns false and leaves `body` alone for English, a code the phrase table
// lacks, or a body without a top-level string "message".
bool LocalizeErrorBody(std::string& body, const TranslatableError& error, i18n::LocaleId locale);
}  // namespace mfa
