// SPDX-License-Identifier: Apache-2.0
// The Logto-compatible public routes: send and verify an MFA verification code, and the
// experience-session routes around them.
#pragma once

#include <vector>

#include "core/code_store.h"
#include "core/interaction_store.h"
#include "core/mfa_service.h"
#include "core/sign_in_flow.h"
#include "http/route.h"
#include "metrics/metrics.h"

namespace mfa {

inline constexpr char kSendPath[] = "/api/experience/verification/mfa-verification-code";
inline constexpr char kVerifyPath[] = "/api/experience/verification/mfa-verification-code/verify";
inline constexpr char kExperiencePath[] = "/api/experience";
inline constexpr char kInteractionPath[] = "/api/experience/interaction";
inline constexpr char kAuthorizePath[] = "/oidc/auth";
inline constexpr char kPasswordPath[] = "/api/experience/verification/password";
inline constexpr char kIdentificationPath[] = "/api/experience/identification";
inline constexpr char kTotpVerifyPath[] = "/api/experience/verification/totp/verify";
inline constexpr char kBackupCodeVerifyPath[] = "/api/experience/verification/backup-code/verify";
inline constexpr char kSubmitPath[] = "/api/experience/submit";
inline constexpr char kSignInExperiencePath[] = "/api/.well-known/sign-in-exp";
inline constexpr char kSessionCookie[] = "_interaction";

// The public listener's routes. Arguments must outlive the routes. Open mode's send and verify go
// through `codes`, interaction sessions through `sessions` (each in memory or shared).
std::vector<Route> ExperienceRoutes(MfaService& service, CodeStore& codes,
                                    InteractionStore& sessions, SignInFlow& flow,
                                    metrics::Metrics& metrics);

}  // namespace mfa
