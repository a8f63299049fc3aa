// SPDX-License-Identifier: Apache-2.0
// /admin/inbox: the codes "sent", newest first, with what became of each.
#include "admin/admin_routes.h"
#include "admin/admin_support.h"
#include "http/answer_when_done.h"

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

using InboxAnswer = StoreAnswer<std::vector<InboxEntry>>;

struct Handlers {
  CodeStore& codes;

  void List(const HttpRequest& request, Reply& reply) const {
    InboxQuery query;
    if (!ReadInboxQuery(request, &query, reply)) return;
    AnswerWhenDone<InboxAnswer>(
        request, reply, [&](Done<InboxAnswer> done) { codes.ListInbox(query, std::move(done)); },
        [](Reply& out, const InboxAnswer& listed) {
          if (listed.outcome != Outcome::kOk) return SetError(out, listed.outcome);
          JsonWriter json(out.body);
          json.BeginObject().Key("messages").BeginArray();
          for (const InboxEntry& e : listed.value) WriteMessage(json, e.message, e.state);
          json.EndArray().EndObject();
        });
  }

  void Latest(const HttpRequest& request, Reply& reply) const {
    InboxQuery query;
    if (!ReadInboxQuery(request, &query, reply)) return;
    query.limit = 1;
    AnswerWhenDone<InboxAnswer>(
        request, reply, [&](Done<InboxAnswer> done) { codes.ListInbox(query, std::move(done)); },
        [to = query.to](Reply& out, const InboxAnswer& listed) {
          if (listed.outcome != Outcome::kOk) return SetError(out, listed.outcome);
          if (listed.value.empty()) {
            return SetError(out, ApiError::kNotFound,
                            to.empty() ? "The inbox is empty." : "No message to \"" + to + "\".");
          }
          JsonWriter json(out.body);
          WriteMessage(json, listed.value.front().message, listed.value.front().state);
        });
  }

  void Clear(const HttpRequest& request, Reply& reply) const {
    AnswerWhenDone<Outcome>(
        request, reply, [&](Done<Outcome> done) { codes.ClearInbox(std::move(done)); },
        [](Reply& out, Outcome cleared) {
          if (cleared != Outcome::kOk) return SetError(out, cleared);
          out.status = 204;
        });
  }
};

}  // namespace

std::vector<Route> InboxRoutes(CodeStore& codes) {
  const Handlers h{codes};
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
