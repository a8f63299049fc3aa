// SPDX-License-Identifier: Apache-2.0
// Requests that wait for an inbox message (GET /admin/inbox/latest?wait=, /admin/inbox/stream):
// held without a thread each. A waiter is looked at again whenever a message may have arrived:
// at once when this node added one (Notify), and, with a shared store, when the per-node poller
// sees the store's newest cursor move (a message added through another node).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "core/code_store.h"
#include "core/inbox.h"
#include "http/timer_queue.h"

namespace mfa {

struct InboxWaitersOptions {
  size_t max_waiters = 500;  // beyond it Wait answers kTooMany at once
  // With a shared store: how often the poller reads the store's newest cursor while anyone
  // waits (never while nobody does). Zero: no poller (one process: Notify sees every message).
  std::chrono::milliseconds poll_interval{0};
};

// How a wait ended.
enum class WaitEnd : uint8_t {
  kFound,         // messages: the matches (never empty)
  kTimedOut,      // nothing matched within the wait
  kTooMany,       // refused: max_waiters already wait
  kDraining,      // the node is shutting down
  kStoreFailure,  // the store failed (outcome says how)
};

struct WaitResult {
  WaitEnd end = WaitEnd::kTimedOut;
  Outcome outcome = Outcome::kOk;  // with kStoreFailure
  std::vector<InboxEntry> messages = {};
};

// Thread-safe: `mu_` guards the waiters. Completions run on the thread of the call or event that
// decided them (a handler, the store's thread, the timer queue's thread) and must not block.
// REQUIRES: `codes` and `timers` outlive it, and before it is destroyed the timer queue is
// stopped and the store runs no more completions (the server stops both first).
class InboxWaiters {
 public:
  InboxWaiters(CodeStore& codes, TimerQueue& timers, InboxWaitersOptions options);
  ~InboxWaiters();  // Drain()
  InboxWaiters(const InboxWaiters&) = delete;
  InboxWaiters& operator=(const InboxWaiters&) = delete;

  // Answers `done` once with the messages that match `query` as soon as there are any (at once
  // when they exist now), or kTimedOut after `wait`. A `wait` of zero looks once.
  void Wait(const InboxQuery& query, std::chrono::milliseconds wait,
            std::function<void(WaitResult)> done);
  // A message may have been added: every waiter looks again, soon, on the timer queue's thread
  // (cheap for the caller: one atomic load when nobody waits).
  void Notify();
  // Answers every waiter kDraining and refuses new ones with it. Idempotent.
  void Drain();
  size_t waiting() const;

 private:
  struct Waiter {
    InboxQuery query;
    std::function<void(WaitResult)> done;
    TimerQueue::Id timeout = 0;
    bool checking = false;  // a look is in flight
    bool again = false;     // something happened during that look: look once more after it
  };
  using Id = uint64_t;

  // Every waiter looks again (the work Notify schedules).
  void Wake();
  // Looks at one waiter's query in the store; answers it when something matched.
  void Check(Id id);
  void Finish(Id id, WaitResult result);
  void OnTimeout(Id id);
  void SchedulePoll();  // REQUIRES: mu_ held
  void Poll();

  CodeStore& codes_;
  TimerQueue& timers_;
  const InboxWaitersOptions options_;
  mutable std::mutex mu_;
  std::map<Id, Waiter> waiters_;  // GUARDED_BY(mu_)
  Id next_id_ = 1;                // GUARDED_BY(mu_)
  bool draining_ = false;         // GUARDED_BY(mu_)
  bool poll_scheduled_ = false;   // GUARDED_BY(mu_)
  bool wake_scheduled_ = false;   // GUARDED_BY(mu_)
  bool head_known_ = false;       // GUARDED_BY(mu_)
  uint64_t last_head_ = 0;        // GUARDED_BY(mu_): the newest cursor the poller saw
  std::atomic<size_t> count_{0};  // waiters_.size(), read without the lock by Notify
};

}  // namespace mfa
