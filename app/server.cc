// SPDX-License-Identifier: Apache-2.0
#include "app/server.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <set>
#include <sstream>

#include <unistd.h>

#include "admin/admin_routes.h"
#include "admin/inbox_waiters.h"
#include "app/connector_files.h"
#include "app/experience_routes.h"
#include "core/interaction_store.h"
#include "core/memory_code_store.h"
#include "core/mfa_service.h"
#include "core/secure_random.h"
#include "core/session_service.h"
#include "core/snapshot.h"
#include "http/access_log.h"
#include "http/log.h"
#include "http/pistache_listener.h"
#include "http/request_journal.h"
#include "http/timer_queue.h"
#include "redis/control_plane.h"
#include "redis/redis_code_store.h"
#include "redis/redis_interaction_store.h"
#include "wire/admin_parser.h"

namespace mfa {

namespace {

constexpr size_t kMaxSeedFileBytes = size_t{4} << 30;

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::string Endpoint(const std::string& host, uint16_t port) {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

int64_t MillisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// Reads a whole file; false if it cannot be read.
bool ReadFile(const std::string& path, std::string* content) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in && !in.eof()) return false;
  *content = buffer.str();
  return true;
}

// This process among the deployment's nodes: host, pid and a random part.
std::string NodeId() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return std::string(host) + "-" + std::to_string(getpid()) + "-" +
         SecureRandom::NewId().substr(0, 6);
}

// The shared store's client, observed for metrics.
class StoreMetrics final : public redis::ClientObserver, public redis::RouterObserver {
 public:
  explicit StoreMetrics(metrics::Metrics& metrics) : metrics_(metrics) {}
  void CallFinished(std::string_view op, redis::CallError error,
                    std::chrono::nanoseconds latency) override {
    metrics_.StoreCall(op, error == redis::CallError::kNone ? "" : redis::ToString(error),
                       std::chrono::duration<double>(latency).count());
  }
  void Reconnected() override { metrics_.StoreReconnected(); }
  void Redirected(bool ask) override { metrics_.StoreClusterEvent(ask ? "ask" : "moved"); }
  void SlotsRefreshed() override { metrics_.StoreClusterEvent("slots_refreshed"); }
  void MastersChanged() override {
    metrics_.StoreClusterEvent("masters_changed");
    LogInfo("store: a slot's master changed (resharding or failover); routing follows");
  }
  void ConnectionChanged(bool up) override {
    if (up) {
      LogInfo("store: connected");
    } else {
      LogWarn("store: not answering; requests that need it answer 503 mock.store_unavailable");
    }
  }

 private:
  metrics::Metrics& metrics_;
};

}  // namespace

// The domain and what observes it; members in construction order.
struct ServerState {
  explicit ServerState(const AppOptions& o)
      : clock(system_clock),
        config(o.config),
        store(StoreOptions{o.shards, o.max_records}),
        inbox(o.inbox_size),
        service(config, store, inbox, limiter, clock,
                ServiceOptions{o.inbox_size, int64_t{o.retention_seconds} * 1000}),
        sessions(service, session_store, users, sentinel),
        metrics(o.metrics_enabled ? metrics::CreatePrometheusMetrics({"0.1.0", MFA_MOCK_REVISION})
                                  : metrics::CreateNoopMetrics()) {}

  SystemClock system_clock;
  OffsetClock clock;
  ConfigStore config;
  VerificationStore store;
  Inbox inbox;
  SendRateLimiter limiter;
  MfaService service;
  SessionStore session_store;
  UserDirectory users;
  Sentinel sentinel;
  SessionService sessions;
  std::unique_ptr<metrics::Metrics> metrics;
  // The records and the inbox as the routes reach them: `service` itself, or Redis. Declared
  // before the client so the client (whose completions use the store) stops first.
  std::unique_ptr<CodeStore> codes;
  // Sessions, users and the lockout as the routes reach them: `sessions`, or Redis.
  std::unique_ptr<InteractionStore> interactions;
  redis::RedisInteractionStore* shared_interactions = nullptr;  // owned by `interactions`
  std::unique_ptr<SignInFlow> sign_in;                          // over `interactions`
  redis::RedisCodeStore* shared_codes = nullptr;                // owned by `codes`
  std::unique_ptr<StoreMetrics> store_metrics;
  std::unique_ptr<redis::Router> redis_client;        // with --store redis://
  std::unique_ptr<redis::RedisControlPlane> control;  // with --store redis://
  std::unique_ptr<ConnectorFiles> connector_files;
  std::unique_ptr<RequestJournal> journal;
  std::unique_ptr<AccessLog> access_log;
};

