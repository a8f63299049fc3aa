// SPDX-License-Identifier: Apache-2.0
// /admin/requests: the request journal of the public listener, filterable (and clearable) by
// session and by recipient so parallel tests each see only their own requests.
#include <unordered_set>

#include "admin/admin_routes.h"
#include "admin/admin_support.h"
#include "http/answer_when_done.h"
#include "http/request_journal.h"

namespace mfa {
namespace {

using InboxAnswer = StoreAnswer<std::vector<InboxEntry>>;

void WriteEntries(Reply& out, bool enabled, const std::vector<JournalEntry>& entries) {
  JsonWriter json(out.body);
  json.BeginObject().Bool("enabled", enabled).Key("requests").BeginArray();
  for (const JournalEntry& e : entries) {
    json.BeginObject()
        .String("time", FormatRfc3339(e.time_ms))
        .String("method", e.method)
        .String("path", e.path)
        .Int("status", e.status)
        .Key("durationMs")
        .Fixed6(e.duration_seconds * 1000.0)
        .StringOrNull("errorCode", e.error_code)
        .String("body", e.body)
        .StringOrNull("sessionId", e.session_id)
        .StringOrNull("verificationId", e.verification_id)
        .Key("deviations")
        .BeginArray();
    for (Deviation kind : kAllDeviations) {
      if (e.deviations.Has(kind)) json.String(ToString(kind));
    }
    json.EndArray().EndObject();
  }
  json.EndArray().EndObject();
}

struct Handlers {
  RequestJournal* journal;  // null = journal off
  CodeStore& codes;
  size_t inbox_capacity;

  // `to`: a recipient; the journal's entries for it are those naming a verification the inbox
  // shows was sent to it. Calls `then(query, store_outcome)` once the filter is complete.
  template <typename Then>
  void WithRecipient(const HttpRequest& request, Reply& reply, JournalQuery query,
                     Then then) const {
    const std::optional<std::string> to = request.Query("to");
    if (!to) return then(reply, query);
    InboxQuery inbox;
    inbox.to = *to;
    inbox.limit = inbox_capacity;
    AnswerWhenDone<InboxAnswer>(
        request, reply, [&](Done<InboxAnswer> done) { codes.ListInbox(inbox, std::move(done)); },
        [query = std::move(query), then](Reply& out, const InboxAnswer& listed) {
          if (listed.outcome != Outcome::kOk) return SetError(out, listed.outcome);
          JournalQuery with_ids = query;
          with_ids.verification_ids.emplace();
          for (const InboxEntry& e : listed.value) {
            with_ids.verification_ids->insert(e.message.verification_id);
          }
          then(out, with_ids);
        });
  }

  void List(const HttpRequest& request, Reply& reply) const {
    int64_t limit = 0;
    int64_t status = 0;
    if (!ReadIntQuery(request, "limit", 1, 1'000'000, 100, "an integer from 1 to 1000000", &limit,
                      reply) ||
        !ReadIntQuery(request, "status", 100, 599, 0, "an HTTP status from 100 to 599", &status,
                      reply)) {
      return;
    }
    int64_t deviations_only = 0;
    if (!ReadIntQuery(request, "deviations", 0, 1, 0, "0 or 1", &deviations_only, reply)) return;
    JournalQuery query;
    query.limit = static_cast<size_t>(limit);
    query.status = static_cast<int>(status);
    query.deviations_only = deviations_only == 1;
    if (auto session = request.Query("session")) query.session = *session;
    RequestJournal* const j = journal;
    WithRecipient(request, reply, std::move(query), [j](Reply& out, const JournalQuery& q) {
      WriteEntries(out, j != nullptr, j != nullptr ? j->List(q) : std::vector<JournalEntry>{});
    });
  }

  void Clear(const HttpRequest& request, Reply& reply) const {
    JournalQuery query;
    if (auto session = request.Query("session")) query.session = *session;
    const bool filtered = !query.session.empty() || request.Query("to").has_value();
    RequestJournal* const j = journal;
    WithRecipient(request, reply, std::move(query),
                  [j, filtered](Reply& out, const JournalQuery& q) {
                    if (j != nullptr) {
                      if (filtered) {
                        j->Erase(q);
                      } else {
                        j->Clear();
                      }
                    }
                    out.status = 204;
                  });
  }
};

}  // namespace

std::vector<Route> JournalRoutes(RequestJournal* journal, CodeStore& codes, size_t inbox_capacity) {
  const Handlers h{journal, codes, inbox_capacity};
  return {
      {.method = Method::kGet, .path = "/admin/requests", .handler = Bind(h, &Handlers::List)},
      {.method = Method::kDelete,
       .path = "/admin/requests",
       .handler = Bind(h, &Handlers::Clear),
       .success_status = 204},
  };
}

}  // namespace mfa
