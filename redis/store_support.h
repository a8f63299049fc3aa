// SPDX-License-Identifier: Apache-2.0
// What the Redis stores share: numbers as Redis stores them, the Outcome of a failed call,
// length-prefixed fields, and deleting every key of a pattern. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/code_store.h"
#include "redis/router.h"

namespace mfa::redis {

// Redis's own expiry is only garbage collection: it runs this long after the mock would have
// dropped a key, so a node whose clock is a little ahead never reads a key Redis dropped.
inline constexpr int64_t kExpirySlackMs = 60'000;

std::string Decimal(int64_t value);
// 0 when `s` is not a number.
int64_t ParseInt(std::string_view s);

// The answer of a failed call, or kOk when the call was answered without an error reply:
// kStoreBusy (over the in-flight cap), kStoreUnavailable (no answer in time, no connection, or a
// transient Redis error), kStoreFull (Redis's maxmemory), kInternal (a script error: our bug).
Outcome Failure(const CallResult& result);
// The Outcome a verify script (verify.lua, verify_derived.lua) answered; kInternal for an answer
// no script gives.
Outcome VerifyOutcome(std::string_view answer);

// Length-prefixed fields ("5:hello"), so any byte may occur in them.
void AppendField(std::string& out, std::string_view field);
// Takes the next field off the front of `in`; false when `in` holds no whole field.
bool NextField(std::string_view& in, std::string_view* field);

// Sends `commands` together (each on its own key's slot) and answers once, when every one is
// answered: the first failure, or kOk with the sum of their integer replies (keys deleted).
void CallAll(Router& client, std::vector<std::vector<std::string>> commands, std::string_view op,
             Done<StoreAnswer<int64_t>> done);

// Deletes every key matching `pattern` (SCAN + UNLINK, a page at a time) and answers the number
// deleted. Keys created meanwhile may survive, as with any SCAN.
void UnlinkMatching(Router& client, std::string pattern, std::string_view op,
                    Done<StoreAnswer<size_t>> done);

// Runs `count` calls with at most `window` of them waiting at once, then `finished` once. Calls
// are issued outside the lock, and a call that completes inline (the client refused it) does not
// recurse: the thread already pumping picks up the freed room. Thread-safe.
class Windowed : public std::enable_shared_from_this<Windowed> {
 public:
  // issue(i, complete): starts call i and returns true, then complete() is called once when it
  // has its answer; or returns false (nothing to do for i) without calling complete().
  using Issue = std::function<bool(size_t index, std::function<void()> complete)>;
  Windowed(size_t count, size_t window, Issue issue, std::function<void()> finished)
      : count_(count), window_(window), issue_(std::move(issue)), finished_(std::move(finished)) {}

  void Start() { Pump(); }

 private:
  void Complete() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      --waiting_;
    }
    Pump();
  }

  void Pump() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (pumping_) return;  // that thread sees the room made here on its next turn
      pumping_ = true;
    }
    for (;;) {
      std::vector<size_t> to_issue;
      bool finished = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        while (waiting_ < window_ && next_ < count_) {
          to_issue.push_back(next_++);
          ++waiting_;
        }
        if (to_issue.empty()) {
          pumping_ = false;
          if (next_ < count_ || waiting_ > 0 || finished_called_) return;
          finished_called_ = true;
          finished = true;
        }
      }
      if (finished) return finished_();
      for (size_t i : to_issue) {
        if (!issue_(i, [self = shared_from_this()] { self->Complete(); })) {
          std::lock_guard<std::mutex> lock(mu_);
          --waiting_;
        }
      }
    }
  }

  const size_t count_, window_;
  const Issue issue_;
  const std::function<void()> finished_;
  std::mutex mu_;
  size_t next_ = 0;               // GUARDED_BY(mu_)
  size_t waiting_ = 0;            // GUARDED_BY(mu_)
  bool pumping_ = false;          // GUARDED_BY(mu_): a thread is in Pump's loop
  bool finished_called_ = false;  // GUARDED_BY(mu_)
};

}  // namespace mfa::redis
