// SPDX-License-Identifier: Apache-2.0
// JSON body -> validated public request, with Logto's (zod's) guard issues on failure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/deviation.h"
#include "core/sign_in.h"
#include "core/types.h"

namespace mfa {

// koa-body's answer to a JSON body that is not an object or an array (whitespace only included).
inline constexpr std::string_view kOnlyObjectAndArray =
    "invalid JSON, only supports object and array";

struct GuardIssue {
  std::string code;      // "invalid_type", "invalid_enum_value" or "too_small" (strings)
  std::string path;      // the key path joined by '.', or empty for the body itself
  std::string expected;  // invalid_type only
  std::string received;  // invalid_type: a zod type name; invalid_enum_value: the value
  std::string message;
  std::vector<std::string> options;  // invalid_enum_value only
  int minimum = 0;                   // too_small only
  // invalid_enum_value of a z.nativeEnum given a number: zod reports the number itself.
  std::string received_number;
};

struct GuardFailure {
  bool malformed_json = false;
  // Also malformed: not an object or array (co-body's strict mode); `message` is koa-body's.
  bool not_object_or_array = false;
  std::string parse_error;  // malformed_json only
  std::vector<GuardIssue> issues;
  std::string hint;  // mfa-mock's own advice, appended to `details`
  // A route's own check after the guard passed (Logto's RequestError with only `details`).
  std::string details_only;
};

// A validated send or verify body. The views point into the body or into the parser's buffers:
// they stay valid while the body does and until the parser is used again.
struct PublicRequest {
  IdentifierType type = IdentifierType::kEmail;
  std::string_view verification_id;  // verify only
  std::string_view code;             // verify only
};

// What a parse accepts beyond Logto's own rules.
struct BodyRules {
  BodyRules() = default;
  BodyRules(Profile p) : profile(p) {}     // NOLINT(google-explicit-constructor): most callers
  Profile profile = Profile::kDocumented;  // documented: "Email" / "Phone" too
  // A body without Content-Type, or with a +json type koa-body does not parse, is read as JSON
  // (off under --strict: Logto reads it as {}).
  bool json_without_json_type = true;
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
  bool ParseSend(std::string_view content_type, std::string_view body, const BodyRules& rules,
                 PublicRequest* out, GuardFailure* failure);
  bool ParseVerify(std::string_view content_type, std::string_view body, const BodyRules& rules,
                   PublicRequest* out, GuardFailure* failure);
  // PUT /api/experience {"interactionEvent": "SignIn" | "Register" | "ForgotPassword",
  // "captchaToken"?}. `captcha_token` stays empty when absent.
  bool ParseInteractionEvent(std::string_view content_type, std::string_view body,
                             std::string* event, std::string* captcha_token, GuardFailure* failure,
                             const BodyRules& rules = {});
  // POST /api/experience/verification/password {"identifier": {"type", "value"}, "password"}.
  // Every issue is reported, as zod does.
  bool ParsePassword(std::string_view content_type, std::string_view body, SignInIdentifier* type,
                     std::string* value, std::string* password, GuardFailure* failure,
                     const BodyRules& rules = {});
  // POST /api/experience/identification {"verificationId"?, "linkSocialIdentity"?}.
  // `verification_id` stays empty when absent.
  bool ParseIdentification(std::string_view content_type, std::string_view body,
                           std::string* verification_id, GuardFailure* failure,
                           const BodyRules& rules = {});
  // POST /api/experience/verification/totp/verify {"code", "verificationId"?} (`verification_id`
  // not null) and .../backup-code/verify {"code"} (null): code a non-empty string.
  bool ParseMfaCode(std::string_view content_type, std::string_view body, std::string* code,
                    std::string* verification_id, GuardFailure* failure,
                    const BodyRules& rules = {});

  // The leniencies the last parse relied on (a capitalised identifierType, JSON without a JSON
  // Content-Type), whether it succeeded or not.
  DeviationSet noted() const { return noted_; }

 private:
  struct Impl;
  Impl* impl_;
  DeviationSet noted_;
};

// The 400 body for a guard failure: Logto's key order code, data, details, message.
std::string GuardFailureBody(const GuardFailure& failure);

}  // namespace mfa