Server::Server(AppOptions options)
    : options_(std::move(options)),
      state_(std::make_unique<ServerState>(options_)),
      lifecycle_(std::make_shared<Lifecycle>()),
      timers_(std::make_unique<TimerQueue>()) {
  ServerState& s = *state_;
  if (!options_.shared_store()) {
    s.codes = std::make_unique<MemoryCodeStore>(s.service);
    s.interactions = std::make_unique<MemoryInteractionStore>(s.sessions);
    s.sign_in = std::make_unique<SignInFlow>(*s.interactions, s.config, s.clock);
    return;
  }
  redis::RouterOptions router;
  std::string seeds;
  for (const HostPort& seed : options_.redis) {
    router.seeds.push_back(redis::SeedAddress{seed.host, seed.port});
    seeds += (seeds.empty() ? "" : ",") + Endpoint(seed.host, seed.port);
  }
  router.client.call_timeout = std::chrono::milliseconds(options_.store_timeout_ms);
  router.client.max_in_flight = options_.store_max_in_flight;
  s.store_metrics = std::make_unique<StoreMetrics>(*s.metrics);
  s.redis_client =
      std::make_unique<redis::Router>(router, s.store_metrics.get(), s.store_metrics.get());
  auto codes = std::make_unique<redis::RedisCodeStore>(
      s.config, s.clock, *s.redis_client,
      redis::CodeStoreOptions{.prefix = options_.redis_prefix,
                              .address = seeds,
                              .inbox_capacity = options_.inbox_size,
                              .retention_ms = int64_t{options_.retention_seconds} * 1000});
  auto interactions = std::make_unique<redis::RedisInteractionStore>(
      s.config, s.clock, *s.redis_client, *codes,
      redis::InteractionStoreOptions{.prefix = options_.redis_prefix});
  s.shared_interactions = interactions.get();
  s.shared_codes = codes.get();
  s.codes = std::move(codes);
  s.interactions = std::move(interactions);
  s.sign_in = std::make_unique<SignInFlow>(*s.interactions, s.config, s.clock);
  // The settings every node shares: the first node's start-up config, then admin writes.
  const Config start_config = options_.config;
  s.control = std::make_unique<redis::RedisControlPlane>(
      *s.redis_client,
      redis::ControlPlaneOptions{.prefix = options_.redis_prefix, .node_id = NodeId()},
      ControlState{.config = ConfigToJson(start_config)},
      [&s, start_config](const ControlState& state) {
        Config config = start_config;
        AdminParseError error;
        if (!ApplyConfigPatch(state.config, &config, &error)) {
          LogError("store: ignoring the deployment's settings version {}: {}", state.version,
                   error.message);
          return;
        }
        s.config.Replace(config);
        s.clock.SetOffsetMs(state.clock_offset_ms);
        LogInfo("store: applied the deployment's settings version {}", state.version);
      });
}

Server::~Server() {
  if (started_ && !stopped_) Shutdown();
}

