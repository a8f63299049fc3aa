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
std::string ErrorBody(Outcome outcome, IdentifierType type);
// {"code": code, "message": message} for errors outside the domain table.
std::string SimpleErrorBody(std::string_view code, std::string_view message);

}  // namespace mfa
