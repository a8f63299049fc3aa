// SPDX-License-Identifier: Apache-2.0
// JSON body -> validated public request, with Logto's (zod's) guard issues on failure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace mfa {

struct GuardIssue {
  std::string code;      // "invalid_type" or "invalid_enum_value"
  std::string path;      // the key, or empty for the body itself
  std::string expected;  // invalid_type only
  std::string received;  // invalid_type: a zod type name; invalid_enum_value: the value
  std::string message;
  std::vector<std::string> options;  // invalid_enum_value only
};

struct GuardFailure {
  bool malformed_json = false;
  std::string parse_error;  // malformed_json only
  std::vector<GuardIssue> issues;
  std::string hint;  // mfa-mock's own advice, appended to `details`
};

// A validated send or verify body. The views point into the body or into the parser's buffers:
// they stay valid while the body does and until the parser is used again.
struct PublicRequest {
  IdentifierType type = IdentifierType::kEmail;
  std::string_view verification_id;  // verify only
  std::string_view code;             // verify only
};

// Not thread-safe: one per worker thread (its buffers are reused across requests so small bodies
// parse without touching the heap). Parsing is iterative, so nesting depth cannot overflow the
// stack, and invalid UTF-8 is rejected.
class PublicRequestParser {
 public:
  PublicRequestParser();
  ~PublicRequestParser();
  PublicRequestParser(const PublicRequestParser&) = delete;
  PublicRequestParser& operator=(const PublicRequestParser&) = delete;

  // `content_type` empty = absent (accepted as JSON). False fills `failure`.
  bool ParseSend(std::string_view content_type, std::string_view body, Profile profile,
                 PublicRequest* out, GuardFailure* failure);
  bool ParseVerify(std::string_view content_type, std::string_view body, Profile profile,
                   PublicRequest* out, GuardFailure* failure);
  // PUT /api/experience {"interactionEvent": "SignIn" | "Register" | "ForgotPassword"}.
  bool ParseInteractionEvent(std::string_view content_type, std::string_view body,
                             std::string* event, GuardFailure* failure);

 private:
  struct Impl;
  Impl* impl_;
};

// The 400 body for a guard failure: Logto's key order code, data, details, message.
std::string GuardFailureBody(const GuardFailure& failure);

}  // namespace mfa
