// SPDX-License-Identifier: Apache-2.0
// The admin API: seed, generate, export, inspect and reset records; the inbox; users and
// sessions; run-time config, clock and the request journal; the page, health and metrics.
// Each resource's routes live in their own file (admin/*_routes.cc); this assembles them.
#pragma once

#include <vector>

#include "core/clock.h"
#include "core/code_store.h"
#include "core/control_plane.h"
#include "core/interaction_store.h"
#include "core/mfa_service.h"
#include "http/route.h"
#include "metrics/metrics.h"

namespace mfa {

class InboxWaiters;
class RequestJournal;

struct AdminDeps {
  MfaService& service;
  CodeStore& codes;            // the records and the inbox: memory or shared
  InteractionStore& sessions;  // sessions, users and lockout: memory or shared
  metrics::Metrics& metrics;
  OffsetClock& clock;
  bool metrics_require_token = true;  // false with --metrics-public
  bool serve_metrics = true;          // /metrics on this listener
  RequestJournal* journal = nullptr;  // null = journal off
  bool shared_store = false;          // --store redis
  ControlPlane* control = nullptr;    // with a shared store: the settings every node shares
  InboxWaiters& inbox_waiters;        // requests waiting for inbox messages on this node
  size_t inbox_capacity = 1000;       // --inbox-size
  // --connector-authorization: the Authorization value the connector routes require (instead of
  // the admin token); empty = the admin token's rule.
  std::string connector_authorization;
};

// The route list of the admin listener. Everything in `deps` must outlive the routes.
std::vector<Route> AdminRoutes(const AdminDeps& deps);
// Just GET /metrics (for --metrics-listen and the admin listener).
std::vector<Route> MetricsRoutes(metrics::Metrics& metrics, Access access);

// The groups AdminRoutes assembles.
std::vector<Route> PageRoutes(CodeStore& codes, const ControlPlane* control);
// `shared_store`: exports read the store page by page on threads of their own.
std::vector<Route> VerificationRoutes(MfaService& service, CodeStore& codes,
                                      metrics::Metrics& metrics, bool shared_store);
std::vector<Route> InboxRoutes(CodeStore& codes, InboxWaiters& waiters);
// `control`: null in one process; with a shared store, settings writes go through it.
// `waiters`: counted in GET /admin/stats.
std::vector<Route> ConfigRoutes(MfaService& service, OffsetClock& clock, ControlPlane* control,
                                CodeStore& codes, const InboxWaiters& waiters);
std::vector<Route> SessionRoutes(InteractionStore& sessions);
// `codes`: the inbox, which tells the journal's `to` filter which verifications went to whom.
// POST /connectors/http-email and /connectors/http-sms (Logto's HTTP connectors).
std::vector<Route> ConnectorRoutes(CodeStore& codes, const OffsetClock& clock,
                                   const std::string& authorization);
std::vector<Route> JournalRoutes(RequestJournal* journal, CodeStore& codes, size_t inbox_capacity);

}  // namespace mfa
