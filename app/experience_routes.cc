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
}

void SetVerificationId(Reply& reply, std::string_view id) {
  reply.status = 200;
  reply.body.reserve(24 + id.size());
  JsonWriter(reply.body).BeginObject().String("verificationId", id).EndObject();
}

// Step 1 of the contract's check orders. Returns false (with the reply set) when the request
// must stop here; `session_id` stays empty in open mode.
bool ResolveSession(const Config& config, SessionService& sessions, const HttpRequest& request,
                    std::string_view* session_id, Reply& reply) {
  if (config.sessions == SessionMode::kOff) return true;
  *session_id = request.Cookie(kSessionCookie);
  if (session_id->empty()) {
    if (config.sessions == SessionMode::kOptional) return true;
    SetError(reply, Outcome::kSessionNotFound);
    return false;
  }
  const Outcome check = sessions.Check(*session_id);
  if (check == Outcome::kOk) return true;
  SetError(reply, check);
  return false;
}

enum class BodyKind { kSend, kVerify };

// Steps 1 and 2 of the contract's check orders: the session, then the body.
bool ReadPublicRequest(BodyKind kind, const Config& config, SessionService& sessions,
                       const HttpRequest& request, std::string_view* session_id,
                       PublicRequest* parsed, Reply& reply) {
  if (!ResolveSession(config, sessions, request, session_id, reply)) return false;
  PublicRequestParser& parser = ThreadParser();
  GuardFailure failure;
  const bool ok =
      kind == BodyKind::kVerify
          ? parser.ParseVerify(request.content_type, request.body, config.profile, parsed, &failure)
          : parser.ParseSend(request.content_type, request.body, config.profile, parsed, &failure);
  if (!ok) SetGuardFailure(reply, failure);
  return ok;
}

std::string_view RecordType(IdentifierType type) {
  return type == IdentifierType::kEmail ? "MfaEmailVerificationCode" : "MfaPhoneVerificationCode";
}

void AnswerVerify(metrics::Metrics& metrics, IdentifierType type, std::string_view id,
                  Outcome outcome, int64_t blocked_ms, Reply& reply) {
  metrics.VerifyAttempt(type, outcome);
  if (outcome == Outcome::kOk) return SetVerificationId(reply, id);
  SetError(reply, outcome, type, RelativeTimeEn(blocked_ms));
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

struct Handlers {
  MfaService& service;
  CodeStore& codes;
  SessionService& sessions;
  metrics::Metrics& metrics;

  void Verify(const HttpRequest& request, Reply& reply) const {
    const Config& config = service.config().Get().config;
    std::string_view session_id;
    PublicRequest parsed;
    if (!ReadPublicRequest(BodyKind::kVerify, config, sessions, request, &session_id, &parsed,
                           reply)) {
      return;
    }
    if (session_id.empty()) {
      // Open mode: the store may answer later (Redis); the id is copied for that.
      return AnswerWhenDone<Outcome>(
          request, reply,
          [&](Done<Outcome> done) {
            codes.Verify(parsed.type, parsed.verification_id, parsed.code, std::move(done));
          },
          [metrics = &metrics, type = parsed.type, id = std::string(parsed.verification_id)](
              Reply& out, Outcome outcome) { AnswerVerify(*metrics, type, id, outcome, 0, out); });
    }
    int64_t blocked_ms = 0;
    const Outcome outcome =
        sessions.Verify(session_id, parsed.type, parsed.verification_id, parsed.code, &blocked_ms);
    AnswerVerify(metrics, parsed.type, parsed.verification_id, outcome, blocked_ms, reply);
  }

  void Send(const HttpRequest& request, Reply& reply) const {
    const Config& config = service.config().Get().config;
    std::string_view session_id;
    PublicRequest parsed;
    if (!ReadPublicRequest(BodyKind::kSend, config, sessions, request, &session_id, &parsed,
                           reply)) {
      return;
    }
    if (session_id.empty()) {
      return AnswerWhenDone<SendResult>(
          request, reply, [&](Done<SendResult> done) { codes.Send(parsed.type, std::move(done)); },
          [metrics = &metrics, type = parsed.type](Reply& out, const SendResult& result) {
            AnswerSend(*metrics, type, result, out);
          });
    }
    AnswerSend(metrics, parsed.type, sessions.Send(session_id, parsed.type), reply);
  }

  void StartInteraction(const HttpRequest& request, Reply& reply) const {
    std::string event_name;
    GuardFailure failure;
    if (!ThreadParser().ParseInteractionEvent(request.content_type, request.body, &event_name,
                                              &failure)) {
      return SetGuardFailure(reply, failure);
    }
    auto [id, created] = sessions.StartInteraction(request.Cookie(kSessionCookie),
                                                   *ParseInteractionEvent(event_name));
    if (created) reply.cookies.push_back(SetCookie{.name = kSessionCookie, .value = id});
    reply.status = 204;
  }

  void Interaction(const HttpRequest& request, Reply& reply) const {
    const std::string_view session_id = request.Cookie(kSessionCookie);
    if (session_id.empty()) return SetError(reply, Outcome::kSessionNotFound);
    if (const Outcome check = sessions.Check(session_id); check != Outcome::kOk) {
      return SetError(reply, check);
    }
    const std::optional<InteractionView> view = sessions.View(session_id);
    if (!view) return SetError(reply, Outcome::kSessionNotFound);
    JsonWriter json(reply.body);
    json.BeginObject()
        .String("interactionEvent", ToString(view->event))
        .StringOrNull("userId", view->user_id)
        .Key("verificationRecords")
        .BeginArray();
    for (const InteractionRecordView& r : view->records) {
      json.BeginObject()
          .String("id", r.id)
          .String("type", RecordType(r.type))
          .Key("identifier")
          .BeginObject()
          .String("type", ToString(r.type))
          .String("value", r.identifier)
          .EndObject()
          .Bool("verified", r.verified)
          .EndObject();
    }
    json.EndArray().EndObject();
  }
};

}  // namespace

std::vector<Route> ExperienceRoutes(MfaService& service, CodeStore& codes, SessionService& sessions,
                                    metrics::Metrics& metrics) {
  const Handlers h{service, codes, sessions, metrics};
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
  };
}

}  // namespace mfa
