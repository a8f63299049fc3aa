// One HTTP listener (public, admin or metrics): a fixed route table over a Pistache endpoint,
// with the framework's traps handled in one place (keep-alive, JSON errors for oversized or
// malformed requests, no exception text on the wire).
#pragma once

#include <pistache/endpoint.h>
#include <pistache/http.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "metrics/metrics.h"

namespace mfa {

// What a route handler produces. The listener sends it and records metrics.
struct Reply {
  int status = 200;
  std::string body;
  std::string_view content_type = "application/json; charset=utf-8";
  bool already_sent = false;  // the handler streamed the response itself through the writer
  Pistache::Http::Version version = Pistache::Http::Version::Http11;  // the request's; set by
                                                                      // the listener
};

struct PathParams {
  std::string_view id;  // the {id} segment, if the route has one
};

using RouteHandler = std::function<void(const Pistache::Http::Request&, const PathParams&,
                                        Pistache::Http::ResponseWriter&, Reply&)>;

struct Route {
  Pistache::Http::Method method;
  std::string path;  // segments; "{id}" matches one non-empty segment
  RouteHandler handler;
  bool requires_admin_token = false;
  metrics::RouteId metric_route = 0;
  int success_status = 200;  // its series exists at 0 from the first scrape
  std::string fault_key = {};  // "send" / "verify": the route takes injected faults
};

// Shared by every listener of the process: lets shutdown refuse new requests and wait for the
// ones in flight. Thread-safe (atomics). The in-flight count is striped over cache lines so
// workers do not bounce one line between cores on every request; only InFlight() sums them.
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
    // A thread keeps its stripe, so its Enter and Leave always pair up on the same counter.
    static std::atomic<size_t> next{0};
    thread_local const size_t index = next.fetch_add(1, std::memory_order_relaxed) % kStripes;
    return slots_[index].count;
  }

  Slot slots_[kStripes];
  std::atomic<bool> draining_{false};
};

class AccessLog;
class Clock;
class DeferredReplies;
struct FaultRule;
class RequestJournal;

// Cross-origin access for browser front-ends on another origin (public listener).
struct CorsPolicy {
  enum class Mode { kOff, kReflect, kAny, kList } mode = Mode::kOff;
  std::vector<std::string> origins;  // kList only
};

struct ListenerConfig {
  std::string name;  // for logs
  metrics::Listener kind = metrics::Listener::kPublic;
  std::string not_found_code;           // unknown path
  std::string method_not_allowed_code;  // known path, other method
  std::string body_too_large_code;
  size_t max_body_bytes = 16 * 1024;
  std::string admin_token;  // empty = no auth
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds keepalive_timeout{30};
  std::shared_ptr<Lifecycle> lifecycle;  // required
  CorsPolicy cors;
  RequestJournal* journal = nullptr;  // null = no journal
  AccessLog* access_log = nullptr;    // null = no access log
  const Clock* clock = nullptr;       // required when journal is set
  // The active fault rule for a route's fault_key, if any (copied: cheap when faults are off).
  std::function<std::optional<FaultRule>(std::string_view fault_key)> faults;
  DeferredReplies* deferred = nullptr;  // required when faults is set
};

// Immutable after construction; shared by every worker's handler clone. Thread-safe.
class RouteTable {
 public:
  RouteTable(ListenerConfig config, std::vector<Route> routes, metrics::Metrics& metrics);
  // Dispatches one parsed request: routing, auth, the route, the 500 boundary, metrics.
  // `close_requested`: the client asked to close (Connection: close, or HTTP/1.0 without
  // keep-alive); the connection is half-closed once the answer is out.
  void Dispatch(const Pistache::Http::Request& request, Pistache::Http::ResponseWriter& response,
                bool close_requested) const;
  const ListenerConfig& config() const { return config_; }
  metrics::Metrics& metrics() const { return metrics_; }

 private:
  // The route for (path, method); else null with `allowed` = the methods the path has.
  const Route* Match(std::string_view path, Pistache::Http::Method method, PathParams* params,
                     std::vector<Pistache::Http::Method>* allowed) const;
  bool Authorized(const Pistache::Http::Request& request) const;
  // Adds the CORS headers for `origin`; true if the origin is allowed.
  bool ApplyCors(std::string_view origin, Pistache::Http::ResponseWriter& response) const;

  ListenerConfig config_;
  std::vector<Route> routes_;
  metrics::Metrics& metrics_;
  metrics::RouteId unmatched_route_;
};

// A running Pistache endpoint serving a RouteTable.
class HttpListener {
 public:
  // Binds immediately (port 0 = any free port); throws std::runtime_error on failure.
  HttpListener(const std::string& host, uint16_t port, int threads,
               std::shared_ptr<const RouteTable> table);
  ~HttpListener();
  void Start();  // non-blocking
  void Shutdown();
  uint16_t port() const;

 private:
  std::shared_ptr<const RouteTable> table_;
  std::unique_ptr<Pistache::Http::Endpoint> endpoint_;
};

// Sends `reply` with the given status (used by handlers for deferred or streamed cases too).
Pistache::Async::Promise<ssize_t> SendReply(Pistache::Http::ResponseWriter& writer,
                                            const Reply& reply);
// A request header's value ("" when absent). Content-Type and Origin come from the raw header
// block when it arrived in one piece (the views stay valid during the dispatch only).
std::string_view HeaderValue(const Pistache::Http::Request& request, std::string_view name);
std::string_view MethodName(Pistache::Http::Method method);

}  // namespace mfa
