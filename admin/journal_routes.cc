// SPDX-License-Identifier: Apache-2.0
// /admin/requests: the request journal of the public listener.
#include "admin/admin_routes.h"
#include "admin/admin_support.h"
#include "http/request_journal.h"

namespace mfa {
namespace {

struct Handlers {
  RequestJournal* journal;  // null = journal off

  void List(const HttpRequest& request, Reply& reply) const {
    int64_t limit = 0;
    int64_t status = 0;
    if (!ReadIntQuery(request, "limit", 1, 1'000'000, 100, "an integer from 1 to 1000000", &limit,
                      reply) ||
        !ReadIntQuery(request, "status", 100, 599, 0, "an HTTP status from 100 to 599", &status,
                      reply)) {
      return;
    }
    JsonWriter json(reply.body);
    json.BeginObject().Bool("enabled", journal != nullptr).Key("requests").BeginArray();
    if (journal != nullptr) {
      for (const JournalEntry& e :
           journal->List(static_cast<size_t>(limit), static_cast<int>(status))) {
        json.BeginObject()
            .String("time", FormatRfc3339(e.time_ms))
            .String("method", e.method)
            .String("path", e.path)
            .Int("status", e.status)
            .Key("durationMs")
            .Fixed6(e.duration_seconds * 1000.0)
            .StringOrNull("errorCode", e.error_code)
            .String("body", e.body)
            .EndObject();
      }
    }
    json.EndArray().EndObject();
  }

  void Clear(const HttpRequest&, Reply& reply) const {
    if (journal != nullptr) journal->Clear();
    reply.status = 204;
  }
};

}  // namespace

std::vector<Route> JournalRoutes(RequestJournal* journal) {
  const Handlers h{journal};
  return {
      {.method = Method::kGet, .path = "/admin/requests", .handler = Bind(h, &Handlers::List)},
      {.method = Method::kDelete,
       .path = "/admin/requests",
       .handler = Bind(h, &Handlers::Clear),
       .success_status = 204},
  };
}

}  // namespace mfa
