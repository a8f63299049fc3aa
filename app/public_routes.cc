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

void SetOutcome(Reply& reply, Outcome outcome, IdentifierType type) {
  const HttpError& error = ErrorFor(outcome);
  reply.status = error.status;
  reply.body = ErrorBody(outcome, type);
}

void SetVerificationId(Reply& reply, std::string_view id) {
  reply.status = 200;
  reply.body.reserve(24 + id.size());
  reply.body = "{\"verificationId\":";
  AppendJsonString(reply.body, id);
  reply.body += '}';
}

}  // namespace

std::vector<Route> PublicRoutes(MfaService& service, metrics::Metrics& metrics) {
  std::vector<Route> routes;
  // Verify first: it is the route load tests hammer.
  routes.push_back(Route{
      Http::Method::Post, kVerifyPath,
      [&service, &metrics](const Http::Request& request, const PathParams&,
                           Http::ResponseWriter&, Reply& reply) {
        const Profile profile = service.config().Get().config.profile;
        PublicRequest parsed;
        GuardFailure failure;
        if (!ThreadParser().ParseVerify(HeaderValue(request, "Content-Type"), request.body(),
                                        profile, &parsed, &failure)) {
          reply.status = 400;
          reply.body = GuardFailureBody(failure);
          return;
        }
        const Outcome outcome = service.Verify(parsed.type, parsed.verification_id, parsed.code);
        metrics.VerifyAttempt(parsed.type, outcome);
        if (outcome == Outcome::kOk) {
          SetVerificationId(reply, parsed.verification_id);
        } else {
          SetOutcome(reply, outcome, parsed.type);
        }
      }});
  routes.push_back(Route{
      Http::Method::Post, kSendPath,
      [&service, &metrics](const Http::Request& request, const PathParams&,
                           Http::ResponseWriter&, Reply& reply) {
        const Profile profile = service.config().Get().config.profile;
        PublicRequest parsed;
        GuardFailure failure;
        if (!ThreadParser().ParseSend(HeaderValue(request, "Content-Type"), request.body(),
                                      profile, &parsed, &failure)) {
          reply.status = 400;
          reply.body = GuardFailureBody(failure);
          return;
        }
        const SendResult result = service.Send(parsed.type);
        if (result.outcome == Outcome::kOk) {
          metrics.CodeSent(parsed.type, metrics::Via::kPublic);
          SetVerificationId(reply, result.verification_id);
        } else {
          metrics.SendRejected(result.outcome);
          SetOutcome(reply, result.outcome, parsed.type);
        }
      }});
  return routes;
}

}  // namespace mfa
