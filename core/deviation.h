// SPDX-License-Identifier: Apache-2.0
// The leniencies mfa-mock has and Logto has not. An answer that relied on one says so (the
// Mfa-Mock-Deviation header, mfa_mock_deviations_total{kind}, the request journal); --strict
// switches them all off, so a strict mock never answers with one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mfa {

enum class Deviation : uint8_t {
  kOpenSession,           // a request without a session cookie served in open mode
  kCapitalisedType,       // "Email" / "Phone" accepted (the documented profile)
  kNotImplemented,        // 501 on verify for a connector that is off (the documented profile)
  kCredentialedCors,      // Access-Control-Allow-Credentials on a cross-origin answer
  kJsonWithoutJsonType,   // a body parsed as JSON without a Content-Type koa-body parses as JSON
  kSessionFromExperience  // PUT /api/experience created the session (Logto: only /oidc/auth)
};
inline constexpr size_t kDeviationCount = 6;

inline constexpr std::array<Deviation, kDeviationCount> kAllDeviations = {
    Deviation::kOpenSession,         Deviation::kCapitalisedType,
    Deviation::kNotImplemented,      Deviation::kCredentialedCors,
    Deviation::kJsonWithoutJsonType, Deviation::kSessionFromExperience};

// The kind as it appears in the header, the metric label and the journal.
constexpr std::string_view ToString(Deviation d) {
  switch (d) {
    case Deviation::kOpenSession:
      return "open-session";
    case Deviation::kCapitalisedType:
      return "capitalised-identifier-type";
    case Deviation::kNotImplemented:
      return "not-implemented";
    case Deviation::kCredentialedCors:
      return "credentialed-cors";
    case Deviation::kJsonWithoutJsonType:
      return "json-without-json-content-type";
    case Deviation::kSessionFromExperience:
      return "session-from-experience";
  }
  return "unknown";
}

// What Logto would have answered instead (ASCII without CR or LF: a header value).
constexpr std::string_view LogtoWouldAnswer(Deviation d) {
  switch (d) {
    case Deviation::kOpenSession:
      return "Logto answers 400 session.not_found without the _interaction cookie of a session "
             "started at /oidc/auth";
    case Deviation::kCapitalisedType:
      return "Logto answers 400 guard.invalid_input: identifierType is 'email' | 'phone'";
    case Deviation::kNotImplemented:
      return "Logto's runtime has no 501: it verifies the code whatever the connector";
    case Deviation::kCredentialedCors:
      return "Logto's /api allows no credentialed cross-origin call: serve the page from the "
             "same origin (a dev-server proxy)";
    case Deviation::kJsonWithoutJsonType:
      return "Logto parses a body as JSON only with Content-Type: application/json; it reads "
             "this one as {} or a string and answers 400 guard.invalid_input";
    case Deviation::kSessionFromExperience:
      return "Logto answers 400 session.not_found: only GET /oidc/auth starts a session";
  }
  return "";
}

// "<kind>; <what Logto would answer>", the Mfa-Mock-Deviation header's value: built once, since
// open mode (every load test) answers with one on every request.
inline const std::string& HeaderValue(Deviation d) {
  static const std::array<std::string, kDeviationCount> values = [] {
    std::array<std::string, kDeviationCount> built;
    for (Deviation kind : kAllDeviations) {
      built[static_cast<size_t>(kind)] =
          std::string(ToString(kind)) + "; " + std::string(LogtoWouldAnswer(kind));
    }
    return built;
  }();
  return values[static_cast<size_t>(d)];
}

// A set of deviations, one bit each. Trivially copyable.
class DeviationSet {
 public:
  void Add(Deviation d) { bits_ |= Bit(d); }
  bool Has(Deviation d) const { return (bits_ & Bit(d)) != 0; }
  bool empty() const { return bits_ == 0; }
  DeviationSet& operator|=(DeviationSet other) {
    bits_ |= other.bits_;
    return *this;
  }

 private:
  static uint8_t Bit(Deviation d) { return static_cast<uint8_t>(1u << static_cast<unsigned>(d)); }
  uint8_t bits_ = 0;
};

}  // namespace mfa
