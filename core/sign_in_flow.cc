// SPDX-License-Identifier: Apache-2.0
#include "core/sign_in_flow.h"

#include <algorithm>
#include <utility>

#include "core/recipient.h"
#include "core/secure_random.h"

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
            const bool verified = std::any_of(
                view.records.begin(), view.records.end(),
                [&](const auto& r) { return r.verified && Lists(factors, FactorOf(r.type)); });
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
          } else if (config.mfa.policy == MfaPolicy::kMandatory && config.mfa.factors != 0) {
            answer.outcome = Outcome::kMissingMfa;
            answer.factors = config.mfa.Enabled();
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
