// SPDX-License-Identifier: Apache-2.0
// Where the Redis stores send their commands: one Redis server, or a Redis Cluster routed by
// slot. Given seed addresses, it finds out which by itself (CLUSTER SLOTS answers, or says that
// cluster support is disabled) and keeps one pipelining Client per node, all served by one I/O
// thread (an EventLoop): a burst of calls spread over three masters wakes one thread, not three.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "redis/client.h"
#include "redis/slot.h"

namespace mfa::redis {

struct SeedAddress {
  std::string host;
  uint16_t port = 0;
};

struct RouterOptions {
  std::vector<SeedAddress> seeds;  // any node(s); in a cluster, any may be down at start
  ClientOptions client;            // every node's connection (host and port set per node)
  // A cluster's slot table is read again this often, and at once after a redirect or an I/O
  // error (failovers are noticed within this bound even without traffic).
  std::chrono::milliseconds refresh_interval{1000};
};

// Observes what the router does, for metrics. Thread-safe implementations; must not block.
class RouterObserver {
 public:
  virtual ~RouterObserver() = default;
  virtual void Redirected(bool ask) = 0;  // a MOVED (false) or ASK (true) reply followed
  virtual void SlotsRefreshed() = 0;      // a new slot table was read
  virtual void MastersChanged() = 0;      // a slot's master changed (resharding or failover)
};

// Thread-safety: Call, CallScript, CallOn, Masters, connected, in_flight, cluster and Describe
// may be called from any thread, also from a completion; completions run on the I/O thread
// (or inline for a call refused at once). mu_ guards the nodes, the slot table, the retry queue
// and the router thread's flags; no Client is ever called while mu_ is held (a Client may run a
// completion inline, which may call back in here).
class Router {
 public:
  Router(RouterOptions options, ClientObserver* observer = nullptr,
         RouterObserver* router_observer = nullptr);
  ~Router();  // Stop()
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Starts the seeds' connections and the router thread, which finds the topology in the
  // background. False if a thread cannot be started. Call at most once.
  bool Start();
  // Stops the router thread and every node's client (their calls complete with kStopped).
  // Idempotent; not from a completion.
  void Stop();

  // A command on one key, argv[1] (every command the stores send except SCAN). Redirects
  // (MOVED, ASK) are followed, TRYAGAIN and CLUSTERDOWN retried with a short backoff, all within
  // the call's deadline; an I/O error is answered as is (the command may have run: it is never
  // sent twice) and the slot table is read again. Until the topology is known: kUnavailable.
  void Call(const std::vector<std::string>& argv, std::string_view op, Callback done);
  // EVALSHA on the slot of keys[0]; every key must share its slot.
  void CallScript(const Script& script, const std::vector<std::string>& keys,
                  const std::vector<std::string>& args, std::string_view op, Callback done);
  // The masters now ("HOST:PORT"; one for a single server), for keyless commands (SCAN).
  std::vector<std::string> Masters() const;
  // A keyless command on one master from Masters(); kUnavailable if it is no longer known.
  void CallOn(const std::string& master, const std::vector<std::string>& argv, std::string_view op,
              Callback done);

  // The topology is known and every master's connection answers.
  bool connected() const;
  // Calls queued or owed a reply, over every node.
  size_t in_flight() const;
  // Known to be a cluster (false while unknown, and for a single server).
  bool cluster() const;

 private:
  struct Node {
    std::string address;
    std::unique_ptr<Client> client;
  };
  // slot -> index into nodes_; kNoNode while unknown.
  using SlotTable = std::array<uint16_t, kSlotCount>;
  static constexpr uint16_t kNoNode = 0xffff;
  struct Request;
  struct Retry {
    std::chrono::steady_clock::time_point at;
    std::shared_ptr<Request> request;
  };

  // A new call: its deadline, then its slot's node now.
  void Route(std::shared_ptr<Request> request);
  uint16_t NodeOfSlot(uint16_t slot) const;  // kNoNode while unknown
  void Dispatch(std::shared_ptr<Request> request, uint16_t node, bool asking);
  void OnReply(std::shared_ptr<Request> request, CallResult&& result);
  // The node of `address`, created (and its client started) if new. REQUIRES: mu_ held.
  uint16_t NodeLocked(const std::string& address);
  void RequestRefresh();
  void Run();      // the router thread: discovery, refreshes, delayed retries
  bool Refresh();  // reads the slot table from some node; false if none answered
  Client* ClientOf(uint16_t node) const;

  const RouterOptions options_;
  ClientObserver* const observer_;
  RouterObserver* const router_observer_;
  EventLoop loop_;  // every node's I/O; declared before nodes_, so it outlives their clients

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::vector<std::unique_ptr<Node>> nodes_;  // GUARDED_BY(mu_); never shrinks (stable pointers)
  std::shared_ptr<const SlotTable> table_;    // GUARDED_BY(mu_); null while unknown
  std::vector<uint16_t> masters_;             // GUARDED_BY(mu_): nodes owning slots
  bool cluster_ = false;                      // GUARDED_BY(mu_)
  bool refresh_requested_ = false;            // GUARDED_BY(mu_)
  bool stopping_ = false;                     // GUARDED_BY(mu_)
  std::vector<Retry> retries_;                // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mfa::redis
