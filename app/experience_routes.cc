// SPDX-License-Identifier: Apache-2.0
#include "app/experience_routes.h"

#include "http/answer_when_done.h"
#include "wire/json_writer.h"
#include "wire/public_request.h"

namespace mfa {
namespace {

PublicRequestParser& ThreadParser() {
  thread_local PublicRequestParser parser;
  return parser;
}

void SetGuardFailure(Reply& reply, const GuardFailure& failure) {
  reply.status = 400;
  reply.body = GuardFailureBody(failure);
  reply.error_code.assign(ErrorFor(Outcome::kInvalidInput).code);
  if (!failure.malformed_json) reply.translatable = TranslatableFor(Outcome::kInvalidInput);
}

void SetVerificationId(Reply& reply, std::string_view id) {
  reply.status = 200;
  reply.body.reserve(24 + id.size());
  JsonWriter(reply.body).BeginObject().String("verificationId", id).EndObject();
}

// Step 1 of the contract's check orders, the part that needs no store: the cookie. Returns false
// (with the reply set) when the request must stop here; `session_id` stays empty in open mode.
bool ReadSessionCookie(const Config& config, const HttpRequest& request,
                       std::string_view* session_id, Reply& reply) {
  if (config.sessions == SessionMode::kOff) return true;
  *session_id = request.Cookie(kSessionCookie);
  if (!session_id->empty()) return true;
  if (config.sessions == SessionMode::kOptional) {
    request.NoteDeviation(Deviation::kOpenSession);
    return true;
  }
  SetError(reply, Outcome::kSessionNotFound);
  return false;
}

// The parse rules of the current config, and what they let through that Logto would not.
BodyRules RulesOf(const Config& config) {
  BodyRules rules(config.profile);
  rules.json_without_json_type = !config.strict;
  return rules;
}

void NoteParse(const HttpRequest& request) {
  const DeviationSet noted = ThreadParser().noted();
  for (Deviation kind : kAllDeviations) {
    if (noted.Has(kind)) request.NoteDeviation(kind);
  }
}

enum class BodyKind { kSend, kVerify };

bool ParseBody(BodyKind kind, const Config& config, const HttpRequest& request,
               PublicRequest* parsed, GuardFailure* failure) {
  PublicRequestParser& parser = ThreadParser();
  const bool ok =
      kind == BodyKind::kVerify
          ? parser.ParseVerify(request.content_type, request.body, RulesOf(config), parsed, failure)
          : parser.ParseSend(request.content_type, request.body, RulesOf(config), parsed, failure);
  NoteParse(request);
  return ok;
}

// A body that failed its guard: inside a session, the session is checked first (step 1 before
// step 2), so an expired session answers as such whatever the body.
void AnswerBadBody(InteractionStore& sessions, std::string_view session_id,
                   const HttpRequest& request, GuardFailure failure, Reply& reply) {
  if (session_id.empty()) return SetGuardFailure(reply, failure);
  AnswerWhenDone<Outcome>(
      request, reply, [&](Done<Outcome> done) { sessions.Check(session_id, std::move(done)); },
      [failure = std::move(failure)](Reply& out, Outcome check) {
        if (check != Outcome::kOk) return SetError(out, check);
        SetGuardFailure(out, failure);
      });
}

std::string_view RecordType(IdentifierType type) {
  return type == IdentifierType::kEmail ? "MfaEmailVerificationCode" : "MfaPhoneVerificationCode";
}

void AnswerVerify(metrics::Metrics& metrics, IdentifierType type, std::string_view id,
                  Outcome outcome, int64_t blocked_ms, Reply& reply) {
  metrics.VerifyAttempt(type, outcome);
  if (outcome == Outcome::kOk) return SetVerificationId(reply, id);
  if (outcome == Outcome::kConnectorNotFound) reply.deviations.Add(Deviation::kNotImplemented);
  SetError(reply, outcome, type, blocked_ms);
}

void AnswerSend(metrics::Metrics& metrics, IdentifierType type, const SendResult& result,
                Reply& reply) {
  if (result.outcome == Outcome::kOk) {
    metrics.CodeSent(type, metrics::Via::kPublic);
    return SetVerificationId(reply, result.verification_id);
  }
  metrics.SendRejected(result.outcome);
  SetError(reply, result.outcome, type);
}

// GET /api/experience/interaction's body, as Logto shapes it (sanitizedInteractionStorageGuard,
// in toJson's key order): no userId before identification, the profile and MFA data the mock does
// not model as {}, the captcha never required. Records in toJson's order: the password record
// {id, type, identifier, verified}, code records {id, type, identifier, templateType, verified},
// then the TOTP and backup-code records.
void WriteInteraction(const SessionView& view, std::string& body) {
  JsonWriter json(body);
  json.BeginObject().String("interactionEvent", ToString(view.session.event));
  if (!view.session.user_id.empty()) json.String("userId", view.session.user_id);
  json.Key("profile").BeginObject().EndObject();
  json.Key("mfa").BeginObject().EndObject();
  json.Key("verificationRecords").BeginArray();
  const PasswordRecord& password = view.session.password;
  if (!password.id.empty()) {
    json.BeginObject()
        .String("id", password.id)
        .String("type", "Password")
        .Key("identifier")
        .BeginObject()
        .String("type", ToString(password.identifier_type))
        .String("value", password.identifier)
        .EndObject()
        .Bool("verified", password.verified)
        .EndObject();
  }
  for (const InteractionRecordView& r : view.records) {
    json.BeginObject()
        .String("id", r.id)
        .String("type", RecordType(r.type))
        .Key("identifier")
        .BeginObject()
        .String("type", ToString(r.type))
        .String("value", r.identifier)
        .EndObject()
        .String("templateType", "MfaVerification")
        .Bool("verified", r.verified)
        .EndObject();
  }
  // The TOTP and backup-code records as Logto sanitizes them: {id, type, userId, verified} and
  // {id, type, userId, code}.
  if (!view.session.totp.id.empty()) {
    json.BeginObject()
        .String("id", view.session.totp.id)
        .String("type", "Totp")
        .String("userId", view.session.user_id)
        .Bool("verified", true)
        .EndObject();
  }
  if (!view.session.backup_code.id.empty()) {
    json.BeginObject()
        .String("id", view.session.backup_code.id)
        .String("type", "BackupCode")
        .String("userId", view.session.user_id)
        .String("code", view.session.backup_code.code)
        .EndObject();
  }
  json.EndArray()
      .Key("captcha")
      .BeginObject()
      .Bool("verified", false)
      .Bool("skipped", false)
      .EndObject()
      .EndObject();
}

// The 403 of submit's MFA guard, or the 422 of the Mandatory policy: Logto's data.
void SetSubmitError(Reply& reply, const SubmitAnswer& answer) {
  if (answer.outcome != Outcome::kMfaRequired && answer.outcome != Outcome::kMissingMfa) {
    return SetError(reply, answer.outcome);
  }
  std::string data;
  JsonWriter json(data);
  json.BeginObject().Key("availableFactors").BeginArray();
  for (MfaFactor f : answer.factors) json.String(ToString(f));
  json.EndArray();
  if (answer.outcome == Outcome::kMfaRequired) {
    json.Key("maskedIdentifiers").BeginObject();
    if (!answer.masked_email.empty()) {
      json.String(ToString(MfaFactor::kEmailVerificationCode), answer.masked_email);
    }
    if (!answer.masked_phone.empty()) {
      json.String(ToString(MfaFactor::kPhoneVerificationCode), answer.masked_phone);
    }
    json.EndObject();
  }
  json.EndObject();
  SetErrorWithData(reply, answer.outcome, data);
}

// The experience routes past the session check need a cookie in every mode: without one there is
// no interaction to act on.
bool RequireSessionCookie(const HttpRequest& request, std::string_view* session_id, Reply& reply) {
  *session_id = request.Cookie(kSessionCookie);
  if (!session_id->empty()) return true;
  SetError(reply, Outcome::kSessionNotFound);
  return false;
}

// /oidc/auth's redirect_uri, when usable as submit's redirectTo.
constexpr size_t kMaxRedirectLength = 2048;

struct Handlers {
  MfaService& service;
  CodeStore& codes;
  InteractionStore& sessions;
  SignInFlow& flow;
  metrics::Metrics& metrics;

