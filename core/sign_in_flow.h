// SPDX-License-Identifier: Apache-2.0
// The experience API's steps around the MFA step, in Logto's check order, over any
// InteractionStore: the password verification, identification and submit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/interaction_store.h"
#include "core/sign_in.h"

namespace mfa {

// POST /api/experience/verification/password's answer.
struct PasswordAnswer {
  Outcome outcome = Outcome::kOk;
  std::string verification_id;  // kOk
  int64_t blocked_ms = 0;       // kVerificationBlocked: the remaining block
};

// POST /api/experience/submit's answer.
struct SubmitAnswer {
  Outcome outcome = Outcome::kOk;
  std::string redirect_to;         // kOk
  std::vector<MfaFactor> factors;  // kMfaRequired: the user's; kMissingMfa: the enabled ones
  std::string masked_email;        // kMfaRequired, when the email factor is listed
  std::string masked_phone;        // kMfaRequired, when the phone factor is listed
};

// The sentinel key of a sign-in identifier: the code records' key for emails and phones (Logto
// counts every failure of one identifier value together), usernames apart.
std::string SignInSentinelKey(SignInIdentifier type, std::string_view value);

// Thread-safe: holds no state of its own; every step reads the session first and writes at most
// once, so two requests of one session race as "last write wins" (one browser tab in practice).
// Completions run where the store completes them.
class SignInFlow {
 public:
  SignInFlow(InteractionStore& store, const ConfigStore& config) : store_(store), config_(config) {}

  // Logto's order: session, then the sentinel around the password check (a failure that reaches
  // the threshold, and any attempt while blocked, answer blocked), then the record.
  void VerifyPassword(std::string_view session_id, SignInIdentifier type, std::string value,
                      std::string password, Done<PasswordAnswer> done);
  // Session, the record (any of the interaction's), verified, its user, identity conflict.
  void Identify(std::string_view session_id, std::string verification_id, Done<Outcome> done);
  // Session, identified, the user exists, the MFA guard (403 with the factors and masks), the
  // Mandatory policy's binding check; then ends the interaction.
  void Submit(std::string_view session_id, Done<SubmitAnswer> done);

 private:
  void CheckPassword(std::string session_id, SignInIdentifier type, std::string value,
                     std::string password, int64_t blocked_ms, Done<PasswordAnswer> done);
  void IdentifyUser(std::string session_id, const std::string& current_user_id,
                    std::optional<User> user, Done<Outcome> done);

  InteractionStore& store_;
  const ConfigStore& config_;
};

}  // namespace mfa