Status Server::Start() {
  ServerState& s = *state_;
  if (Status status = CheckAdminExposure(); !status.ok()) return status;
  if (s.redis_client) {
    // Redis may be down now: the node starts anyway, /readyz answers 503 until it connects.
    if (!s.redis_client->Start()) return Status::Failed("cannot start the store's I/O thread");
    s.control->Start();
    LogInfo("store: {} (every node with this address and prefix shares the state)",
            s.codes->Describe());
  }
  if (Status status = LoadUsers(); !status.ok()) return status;
  s.service.set_sweep_hook([&s] { s.sessions.Sweep(); });
  if (s.redis_client) {
    // The records and the inbox are in Redis (INFO there); this node reports its link to it.
    metrics::ScrapeSources sources;
    sources.shared_store_in_flight = [&s] {
      return static_cast<double>(s.redis_client->in_flight());
    };
    sources.shared_store_up = [&s] { return s.redis_client->connected() ? 1.0 : 0.0; };
    s.metrics->SetScrapeSources(std::move(sources));
  } else {
    s.metrics->SetScrapeSources(metrics::ScrapeSources{
        .store_records = [&s] { return static_cast<double>(s.store.size()); },
        .inbox_messages = [&s] { return static_cast<double>(s.inbox.size()); },
        .store_expired_swept_total = [&s] { return static_cast<double>(s.store.swept_total()); }});
  }
  if (Status status = RestoreSnapshot(); !status.ok()) return status;
  if (!options_.connector_dir.empty()) {
    s.connector_files = std::make_unique<ConnectorFiles>(options_.connector_dir);
  }
  if (Status status = LoadSeed(); !status.ok()) return status;
  if (options_.journal_size > 0) {
    s.journal =
        std::make_unique<RequestJournal>(options_.journal_size, options_.journal_show_codes);
  }
  if (options_.access_log != "off") {
    s.access_log = std::make_unique<AccessLog>(
        options_.access_log == "json" ? AccessLog::Format::kJson : AccessLog::Format::kLogfmt);
  }
  if (Status status = StartListeners(); !status.ok()) return status;
  started_ = true;
  s.service.StartSweeper(std::chrono::seconds(options_.sweep_interval_seconds));
  StartSnapshotter();
  LogInfo("profile={} threads={} shards={} max-records={}", ToString(options_.config.profile),
          options_.threads, options_.shards, options_.max_records);
  return Status::Ok();
}

Status Server::CheckAdminExposure() const {
  if (IsLoopback(options_.admin_listen.host) || !options_.admin_token.empty()) return Status::Ok();
  if (!options_.admin_insecure) {
    return Status::InvalidArgument("--admin-listen " + options_.admin_listen.host +
                                   " is not loopback: set --admin-token, or --admin-insecure to "
                                   "allow it");
  }
  LogWarn("the admin API listens on {} WITHOUT a token: anyone who can reach it can read codes",
          options_.admin_listen.host);
  return Status::Ok();
}

Status Server::LoadUsers() {
  const std::string& path = options_.users_file;
  if (path.empty()) return Status::Ok();
  std::string content;
  ReadFile(path, &content);  // an unreadable file reads as empty, which the parser refuses
  std::vector<User> loaded;
  std::string error;
  if (!ParseUsersFile(content, &loaded, &error)) {
    return Status::InvalidArgument("--users " + path + ": " + error);
  }
  std::set<std::string> ids;
  for (const User& user : loaded) {
    if (!ids.insert(user.id).second) {
      return Status::InvalidArgument("--users " + path + ": user id \"" + user.id +
                                     "\" appears twice");
    }
  }
  if (state_->shared_interactions == nullptr) {
    for (User& user : loaded) state_->users.Add(std::move(user));
  } else {
    // Every node loads the same file: a user already in the store is replaced.
    if (Status status = AwaitSharedSettings("--users " + path); !status.ok()) return status;
    for (const User& user : loaded) {
      std::promise<Outcome> promise;
      std::future<Outcome> answer = promise.get_future();
      state_->shared_interactions->PutUser(
          user, [&promise](Outcome outcome) { promise.set_value(outcome); });
      if (answer.get() != Outcome::kOk) {
        return Status::Failed("--users " + path + ": the store " + state_->codes->Describe() +
                              " did not answer");
      }
    }
  }
  LogInfo("loaded {} users from {}", loaded.size(), path);
  return Status::Ok();
}