  // GET /oidc/auth: the authorization request starts a session; the sign-in page starts its
  // interaction (PUT /api/experience).
  void Authorize(const HttpRequest& request, Reply& reply) const {
    std::string redirect_to = request.Query("redirect_uri").value_or("");
    if (redirect_to.size() > kMaxRedirectLength ||
        redirect_to.find_first_of("\r\n") != std::string::npos) {
      redirect_to.clear();
    }
    AnswerWhenDone<StoreAnswer<Session>>(
        request, reply,
        [&](Done<StoreAnswer<Session>> done) {
          sessions.StartAuthorization(std::move(redirect_to), std::move(done));
        },
        [sign_in_url = service.config().Get().config.sign_in_url](
            Reply& out, const StoreAnswer<Session>& started) {
          if (started.outcome != Outcome::kOk) return SetError(out, started.outcome);
          out.cookies.push_back(SetCookie{.name = kSessionCookie, .value = started.value.id});
          out.status = 303;
          out.headers.push_back({"Location", sign_in_url});
          out.content_type = {};
        });
  }

  void VerifyPassword(const HttpRequest& request, Reply& reply) const {
    std::string_view session_id;
    if (!RequireSessionCookie(request, &session_id, reply)) return;
    SignInIdentifier type = SignInIdentifier::kUsername;
    std::string value;
    std::string password;
    GuardFailure failure;
    const bool parsed =
        ThreadParser().ParsePassword(request.content_type, request.body, &type, &value, &password,
                                     &failure, RulesOf(service.config().Get().config));
    NoteParse(request);
    if (!parsed) return AnswerBadBody(sessions, session_id, request, std::move(failure), reply);
    AnswerWhenDone<PasswordAnswer>(
        request, reply,
        [&](Done<PasswordAnswer> done) {
          flow.VerifyPassword(session_id, type, std::move(value), std::move(password),
                              std::move(done));
        },
        [](Reply& out, const PasswordAnswer& answer) {
          if (answer.outcome == Outcome::kOk) return SetVerificationId(out, answer.verification_id);
          SetError(out, answer.outcome, IdentifierType::kEmail, answer.blocked_ms);
        });
  }

