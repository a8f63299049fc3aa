#include "app/deferred_replies.h"

namespace mfa {

DeferredReplies::DeferredReplies() : thread_([this] { Run(); }) {}

DeferredReplies::~DeferredReplies() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DeferredReplies::SendAt(std::chrono::steady_clock::time_point when,
                             Pistache::Http::ResponseWriter writer, Reply reply) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push(Item{when, std::make_unique<Pistache::Http::ResponseWriter>(std::move(writer)),
                     std::move(reply)});
  }
  cv_.notify_all();
}

size_t DeferredReplies::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void DeferredReplies::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto when = queue_.top().when;
    if (std::chrono::steady_clock::now() < when) {
      cv_.wait_until(lock, when);
      continue;
    }
    // priority_queue::top() is const; the item is popped right after, so moving out is safe.
    Item item = std::move(const_cast<Item&>(queue_.top()));
    queue_.pop();
    lock.unlock();
    SendReply(*item.writer, item.reply);
    lock.lock();
  }
}

}  // namespace mfa
