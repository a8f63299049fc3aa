// SPDX-License-Identifier: Apache-2.0
// The experience API's steps around the MFA step, in Logto's check order, over any
// InteractionStore: the password verification, identification and submit.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/interaction_store.h"
#include "core/sign_in.h"

namespace mfa {

// POST /api/experience/verification/password's answer, and that of the TOTP and backup-code
// verifications.
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

// The sentinel keys of the TOTP and backup-code verifications: Logto counts each factor's
// failures per user on their own (BasicSentinel's isolated actions).
std::string TotpSentinelKey(std::string_view user_id);
std::string BackupCodeSentinelKey(std::string_view user_id);

// The sentinel key of a sign-in identifier: the code records' key for emails and phones (Logto
// counts every failure of one identifier value together), usernames apart.
std::string SignInSentinelKey(SignInIdentifier type, std::string_view value);

// Thread-safe: holds no state of its own; every step reads the session first and writes at most
// once, so two requests of one session race as "last write wins" (one browser tab in practice).
// Completions run where the store completes them.
class SignInFlow {
 public:
  SignInFlow(InteractionStore& store, const ConfigStore& config, const Clock& clock)
      : store_(store), config_(config), clock_(clock) {}

  // Logto's order: session, then the sentinel around the password check (a failure that reaches
  // the threshold, and any attempt while blocked, answer blocked), then the record.
  void VerifyPassword(std::string_view session_id, SignInIdentifier type, std::string value,
                      std::string password, Done<PasswordAnswer> done);
  // Session, the record (any of the interaction's), verified, its user, identity conflict.
  void Identify(std::string_view session_id, std::string verification_id, Done<Outcome> done);
  // POST /api/experience/verification/totp/verify: session, identified, then (with a
  // `verification_id`, which names a new secret's record the mock never creates) 404 or 400; else
  // the user's TOTP at now, one step either way, a step later than the last used, under the
  // user's TOTP sentinel (which, as Logto's withSentinel, lets the check run while blocked: a
  // right code is used up and answers blocked). Success saves a verified TOTP record.
  void VerifyTotp(std::string_view session_id, std::string code, std::string verification_id,
                  Done<PasswordAnswer> done);
  // POST /api/experience/verification/backup-code/verify: as VerifyTotp, with one unused backup
  // code of the user's, which it uses up.
  void VerifyBackupCode(std::string_view session_id, std::string code, Done<PasswordAnswer> done);
  // Session, identified, the user exists, the MFA guard (403 with the factors and masks), the
  // Mandatory policy's binding check; then ends the interaction.
  void Submit(std::string_view session_id, Done<SubmitAnswer> done);

 private:
  void CheckPassword(std::string session_id, SignInIdentifier type, std::string value,
                     std::string password, int64_t blocked_ms, Done<PasswordAnswer> done);
  void IdentifyUser(std::string session_id, const std::string& current_user_id,
                    std::optional<User> user, Done<Outcome> done);
  // The part the two MFA factors share: session, identified, the user, the sentinel around
  // `check` (which answers whether the factor verified, using it up if so), the record.
  using FactorCheck =
      std::function<void(const User&, const std::string& code, Done<StoreAnswer<bool>>)>;
  void VerifyFactor(std::string_view session_id, MfaFactor factor, std::string code,
                    FactorCheck check, Done<PasswordAnswer> done);
  void AfterFactorCheck(std::string session_id, MfaFactor factor, std::string user_id,
                        std::string code, int64_t blocked_ms, StoreAnswer<bool> checked,
                        Done<PasswordAnswer> done);

  InteractionStore& store_;
  const ConfigStore& config_;
  const Clock& clock_;
};

}  // namespace mfa
