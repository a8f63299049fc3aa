// The one table from domain outcomes to HTTP status, Logto error code and message.
#pragma once

#include <string>
#include <string_view>

#include "core/outcome.h"
#include "core/types.h"

namespace mfa {

struct HttpError {
  int status;
  std::string_view code;
  std::string_view message;  // may hold {type} or {{relativeTime}}
};

// REQUIRES: outcome != Outcome::kOk.
const HttpError& ErrorFor(Outcome outcome);

// The JSON error body {"code","message"} with placeholders filled for `type`.
// `relative_time` fills {{relativeTime}} (the lockout's remaining time, e.g. "in 60 minutes").
std::string ErrorBody(Outcome outcome, IdentifierType type, std::string_view relative_time = {});
// session.not_found as Logto sends it: with OIDC's "error" and "error_description" too.
std::string SessionNotFoundBody();
// {"code": code, "message": message} for errors outside the domain table.
std::string SimpleErrorBody(std::string_view code, std::string_view message);

}  // namespace mfa
