// SPDX-License-Identifier: Apache-2.0
#include "admin/admin_routes.h"

#include "wire/json_writer.h"

namespace mfa {

std::vector<Route> AdminRoutes(const AdminDeps& deps) {
  std::vector<Route> routes;
  for (std::vector<Route> group :
       {PageRoutes(deps.codes, deps.control),
        VerificationRoutes(deps.service, deps.codes, deps.metrics, deps.shared_store),
        InboxRoutes(deps.codes, deps.inbox_waiters),
        ConfigRoutes(deps.service, deps.clock, deps.control, deps.codes, deps.inbox_waiters),
        SessionRoutes(deps.sessions), JournalRoutes(deps.journal, deps.codes, deps.inbox_capacity),
        ConnectorRoutes(deps.codes, deps.clock, deps.connector_authorization)}) {
    for (Route& route : group) {
      routes.push_back(std::move(route));
    }
  }
  if (deps.serve_metrics) {
    for (Route& route :
         MetricsRoutes(deps.metrics, deps.metrics_require_token ? Access::kToken : Access::kOpen)) {
      routes.push_back(std::move(route));
    }
  }
  return routes;
}

std::vector<Route> MetricsRoutes(metrics::Metrics& metrics, Access access) {
  return {{.method = Method::kGet,
           .path = "/metrics",
           .handler =
               [&metrics](const HttpRequest&, Reply& reply) {
                 reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
                 reply.body = metrics.Render();
               },
           .access = access}};
}

}  // namespace mfa
