// SPDX-License-Identifier: Apache-2.0
// Runs callbacks at given times on one thread of its own, so nothing waits on a Pistache worker
// (injected delays, answer deadlines).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace mfa {

// Thread-safe: `mu_` guards the schedule. Callbacks run on the queue's thread, outside the lock,
// one at a time; they must not block.
class TimerQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using Id = uint64_t;

  TimerQueue();
  ~TimerQueue();  // Stop()
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // Runs `callback` at `when` (at once if it is past). Returns an id for Cancel, or 0 (and
  // destroys `callback` unrun) once the queue is stopped.
  Id Schedule(Clock::time_point when, std::function<void()> callback);
  // True if the callback was removed before it ran.
  bool Cancel(Id id);
  size_t pending() const;
  // Runs nothing more; callbacks not yet run are destroyed. Idempotent.
  void Stop();

 private:
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::pair<Clock::time_point, Id>, std::function<void()>> schedule_;  // GUARDED_BY(mu_)
  std::map<Id, Clock::time_point> when_;                                        // GUARDED_BY(mu_)
  Id next_id_ = 1;                                                              // GUARDED_BY(mu_)
  bool stop_ = false;                                                           // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace mfa
