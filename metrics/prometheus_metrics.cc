// SPDX-License-Identifier: Apache-2.0
// The Prometheus implementation of Metrics. Recording only touches lock-free striped counters
// (metrics/striped_counters.h); Render() turns them into prometheus-cpp MetricFamily structs and
// serialises them with prometheus-cpp's TextSerializer.
#include <prometheus/client_metric.h>
#include <prometheus/metric_family.h>
#include <prometheus/metric_type.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/metrics.h"
#include "metrics/process_stats.h"
#include "metrics/striped_counters.h"

namespace mfa::metrics {
namespace {

namespace prom = prometheus;
using Labels = std::vector<prom::ClientMetric::Label>;

// --- Label tables --------------------------------------------------------------------------

// Upper bounds of mfa_mock_http_request_duration_seconds, in seconds. Each prints exactly as
// written with prometheus-cpp's 16-digit formatting (0.000075 would print 7.499999999999999e-05).
constexpr std::array<double, 17> kDurationBounds = {
    0.00005, 0.0001, 0.00015, 0.0002, 0.00025, 0.0005, 0.00075, 0.001, 0.0025,
    0.005,   0.01,   0.025,   0.05,   0.1,     0.25,   0.5,     1.0,
};
constexpr size_t kBucketSlots = kDurationBounds.size() + 1;  // the last one is +Inf

constexpr std::array<std::string_view, 8> kMethods = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "OTHER",
};
constexpr size_t kOtherMethod = kMethods.size() - 1;

// Every status Pistache's Http::Code can send; anything else is counted as code="other".
constexpr std::array<int, 66> kTrackedCodes = {
    100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301,
    302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409,
    410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 426, 428, 429,
    431, 444, 451, 499, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511, 599,
};
constexpr size_t kCodeSlots = kTrackedCodes.size() + 1;
constexpr size_t kOtherCode = kCodeSlots - 1;
constexpr int kMaxStatus = 600;

constexpr std::array<uint8_t, kMaxStatus> kCodeSlotOfStatus = [] {
  std::array<uint8_t, kMaxStatus> slots{};
  slots.fill(static_cast<uint8_t>(kOtherCode));
  for (size_t i = 0; i < kTrackedCodes.size(); ++i) slots[kTrackedCodes[i]] = i;
  return slots;
}();
static_assert(kCodeSlots <= 255);

constexpr size_t kListenerCount = 3;
constexpr std::array<std::string_view, kListenerCount> kListenerNames = {"public", "admin",
                                                                         "metrics"};
constexpr std::array<std::string_view, 2> kViaNames = {"public", "admin"};
constexpr std::array<std::string_view, 3> kSeedSourceNames = {"admin", "generate", "seed_file"};

struct OutcomeLabel {
  Outcome outcome;
  std::string_view label;
};
// Verify outcomes with a label of their own; any other outcome is counted as "other".
constexpr std::array<OutcomeLabel, 9> kVerifyOutcomes = {{
    {Outcome::kOk, "success"},
    {Outcome::kCodeMismatch, "code_mismatch"},
    {Outcome::kCodeExpired, "expired"},
    {Outcome::kExceedMaxTry, "exceed_max_try"},
    {Outcome::kCodeNotFound, "not_found"},
    {Outcome::kVerificationNotFound, "verification_not_found"},
    {Outcome::kIdentifierNotFound, "not_identified"},
    {Outcome::kConnectorNotFound, "connector_not_configured"},
    {Outcome::kVerificationBlocked, "blocked"},
}};
constexpr std::array<OutcomeLabel, 4> kRejectReasons = {{
    {Outcome::kRateLimited, "rate_limited"},
    {Outcome::kConnectorNotFound, "connector_not_configured"},
    {Outcome::kFactorNotEnabled, "factor_not_enabled"},
    {Outcome::kIdentifierNotFound, "not_identified"},
}};

constexpr bool HasVerifyLabel(int outcome) {
  for (const auto& entry : kVerifyOutcomes) {
    if (static_cast<int>(entry.outcome) == outcome) return true;
  }
  return false;
}

constexpr bool IsRejectReason(Outcome outcome) {
  for (const auto& entry : kRejectReasons) {
    if (entry.outcome == outcome) return true;
  }
  return false;
}

size_t MethodSlot(std::string_view method) {
  switch (method.size()) {
    case 3:
      if (method == "GET") return 0;
      if (method == "PUT") return 3;
      break;
    case 4:
      if (method == "HEAD") return 1;
      if (method == "POST") return 2;
      break;
    case 5:
      if (method == "PATCH") return 5;
      break;
    case 6:
      if (method == "DELETE") return 4;
      break;
    case 7:
      if (method == "OPTIONS") return 6;
      break;
  }
  return kOtherMethod;
}

size_t CodeSlot(int status) {
  return status >= 0 && status < kMaxStatus ? kCodeSlotOfStatus[status] : kOtherCode;
}

// Index of the first bucket whose (inclusive) upper bound holds `seconds`.
size_t BucketSlot(double seconds) {
  size_t slot = 0;
  while (slot < kDurationBounds.size() && seconds > kDurationBounds[slot]) ++slot;
  return slot;
}

constexpr size_t kStoreOpCount = std::size(kStoreOperations);
constexpr std::array<std::string_view, 6> kStoreErrorKinds = {
    "unavailable", "timeout", "io", "overloaded", "stopped", "error_reply"};

// --- Cell layouts --------------------------------------------------------------------------

// Domain counters, one table for the process. Outcome-indexed cells cover every Outcome so
// recording is a plain index; the label mapping happens in Render().
constexpr size_t kVerifyBase = 0;  // [identifier type][outcome]
constexpr size_t kSentBase = kVerifyBase + kIdentifierTypeCount * kOutcomeCount;  // [channel][via]
constexpr size_t kRejectedBase = kSentBase + kIdentifierTypeCount * kViaNames.size();  // [outcome]
constexpr size_t kSeededBase = kRejectedBase + kOutcomeCount;                          // [source]
constexpr size_t kDomainCells = kSeededBase + kSeedSourceNames.size();

constexpr size_t VerifyCell(size_t type, size_t outcome) {
  return kVerifyBase + type * kOutcomeCount + outcome;
}
constexpr size_t SentCell(size_t channel, size_t via) {
  return kSentBase + channel * kViaNames.size() + via;
}

// Per route: histogram buckets (not cumulative), the duration sum in nanoseconds, then
// requests by [method][code slot].
constexpr size_t kSumNanosCell = kBucketSlots;
constexpr size_t kRequestBase = kSumNanosCell + 1;
constexpr size_t kRouteCells = kRequestBase + kMethods.size() * kCodeSlots;

constexpr size_t RequestCell(size_t method, size_t code_slot) {
  return kRequestBase + method * kCodeSlots + code_slot;
}

constexpr size_t kMaxRoutes = 256;
constexpr RouteId kNoRoute = 0xFFFF;

// --- Rendering helpers ---------------------------------------------------------------------

prom::MetricFamily Family(std::string name, std::string help, prom::MetricType type) {
  prom::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void AddCounter(prom::MetricFamily& family, Labels labels, double value) {
  prom::ClientMetric metric;
  metric.label = std::move(labels);
  metric.counter.value = value;
  family.metric.push_back(std::move(metric));
}

void AddGauge(prom::MetricFamily& family, Labels labels, double value) {
  prom::ClientMetric metric;
  metric.label = std::move(labels);
  metric.gauge.value = value;
  family.metric.push_back(std::move(metric));
}

prom::ClientMetric::Label Label(std::string name, std::string_view value) {
  return {std::move(name), std::string(value)};
}

// Calls a scrape source; an empty or throwing source gives no value.
std::optional<double> Sample(const std::function<double()>& source) {
  if (!source) return std::nullopt;
  try {
    return source();
  } catch (...) {
    return std::nullopt;
  }
}

// --- The implementation --------------------------------------------------------------------

// Thread-safe. Recording is lock-free: each call computes cell indexes and does relaxed
// fetch_adds on the calling CPU's stripe. A route's counters are allocated once, at
// RegisterRoute(), and published through route_by_id_ / unmatched_ (release/acquire).
// mutex_ guards the route list, each route's `declared` flags and the scrape sources; it is
// taken only by RegisterRoute(), DeclareRequest(), SetScrapeSources() and Render().
class PrometheusMetrics final : public Metrics {
 public:
  explicit PrometheusMetrics(BuildInfo build)
      : build_(std::move(build)), domain_(kDomainCells, stripes_) {
    routes_.reserve(kMaxRoutes);
  }
  PrometheusMetrics(const PrometheusMetrics&) = delete;
  PrometheusMetrics& operator=(const PrometheusMetrics&) = delete;

  RouteId RegisterRoute(Listener listener, std::string_view route_template) override {
    const size_t listener_index = static_cast<size_t>(listener);
    if (listener_index >= kListenerCount) return kNoRoute;
    std::lock_guard lock(mutex_);
    for (size_t id = 0; id < routes_.size(); ++id) {
      if (routes_[id]->listener == listener && routes_[id]->name == route_template) return id;
    }
    if (routes_.size() >= kMaxRoutes) return kNoRoute;
    auto route = std::make_unique<Route>(listener, route_template, stripes_);
    Route* published = route.get();
    const RouteId id = static_cast<RouteId>(routes_.size());
    routes_.push_back(std::move(route));
    route_by_id_[id].store(published, std::memory_order_release);
    if (route_template == "unmatched") {
      unmatched_[listener_index].store(published, std::memory_order_release);
    }
    return id;
  }

  void DeclareRequest(RouteId id, std::string_view method, int status) override {
    std::lock_guard lock(mutex_);
    if (id >= routes_.size()) return;
    routes_[id]->declared[RequestCell(MethodSlot(method), CodeSlot(status)) - kRequestBase] = true;
  }

  void StoreCall(std::string_view operation, std::string_view error, double seconds) override {
    size_t op = 0;
    while (op + 1 < kStoreOpCount && kStoreOperations[op] != operation) ++op;
    StoreCells& cells = store_[op];
    cells.buckets[BucketSlot(seconds)].fetch_add(1, std::memory_order_relaxed);
    cells.sum_nanos.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
    if (error.empty()) return;
    size_t kind = 0;
    while (kind + 1 < kStoreErrorKinds.size() && kStoreErrorKinds[kind] != error) ++kind;
    cells.errors[kind].fetch_add(1, std::memory_order_relaxed);
  }

  void DeviationAnswered(Deviation kind) override {
    deviations_[static_cast<size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
  }

  void StoreReconnected() override { store_reconnects_.fetch_add(1, std::memory_order_relaxed); }

  void StoreClusterEvent(std::string_view event) override {
    for (size_t i = 0; i < std::size(kStoreClusterEvents); ++i) {
      if (kStoreClusterEvents[i] == event) {
        store_cluster_events_[i].fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
  }

  void SetScrapeSources(ScrapeSources sources) override {
    std::lock_guard lock(mutex_);
    sources_ = std::move(sources);
  }

  void VerifyAttempt(IdentifierType type, Outcome outcome) override {
    const size_t type_index = static_cast<size_t>(type);
    const size_t outcome_index = static_cast<size_t>(outcome);
    if (type_index >= kIdentifierTypeCount || outcome_index >= kOutcomeCount) return;
    domain_.Add(VerifyCell(type_index, outcome_index), 1);
  }

  void CodeSent(IdentifierType channel, Via via) override {
    const size_t channel_index = static_cast<size_t>(channel);
    const size_t via_index = static_cast<size_t>(via);
    if (channel_index >= kIdentifierTypeCount || via_index >= kViaNames.size()) return;
    domain_.Add(SentCell(channel_index, via_index), 1);
  }

  void SendRejected(Outcome reason) override {
    if (!IsRejectReason(reason)) return;
    domain_.Add(kRejectedBase + static_cast<size_t>(reason), 1);
  }

  void CodesSeeded(SeedSource source, uint64_t count) override {
    const size_t source_index = static_cast<size_t>(source);
    if (source_index >= kSeedSourceNames.size() || count == 0) return;
    domain_.Add(kSeededBase + source_index, count);
  }

  void HttpRequest(Listener listener, RouteId id, std::string_view method, int status,
                   double seconds) override {
    Route* route = id < kMaxRoutes ? route_by_id_[id].load(std::memory_order_acquire) : nullptr;
    if (route == nullptr || route->listener != listener) {
      const size_t listener_index = static_cast<size_t>(listener);
      if (listener_index >= kListenerCount) return;
      route = unmatched_[listener_index].load(std::memory_order_acquire);
      if (route == nullptr) return;
    }
    if (!(seconds >= 0)) seconds = 0;  // negative or NaN
    // Sum in whole nanoseconds; clamped so the conversion cannot overflow (~11.6 days).
    const uint64_t nanos =
        seconds < 1e6 ? static_cast<uint64_t>(seconds * 1e9 + 0.5) : static_cast<uint64_t>(1e15);
    StripedCounterTable& cells = route->cells;
    const size_t stripe = CurrentStripe(cells.stripes() - 1);
    cells.AddOnStripe(stripe, BucketSlot(seconds), 1);
    cells.AddOnStripe(stripe, kSumNanosCell, nanos);
    cells.AddOnStripe(stripe, RequestCell(MethodSlot(method), CodeSlot(status)), 1);
  }

  std::string Render() override {
    std::vector<prom::MetricFamily> families;
    families.reserve(20);
    RenderBuildInfo(families);
    RenderDomain(families);
    RenderDeviations(families);
    ScrapeSources sources;
    {
      std::lock_guard lock(mutex_);
      RenderHttp(families);
      sources = sources_;
    }
    RenderSources(sources, families);
    if (sources.shared_store_up) RenderStore(families);
    RenderProcess(families);
    return prom::TextSerializer().Serialize(families);
  }

 private:
  struct Route {
    Route(Listener listener, std::string_view name, size_t stripes)
        : listener(listener),
          name(name),
          cells(kRouteCells, stripes),
          declared(kMethods.size() * kCodeSlots, false) {}

    const Listener listener;
    const std::string name;
    StripedCounterTable cells;
    std::vector<bool> declared;  // GUARDED_BY(mutex_), per [method][code slot]
  };

  void RenderBuildInfo(std::vector<prom::MetricFamily>& families) const {
    auto family = Family("mfa_mock_build_info",
                         "Version and git revision of the running mfa-mock; the value is always 1.",
                         prom::MetricType::Gauge);
    AddGauge(family, {Label("version", build_.version), Label("revision", build_.revision)}, 1);
    families.push_back(std::move(family));
  }

  void RenderDomain(std::vector<prom::MetricFamily>& families) const {
    auto attempts = Family("mfa_mock_verify_attempts_total",
                           "Verify requests that passed body validation, by domain outcome.",
                           prom::MetricType::Counter);
    auto failures = Family("mfa_mock_verify_failures_total",
                           "Verify requests that passed body validation and did not succeed, by "
                           "reason (the failed subset of mfa_mock_verify_attempts_total).",
                           prom::MetricType::Counter);
    for (size_t type = 0; type < kIdentifierTypeCount; ++type) {
      const std::string_view type_name = ToString(static_cast<IdentifierType>(type));
      for (const auto& [outcome, label] : kVerifyOutcomes) {
        const double value =
            static_cast<double>(domain_.Read(VerifyCell(type, static_cast<size_t>(outcome))));
        AddCounter(attempts, {Label("identifier_type", type_name), Label("outcome", label)}, value);
        if (outcome != Outcome::kOk) {
          AddCounter(failures, {Label("identifier_type", type_name), Label("reason", label)},
                     value);
        }
      }
      // Outcomes the issue does not name (e.g. kInternal) appear only once they happen.
      uint64_t other = 0;
      for (int outcome = 0; outcome < kOutcomeCount; ++outcome) {
        if (!HasVerifyLabel(outcome)) other += domain_.Read(VerifyCell(type, outcome));
      }
      if (other > 0) {
        AddCounter(attempts, {Label("identifier_type", type_name), Label("outcome", "other")},
                   static_cast<double>(other));
        AddCounter(failures, {Label("identifier_type", type_name), Label("reason", "other")},
                   static_cast<double>(other));
      }
    }
    families.push_back(std::move(attempts));
    families.push_back(std::move(failures));

    auto sent = Family("mfa_mock_codes_sent_total",
                       "Verification codes delivered to the inbox, by channel and by the listener "
                       "that asked (public send route or admin API).",
                       prom::MetricType::Counter);
    for (size_t channel = 0; channel < kIdentifierTypeCount; ++channel) {
      for (size_t via = 0; via < kViaNames.size(); ++via) {
        AddCounter(sent,
                   {Label("channel", ChannelName(static_cast<IdentifierType>(channel))),
                    Label("via", kViaNames[via])},
                   static_cast<double>(domain_.Read(SentCell(channel, via))));
      }
    }
    families.push_back(std::move(sent));

    auto rejected = Family("mfa_mock_send_rejected_total",
                           "Send requests that passed body validation but were refused, by reason.",
                           prom::MetricType::Counter);
    for (const auto& [outcome, label] : kRejectReasons) {
      AddCounter(rejected, {Label("reason", label)},
                 static_cast<double>(domain_.Read(kRejectedBase + static_cast<size_t>(outcome))));
    }
    families.push_back(std::move(rejected));

    auto seeded = Family("mfa_mock_codes_seeded_total",
                         "Verification records created without a send, by source.",
                         prom::MetricType::Counter);
    for (size_t source = 0; source < kSeedSourceNames.size(); ++source) {
      AddCounter(seeded, {Label("source", kSeedSourceNames[source])},
                 static_cast<double>(domain_.Read(kSeededBase + source)));
    }
    families.push_back(std::move(seeded));
  }

  // REQUIRES: mutex_ held.
  // Every kind from the first scrape, so a dashboard's increase() sees the first one.
  void RenderDeviations(std::vector<prom::MetricFamily>& families) const {
    auto family = Family("mfa_mock_deviations_total",
                         "Public answers that relied on a leniency Logto does not have (the "
                         "Mfa-Mock-Deviation header), by kind. Always 0 with --strict.",
                         prom::MetricType::Counter);
    for (Deviation kind : kAllDeviations) {
      AddCounter(family, {Label("kind", ToString(kind))},
                 static_cast<double>(
                     deviations_[static_cast<size_t>(kind)].load(std::memory_order_relaxed)));
    }
    families.push_back(std::move(family));
  }

  void RenderHttp(std::vector<prom::MetricFamily>& families) const {
    auto requests = Family("mfa_mock_http_requests_total",
                           "Finished HTTP requests by listener, route template, method and status "
                           "code.",
                           prom::MetricType::Counter);
    auto durations = Family("mfa_mock_http_request_duration_seconds",
                            "Time from routing a request to its response being written, by "
                            "listener and route template.",
                            prom::MetricType::Histogram);
    for (const auto& route : routes_) {
      const std::string_view listener = kListenerNames[static_cast<size_t>(route->listener)];
      const StripedCounterTable& cells = route->cells;
      for (size_t method = 0; method < kMethods.size(); ++method) {
        for (size_t code = 0; code < kCodeSlots; ++code) {
          const size_t cell = RequestCell(method, code);
          const uint64_t value = cells.Read(cell);
          if (value == 0 && !route->declared[cell - kRequestBase]) continue;
          const std::string code_label =
              code == kOtherCode ? std::string("other") : std::to_string(kTrackedCodes[code]);
          AddCounter(requests,
                     {Label("listener", listener), Label("route", route->name),
                      Label("method", kMethods[method]), Label("code", code_label)},
                     static_cast<double>(value));
        }
      }

      prom::ClientMetric histogram;
      histogram.label = {Label("listener", listener), Label("route", route->name)};
      // Count and +Inf are both the sum of the bucket reads, so they always agree.
      uint64_t cumulative = 0;
      for (size_t slot = 0; slot < kBucketSlots; ++slot) {
        cumulative += cells.Read(slot);
        const double bound = slot < kDurationBounds.size()
                                 ? kDurationBounds[slot]
                                 : std::numeric_limits<double>::infinity();
        histogram.histogram.bucket.push_back({cumulative, bound});
      }
      histogram.histogram.sample_count = cumulative;
      histogram.histogram.sample_sum = static_cast<double>(cells.Read(kSumNanosCell)) / 1e9;
      durations.metric.push_back(std::move(histogram));
    }
    // A family without series would print a lone HELP/TYPE pair: leave it out.
    if (!requests.metric.empty()) families.push_back(std::move(requests));
    if (!durations.metric.empty()) families.push_back(std::move(durations));
  }

  // The shared store's calls: latency by operation, errors by operation and kind, reconnects.
  void RenderStore(std::vector<prom::MetricFamily>& families) const {
    auto durations = Family("mfa_mock_store_call_duration_seconds",
                            "Time from a call to the shared store to its answer, by operation.",
                            prom::MetricType::Histogram);
    auto errors = Family("mfa_mock_store_errors_total",
                         "Calls to the shared store that failed, by operation and kind.",
                         prom::MetricType::Counter);
    for (size_t op = 0; op < kStoreOpCount; ++op) {
      const StoreCells& cells = store_[op];
      prom::ClientMetric histogram;
      histogram.label = {Label("operation", kStoreOperations[op])};
      uint64_t cumulative = 0;
      for (size_t slot = 0; slot < kBucketSlots; ++slot) {
        cumulative += cells.buckets[slot].load(std::memory_order_relaxed);
        const double bound = slot < kDurationBounds.size()
                                 ? kDurationBounds[slot]
                                 : std::numeric_limits<double>::infinity();
        histogram.histogram.bucket.push_back({cumulative, bound});
      }
      histogram.histogram.sample_count = cumulative;
      histogram.histogram.sample_sum =
          static_cast<double>(cells.sum_nanos.load(std::memory_order_relaxed)) / 1e9;
      durations.metric.push_back(std::move(histogram));
      for (size_t kind = 0; kind < kStoreErrorKinds.size(); ++kind) {
        AddCounter(
            errors,
            {Label("operation", kStoreOperations[op]), Label("kind", kStoreErrorKinds[kind])},
            static_cast<double>(cells.errors[kind].load(std::memory_order_relaxed)));
      }
    }
    families.push_back(std::move(durations));
    families.push_back(std::move(errors));
    auto reconnects = Family("mfa_mock_store_reconnects_total",
                             "Times the connection to the shared store was made again.",
                             prom::MetricType::Counter);
    AddCounter(reconnects, {},
               static_cast<double>(store_reconnects_.load(std::memory_order_relaxed)));
    families.push_back(std::move(reconnects));
    auto cluster = Family("mfa_mock_store_cluster_events_total",
                          "Redis Cluster events: redirects followed (moved, ask), slot tables "
                          "read, slots whose master changed (resharding, failover).",
                          prom::MetricType::Counter);
    for (size_t i = 0; i < std::size(kStoreClusterEvents); ++i) {
      AddCounter(cluster, {Label("event", kStoreClusterEvents[i])},
                 static_cast<double>(store_cluster_events_[i].load(std::memory_order_relaxed)));
    }
    families.push_back(std::move(cluster));
  }

  static void RenderSources(const ScrapeSources& sources,
                            std::vector<prom::MetricFamily>& families) {
    if (auto value = Sample(sources.store_records)) {
      auto family =
          Family("mfa_mock_store_records", "Verification records currently held by the store.",
                 prom::MetricType::Gauge);
      AddGauge(family, {}, *value);
      families.push_back(std::move(family));
    }
    if (auto value = Sample(sources.shared_store_in_flight)) {
      auto family =
          Family("mfa_mock_store_in_flight", "Calls waiting for the shared store on this node.",
                 prom::MetricType::Gauge);
      AddGauge(family, {}, *value);
      families.push_back(std::move(family));
    }
    if (auto value = Sample(sources.shared_store_up)) {
      auto family =
          Family("mfa_mock_store_up", "1 while the shared store answers this node, else 0.",
                 prom::MetricType::Gauge);
      AddGauge(family, {}, *value);
      families.push_back(std::move(family));
    }
    if (auto value = Sample(sources.store_expired_swept_total)) {
      auto family = Family("mfa_mock_store_expired_swept_total",
                           "Expired verification records removed by the store's sweeper.",
                           prom::MetricType::Counter);
      AddCounter(family, {}, *value);
      families.push_back(std::move(family));
    }
    if (auto value = Sample(sources.inbox_messages)) {
      auto family = Family("mfa_mock_inbox_messages", "Messages currently held by the inbox.",
                           prom::MetricType::Gauge);
      AddGauge(family, {}, *value);
      families.push_back(std::move(family));
    }
  }

  static void RenderProcess(std::vector<prom::MetricFamily>& families) {
    const ProcessStats stats = ReadProcessStats("/proc");
    auto add = [&families](const std::optional<double>& value, const char* name, const char* help,
                           prom::MetricType type) {
      if (!value) return;
      auto family = Family(name, help, type);
      if (type == prom::MetricType::Counter) {
        AddCounter(family, {}, *value);
      } else {
        AddGauge(family, {}, *value);
      }
      families.push_back(std::move(family));
    };
    add(stats.cpu_seconds, "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.", prom::MetricType::Counter);
    add(stats.resident_bytes, "process_resident_memory_bytes", "Resident memory size in bytes.",
        prom::MetricType::Gauge);
    add(stats.virtual_bytes, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
        prom::MetricType::Gauge);
    add(stats.open_fds, "process_open_fds", "Number of open file descriptors.",
        prom::MetricType::Gauge);
    add(stats.max_fds, "process_max_fds", "Maximum number of open file descriptors.",
        prom::MetricType::Gauge);
    add(stats.start_time_seconds, "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.", prom::MetricType::Gauge);
  }

  const size_t stripes_ = DefaultStripeCount();
  const BuildInfo build_;
  StripedCounterTable domain_;
  // The shared store's calls, recorded by its one I/O thread (relaxed atomics, no contention).
  struct StoreCells {
    std::array<std::atomic<uint64_t>, kBucketSlots> buckets{};
    std::atomic<uint64_t> sum_nanos{0};
    std::array<std::atomic<uint64_t>, kStoreErrorKinds.size()> errors{};
  };
  std::array<StoreCells, kStoreOpCount> store_{};
  std::atomic<uint64_t> store_reconnects_{0};
  std::array<std::atomic<uint64_t>, kDeviationCount> deviations_{};
  std::array<std::atomic<uint64_t>, std::size(kStoreClusterEvents)> store_cluster_events_{};
  // Lock-free views of routes_ for the record path; written once per id under mutex_.
  std::array<std::atomic<Route*>, kMaxRoutes> route_by_id_{};
  std::array<std::atomic<Route*>, kListenerCount> unmatched_{};

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Route>> routes_;  // GUARDED_BY(mutex_); index = RouteId
  ScrapeSources sources_;                       // GUARDED_BY(mutex_)
};

}  // namespace

std::unique_ptr<Metrics> CreatePrometheusMetrics(const BuildInfo& build) {
  BuildInfo info = build;
#ifdef MFA_MOCK_VERSION
  if (info.version.empty()) info.version = MFA_MOCK_VERSION;
#endif
#ifdef MFA_MOCK_REVISION
  if (info.revision.empty()) info.revision = MFA_MOCK_REVISION;
#endif
  if (info.version.empty()) info.version = "unknown";
  if (info.revision.empty()) info.revision = "unknown";
  return std::make_unique<PrometheusMetrics>(std::move(info));
}

}  // namespace mfa::metrics