  // POST .../totp/verify and .../backup-code/verify: the user's own factors.
  void VerifyTotp(const HttpRequest& request, Reply& reply) const {
    VerifyFactor(MfaFactor::kTotp, request, reply);
  }
  void VerifyBackupCode(const HttpRequest& request, Reply& reply) const {
    VerifyFactor(MfaFactor::kBackupCode, request, reply);
  }
  void VerifyFactor(MfaFactor factor, const HttpRequest& request, Reply& reply) const {
    std::string_view session_id;
    if (!RequireSessionCookie(request, &session_id, reply)) return;
    std::string code;
    std::string verification_id;
    GuardFailure failure;
    const bool parsed =
        ThreadParser().ParseMfaCode(request.content_type, request.body, &code,
                                    factor == MfaFactor::kTotp ? &verification_id : nullptr,
                                    &failure, RulesOf(service.config().Get().config));
    NoteParse(request);
    if (!parsed) return AnswerBadBody(sessions, session_id, request, std::move(failure), reply);
    AnswerWhenDone<PasswordAnswer>(
        request, reply,
        [&](Done<PasswordAnswer> done) {
          if (factor == MfaFactor::kTotp) {
            return flow.VerifyTotp(session_id, std::move(code), std::move(verification_id),
                                   std::move(done));
          }
          flow.VerifyBackupCode(session_id, std::move(code), std::move(done));
        },
        [](Reply& out, const PasswordAnswer& answer) {
          if (answer.outcome == Outcome::kOk) return SetVerificationId(out, answer.verification_id);
          SetError(out, answer.outcome, IdentifierType::kEmail, answer.blocked_ms);
        });
  }

  void Identification(const HttpRequest& request, Reply& reply) const {
    std::string_view session_id;
    if (!RequireSessionCookie(request, &session_id, reply)) return;
    std::string verification_id;
    GuardFailure failure;
    const bool parsed =
        ThreadParser().ParseIdentification(request.content_type, request.body, &verification_id,
                                           &failure, RulesOf(service.config().Get().config));
    NoteParse(request);
    if (!parsed) return AnswerBadBody(sessions, session_id, request, std::move(failure), reply);
    if (verification_id.empty()) {
      // Optional in the guard, required by the sign-in route: Logto's own 400 with details.
      failure.details_only = "verificationId is missing";
      return AnswerBadBody(sessions, session_id, request, std::move(failure), reply);
    }
    AnswerWhenDone<Outcome>(
        request, reply,
        [&](Done<Outcome> done) {
          flow.Identify(session_id, std::move(verification_id), std::move(done));
        },
        [](Reply& out, Outcome outcome) {
          if (outcome != Outcome::kOk) return SetError(out, outcome);
          out.status = 204;
          out.content_type = {};
        });
  }

