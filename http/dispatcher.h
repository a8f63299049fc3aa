// SPDX-License-Identifier: Apache-2.0
// One listener's request path, free of the HTTP framework: CORS, draining, auth, routing, body
// limit, injected faults, the route's handler with the 500 boundary, and the one Finish step
// that sends the answer and records it (metrics, journal, access log, in-flight count) whenever
// it is ready: at once, after an injected delay, or completed later by the handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "http/cors.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/route.h"
#include "http/route_table.h"
#include "metrics/metrics.h"
#include "wire/error_table.h"

namespace mfa {

class AccessLog;
class Clock;
class RequestJournal;
class TimerQueue;

// Shared by every listener of the process: lets shutdown refuse new requests and wait for the
// ones in flight, answers completed later included. Thread-safe (atomics). The in-flight count
// is striped over cache lines so workers do not bounce one line between cores on every request;
// an answer completed on another thread leaves from another stripe, so only the sum
// (InFlight) means anything.
class Lifecycle {
 public:
  void Enter() { Stripe().fetch_add(1, std::memory_order_acq_rel); }
  void Leave() { Stripe().fetch_sub(1, std::memory_order_acq_rel); }
  int64_t InFlight() const {
    int64_t total = 0;
    for (const Slot& slot : slots_) total += slot.count.load(std::memory_order_acquire);
    return total;
  }
  bool draining() const { return draining_.load(std::memory_order_acquire); }
  void StartDraining() { draining_.store(true, std::memory_order_release); }

 private:
  static constexpr size_t kStripes = 16;
  struct alignas(64) Slot {
    std::atomic<int64_t> count{0};
  };
  std::atomic<int64_t>& Stripe() {
    static std::atomic<size_t> next{0};
    thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return slots_[index].count;
  }

  Slot slots_[kStripes];
  std::atomic<bool> draining_{false};
};

struct ListenerConfig {
  std::string name = {};  // for logs
  metrics::Listener kind = metrics::Listener::kPublic;
  ApiError not_found = ApiError::kRouteNotFound;              // unknown path
  ApiError method_not_allowed = ApiError::kMethodNotAllowed;  // known path, other method
  ApiError body_too_large = ApiError::kBodyTooLarge;
  size_t max_body_bytes = 16 * 1024;
  std::string admin_token = {};  // empty = no auth
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds keepalive_timeout{30};
  // How long an answer a handler completes later (HttpRequest::Defer) may take before the
  // client gets 503 request.deadline_exceeded. Injected delays are not cut by it.
  std::chrono::milliseconds answer_deadline{30'000};
  std::shared_ptr<Lifecycle> lifecycle = {};  // required
  TimerQueue* timers = nullptr;               // required: injected delays and answer deadlines
  CorsPolicy cors = {};
  RequestJournal* journal = nullptr;  // null = no journal
  AccessLog* access_log = nullptr;    // null = no access log
  const Clock* clock = nullptr;       // required when journal is set
  // The active fault rule for a route's fault key, if any (copied: cheap when faults are off).
  std::function<std::optional<FaultRule>(FaultKey key)> faults = {};
};

// The transport's side of one request: it writes the answer. Send and Reset are called at most
// once in all, Detach at most once and before them.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  // Writes `reply`; with `close`, says Connection: close and half-closes once it is out.
  virtual void Send(Reply& reply, bool close) = 0;
  // Injected fault: resets the connection without an answer.
  virtual void Reset() = 0;
  // A sink that stays valid after the transport's call returns, usable from any thread.
  virtual std::unique_ptr<ReplySink> Detach() = 0;
};

namespace internal {
class Deferral;
struct Exchange;
class PendingExchange;
}  // namespace internal

// Immutable after construction; shared by every worker thread of a listener. Thread-safe.
// REQUIRES: it outlives every answer still pending (Server stops the TimerQueue, and with it
// every held or deadline-bound answer, before it closes the listeners).
class Dispatcher {
 public:
  Dispatcher(ListenerConfig config, std::vector<Route> routes, metrics::Metrics& metrics);

  // Handles one request. `close_requested`: the client asked to close (Connection: close, or
  // HTTP/1.0 without keep-alive). Never throws.
  void Dispatch(HttpRequest& request, ReplySink& sink, bool close_requested) const;

  const ListenerConfig& config() const { return config_; }
  // The listener's 413 answer (also sent by the transport when Pistache refuses the request).
  void SetBodyTooLarge(Reply& reply) const;

 private:
  friend class internal::PendingExchange;
  friend class internal::Deferral;

  // The steps of Dispatch, in order; each returns true when it answered.
  bool RefuseWhileDraining(Reply& reply) const;
  bool RefuseUnauthorized(const HttpRequest& request, const Route* route, Reply& reply) const;
  bool AnswerUnmatched(const HttpRequest& request, const Route* route,
                       const std::vector<Method>& allowed, Reply& reply) const;
  bool RefuseOversizedBody(const HttpRequest& request, Reply& reply) const;
  void RunHandler(const Route& route, HttpRequest& request, Reply& reply) const;

  bool Authorized(const HttpRequest& request) const;
  // Sends `reply` now, or at the exchange's injected-delay time.
  void Answer(internal::Exchange& exchange, Reply& reply, ReplySink& sink) const;
  // Sends (unless the connection was reset) and records. The request is over after it.
  void Finish(internal::Exchange& exchange, Reply& reply, ReplySink* sink) const;

  ListenerConfig config_;
  RouteTable routes_;
  metrics::Metrics& metrics_;
};

bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace mfa
