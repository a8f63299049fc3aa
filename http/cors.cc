// SPDX-License-Identifier: Apache-2.0
#include "http/cors.h"

#include <algorithm>

namespace mfa {

bool IsPlainHeaderValue(std::string_view value) {
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u > 0x7e) return false;
  }
  return true;
}

CorsDecision DecideCors(const CorsPolicy& policy, const HttpRequest& request) {
  CorsDecision decision;
  if (policy.mode == CorsPolicy::Mode::kOff || request.origin.empty()) return decision;
  decision.preflight =
      request.method == Method::kOptions && !request.access_control_request_method.empty();
  bool allowed = false;
  switch (policy.mode) {
    case CorsPolicy::Mode::kOff:
      return decision;
    case CorsPolicy::Mode::kAny:
      decision.headers.push_back({"Access-Control-Allow-Origin", "*"});
      allowed = true;
      break;
    case CorsPolicy::Mode::kReflect:
      // Echoed into a response header: never a value that could end it early.
      allowed = IsPlainHeaderValue(request.origin);
      break;
    case CorsPolicy::Mode::kList:
      allowed = std::find(policy.origins.begin(), policy.origins.end(), request.origin) !=
                policy.origins.end();
      break;
  }
  if (policy.mode != CorsPolicy::Mode::kAny) {
    decision.headers.push_back({"Vary", "Origin"});
    if (allowed) {
      // A specific origin (reflected or listed) may send cookies: sessions need them (a
      // leniency: Logto's /api never allows it).
      decision.headers.push_back({"Access-Control-Allow-Origin", std::string(request.origin)});
      if (policy.credentials) {
        decision.headers.push_back({"Access-Control-Allow-Credentials", "true"});
        decision.credentialed = true;
      }
    }
  }
  if (decision.preflight && allowed) {
    const std::string_view requested = request.access_control_request_headers;
    decision.headers.push_back(
        {"Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS"});
    decision.headers.push_back(
        {"Access-Control-Allow-Headers", requested.empty() || !IsPlainHeaderValue(requested)
                                             ? std::string("Content-Type")
                                             : std::string(requested)});
    decision.headers.push_back({"Access-Control-Max-Age", "600"});
  }
  return decision;
}

bool ParseCorsPolicy(std::string_view text, CorsPolicy* policy) {
  *policy = CorsPolicy{};
  if (text == "reflect") {
    policy->mode = CorsPolicy::Mode::kReflect;
  } else if (text == "*") {
    policy->mode = CorsPolicy::Mode::kAny;
  } else if (text != "off") {
    policy->mode = CorsPolicy::Mode::kList;
    while (!text.empty()) {
      const size_t comma = text.find(',');
      std::string_view origin = text.substr(0, comma);
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      const size_t first = origin.find_first_not_of(" \t");
      if (first == std::string_view::npos) continue;
      origin = origin.substr(first, origin.find_last_not_of(" \t") - first + 1);
      policy->origins.emplace_back(origin);
    }
    if (policy->origins.empty()) return false;
  }
  return true;
}

}  // namespace mfa
