// The Logto-compatible public routes: send and verify an MFA verification code.
#pragma once

#include <vector>

#include "app/http_listener.h"
#include "core/mfa_service.h"
#include "metrics/metrics.h"

namespace mfa {

inline constexpr char kSendPath[] = "/api/experience/verification/mfa-verification-code";
inline constexpr char kVerifyPath[] = "/api/experience/verification/mfa-verification-code/verify";

// The route list of the public listener. `service` and `metrics` must outlive the routes.
std::vector<Route> PublicRoutes(MfaService& service, metrics::Metrics& metrics);

}  // namespace mfa
