// SPDX-License-Identifier: Apache-2.0
// The one interface the rest of the program uses to record metrics. Only metrics/*.cc include
// prometheus-cpp headers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/deviation.h"
#include "core/outcome.h"
#include "core/types.h"

namespace mfa::metrics {

enum class Listener : uint8_t { kPublic = 0, kAdmin = 1, kMetrics = 2 };
enum class Via : uint8_t { kPublic = 0, kAdmin = 1 };
enum class SeedSource : uint8_t { kAdmin = 0, kGenerate = 1, kSeedFile = 2 };

// Index of a route template registered with RegisterRoute(); bounded by construction.
using RouteId = uint16_t;

// Values read at scrape time.
struct ScrapeSources {
  std::function<double()> store_records;
  std::function<double()> inbox_messages;
  std::function<double()> store_expired_swept_total;
  // The shared store (--store redis) only: calls waiting for it, and whether it answers (1/0).
  std::function<double()> shared_store_in_flight = {};
  std::function<double()> shared_store_up = {};
};

// The operations of the shared store, the label values of its metrics (others count as "other").
inline constexpr std::string_view kStoreOperations[] = {"verify",
                                                        "send_limit",
                                                        "create",
                                                        "inbox_add",
                                                        "send_limit_release",
                                                        "seed",
                                                        "seed_undo",
                                                        "get",
                                                        "delete",
                                                        "clear_scan",
                                                        "clear_delete",
                                                        "inbox_list",
                                                        "inbox_state",
                                                        "inbox_clear",
                                                        "session_get",
                                                        "session_create",
                                                        "session_start",
                                                        "session_record",
                                                        "session_identify",
                                                        "sessions_clear_scan",
                                                        "sessions_clear_delete",
                                                        "sentinel_get",
                                                        "sentinel_fail",
                                                        "user_get",
                                                        "user_add",
                                                        "user_list",
                                                        "user_delete",
                                                        "cluster_slots",
                                                        "health",
                                                        "other"};
// What a Redis Cluster router reports (StoreClusterEvent).
inline constexpr std::string_view kStoreClusterEvents[] = {"moved", "ask", "slots_refreshed",
                                                           "masters_changed"};

struct BuildInfo {
  std::string version;
  std::string revision;
};

// Thread-safe. Recording methods are called on the request path: they never take a lock that
// every request contends for, never allocate after warm-up, and never throw.
class Metrics {
 public:
  virtual ~Metrics() = default;

  // Start-up only (before serving): declares a route template such as
  // "/admin/verifications/{id}" on a listener so its series exist at 0 from the first scrape.
  // The template "unmatched" stands for every path no route knows.
  // Registering the same (listener, template) twice returns the same id. Past 256 distinct
  // routes it returns an id that HttpRequest() counts under the listener's "unmatched".
  virtual RouteId RegisterRoute(Listener listener, std::string_view route_template) = 0;
  // Start-up only, optional: makes mfa_mock_http_requests_total{listener, route, method, code}
  // exist at 0 for an answer the route is expected to give (e.g. "POST", 200), so rate() works
  // from the first scrape. Other (method, code) pairs appear when first recorded.
  virtual void DeclareRequest(RouteId route, std::string_view method, int status) {}
  virtual void SetScrapeSources(ScrapeSources sources) = 0;

  // A verify request that passed body validation, with its domain outcome.
  virtual void VerifyAttempt(IdentifierType type, Outcome outcome) = 0;
  virtual void CodeSent(IdentifierType channel, Via via) = 0;
  // A send that passed validation but was refused: kRateLimited, kConnectorNotFound,
  // kFactorNotEnabled, kIdentifierNotFound (others are ignored).
  virtual void SendRejected(Outcome reason) = 0;
  virtual void CodesSeeded(SeedSource source, uint64_t count) = 0;
  // One finished HTTP request. `method` is the request method as sent (bounded by the
  // implementation to known methods plus "OTHER").
  virtual void HttpRequest(Listener listener, RouteId route, std::string_view method, int status,
                           double seconds) = 0;
  // A public answer that relied on a leniency Logto does not have (core/deviation.h).
  virtual void DeviationAnswered(Deviation kind) {}

  // The shared store (--store redis): one finished call by operation (kStoreOperations) and
  // error kind ("" when Redis answered; e.g. "timeout", "unavailable"), and each reconnection.
  virtual void StoreCall(std::string_view operation, std::string_view error, double seconds) {}
  virtual void StoreReconnected() {}
  // A Redis Cluster event (kStoreClusterEvents): a redirect followed, a slot table read, a slot's
  // master changed (resharding or failover).
  virtual void StoreClusterEvent(std::string_view event) {}

  // The exposition text (format 0.0.4).
  virtual std::string Render() = 0;
};

// Records nothing and renders an empty page (--metrics off, micro-benchmarks).
std::unique_ptr<Metrics> CreateNoopMetrics();
// prometheus-cpp backed metrics with the full mfa_mock_* set and process_* metrics.
std::unique_ptr<Metrics> CreatePrometheusMetrics(const BuildInfo& build);

}  // namespace mfa::metrics
