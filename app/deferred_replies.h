// Sends replies later without blocking a Pistache worker (latency injection).
#pragma once

#include <pistache/http.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "app/http_listener.h"

namespace mfa {

// Thread-safe: `mu_` guards the queue; one thread sends each reply at its deadline. Pistache's
// ResponseWriter may be used from another thread: its write is queued to the owning reactor.
class DeferredReplies {
 public:
  DeferredReplies();
  ~DeferredReplies();  // sends nothing more; pending replies are dropped with their connections
  DeferredReplies(const DeferredReplies&) = delete;
  DeferredReplies& operator=(const DeferredReplies&) = delete;

  void SendAt(std::chrono::steady_clock::time_point when, Pistache::Http::ResponseWriter writer,
              Reply reply);
  size_t pending() const;

 private:
  struct Item {
    std::chrono::steady_clock::time_point when;
    std::unique_ptr<Pistache::Http::ResponseWriter> writer;
    Reply reply;
  };
  struct Later {
    bool operator()(const Item& a, const Item& b) const { return a.when > b.when; }
  };
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::priority_queue<Item, std::vector<Item>, Later> queue_;  // GUARDED_BY(mu_)
  bool stop_ = false;                                          // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mfa
