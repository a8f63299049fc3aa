// SPDX-License-Identifier: Apache-2.0
// The control plane in Redis: the shared config and clock offset under one version counter, the
// live nodes (heartbeats) and the version each applied, all in one slot ({control}).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/control_plane.h"
#include "redis/router.h"

namespace mfa::redis {

struct ControlPlaneOptions {
  std::string prefix = "mfa";
  std::string node_id;  // unique per node (e.g. host-pid-random)
  // Heartbeat and poll period; 10 ms while a write waits for the other nodes.
  std::chrono::milliseconds poll_interval{50};
  // A node whose heartbeat is older than this is no longer live (and no longer waited for).
  std::chrono::milliseconds live_window{1000};
  // The longest a write waits for every live node to apply it.
  std::chrono::milliseconds confirm_timeout{3000};
};

// Thread-safe. Owns one control thread, which polls (heartbeat + newest state), applies new
// versions through `apply`, runs writes (compare-and-set on the version) and completes them once
// every live node applied them. The first node to find nothing published publishes `initial`.
// mu_ guards the queue of writes, the waiting writes and stop_; the rest is the thread's own.
// `client` must outlive it; Stop() (or the destructor) before the client stops.
class RedisControlPlane final : public ControlPlane {
 public:
  using Apply = std::function<void(const ControlState&)>;
  RedisControlPlane(Router& client, ControlPlaneOptions options, ControlState initial, Apply apply);
  ~RedisControlPlane() override;

  void Start();
  // Joins the thread; writes not yet done complete with kStoreUnavailable.
  void Stop();

  void Update(std::function<bool(ControlState*)> modify, Done<Outcome> done) override;
  void Nodes(Done<StoreAnswer<std::vector<ControlNode>>> done) override;
  int64_t applied_version() const override {
    return applied_version_.load(std::memory_order_acquire);
  }

 private:
  struct Write {
    std::function<bool(ControlState*)> modify;
    Done<Outcome> done;
  };
  struct Waiting {
    int64_t version;
    std::chrono::steady_clock::time_point deadline;
    Done<Outcome> done;
  };

  void Run();
  // One heartbeat + look; applies a newer state. False if the store did not answer.
  bool Poll();
  void RunWrite(Write& write);
  CallResult CallSync(const Script& script, std::vector<std::string> keys,
                      std::vector<std::string> args);

  Router& client_;
  const ControlPlaneOptions options_;
  const ControlState initial_;
  const Apply apply_;
  const std::string control_key_, nodes_key_, applied_key_;
  std::unique_ptr<Script> poll_script_, publish_script_;

  std::atomic<int64_t> applied_version_{0};
  ControlState current_;        // the control thread's: the newest state it applied
  int64_t lowest_applied_ = 0;  // the control thread's: from the last poll

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Write> writes_;      // GUARDED_BY(mu_)
  std::vector<Waiting> waiting_;  // GUARDED_BY(mu_)
  bool stop_ = false;             // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mfa::redis
