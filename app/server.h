// SPDX-License-Identifier: Apache-2.0
// The whole mock in one object: its state, its listeners and its background threads, wired from
// the start-up options. app/main.cc is a thin entry point over it.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/options.h"
#include "core/status.h"

namespace mfa {

class AccessLog;
class ConnectorFiles;
class HttpListener;
class InboxWaiters;
class Lifecycle;
class RequestJournal;
class TimerQueue;
struct ServerState;

// Not thread-safe: Start and Shutdown are called from main's thread, in that order, once.
class Server {
 public:
  explicit Server(AppOptions options);
  ~Server();  // Shutdown() if it was not called
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the users file, the snapshot and the seed file, binds the listeners, starts serving,
  // the sweeper and the snapshot thread.
  Status Start();
  // "mfa-mock ready public=HOST:PORT admin=HOST:PORT[ metrics=HOST:PORT]" (after Start).
  std::string ReadyLine() const;
  // Graceful stop: new requests get 503, the ones in flight (answers completed later included)
  // finish within --shutdown-grace, the snapshot is saved, the listeners close. Returns false
  // if the final snapshot could not be written.
  bool Shutdown();

 private:
  Status CheckAdminExposure() const;
  Status LoadUsers();
  Status RestoreSnapshot();
  Status LoadSeed();
  // With a shared store: waits (bounded, 30 s) until the deployment's settings are applied.
  Status AwaitSharedSettings(const std::string& what) const;
  Status StartListeners();
  void StartSnapshotter();
  bool SaveSnapshot();

  const AppOptions options_;
  std::unique_ptr<ServerState> state_;  // the domain, metrics and logs
  std::shared_ptr<Lifecycle> lifecycle_;
  std::unique_ptr<TimerQueue> timers_;
  std::unique_ptr<InboxWaiters> inbox_waiters_;  // uses timers_ and the store: destroyed first
  std::vector<std::unique_ptr<HttpListener>> listeners_;  // public, admin[, metrics]
  bool started_ = false;
  bool stopped_ = false;

  std::mutex snapshot_mu_;
  std::condition_variable snapshot_cv_;
  bool snapshot_stop_ = false;  // GUARDED_BY(snapshot_mu_)
  std::thread snapshotter_;
};

}  // namespace mfa