Status Server::AwaitSharedSettings(const std::string& what) const {
  // Start-up, not a request: waiting here for a shared store is fine, bounded.
  if (!state_->control) return Status::Ok();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (state_->control->applied_version() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (state_->control->applied_version() != 0) return Status::Ok();
  return Status::Failed(what + ": the store " + state_->codes->Describe() +
                        " did not answer within 30 s");
}

Status Server::RestoreSnapshot() {
  const std::string& path = options_.snapshot_file;
  if (path.empty()) return Status::Ok();
  for (const std::string& stale : RemoveStaleSnapshotTemps(path)) {
    LogWarn("removed {}, left by a snapshot write that never finished", stale);
  }
  SnapshotStats loaded;
  std::string error;
  const auto started = std::chrono::steady_clock::now();
  switch (LoadSnapshot(path, &state_->store, &state_->inbox, &loaded, &error)) {
    case SnapshotLoad::kMissing:
      LogInfo("no snapshot at {} yet; starting empty", path);
      break;
    case SnapshotLoad::kLoaded:
      LogInfo("restored {} records, {} batches and {} inbox messages from {} in {} ms",
              loaded.records, loaded.batches, loaded.inbox_messages, path,
              MillisecondsSince(started));
      break;
    case SnapshotLoad::kCorrupt:
      if (!options_.snapshot_ignore_corrupt) {
        return Status::Failed(
            "--snapshot " + error +
            "; fix or remove the file, or pass --snapshot-ignore-corrupt to start empty");
      }
      LogWarn("ignoring corrupt snapshot ({}); starting empty", error);
      state_->store.Clear();
      state_->inbox.Clear();
      break;
  }
  return Status::Ok();
}

Status Server::LoadSeed() {
  const std::string& path = options_.seed_file;
  if (path.empty()) return Status::Ok();
  std::string content;
  if (!ReadFile(path, &content))
    return Status::InvalidArgument("--seed " + path + ": cannot read the file");
  if (content.size() > kMaxSeedFileBytes) {
    return Status::InvalidArgument("--seed file is larger than 4 GiB");
  }
  std::vector<SeedItem> items;
  std::vector<size_t> lines;
  std::string error;
  if (!ParseSeedFile(content, &items, &error, &lines)) {
    return Status::InvalidArgument("--seed " + path + ": " + error);
  }
  const size_t count = items.size();
  if (Status status = AwaitSharedSettings("--seed " + path); !status.ok()) return status;
  std::promise<SeedResult> promise;
  std::future<SeedResult> answer = promise.get_future();
  state_->codes->Seed(std::move(items),
                      [&promise](SeedResult result) { promise.set_value(std::move(result)); });
  const SeedResult seeded = answer.get();
  if (seeded.outcome == Outcome::kStoreUnavailable || seeded.outcome == Outcome::kStoreBusy) {
    return Status::Failed("--seed " + path + ": the store " + state_->codes->Describe() +
                          " did not answer");
  }
  if (seeded.outcome == Outcome::kStoreFull) {
    return Status::InvalidArgument("--seed " + path + ": " + std::to_string(count) +
                                   " records exceed --max-records " +
                                   std::to_string(options_.max_records));
  }
  if (seeded.outcome != Outcome::kOk) {
    return Status::InvalidArgument("--seed " + path + ": line " +
                                   std::to_string(lines[seeded.failed_index]) +
                                   ": verificationId appears twice in the file or already exists "
                                   "(e.g. restored from --snapshot)");
  }
  state_->metrics->CodesSeeded(metrics::SeedSource::kSeedFile, count);
  LogInfo("seeded {} records from {}", count, path);
  return Status::Ok();
}

Status Server::StartListeners() {
  ServerState& s = *state_;
  CorsPolicy cors;
  if (!ParseCorsPolicy(options_.cors_origin, &cors)) {
    return Status::InvalidArgument(
        "--cors-origin must be reflect, *, off or a comma-separated list of origins");
  }
  cors.credentials = !options_.config.strict;
  ListenerConfig public_config{.name = "public",
                               .kind = metrics::Listener::kPublic,
                               .max_body_bytes = options_.public_max_body,
                               .lifecycle = lifecycle_,
                               .timers = timers_.get(),
                               .cors = cors,
                               .journal = s.journal.get(),
                               .access_log = s.access_log.get(),
                               .clock = &s.clock};
  public_config.faults = [&config = s.config](FaultKey key) -> std::optional<FaultRule> {
    const Faults& faults = config.Get().config.faults;
    if (!faults.any()) return std::nullopt;
    const FaultRule& rule = key == FaultKey::kSend ? faults.send : faults.verify;
    if (!rule.active()) return std::nullopt;
    return rule;
  };
  // Requests waiting for the inbox: woken at once by this node's sends, and with a shared store
  // also by a poller that reads the newest cursor every 50 ms while anyone waits (sends through
  // other nodes; docs/scale-out.md).
  inbox_waiters_ = std::make_unique<InboxWaiters>(
      *s.codes, *timers_,
      InboxWaitersOptions{
          .max_waiters = options_.inbox_max_waiters,
          .poll_interval = std::chrono::milliseconds(options_.shared_store() ? 50 : 0)});
  if (s.shared_codes != nullptr) {
    s.shared_codes->set_inbox_added_hook([w = inbox_waiters_.get()] { w->Notify(); });
  } else {
    s.service.set_sent_hook(
        [files = s.connector_files.get(), w = inbox_waiters_.get()](const InboxMessage& m) {
          if (files != nullptr) files->Write(m);
          w->Notify();
        });
  }
  ListenerConfig admin_config{.name = "admin",
                              .kind = metrics::Listener::kAdmin,
                              .not_found = ApiError::kAdminRouteNotFound,
                              .method_not_allowed = ApiError::kAdminMethodNotAllowed,
                              .body_too_large = ApiError::kAdminBodyTooLarge,
                              .max_body_bytes = options_.admin_max_body,
                              .admin_token = options_.admin_token,
                              // A held answer lives under the keep-alive timeout (see
                              // PistacheSink::Detach): an export from a shared store may stream
                              // for up to this long.
                              .keepalive_timeout = std::chrono::seconds(600),
                              // Above the inbox's longest wait (30 s), which answers by itself.
                              .answer_deadline = std::chrono::seconds(35),
                              .lifecycle = lifecycle_,
                              .timers = timers_.get(),
                              .access_log = s.access_log.get()};
  const AdminDeps deps{.service = s.service,
                       .codes = *s.codes,
                       .sessions = *s.interactions,
                       .metrics = *s.metrics,
                       .clock = s.clock,
                       .metrics_require_token = !options_.metrics_public,
                       .serve_metrics = true,
                       .journal = s.journal.get(),
                       .shared_store = options_.shared_store(),
                       .control = s.control.get(),
                       .inbox_waiters = *inbox_waiters_,
                       .inbox_capacity = options_.inbox_size,
                       .connector_authorization = options_.connector_authorization};
  try {
    auto public_dispatcher = std::make_shared<const Dispatcher>(
        public_config,
        ExperienceRoutes(s.service, *s.codes, *s.interactions, *s.sign_in, *s.metrics), *s.metrics);
    auto admin_dispatcher =
        std::make_shared<const Dispatcher>(admin_config, AdminRoutes(deps), *s.metrics);
    listeners_.push_back(std::make_unique<HttpListener>(options_.listen.host, options_.listen.port,
                                                        options_.threads, public_dispatcher));
    // The admin API is light; two threads keep it responsive during a long export.
    listeners_.push_back(std::make_unique<HttpListener>(
        options_.admin_listen.host, options_.admin_listen.port, 2, admin_dispatcher));
    if (options_.metrics_listen) {
      ListenerConfig metrics_config = admin_config;
      metrics_config.name = "metrics";
      metrics_config.kind = metrics::Listener::kMetrics;
      metrics_config.max_body_bytes = 1024;
      if (options_.metrics_public) metrics_config.admin_token.clear();
      auto metrics_dispatcher = std::make_shared<const Dispatcher>(
          metrics_config,
          MetricsRoutes(*s.metrics, options_.metrics_public ? Access::kOpen : Access::kToken),
          *s.metrics);
      listeners_.push_back(std::make_unique<HttpListener>(
          options_.metrics_listen->host, options_.metrics_listen->port, 1, metrics_dispatcher));
    }
    for (auto& listener : listeners_) listener->Start();
  } catch (const std::exception& e) {
    return Status::Failed(std::string("cannot start the listeners: ") + e.what());
  }
  return Status::Ok();
}

std::string Server::ReadyLine() const {
  std::string ready =
      "mfa-mock ready public=" + Endpoint(options_.listen.host, listeners_[0]->port()) +
      " admin=" + Endpoint(options_.admin_listen.host, listeners_[1]->port());
  if (options_.metrics_listen) {
    ready += " metrics=" + Endpoint(options_.metrics_listen->host, listeners_[2]->port());
  }
  return ready;
}

bool Server::SaveSnapshot() {
  if (options_.snapshot_file.empty()) return true;
  SnapshotStats saved;
  std::string error;
  const auto started = std::chrono::steady_clock::now();
  if (!WriteSnapshot(options_.snapshot_file, state_->store, state_->inbox, state_->clock.NowMs(),
                     &saved, &error)) {
    LogError("snapshot failed: {}", error);
    return false;
  }
  LogInfo("saved {} records and {} inbox messages to {} ({} bytes, {} ms)", saved.records,
          saved.inbox_messages, options_.snapshot_file, saved.bytes, MillisecondsSince(started));
  return true;
}

void Server::StartSnapshotter() {
  if (options_.snapshot_file.empty() || options_.snapshot_interval_seconds == 0) return;
  snapshotter_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(snapshot_mu_);
    while (!snapshot_cv_.wait_for(lock, std::chrono::seconds(options_.snapshot_interval_seconds),
                                  [this] { return snapshot_stop_; })) {
      lock.unlock();
      SaveSnapshot();
      lock.lock();
    }
  });
}

