#include "app/public_routes.h"

#include "app/error_table.h"
#include "app/json_util.h"
#include "app/public_request.h"

namespace mfa {

namespace Http = Pistache::Http;

namespace {

PublicRequestParser& ThreadParser() {
  thread_local PublicRequestParser parser;
  return parser;
}

void SetOutcome(Reply& reply, Outcome outcome, IdentifierType type,
                std::string_view relative_time = {}) {
  reply.status = ErrorFor(outcome).status;
  reply.body = outcome == Outcome::kSessionNotFound ? SessionNotFoundBody()
                                                    : ErrorBody(outcome, type, relative_time);
}

void SetVerificationId(Reply& reply, std::string_view id) {
  reply.status = 200;
  reply.body.reserve(24 + id.size());
  reply.body = "{\"verificationId\":";
  AppendJsonString(reply.body, id);
  reply.body += '}';
}

std::string SessionCookie(const Http::Request& request) {
  if (!request.cookies().has(kSessionCookie)) return {};
  return request.cookies().get(kSessionCookie).value;
}

// Step 1 of the contract's check orders. Returns false (with the reply set) when the request
// must stop here; `session_id` is empty for open mode.
bool ResolveSession(const Config& config, SessionService& sessions, const Http::Request& request,
                    std::string* session_id, Reply& reply) {
  if (config.sessions == SessionMode::kOff) return true;
  *session_id = SessionCookie(request);
  if (session_id->empty()) {
    if (config.sessions == SessionMode::kOptional) return true;
    SetOutcome(reply, Outcome::kSessionNotFound, IdentifierType::kEmail);
    return false;
  }
  const Outcome check = sessions.Check(*session_id);
  if (check != Outcome::kOk) {
    SetOutcome(reply, check, IdentifierType::kEmail);
    return false;
  }
  return true;
}

enum class BodyKind { kSend, kVerify };

// Steps 1 and 2 of the contract's check orders: the session, then the body. Returns false with
// the reply set when the request stops there.
bool ReadPublicRequest(BodyKind kind, const Config& config, SessionService& sessions,
                       const Http::Request& request, std::string* session_id, PublicRequest* parsed,
                       Reply& reply) {
  if (!ResolveSession(config, sessions, request, session_id, reply)) return false;
  PublicRequestParser& parser = ThreadParser();
  const std::string_view content_type = HeaderValue(request, "Content-Type");
  GuardFailure failure;
  const bool ok =
      kind == BodyKind::kVerify
          ? parser.ParseVerify(content_type, request.body(), config.profile, parsed, &failure)
          : parser.ParseSend(content_type, request.body(), config.profile, parsed, &failure);
  if (!ok) {
    reply.status = 400;
    reply.body = GuardFailureBody(failure);
  }
  return ok;
}

std::string RecordType(IdentifierType type) {
  return type == IdentifierType::kEmail ? "MfaEmailVerificationCode" : "MfaPhoneVerificationCode";
}

}  // namespace

std::vector<Route> PublicRoutes(MfaService& service, SessionService& sessions,
                                metrics::Metrics& metrics) {
  std::vector<Route> routes;
  // Verify first: it is the route load tests hammer.
  routes.push_back(Route{
      Http::Method::Post, kVerifyPath,
      [&service, &sessions, &metrics](const Http::Request& request, const PathParams&,
                                      Http::ResponseWriter&, Reply& reply) {
        const Config& config = service.config().Get().config;
        std::string session_id;
        PublicRequest parsed;
        if (!ReadPublicRequest(BodyKind::kVerify, config, sessions, request, &session_id, &parsed,
                               reply)) {
          return;
        }
        int64_t blocked_ms = 0;
        const Outcome outcome =
            session_id.empty() ? service.Verify(parsed.type, parsed.verification_id, parsed.code)
                               : sessions.Verify(session_id, parsed.type, parsed.verification_id,
                                                 parsed.code, &blocked_ms);
        metrics.VerifyAttempt(parsed.type, outcome);
        if (outcome == Outcome::kOk) {
          SetVerificationId(reply, parsed.verification_id);
        } else {
          SetOutcome(reply, outcome, parsed.type, RelativeTimeEn(blocked_ms));
        }
      },
      false, 0, 200, "verify"});
  routes.push_back(
      Route{Http::Method::Post, kSendPath,
            [&service, &sessions, &metrics](const Http::Request& request, const PathParams&,
                                            Http::ResponseWriter&, Reply& reply) {
              const Config& config = service.config().Get().config;
              std::string session_id;
              PublicRequest parsed;
              if (!ReadPublicRequest(BodyKind::kSend, config, sessions, request, &session_id,
                                     &parsed, reply)) {
                return;
              }
              const SendResult result = session_id.empty() ? service.Send(parsed.type)
                                                           : sessions.Send(session_id, parsed.type);
              if (result.outcome == Outcome::kOk) {
                metrics.CodeSent(parsed.type, metrics::Via::kPublic);
                SetVerificationId(reply, result.verification_id);
              } else {
                metrics.SendRejected(result.outcome);
                SetOutcome(reply, result.outcome, parsed.type);
              }
            },
            false, 0, 200, "send"});
  routes.push_back(Route{
      Http::Method::Put, kExperiencePath,
      [&sessions](const Http::Request& request, const PathParams&, Http::ResponseWriter& writer,
                  Reply& reply) {
        std::string event_name;
        GuardFailure failure;
        if (!ThreadParser().ParseInteractionEvent(HeaderValue(request, "Content-Type"),
                                                  request.body(), &event_name, &failure)) {
          reply.status = 400;
          reply.body = GuardFailureBody(failure);
          return;
        }
        auto [id, created] =
            sessions.StartInteraction(SessionCookie(request), *ParseInteractionEvent(event_name));
        if (created) {
          Http::Cookie cookie(kSessionCookie, id);
          cookie.path = "/";
          cookie.httpOnly = true;
          cookie.ext["SameSite"] = "Lax";
          writer.cookies().add(cookie);
        }
        reply.status = 204;
        reply.body.clear();
      },
      false, 0, 204});
  routes.push_back(Route{Http::Method::Get, kInteractionPath,
                         [&sessions](const Http::Request& request, const PathParams&,
                                     Http::ResponseWriter&, Reply& reply) {
                           const std::string session_id = SessionCookie(request);
                           if (session_id.empty())
                             return SetOutcome(reply, Outcome::kSessionNotFound, {});
                           const Outcome check = sessions.Check(session_id);
                           if (check != Outcome::kOk) return SetOutcome(reply, check, {});
                           auto view = sessions.View(session_id);
                           if (!view) return SetOutcome(reply, Outcome::kSessionNotFound, {});
                           reply.body = "{\"interactionEvent\":";
                           AppendJsonString(reply.body, ToString(view->event));
                           reply.body += ",\"userId\":";
                           AppendJsonStringOrNull(reply.body, view->user_id);
                           reply.body += ",\"verificationRecords\":[";
                           for (size_t i = 0; i < view->records.size(); ++i) {
                             const InteractionRecordView& r = view->records[i];
                             if (i > 0) reply.body += ',';
                             reply.body += "{\"id\":";
                             AppendJsonString(reply.body, r.id);
                             reply.body += ",\"type\":";
                             AppendJsonString(reply.body, RecordType(r.type));
                             reply.body += ",\"identifier\":{\"type\":";
                             AppendJsonString(reply.body, ToString(r.type));
                             reply.body += ",\"value\":";
                             AppendJsonString(reply.body, r.identifier);
                             reply.body += "},\"verified\":";
                             reply.body += r.verified ? "true" : "false";
                             reply.body += '}';
                           }
                           reply.body += "]}";
                         }});
  return routes;
}

}  // namespace mfa
