// The admin API: seed, generate, export, inspect and reset records; the inbox; run-time config.
#pragma once

#include <vector>

#include "app/http_listener.h"
#include "core/clock.h"
#include "core/mfa_service.h"
#include "core/session_service.h"
#include "metrics/metrics.h"

namespace mfa {

class RequestJournal;

struct AdminDeps {
  MfaService& service;
  SessionService& sessions;
  metrics::Metrics& metrics;
  OffsetClock& clock;
  bool metrics_require_token = true;  // false with --metrics-public
  bool serve_metrics = true;          // /metrics on this listener
  RequestJournal* journal = nullptr;  // null = journal off
};

// The route list of the admin listener. Everything in `deps` must outlive the routes.
std::vector<Route> AdminRoutes(const AdminDeps& deps);
// Just GET /metrics (for --metrics-listen).
std::vector<Route> MetricsRoutes(metrics::Metrics& metrics);

}  // namespace mfa