bool Server::Shutdown() {
  stopped_ = true;
  // New requests now get 503 + Connection: close; the ones running finish (bounded wait).
  lifecycle_->StartDraining();
  // Requests waiting for the inbox would otherwise hold the drain for up to 30 s.
  if (inbox_waiters_) inbox_waiters_->Drain();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(options_.shutdown_grace_seconds);
  while (lifecycle_->InFlight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (const int64_t left = lifecycle_->InFlight(); left > 0) {
    LogWarn("{} requests still running after {} s; closing anyway", left,
            options_.shutdown_grace_seconds);
  }
  // Answers completed from other threads (waiters drained above, store completions) may still
  // sit in a reactor's write queue: let them out before the listeners close (at most 1 s).
  const auto flushed_by =
      std::min(deadline, std::chrono::steady_clock::now() + std::chrono::seconds(1));
  while (HttpListener::QueuedAnswers() > 0 && std::chrono::steady_clock::now() < flushed_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  {
    std::lock_guard<std::mutex> lock(snapshot_mu_);
    snapshot_stop_ = true;
  }
  snapshot_cv_.notify_all();
  if (snapshotter_.joinable()) snapshotter_.join();
  state_->service.StopSweeper();
  const bool saved = SaveSnapshot();
  // Store calls still waiting (past the grace) answer 503 while the listeners can still send.
  if (state_->control) state_->control->Stop();
  if (state_->redis_client) state_->redis_client->Stop();
  // Answers still held (past the grace) are dropped with their connections.
  timers_->Stop();
  for (auto& listener : listeners_) listener->Shutdown();
  listeners_.clear();
  return saved;
}

}  // namespace mfa
