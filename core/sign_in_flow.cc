// SPDX-License-Identifier: Apache-2.0
#include "core/sign_in_flow.h"

#include <algorithm>
#include <utility>

#include "core/recipient.h"
#include "core/secure_random.h"
#include "core/totp.h"

namespace mfa {
namespace {

// The session as the flow's steps need it: live and with an interaction.
Outcome LiveInteraction(const StoreAnswer<std::optional<SessionView>>& view) {
  if (view.outcome != Outcome::kOk) return view.outcome;
  if (!view.value) return Outcome::kSessionNotFound;
  if (!view.value->session.interaction_started) return Outcome::kInteractionNotFound;
  return Outcome::kOk;
}

MfaFactor FactorOf(IdentifierType type) {
  return type == IdentifierType::kEmail ? MfaFactor::kEmailVerificationCode
                                        : MfaFactor::kPhoneVerificationCode;
}

bool Lists(const std::vector<MfaFactor>& factors, MfaFactor f) {
  return std::find(factors.begin(), factors.end(), f) != factors.end();
}

}  // namespace

std::string TotpSentinelKey(std::string_view user_id) { return "totp:" + std::string(user_id); }

std::string BackupCodeSentinelKey(std::string_view user_id) {
  return "backup-code:" + std::string(user_id);
}

std::string SignInSentinelKey(SignInIdentifier type, std::string_view value) {
  switch (type) {
    case SignInIdentifier::kEmail:
      return NormalizeRecipient(IdentifierType::kEmail, value);
    case SignInIdentifier::kPhone:
      return NormalizeRecipient(IdentifierType::kPhone, value);
    case SignInIdentifier::kUsername:
      break;
  }
  return "username:" + std::string(value);
}

void SignInFlow::VerifyPassword(std::string_view session_id, SignInIdentifier type,
                                std::string value, std::string password,
                                Done<PasswordAnswer> done) {
  store_.View(session_id,
              [this, session_id = std::string(session_id), type, value = std::move(value),
               password = std::move(password),
               done = std::move(done)](StoreAnswer<std::optional<SessionView>> view) mutable {
                if (const Outcome o = LiveInteraction(view); o != Outcome::kOk)
                  return done({o, "", 0});
                if (config_.Get().config.lockout.max_failures == 0) {
                  return CheckPassword(std::move(session_id), type, std::move(value),
                                       std::move(password), 0, std::move(done));
                }
                std::string key = SignInSentinelKey(type, value);
                store_.SentinelBlockedFor(
                    std::move(key), [this, session_id = std::move(session_id), type,
                                     value = std::move(value), password = std::move(password),
                                     done = std::move(done)](StoreAnswer<int64_t> blocked) mutable {
                      if (blocked.outcome != Outcome::kOk) return done({blocked.outcome, "", 0});
                      CheckPassword(std::move(session_id), type, std::move(value),
                                    std::move(password), blocked.value, std::move(done));
                    });
              });
}

void SignInFlow::CheckPassword(std::string session_id, SignInIdentifier type, std::string value,
                               std::string password, int64_t blocked_ms,
                               Done<PasswordAnswer> done) {
  // FindUser takes the value; the record keeps a copy.
  std::string identifier = value;
  store_.FindUser(
      type, std::move(value),
      [this, session_id = std::move(session_id), type, identifier = std::move(identifier),
       password = std::move(password), blocked_ms,
       done = std::move(done)](StoreAnswer<std::optional<User>> user) mutable {
        if (user.outcome != Outcome::kOk) return done({user.outcome, "", 0});
        // Logto's verifyUserPassword: unknown user, no password and a wrong one are the same 422.
        const bool correct =
            user.value && !user.value->password.empty() && user.value->password == password;
        // While blocked every attempt answers blocked, and a failure is not counted (Logto
        // records it with the decision "blocked", which its count leaves out).
        if (blocked_ms > 0) return done({Outcome::kVerificationBlocked, "", blocked_ms});
        const bool sentinel = config_.Get().config.lockout.max_failures != 0;
        if (!correct) {
          if (!sentinel) return done({Outcome::kInvalidCredentials, "", 0});
          return store_.SentinelFail(
              SignInSentinelKey(type, identifier),
              [done = std::move(done)](StoreAnswer<int64_t> started) {
                if (started.outcome != Outcome::kOk) return done({started.outcome, "", 0});
                if (started.value > 0) {
                  return done({Outcome::kVerificationBlocked, "", started.value});
                }
                done({Outcome::kInvalidCredentials, "", 0});
              });
        }
        PasswordRecord record;
        record.id = SecureRandom::NewId();
        record.identifier_type = type;
        record.identifier = std::move(identifier);
        record.verified = true;
        std::string id = record.id;
        store_.SetPasswordRecord(session_id, std::move(record),
                                 [id = std::move(id), done = std::move(done)](Outcome set) mutable {
                                   if (set != Outcome::kOk) return done({set, "", 0});
                                   done({Outcome::kOk, std::move(id), 0});
                                 });
      });
}

void SignInFlow::Identify(std::string_view session_id, std::string verification_id,
                          Done<Outcome> done) {
  store_.View(session_id, [this, session_id = std::string(session_id),
                           verification_id = std::move(verification_id), done = std::move(done)](
                              StoreAnswer<std::optional<SessionView>> view) mutable {
    if (const Outcome o = LiveInteraction(view); o != Outcome::kOk) return done(o);
    const Session& session = view.value->session;
    // Logto creates a user here; the mock has no registration.
    if (session.event == InteractionEvent::kRegister) return done(Outcome::kNotModelled);
    std::string current_user = session.user_id;
    auto then = [this, session_id, current_user = std::move(current_user),
                 done](StoreAnswer<std::optional<User>> user) mutable {
      if (user.outcome != Outcome::kOk) return done(user.outcome);
      IdentifyUser(std::move(session_id), current_user, std::move(user.value), std::move(done));
    };
    if (!verification_id.empty() && session.password.id == verification_id) {
      if (!session.password.verified) return done(Outcome::kVerificationFailed);
      return store_.FindUser(session.password.identifier_type, session.password.identifier,
                             std::move(then));
    }
    for (const InteractionRecordView& r : view.value->records) {
      if (r.id != verification_id) continue;
      // An MFA code record identifies the user of its address (Logto's identifyUser of code
      // verifications).
      if (!r.verified) return done(Outcome::kVerificationFailed);
      return store_.FindUser(
          r.type == IdentifierType::kEmail ? SignInIdentifier::kEmail : SignInIdentifier::kPhone,
          r.identifier, std::move(then));
    }
    done(Outcome::kVerificationNotFound);
  });
}

void SignInFlow::IdentifyUser(std::string session_id, const std::string& current_user_id,
                              std::optional<User> user, Done<Outcome> done) {
  // Logto answers user.user_not_exist (404) here; the mock's nearest code is entity.not_found.
  if (!user) return done(Outcome::kUserNotFound);
  if (!current_user_id.empty()) {
    return done(current_user_id == user->id ? Outcome::kOk : Outcome::kIdentityConflict);
  }
  store_.Identify(session_id, user->id, [done = std::move(done)](Outcome identified) {
    // The user was deleted in between.
    done(identified == Outcome::kIdentifierNotFound ? Outcome::kUserNotFound : identified);
  });
}

void SignInFlow::VerifyTotp(std::string_view session_id, std::string code,
                            std::string verification_id, Done<PasswordAnswer> done) {
  if (!verification_id.empty()) {
    // Logto's branch for binding a new secret (POST .../totp/secret, which the mock does not
    // serve): the TOTP record of that id or 404; a saved record of an existing TOTP holds no
    // new secret, so its code cannot match: 400. No sentinel on this branch.
    return store_.View(session_id,
                       [verification_id = std::move(verification_id),
                        done = std::move(done)](StoreAnswer<std::optional<SessionView>> view) {
                         if (const Outcome o = LiveInteraction(view); o != Outcome::kOk)
                           return done({o, "", 0});
                         const Session& session = view.value->session;
                         if (session.user_id.empty()) return done({Outcome::kNotIdentified, "", 0});
                         done({session.totp.id == verification_id ? Outcome::kInvalidTotpCode
                                                                  : Outcome::kVerificationNotFound,
                               "", 0});
                       });
  }
  VerifyFactor(
      session_id, MfaFactor::kTotp, std::move(code),
      [this](const User& user, const std::string& code, Done<StoreAnswer<bool>> checked) {
        // Logto answers a user without TOTP as a wrong code ("for security reason").
        const std::optional<std::string> key =
            user.totp_secret.empty() ? std::nullopt : DecodeBase32(user.totp_secret);
        const std::optional<int64_t> step =
            key ? TotpMatchingStep(*key, code, clock_.NowMs()) : std::nullopt;
        if (!step) return checked({Outcome::kOk, false});
        store_.UseTotpStep(user.id, *step, std::move(checked));
      },
      std::move(done));
}

void SignInFlow::VerifyBackupCode(std::string_view session_id, std::string code,
                                  Done<PasswordAnswer> done) {
  VerifyFactor(
      session_id, MfaFactor::kBackupCode, std::move(code),
      [this](const User& user, const std::string& code, Done<StoreAnswer<bool>> checked) {
        store_.UseBackupCode(user.id, code, std::move(checked));
      },
      std::move(done));
}

void SignInFlow::VerifyFactor(std::string_view session_id, MfaFactor factor, std::string code,
                              FactorCheck check, Done<PasswordAnswer> done) {
  store_.View(
      session_id, [this, session_id = std::string(session_id), factor, code = std::move(code),
                   check = std::move(check),
                   done = std::move(done)](StoreAnswer<std::optional<SessionView>> view) mutable {
        if (const Outcome o = LiveInteraction(view); o != Outcome::kOk) return done({o, "", 0});
        std::string user_id = view.value->session.user_id;
        if (user_id.empty()) return done({Outcome::kNotIdentified, "", 0});
        store_.GetUser(user_id, [this, session_id = std::move(session_id), factor,
                                 code = std::move(code), check = std::move(check),
                                 done = std::move(done)](
                                    StoreAnswer<std::optional<User>> user) mutable {
          if (user.outcome != Outcome::kOk) return done({user.outcome, "", 0});
          // Identified, then deleted: Logto's findUserById answers entity.not_found.
          if (!user.value) return done({Outcome::kUserNotFound, "", 0});
          // Before `run` takes the user.
          std::string key = factor == MfaFactor::kTotp ? TotpSentinelKey(user.value->id)
                                                       : BackupCodeSentinelKey(user.value->id);
          auto run = [this, session_id, factor, code, check, done,
                      user = std::move(*user.value)](int64_t blocked_ms) {
            check(user, code,
                  [this, session_id, factor, user_id = user.id, code, blocked_ms,
                   done](StoreAnswer<bool> checked) {
                    AfterFactorCheck(session_id, factor, user_id, code, blocked_ms, checked, done);
                  });
          };
          if (config_.Get().config.lockout.max_failures == 0) return run(0);
          store_.SentinelBlockedFor(std::move(key),
                                    [run = std::move(run), done](StoreAnswer<int64_t> blocked) {
                                      if (blocked.outcome != Outcome::kOk)
                                        return done({blocked.outcome, "", 0});
                                      run(blocked.value);
                                    });
        });
      });
}

void SignInFlow::AfterFactorCheck(std::string session_id, MfaFactor factor, std::string user_id,
                                  std::string code, int64_t blocked_ms, StoreAnswer<bool> checked,
                                  Done<PasswordAnswer> done) {
  if (checked.outcome != Outcome::kOk) return done({checked.outcome, "", 0});
  // Logto's withSentinel: the check ran (a right code is used up), the answer is blocked, and
  // no record is saved.
  if (blocked_ms > 0) return done({Outcome::kVerificationBlocked, "", blocked_ms});
  if (!checked.value) {
    const Outcome wrong =
        factor == MfaFactor::kTotp ? Outcome::kInvalidTotpCode : Outcome::kInvalidBackupCode;
    if (config_.Get().config.lockout.max_failures == 0) return done({wrong, "", 0});
    return store_.SentinelFail(
        factor == MfaFactor::kTotp ? TotpSentinelKey(user_id) : BackupCodeSentinelKey(user_id),
        [wrong, done = std::move(done)](StoreAnswer<int64_t> started) {
          if (started.outcome != Outcome::kOk) return done({started.outcome, "", 0});
          if (started.value > 0) return done({Outcome::kVerificationBlocked, "", started.value});
          done({wrong, "", 0});
        });
  }
  MfaRecord record;
  record.id = SecureRandom::NewId();
  if (factor == MfaFactor::kBackupCode) record.code = std::move(code);
  std::string id = record.id;
  store_.SetMfaRecord(session_id, factor, std::move(record),
                      [id = std::move(id), done = std::move(done)](Outcome set) mutable {
                        if (set != Outcome::kOk) return done({set, "", 0});
                        done({Outcome::kOk, std::move(id), 0});
                      });
}

void SignInFlow::Submit(std::string_view session_id, Done<SubmitAnswer> done) {
  store_.View(session_id, [this, session_id = std::string(session_id), done = std::move(done)](
                              StoreAnswer<std::optional<SessionView>> view) mutable {
    SubmitAnswer answer;
    if (const Outcome o = LiveInteraction(view); o != Outcome::kOk) {
      answer.outcome = o;
      return done(std::move(answer));
    }
    if (view.value->session.user_id.empty()) {
      answer.outcome = Outcome::kNotIdentified;
      return done(std::move(answer));
    }
    std::string user_id = view.value->session.user_id;
    store_.GetUser(
        user_id, [this, session_id = std::move(session_id), view = std::move(*view.value),
                  done = std::move(done)](StoreAnswer<std::optional<User>> user) mutable {
          SubmitAnswer answer;
          answer.outcome = user.outcome;
          if (answer.outcome == Outcome::kOk && !user.value)
            answer.outcome = Outcome::kUserNotFound;
          if (answer.outcome != Outcome::kOk) return done(std::move(answer));
          const Config& config = config_.Get().config;
          // Logto's forgot-password submit needs the new password of the profile routes.
          if (view.session.event != InteractionEvent::kSignIn) {
            answer.outcome = Outcome::kNotModelled;
            return done(std::move(answer));
          }
          const std::vector<MfaFactor> factors = AvailableMfaFactors(config.mfa, *user.value);
          if (!factors.empty()) {
            // Logto's isMfaVerified: a verified record of a factor the user still has (a backup
            // code record stops counting once the user's last code is used).
            const bool verified =
                std::any_of(view.records.begin(), view.records.end(),
                            [&](const auto& r) {
                              return r.verified && Lists(factors, FactorOf(r.type));
                            }) ||
                (!view.session.totp.id.empty() && Lists(factors, MfaFactor::kTotp)) ||
                (!view.session.backup_code.id.empty() && Lists(factors, MfaFactor::kBackupCode));
            if (!verified) {
              answer.outcome = Outcome::kMfaRequired;
              answer.factors = factors;
              if (Lists(factors, MfaFactor::kEmailVerificationCode)) {
                answer.masked_email = MaskEmail(user.value->primary_email);
              }
              if (Lists(factors, MfaFactor::kPhoneVerificationCode)) {
                answer.masked_phone = MaskPhone(user.value->primary_phone);
              }
              return done(std::move(answer));
            }
          } else if (config.mfa.policy == MfaPolicy::kMandatory &&
                     !ConfiguredMfaFactors(config.mfa).empty()) {
            answer.outcome = Outcome::kMissingMfa;
            answer.factors = ConfiguredMfaFactors(config.mfa);
            return done(std::move(answer));
          }
          std::string redirect_to =
              view.session.redirect_to.empty() ? config.sign_in_redirect : view.session.redirect_to;
          store_.EndSession(session_id, [redirect_to = std::move(redirect_to),
                                         done = std::move(done)](Outcome ended) mutable {
            SubmitAnswer answer;
            answer.outcome = ended;
            if (ended == Outcome::kOk) answer.redirect_to = std::move(redirect_to);
            done(std::move(answer));
          });
        });
  });
}

}  // namespace mfa
