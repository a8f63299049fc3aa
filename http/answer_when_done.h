// SPDX-License-Identifier: Apache-2.0
// Answering from a store that may complete at once (memory) or later (Redis), with one handler.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "http/reply.h"
#include "http/request.h"

namespace mfa {

// Calls `start(done)`. If `done(value)` runs before `start` returns, `fill(reply, value)` writes
// this handler's reply and nothing is deferred (the in-memory store's path: one allocation more
// than a direct call). Otherwise the answer is deferred (HttpRequest::Defer) and `fill` writes it
// on the thread that calls `done`, under the listener's answer deadline. `fill` must be safe to
// call on any thread and may only use what it captured by value.
// REQUIRES: called from the handler, at most once per request; `done` called exactly once.
template <typename T, typename Start, typename Fill>
void AnswerWhenDone(const HttpRequest& request, Reply& reply, Start&& start, Fill fill) {
  struct Rendezvous {
    std::mutex mu;
    bool handler_returned = false;  // GUARDED_BY(mu)
    std::optional<T> value;         // GUARDED_BY(mu): a value that came before that
    PendingAnswer pending;          // GUARDED_BY(mu): set once the handler deferred
  };
  auto rendezvous = std::make_shared<Rendezvous>();
  start([rendezvous, fill](T value) {
    std::unique_lock<std::mutex> lock(rendezvous->mu);
    if (!rendezvous->handler_returned) {
      rendezvous->value.emplace(std::move(value));
      return;
    }
    PendingAnswer pending = std::move(rendezvous->pending);
    lock.unlock();
    Reply later;
    fill(later, value);
    pending.Complete(std::move(later));
  });
  std::lock_guard<std::mutex> lock(rendezvous->mu);
  rendezvous->handler_returned = true;
  if (rendezvous->value) {
    fill(reply, *rendezvous->value);
    return;
  }
  rendezvous->pending = request.Defer();
}

}  // namespace mfa
