// SPDX-License-Identifier: Apache-2.0
// /admin/inbox: the codes "sent", newest first, with what became of each.
#include "admin/admin_routes.h"
#include "admin/admin_support.h"

namespace mfa {
namespace {

// Parses the inbox filters; false sets a 400 on `reply`.
bool ReadInboxQuery(const HttpRequest& request, InboxQuery* query, Reply& reply) {
  if (auto to = request.Query("to")) query->to = *to;
  if (auto channel = request.Query("channel")) {
    if (*channel == "email") {
      query->channel = IdentifierType::kEmail;
    } else if (*channel == "sms" || *channel == "phone") {
      query->channel = IdentifierType::kPhone;
    } else {
      SetError(reply, ApiError::kInvalidRequest, "channel must be \"email\" or \"sms\".");
      return false;
    }
  }
  int64_t limit = 0;
  if (!ReadIntQuery(request, "limit", 1, 10000, static_cast<int64_t>(query->limit),
                    "an integer from 1 to 10000", &limit, reply)) {
    return false;
  }
  query->limit = static_cast<size_t>(limit);
  return true;
}

struct Handlers {
  MfaService& service;

  void List(const HttpRequest& request, Reply& reply) const {
    InboxQuery query;
    if (!ReadInboxQuery(request, &query, reply)) return;
    JsonWriter json(reply.body);
    json.BeginObject().Key("messages").BeginArray();
    for (const InboxMessage& m : service.inbox().List(query)) {
      WriteMessage(json, m, service.StateOf(m));
    }
    json.EndArray().EndObject();
  }

  void Latest(const HttpRequest& request, Reply& reply) const {
    InboxQuery query;
    if (!ReadInboxQuery(request, &query, reply)) return;
    query.limit = 1;
    const std::vector<InboxMessage> messages = service.inbox().List(query);
    if (messages.empty()) {
      return SetError(
          reply, ApiError::kNotFound,
          query.to.empty() ? "The inbox is empty." : "No message to \"" + query.to + "\".");
    }
    JsonWriter json(reply.body);
    WriteMessage(json, messages.front(), service.StateOf(messages.front()));
  }

  void Clear(const HttpRequest&, Reply& reply) const {
    service.inbox().Clear();
    reply.status = 204;
  }
};

}  // namespace

std::vector<Route> InboxRoutes(MfaService& service) {
  const Handlers h{service};
  return {
      {.method = Method::kGet, .path = "/admin/inbox", .handler = Bind(h, &Handlers::List)},
      {.method = Method::kGet,
       .path = "/admin/inbox/latest",
       .handler = Bind(h, &Handlers::Latest)},
      {.method = Method::kDelete,
       .path = "/admin/inbox",
       .handler = Bind(h, &Handlers::Clear),
       .success_status = 204},
  };
}

}  // namespace mfa
