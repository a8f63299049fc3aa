// SPDX-License-Identifier: Apache-2.0
// Cross-origin access for browser front-ends on another origin (public listener).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/reply.h"
#include "http/request.h"

namespace mfa {

struct CorsPolicy {
  enum class Mode { kOff, kReflect, kAny, kList } mode = Mode::kOff;
  std::vector<std::string> origins = {};  // kList only
  // Access-Control-Allow-Credentials for a reflected or listed origin (off under --strict:
  // Logto's /api allows no credentialed cross-origin call).
  bool credentials = true;
};

struct CorsDecision {
  bool preflight = false;            // an OPTIONS request with Access-Control-Request-Method
  std::vector<ReplyHeader> headers;  // to add to the answer, whatever it is
  bool credentialed = false;         // Access-Control-Allow-Credentials is among them
};

// The CORS headers of the answer to `request`. A preflight is answered for any path (the
// browser asks before its real request, which then gets its own 404/405). Thread-safe (pure).
CorsDecision DecideCors(const CorsPolicy& policy, const HttpRequest& request);

// Printable ASCII, space and tab only: safe to echo into a response header (no CR, LF, NUL or
// other control byte that a client could read as the end of the header).
bool IsPlainHeaderValue(std::string_view value);

// "reflect", "*", "off" or a comma-separated list of origins; false if the list is empty.
bool ParseCorsPolicy(std::string_view text, CorsPolicy* policy);

}  // namespace mfa
