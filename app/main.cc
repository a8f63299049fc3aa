// mfa-mock: start-up, wiring and shutdown. Requests enter through app/http_listener.cc, which
// dispatches to app/public_routes.cc (Logto's routes) or admin/admin_routes.cc.
#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "admin/admin_parser.h"
#include "admin/admin_routes.h"
#include "app/access_log.h"
#include "app/connector_files.h"
#include "app/deferred_replies.h"
#include "app/http_listener.h"
#include "app/log.h"
#include "app/options.h"
#include "app/public_routes.h"
#include "app/request_journal.h"
#include "core/mfa_service.h"
#include "core/session_service.h"
#include "core/snapshot.h"

namespace mfa {
namespace {

constexpr int kExitUsage = 2;
constexpr size_t kMaxSeedFileBytes = size_t{4} << 30;

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int Fail(const std::string& line, int code = kExitUsage) {
  std::cerr << "mfa-mock: " << line << std::endl;
  return code;
}

std::string Endpoint(const std::string& host, uint16_t port) {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

int Run(int argc, char** argv) {
  AppOptions options;
  std::string message;
  switch (ParseOptions(argc, argv, &options, &message)) {
    case ParseStatus::kExitOk:
      std::cout << message;
      return 0;
    case ParseStatus::kExitUsage:
      std::cerr << message << std::endl;
      return kExitUsage;
    case ParseStatus::kRun:
      break;
  }
  InitLogging(options.log_level);
  if (!IsLoopback(options.admin_listen.host) && options.admin_token.empty()) {
    if (!options.admin_insecure) {
      return Fail("--admin-listen " + options.admin_listen.host +
                  " is not loopback: set --admin-token, or --admin-insecure to allow it");
    }
    LogWarn("the admin API listens on {} WITHOUT a token: anyone who can reach it can read codes",
            options.admin_listen.host);
  }

  // Block the stop signals before any thread starts so only sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  SystemClock system_clock;
  OffsetClock clock(system_clock);
  ConfigStore config(options.config);
  VerificationStore store(StoreOptions{options.shards, options.max_records});
  Inbox inbox(options.inbox_size);
  SendRateLimiter limiter;
  MfaService service(config, store, inbox, limiter, clock,
                     ServiceOptions{options.inbox_size, int64_t{options.retention_seconds} * 1000});
  SessionStore session_store;
  UserDirectory users;
  Sentinel sentinel;
  SessionService sessions(service, session_store, users, sentinel);
  service.set_sweep_hook([&sessions] { sessions.Sweep(); });
  if (!options.users_file.empty()) {
    std::ifstream in(options.users_file, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    std::vector<User> loaded;
    std::string error;
    if (!ParseUsersFile(content.str(), &loaded, &error)) {
      return Fail("--users " + options.users_file + ": " + error);
    }
    for (User& user : loaded) {
      const std::string id = user.id;
      if (!users.Add(std::move(user))) {
        return Fail("--users " + options.users_file + ": user id \"" + id + "\" appears twice");
      }
    }
    LogInfo("loaded {} users from {}", loaded.size(), options.users_file);
  }
  std::unique_ptr<metrics::Metrics> metrics =
      options.metrics_enabled ? metrics::CreatePrometheusMetrics({"0.1.0", MFA_MOCK_REVISION})
                              : metrics::CreateNoopMetrics();
  metrics->SetScrapeSources(
      metrics::ScrapeSources{[&store] { return static_cast<double>(store.size()); },
                             [&inbox] { return static_cast<double>(inbox.size()); },
                             [&store] { return static_cast<double>(store.swept_total()); }});

  if (!options.snapshot_file.empty()) {
    for (const std::string& stale : RemoveStaleSnapshotTemps(options.snapshot_file)) {
      LogWarn("removed {}, left by a snapshot write that never finished", stale);
    }
    SnapshotStats loaded;
    std::string error;
    const auto started = std::chrono::steady_clock::now();
    switch (LoadSnapshot(options.snapshot_file, &store, &inbox, &loaded, &error)) {
      case SnapshotLoad::kMissing:
        LogInfo("no snapshot at {} yet; starting empty", options.snapshot_file);
        break;
      case SnapshotLoad::kLoaded:
        LogInfo("restored {} records, {} batches and {} inbox messages from {} in {} ms",
                loaded.records, loaded.batches, loaded.inbox_messages, options.snapshot_file,
                std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - started)
                    .count());
        break;
      case SnapshotLoad::kCorrupt:
        if (!options.snapshot_ignore_corrupt) {
          return Fail(
              "--snapshot " + error +
                  "; fix or remove the file, or pass --snapshot-ignore-corrupt to start empty",
              1);
        }
        LogWarn("ignoring corrupt snapshot ({}); starting empty", error);
        store.Clear();
        inbox.Clear();
        break;
    }
  }

  std::unique_ptr<ConnectorFiles> connector_files;
  if (!options.connector_dir.empty()) {
    connector_files = std::make_unique<ConnectorFiles>(options.connector_dir);
    service.set_sent_hook(
        [files = connector_files.get()](const InboxMessage& m) { files->Write(m); });
  }

  if (!options.seed_file.empty()) {
    std::ifstream in(options.seed_file, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (!in && !in.eof()) return Fail("--seed " + options.seed_file + ": cannot read the file");
    if (content.str().size() > kMaxSeedFileBytes) return Fail("--seed file is larger than 4 GiB");
    std::vector<SeedItem> items;
    std::vector<size_t> lines;
    std::string error;
    if (!ParseSeedFile(content.str(), &items, &error, &lines)) {
      return Fail("--seed " + options.seed_file + ": " + error);
    }
    const size_t count = items.size();
    SeedResult seeded = service.Seed(std::move(items));
    if (seeded.outcome == Outcome::kStoreFull) {
      return Fail("--seed " + options.seed_file + ": " + std::to_string(count) +
                  " records exceed --max-records " + std::to_string(options.max_records));
    }
    if (seeded.outcome != Outcome::kOk) {
      return Fail("--seed " + options.seed_file + ": line " +
                  std::to_string(lines[seeded.failed_index]) +
                  ": verificationId appears twice in the file or already exists "
                  "(e.g. restored from --snapshot)");
    }
    metrics->CodesSeeded(metrics::SeedSource::kSeedFile, count);
    LogInfo("seeded {} records from {}", count, options.seed_file);
  }

  std::unique_ptr<RequestJournal> journal;
  if (options.journal_size > 0) {
    journal = std::make_unique<RequestJournal>(options.journal_size, options.journal_show_codes);
  }
  std::unique_ptr<AccessLog> access_log;
  if (options.access_log != "off") {
    access_log = std::make_unique<AccessLog>(
        options.access_log == "json" ? AccessLog::Format::kJson : AccessLog::Format::kLogfmt);
  }
  CorsPolicy cors;
  if (options.cors_origin == "reflect") {
    cors.mode = CorsPolicy::Mode::kReflect;
  } else if (options.cors_origin == "*") {
    cors.mode = CorsPolicy::Mode::kAny;
  } else if (options.cors_origin != "off") {
    cors.mode = CorsPolicy::Mode::kList;
    std::stringstream list(options.cors_origin);
    for (std::string origin; std::getline(list, origin, ',');) {
      const size_t first = origin.find_first_not_of(" \t");
      if (first == std::string::npos) continue;
      origin = origin.substr(first, origin.find_last_not_of(" \t") - first + 1);
      cors.origins.push_back(origin);
    }
    if (cors.origins.empty()) {
      return Fail("--cors-origin must be reflect, *, off or a comma-separated list of origins");
    }
  }

  auto lifecycle = std::make_shared<Lifecycle>();
  ListenerConfig public_config;
  public_config.lifecycle = lifecycle;
  public_config.name = "public";
  public_config.kind = metrics::Listener::kPublic;
  public_config.not_found_code = "route.not_found";
  public_config.method_not_allowed_code = "route.method_not_allowed";
  public_config.body_too_large_code = "request.body_too_large";
  public_config.max_body_bytes = options.public_max_body;
  public_config.cors = cors;
  public_config.journal = journal.get();
  public_config.access_log = access_log.get();
  public_config.clock = &clock;
  DeferredReplies deferred;
  public_config.deferred = &deferred;
  public_config.faults = [&config](std::string_view key) -> std::optional<FaultRule> {
    const Faults& faults = config.Get().config.faults;
    if (!faults.any()) return std::nullopt;
    const FaultRule& rule = key == "send" ? faults.send : faults.verify;
    if (!rule.active()) return std::nullopt;
    return rule;
  };

  ListenerConfig admin_config;
  admin_config.lifecycle = lifecycle;
  admin_config.name = "admin";
  admin_config.kind = metrics::Listener::kAdmin;
  admin_config.not_found_code = "admin.route_not_found";
  admin_config.method_not_allowed_code = "admin.method_not_allowed";
  admin_config.body_too_large_code = "admin.body_too_large";
  admin_config.max_body_bytes = options.admin_max_body;
  admin_config.admin_token = options.admin_token;
  admin_config.keepalive_timeout = std::chrono::seconds(60);
  admin_config.access_log = access_log.get();

  AdminDeps deps{service, sessions, *metrics, clock, !options.metrics_public, true, journal.get()};
  std::vector<std::unique_ptr<HttpListener>> listeners;
  try {
    auto public_table = std::make_shared<const RouteTable>(
        public_config, PublicRoutes(service, sessions, *metrics), *metrics);
    auto admin_table =
        std::make_shared<const RouteTable>(admin_config, AdminRoutes(deps), *metrics);
    listeners.push_back(std::make_unique<HttpListener>(options.listen.host, options.listen.port,
                                                       options.threads, public_table));
    // The admin API is light; two threads keep it responsive during a long export.
    listeners.push_back(std::make_unique<HttpListener>(options.admin_listen.host,
                                                       options.admin_listen.port, 2, admin_table));
    if (options.metrics_listen) {
      ListenerConfig metrics_config = admin_config;
      metrics_config.name = "metrics";
      metrics_config.kind = metrics::Listener::kMetrics;
      metrics_config.max_body_bytes = 1024;
      if (options.metrics_public) metrics_config.admin_token.clear();
      std::vector<Route> routes = MetricsRoutes(*metrics);
      routes.front().requires_admin_token = !options.metrics_public;
      auto metrics_table =
          std::make_shared<const RouteTable>(metrics_config, std::move(routes), *metrics);
      listeners.push_back(std::make_unique<HttpListener>(
          options.metrics_listen->host, options.metrics_listen->port, 1, metrics_table));
    }
    for (auto& listener : listeners) listener->Start();
  } catch (const std::exception& e) {
    return Fail(std::string("cannot start the listeners: ") + e.what(), 1);
  }

  service.StartSweeper(std::chrono::seconds(options.sweep_interval_seconds));
  std::string ready =
      "mfa-mock ready public=" + Endpoint(options.listen.host, listeners[0]->port()) +
      " admin=" + Endpoint(options.admin_listen.host, listeners[1]->port());
  if (options.metrics_listen) {
    ready += " metrics=" + Endpoint(options.metrics_listen->host, listeners[2]->port());
  }
  std::cout << ready << std::endl;
  LogInfo("profile={} threads={} shards={} max-records={}", ToString(options.config.profile),
          options.threads, options.shards, options.max_records);

  auto save_snapshot = [&]() {
    if (options.snapshot_file.empty()) return true;
    SnapshotStats saved;
    std::string error;
    const auto started = std::chrono::steady_clock::now();
    if (!WriteSnapshot(options.snapshot_file, store, inbox, clock.NowMs(), &saved, &error)) {
      LogError("snapshot failed: {}", error);
      return false;
    }
    LogInfo("saved {} records and {} inbox messages to {} ({} bytes, {} ms)", saved.records,
            saved.inbox_messages, options.snapshot_file, saved.bytes,
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count());
    return true;
  };
  std::mutex snapshot_mu;
  std::condition_variable snapshot_cv;
  bool stopping = false;  // GUARDED_BY(snapshot_mu)
  std::thread snapshotter;
  if (!options.snapshot_file.empty() && options.snapshot_interval_seconds > 0) {
    snapshotter = std::thread([&] {
      std::unique_lock<std::mutex> lock(snapshot_mu);
      while (!snapshot_cv.wait_for(lock, std::chrono::seconds(options.snapshot_interval_seconds),
                                   [&] { return stopping; })) {
        lock.unlock();
        save_snapshot();
        lock.lock();
      }
    });
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  LogInfo("received signal {}, draining requests in flight", signal_number);
  // New requests now get 503 + Connection: close; the ones running finish (bounded wait).
  lifecycle->StartDraining();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(options.shutdown_grace_seconds);
  // Answers held back by an injected delay are in flight too.
  while ((lifecycle->InFlight() > 0 || deferred.pending() > 0) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (const int64_t left = lifecycle->InFlight(); left > 0) {
    LogWarn("{} requests still running after {} s; closing anyway", left,
            options.shutdown_grace_seconds);
  }
  {
    std::lock_guard<std::mutex> lock(snapshot_mu);
    stopping = true;
  }
  snapshot_cv.notify_all();
  if (snapshotter.joinable()) snapshotter.join();
  service.StopSweeper();
  const bool saved = save_snapshot();
  for (auto& listener : listeners) listener->Shutdown();
  listeners.clear();
  return saved ? 0 : 1;
}

}  // namespace
}  // namespace mfa

int main(int argc, char** argv) {
  try {
    return mfa::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mfa-mock: " << e.what() << std::endl;
    return 1;
  }
}