  void Submit(const HttpRequest& request, Reply& reply) const {
    std::string_view session_id;
    if (!RequireSessionCookie(request, &session_id, reply)) return;
    AnswerWhenDone<SubmitAnswer>(
        request, reply, [&](Done<SubmitAnswer> done) { flow.Submit(session_id, std::move(done)); },
        [](Reply& out, const SubmitAnswer& answer) {
          if (answer.outcome != Outcome::kOk) return SetSubmitError(out, answer);
          out.status = 200;
          JsonWriter(out.body).BeginObject().String("redirectTo", answer.redirect_to).EndObject();
        });
  }

  // GET /api/.well-known/sign-in-exp: the part of the sign-in experience a sign-in page reads.
  void SignInExperience(const HttpRequest&, Reply& reply) const {
    const Config& c = service.config().Get().config;
    JsonWriter json(reply.body);
    json.BeginObject().Key("signIn").BeginObject().Key("methods").BeginArray();
    for (std::string_view identifier : {"username", "email", "phone"}) {
      json.BeginObject()
          .String("identifier", identifier)
          .Bool("password", true)
          .Bool("verificationCode", false)
          .Bool("isPasswordPrimary", true)
          .EndObject();
    }
    json.EndArray().EndObject().Key("mfa").BeginObject().Key("factors").BeginArray();
    for (MfaFactor f : c.mfa.Enabled()) json.String(ToString(f));
    json.EndArray().String("policy", ToString(c.mfa.policy)).EndObject().EndObject();
    reply.status = 200;
  }

  void Verify(const HttpRequest& request, Reply& reply) const {
    const Config& config = service.config().Get().config;
    std::string_view session_id;
    if (!ReadSessionCookie(config, request, &session_id, reply)) return;
    PublicRequest parsed;
    GuardFailure failure;
    if (!ParseBody(BodyKind::kVerify, config, request, &parsed, &failure)) {
      return AnswerBadBody(sessions, session_id, request, std::move(failure), reply);
    }
    // The store may answer later (Redis); the id is copied for that.
    if (session_id.empty()) {
      return AnswerWhenDone<Outcome>(
          request, reply,
          [&](Done<Outcome> done) {
            codes.Verify(parsed.type, parsed.verification_id, parsed.code, std::move(done));
          },
          [metrics = &metrics, type = parsed.type, id = std::string(parsed.verification_id)](
              Reply& out, Outcome outcome) { AnswerVerify(*metrics, type, id, outcome, 0, out); });
    }
    AnswerWhenDone<SessionVerifyResult>(
        request, reply,
        [&](Done<SessionVerifyResult> done) {
          sessions.Verify(session_id, parsed.type, parsed.verification_id, parsed.code,
                          std::move(done));
        },
        [metrics = &metrics, type = parsed.type, id = std::string(parsed.verification_id)](
            Reply& out, const SessionVerifyResult& result) {
          AnswerVerify(*metrics, type, id, result.outcome, result.blocked_ms, out);
        });
  }

  void Send(const HttpRequest& request, Reply& reply) const {
    const Config& config = service.config().Get().config;
    std::string_view session_id;
    if (!ReadSessionCookie(config, request, &session_id, reply)) return;
    PublicRequest parsed;
    GuardFailure failure;
    if (!ParseBody(BodyKind::kSend, config, request, &parsed, &failure)) {
      return AnswerBadBody(sessions, session_id, request, std::move(failure), reply);
    }
    AnswerWhenDone<SendResult>(
        request, reply,
        [&](Done<SendResult> done) {
          if (session_id.empty()) return codes.Send(parsed.type, std::move(done));
          sessions.Send(session_id, parsed.type, std::move(done));
        },
        [metrics = &metrics, type = parsed.type](Reply& out, const SendResult& result) {
          AnswerSend(*metrics, type, result, out);
        });
  }

