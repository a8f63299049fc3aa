// SPDX-License-Identifier: Apache-2.0
#include "admin/inbox_waiters.h"

#include <utility>

namespace mfa {

InboxWaiters::InboxWaiters(CodeStore& codes, TimerQueue& timers, InboxWaitersOptions options)
    : codes_(codes), timers_(timers), options_(options) {}

InboxWaiters::~InboxWaiters() { Drain(); }

size_t InboxWaiters::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiters_.size();
}

void InboxWaiters::Wait(const InboxQuery& query, std::chrono::milliseconds wait,
                        std::function<void(WaitResult)> done) {
  if (wait.count() <= 0) {  // one look, no waiter
    return codes_.ListInbox(query,
                            [done = std::move(done)](StoreAnswer<std::vector<InboxEntry>> listed) {
                              WaitResult result;
                              if (listed.outcome != Outcome::kOk) {
                                result.end = WaitEnd::kStoreFailure;
                                result.outcome = listed.outcome;
                              } else if (!listed.value.empty()) {
                                result.end = WaitEnd::kFound;
                                result.messages = std::move(listed.value);
                              }
                              done(std::move(result));
                            });
  }
  Id id;
  {
    std::unique_lock<std::mutex> lock(mu_);
    WaitResult refused;
    if (draining_) refused.end = WaitEnd::kDraining;
    if (waiters_.size() >= options_.max_waiters) refused.end = WaitEnd::kTooMany;
    if (draining_ || waiters_.size() >= options_.max_waiters) {
      lock.unlock();
      return done(std::move(refused));
    }
    id = next_id_++;
    Waiter& waiter = waiters_[id];
    waiter.query = query;
    waiter.done = std::move(done);
    count_.store(waiters_.size(), std::memory_order_release);
    // The timer thread takes mu_ only outside the queue's own lock: this order is safe.
    waiter.timeout =
        timers_.Schedule(TimerQueue::Clock::now() + wait, [this, id] { OnTimeout(id); });
    SchedulePoll();
  }
  Check(id);  // registered first, then looked: a message added meanwhile is not missed
}

void InboxWaiters::Notify() {
  if (count_.load(std::memory_order_acquire) == 0) return;  // the send path's usual case
  std::lock_guard<std::mutex> lock(mu_);
  if (waiters_.empty() || wake_scheduled_ || draining_) return;
  // The looks run on the timer queue's thread, not on the sender's (a public worker), and a
  // burst of sends coalesces into one round of looks.
  wake_scheduled_ = true;
  timers_.Schedule(TimerQueue::Clock::now(), [this] { Wake(); });
}

void InboxWaiters::Wake() {
  std::vector<Id> ids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_scheduled_ = false;
    ids.reserve(waiters_.size());
    for (const auto& [id, waiter] : waiters_) ids.push_back(id);
  }
  for (Id id : ids) Check(id);
}

void InboxWaiters::Check(Id id) {
  InboxQuery query;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = waiters_.find(id);
    if (it == waiters_.end()) return;
    if (it->second.checking) {
      it->second.again = true;  // looked at once more when the look in flight ends
      return;
    }
    it->second.checking = true;
    query = it->second.query;
  }
  codes_.ListInbox(query, [this, id](StoreAnswer<std::vector<InboxEntry>> listed) {
    if (listed.outcome != Outcome::kOk) {
      WaitResult failed;
      failed.end = WaitEnd::kStoreFailure;
      failed.outcome = listed.outcome;
      return Finish(id, std::move(failed));
    }
    if (!listed.value.empty()) {
      WaitResult found;
      found.end = WaitEnd::kFound;
      found.messages = std::move(listed.value);
      return Finish(id, std::move(found));
    }
    bool again = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto it = waiters_.find(id);
      if (it == waiters_.end()) return;
      it->second.checking = false;
      again = std::exchange(it->second.again, false);
    }
    if (again) Check(id);
  });
}

void InboxWaiters::Finish(Id id, WaitResult result) {
  std::function<void(WaitResult)> done;
  TimerQueue::Id timeout = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = waiters_.find(id);
    if (it == waiters_.end()) return;  // already answered (found, timed out or drained)
    done = std::move(it->second.done);
    timeout = it->second.timeout;
    waiters_.erase(it);
    count_.store(waiters_.size(), std::memory_order_release);
  }
  if (timeout != 0 && result.end != WaitEnd::kTimedOut) timers_.Cancel(timeout);
  done(std::move(result));
}

void InboxWaiters::OnTimeout(Id id) { Finish(id, WaitResult{.end = WaitEnd::kTimedOut}); }

void InboxWaiters::Drain() {
  std::map<Id, Waiter> drained;
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
    drained.swap(waiters_);
    count_.store(0, std::memory_order_release);
  }
  for (auto& [id, waiter] : drained) {
    if (waiter.timeout != 0) timers_.Cancel(waiter.timeout);
    waiter.done(WaitResult{.end = WaitEnd::kDraining});
  }
}

void InboxWaiters::SchedulePoll() {
  if (options_.poll_interval.count() <= 0 || poll_scheduled_ || draining_) return;
  poll_scheduled_ = true;
  timers_.Schedule(TimerQueue::Clock::now() + options_.poll_interval, [this] { Poll(); });
}

void InboxWaiters::Poll() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    poll_scheduled_ = false;
    if (waiters_.empty() || draining_) {
      head_known_ = false;  // the next waiter's first poll counts as a change
      return;
    }
  }
  codes_.InboxHead([this](StoreAnswer<uint64_t> head) {
    bool changed = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (head.outcome == Outcome::kOk) {
        changed = !head_known_ || head.value != last_head_;
        head_known_ = true;
        last_head_ = head.value;
      }
    }
    if (changed) Notify();
    std::lock_guard<std::mutex> lock(mu_);
    if (!waiters_.empty()) SchedulePoll();
  });
}

}  // namespace mfa
