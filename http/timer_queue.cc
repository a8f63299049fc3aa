// SPDX-License-Identifier: Apache-2.0
#include "http/timer_queue.h"

#include <vector>

namespace mfa {

TimerQueue::TimerQueue() : thread_([this] { Run(); }) {}

TimerQueue::~TimerQueue() { Stop(); }

TimerQueue::Id TimerQueue::Schedule(Clock::time_point when, std::function<void()> callback) {
  Id id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return 0;  // stopped: the callback is destroyed (outside the lock) unrun
    id = next_id_++;
    const bool earliest = schedule_.empty() || when < schedule_.begin()->first.first;
    schedule_.emplace(std::make_pair(when, id), std::move(callback));
    when_.emplace(id, when);
    if (!earliest) return id;
  }
  cv_.notify_one();
  return id;
}

bool TimerQueue::Cancel(Id id) {
  std::function<void()> dropped;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = when_.find(id);
  if (it == when_.end()) return false;
  const auto entry = schedule_.find(std::make_pair(it->second, id));
  dropped = std::move(entry->second);
  schedule_.erase(entry);
  when_.erase(it);
  return true;
}

size_t TimerQueue::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return schedule_.size();
}

void TimerQueue::Stop() {
  decltype(schedule_) dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return;
    stop_ = true;
    dropped.swap(schedule_);
    when_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TimerQueue::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (schedule_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto first = schedule_.begin();
    // A copy: wait_until reads its argument again after waking, when Cancel may have erased
    // the entry (found by AddressSanitizer).
    const Clock::time_point when = first->first.first;
    if (when > Clock::now()) {
      cv_.wait_until(lock, when);
      continue;
    }
    std::function<void()> callback = std::move(first->second);
    when_.erase(first->first.second);
    schedule_.erase(first);
    lock.unlock();
    callback();
    callback = nullptr;  // destroyed outside the lock too
    lock.lock();
  }
}

}  // namespace mfa