  void StartInteraction(const HttpRequest& request, Reply& reply) const {
    const Config& config = service.config().Get().config;
    std::string event_name;
    std::string captcha_token;
    GuardFailure failure;
    const bool parsed = ThreadParser().ParseInteractionEvent(
        request.content_type, request.body, &event_name, &captcha_token, &failure, RulesOf(config));
    NoteParse(request);
    if (!parsed) return SetGuardFailure(reply, failure);
    // Logto verifies a token it is given with the tenant's captcha provider; the mock has none,
    // as a tenant without one answers.
    if (!captcha_token.empty()) return SetError(reply, Outcome::kCaptchaFailed);
    const InteractionEvent event = *ParseInteractionEvent(event_name);
    const std::string_view cookie = request.Cookie(kSessionCookie);
    using Answer = StoreAnswer<StartedInteraction>;
    auto answer = [](Reply& out, const Answer& started) {
      if (started.outcome != Outcome::kOk) return SetError(out, started.outcome);
      if (started.value.created) {
        out.cookies.push_back(SetCookie{.name = kSessionCookie, .value = started.value.session_id});
        out.deviations.Add(Deviation::kSessionFromExperience);
      }
      out.status = 204;
    };
    if (!config.strict) {
      return AnswerWhenDone<Answer>(
          request, reply,
          [&](Done<Answer> done) { sessions.StartInteraction(cookie, event, std::move(done)); },
          answer);
    }
    // Strict: as Logto, only a session /oidc/auth started may begin an interaction.
    if (cookie.empty()) return SetError(reply, Outcome::kSessionNotFound);
    AnswerWhenDone<Answer>(
        request, reply,
        [&](Done<Answer> done) {
          sessions.Check(cookie, [store = &sessions, id = std::string(cookie), event,
                                  done = std::move(done)](Outcome checked) mutable {
            // A live session whose interaction has not begun is what /oidc/auth leaves.
            if (checked != Outcome::kOk && checked != Outcome::kInteractionNotFound) {
              return done(Answer{.outcome = checked});
            }
            store->StartInteraction(id, event, std::move(done));
          });
        },
        answer);
  }

  void Interaction(const HttpRequest& request, Reply& reply) const {
    const std::string_view session_id = request.Cookie(kSessionCookie);
    if (session_id.empty()) return SetError(reply, Outcome::kSessionNotFound);
    using Answer = StoreAnswer<std::optional<SessionView>>;
    AnswerWhenDone<Answer>(
        request, reply, [&](Done<Answer> done) { sessions.View(session_id, std::move(done)); },
        [](Reply& out, const Answer& view) {
          if (view.outcome != Outcome::kOk) return SetError(out, view.outcome);
          if (!view.value) return SetError(out, Outcome::kSessionNotFound);
          if (!view.value->session.interaction_started) {
            return SetError(out, Outcome::kInteractionNotFound);
          }
          WriteInteraction(*view.value, out.body);
        });
  }
};

}  // namespace

std::vector<Route> ExperienceRoutes(MfaService& service, CodeStore& codes,
                                    InteractionStore& sessions, SignInFlow& flow,
                                    metrics::Metrics& metrics) {
  const Handlers h{service, codes, sessions, flow, metrics};
  // Verify first: it is the route load tests hammer.
  return {
      {.method = Method::kPost,
       .path = kVerifyPath,
       .handler = Bind(h, &Handlers::Verify),
       .fault = FaultKey::kVerify},
      {.method = Method::kPost,
       .path = kSendPath,
       .handler = Bind(h, &Handlers::Send),
       .fault = FaultKey::kSend},
      {.method = Method::kPut,
       .path = kExperiencePath,
       .handler = Bind(h, &Handlers::StartInteraction),
       .success_status = 204},
      {.method = Method::kGet,
       .path = kInteractionPath,
       .handler = Bind(h, &Handlers::Interaction)},
      {.method = Method::kGet,
       .path = kAuthorizePath,
       .handler = Bind(h, &Handlers::Authorize),
       .success_status = 303},
      {.method = Method::kPost,
       .path = kPasswordPath,
       .handler = Bind(h, &Handlers::VerifyPassword)},
      {.method = Method::kPost,
       .path = kIdentificationPath,
       .handler = Bind(h, &Handlers::Identification),
       .success_status = 204},
      {.method = Method::kPost, .path = kTotpVerifyPath, .handler = Bind(h, &Handlers::VerifyTotp)},
      {.method = Method::kPost,
       .path = kBackupCodeVerifyPath,
       .handler = Bind(h, &Handlers::VerifyBackupCode)},
      {.method = Method::kPost, .path = kSubmitPath, .handler = Bind(h, &Handlers::Submit)},
      {.method = Method::kGet,
       .path = kSignInExperiencePath,
       .handler = Bind(h, &Handlers::SignInExperience)},
  };
}

}  // namespace mfa
