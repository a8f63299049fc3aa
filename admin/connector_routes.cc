// SPDX-License-Identifier: Apache-2.0
// /connectors/http-email and /connectors/http-sms: what a real Logto's HTTP email and SMS
// connectors (@logto/connector-http-email, -sms) post for each message, kept in the inbox so
// tests read a real Logto's codes as they read the mock's own (docs/guides/real-logto.md).
#include "admin/admin_routes.h"
#include "admin/admin_support.h"
#include "http/answer_when_done.h"
#include "http/dispatcher.h"

namespace mfa {
namespace {

// Logto posts {to, type, payload: {code, locale, ...}, ip}: a few hundred bytes.
constexpr size_t kMaxConnectorBody = 64 * 1024;

// One route's handler. Thread-safe: nothing changes after construction (the store is).
struct Connector {
  CodeStore& codes;
  const OffsetClock& clock;
  IdentifierType channel;
  // The exact Authorization value required (--connector-authorization); empty: the listener's
  // admin token rules (the route's Access).
  std::string authorization;

  void Receive(const HttpRequest& request, Reply& reply) const {
    if (!authorization.empty() && !ConstantTimeEquals(request.authorization, authorization)) {
      return SetError(reply, ApiError::kUnauthorized,
                      "Missing or invalid Authorization: send the value of "
                      "--connector-authorization (the connector's \"Authorization Header\").");
    }
    if (request.body.size() > kMaxConnectorBody) {
      return SetError(
          reply, ApiError::kAdminBodyTooLarge,
          "A connector message is at most " + std::to_string(kMaxConnectorBody) + " bytes.");
    }
    InboxMessage message;
    AdminParseError error;
    if (!ParseConnectorMessage(request.body, channel, &message, &error)) {
      return SetParseError(reply, error);
    }
    message.sent_ms = clock.NowMs();
    AnswerWhenDone<StoreAnswer<uint64_t>>(
        request, reply,
        [&](Done<StoreAnswer<uint64_t>> done) {
          codes.AddExternalMessage(message, std::move(done));
        },
        [message](Reply& out, const StoreAnswer<uint64_t>& added) {
          if (added.outcome != Outcome::kOk) return SetError(out, added.outcome);
          InboxMessage recorded = message;
          recorded.seq = added.value;
          JsonWriter json(out.body);
          WriteMessage(json, recorded, MessageState::kExternal);
        });
  }
};

}  // namespace

std::vector<Route> ConnectorRoutes(CodeStore& codes, const OffsetClock& clock,
                                   const std::string& authorization) {
  // With its own value set, a connector route checks it instead of the admin token.
  const Access access = authorization.empty() ? Access::kToken : Access::kOpen;
  const Connector email{codes, clock, IdentifierType::kEmail, authorization};
  const Connector sms{codes, clock, IdentifierType::kPhone, authorization};
  return {
      {.method = Method::kPost,
       .path = "/connectors/http-email",
       .handler = Bind(email, &Connector::Receive),
       .access = access},
      {.method = Method::kPost,
       .path = "/connectors/http-sms",
       .handler = Bind(sms, &Connector::Receive),
       .access = access},
  };
}

}  // namespace mfa
