// SPDX-License-Identifier: Apache-2.0
#include "admin/inbox_waiters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/timer_queue.h"

namespace mfa {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

// The inbox part of a store over an in-memory Inbox. `async`: completions run on a thread of
// its own, later, as a shared store's do; otherwise before the call returns, as in memory.
class FakeInboxStore final : public CodeStore {
 public:
  explicit FakeInboxStore(bool async) : async_(async) {}
  ~FakeInboxStore() override { Quiesce(); }

  // Waits until no completion runs or is about to (completions may start more calls).
  void Quiesce() {
    for (;;) {
      std::vector<std::thread> running;
      {
        std::lock_guard<std::mutex> lock(mu_);
        running.swap(threads_);
      }
      if (running.empty()) return;
      for (std::thread& t : running) t.join();
    }
  }

  Inbox inbox{100};
  std::atomic<int> list_calls{0};
  std::atomic<int> head_calls{0};

  void Send(IdentifierType, Done<SendResult>) override {}
  void Verify(IdentifierType, std::string_view, std::string_view, Done<Outcome>) override {}
  void AdminSend(IdentifierType, std::string_view, Done<SendResult>) override {}
  void Seed(std::vector<SeedItem>, Done<SeedResult>) override {}
  void Generate(const GenerateSpec&, Done<GenerateResult>) override {}
  void Get(std::string_view, Done<StoreAnswer<std::optional<RecordSnapshot>>>) override {}
  void Erase(std::string_view, Done<StoreAnswer<bool>>) override {}
  void Clear(Done<StoreAnswer<size_t>>) override {}
  void ClearInbox(const InboxQuery&, Done<Outcome>) override {}
  void AddExternalMessage(InboxMessage, Done<StoreAnswer<uint64_t>>) override {}
  bool Ready() const override { return true; }
  std::string Describe() const override { return "fake"; }

  void ListInbox(const InboxQuery& query,
                 Done<StoreAnswer<std::vector<InboxEntry>>> done) override {
    ++list_calls;
    StoreAnswer<std::vector<InboxEntry>> answer;
    for (InboxMessage& m : inbox.List(query)) {
      answer.value.push_back(InboxEntry{std::move(m), MessageState::kPending});
    }
    Complete([done = std::move(done), answer = std::move(answer)]() mutable {
      done(std::move(answer));
    });
  }
  void InboxHead(Done<StoreAnswer<uint64_t>> done) override {
    ++head_calls;
    const uint64_t head = inbox.newest_cursor();
    Complete([done = std::move(done), head] { done({Outcome::kOk, head}); });
  }

 private:
  void Complete(std::function<void()> fn) {
    if (!async_) return fn();
    std::lock_guard<std::mutex> lock(mu_);
    threads_.emplace_back([fn = std::move(fn)] {
      std::this_thread::sleep_for(milliseconds(1));  // later than the call, like a round trip
      fn();
    });
  }

  const bool async_;
  std::mutex mu_;
  std::vector<std::thread> threads_;
};

InboxMessage To(std::string to, std::string code) {
  InboxMessage m;
  m.to = std::move(to);
  m.code = std::move(code);
  m.verification_id = "id-" + m.code;
  return m;
}

InboxQuery For(std::string to) {
  InboxQuery q;
  q.to = std::move(to);
  q.limit = 1;
  return q;
}

// Collects one WaitResult; Get waits for it (bounded).
class Outcome1 {
 public:
  std::function<void(WaitResult)> Callback() {
    return [this](WaitResult r) {
      std::lock_guard<std::mutex> lock(mu_);
      result_ = std::move(r);
      at_ = SteadyClock::now();
      cv_.notify_all();
    };
  }
  std::optional<WaitResult> Get(milliseconds bound = seconds(60)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, bound, [&] { return result_.has_value(); });
    return result_;
  }
  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return result_.has_value();
  }
  SteadyClock::time_point at() {
    std::lock_guard<std::mutex> lock(mu_);
    return at_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<WaitResult> result_;
  SteadyClock::time_point at_;
};

::testing::AssertionResult WaitUntil(const std::string& what, const std::function<bool()>& done) {
  const auto deadline = SteadyClock::now() + seconds(60);
  while (!done()) {
    if (SteadyClock::now() > deadline) return ::testing::AssertionFailure() << what << ": 60 s";
    std::this_thread::sleep_for(milliseconds(1));
  }
  return ::testing::AssertionSuccess();
}

class InboxWaitersTest : public ::testing::TestWithParam<bool> {
 protected:
  InboxWaiters& Make(InboxWaitersOptions options = {}) {
    waiters_.emplace(store_, timers_, options);
    return *waiters_;
  }
  // As the server: the timer queue and the store's completions stop before the waiters go.
  void TearDown() override {
    if (waiters_) waiters_->Drain();
    timers_.Stop();
    store_.Quiesce();
    waiters_.reset();
  }
  ::testing::AssertionResult WaitForWaiting(const InboxWaiters& w, size_t n) {
    return WaitUntil("waiters == " + std::to_string(n), [&] { return w.waiting() == n; });
  }

  FakeInboxStore store_{GetParam()};
  TimerQueue timers_;
  std::optional<InboxWaiters> waiters_;
};

TEST_P(InboxWaitersTest, AMatchThatExistsAnswersAtOnce) {
  store_.inbox.Add(To("a@x.io", "111111"));
  InboxWaiters& waiters = Make({});
  Outcome1 out;
  waiters.Wait(For("a@x.io"), seconds(30), out.Callback());
  const std::optional<WaitResult> r = out.Get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->end, WaitEnd::kFound);
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(r->messages[0].message.code, "111111");
  EXPECT_EQ(waiters.waiting(), 0u);
  timers_.Stop();
}

TEST_P(InboxWaitersTest, NotifyAfterAMatchingAddAnswersTheWaiter) {
  InboxWaiters& waiters = Make({});
  Outcome1 out;
  waiters.Wait(For("a@x.io"), seconds(30), out.Callback());
  store_.inbox.Add(To("b@x.io", "999999"));  // someone else's
  waiters.Notify();
  store_.inbox.Add(To("a@x.io", "111111"));
  waiters.Notify();
  const std::optional<WaitResult> r = out.Get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->end, WaitEnd::kFound);
  EXPECT_EQ(r->messages.at(0).message.code, "111111");
  timers_.Stop();
}

TEST_P(InboxWaitersTest, NothingMatchingTimesOutAfterTheWaitNotBefore) {
  InboxWaiters& waiters = Make({});
  Outcome1 out;
  const auto start = SteadyClock::now();
  waiters.Wait(For("a@x.io"), milliseconds(300), out.Callback());
  const std::optional<WaitResult> r = out.Get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->end, WaitEnd::kTimedOut);
  EXPECT_GE(out.at() - start, milliseconds(300));
  EXPECT_EQ(waiters.waiting(), 0u);
  timers_.Stop();
}

TEST_P(InboxWaitersTest, TheCursorSkipsOlderMatches) {
  const uint64_t old = store_.inbox.Add(To("a@x.io", "111111"));
  InboxWaiters& waiters = Make({});
  InboxQuery q = For("a@x.io");
  q.after = old;
  Outcome1 out;
  waiters.Wait(q, seconds(30), out.Callback());
  ASSERT_TRUE(WaitForWaiting(waiters, 1));
  EXPECT_FALSE(out.done());
  store_.inbox.Add(To("a@x.io", "222222"));
  waiters.Notify();
  const std::optional<WaitResult> r = out.Get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->messages.at(0).message.code, "222222");
  timers_.Stop();
}

TEST_P(InboxWaitersTest, BeyondTheBoundWaitIsRefusedAtOnce) {
  InboxWaiters& waiters = Make({.max_waiters = 2});
  Outcome1 first, second, third;
  waiters.Wait(For("a@x.io"), seconds(30), first.Callback());
  waiters.Wait(For("b@x.io"), seconds(30), second.Callback());
  waiters.Wait(For("c@x.io"), seconds(30), third.Callback());
  const std::optional<WaitResult> refused = third.Get();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->end, WaitEnd::kTooMany);
  EXPECT_EQ(waiters.waiting(), 2u);
  waiters.Drain();
  timers_.Stop();
}

TEST_P(InboxWaitersTest, DrainAnswersEveryWaiterAndRefusesNewOnes) {
  InboxWaiters& waiters = Make({});
  Outcome1 a, b, later;
  waiters.Wait(For("a@x.io"), seconds(30), a.Callback());
  waiters.Wait(For("b@x.io"), seconds(30), b.Callback());
  ASSERT_TRUE(WaitForWaiting(waiters, 2));
  waiters.Drain();
  for (Outcome1* out : {&a, &b}) {
    const std::optional<WaitResult> r = out->Get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->end, WaitEnd::kDraining);
  }
  waiters.Wait(For("c@x.io"), seconds(30), later.Callback());
  ASSERT_TRUE(later.Get());
  EXPECT_EQ(later.Get()->end, WaitEnd::kDraining);
  EXPECT_EQ(timers_.pending(), 0u);  // the timeouts were cancelled
  timers_.Stop();
}

// A message added where this node does not see it (another node of a shared store): the poller
// notices the newest cursor move and the waiter is answered without Notify.
TEST_P(InboxWaitersTest, ThePollerFindsMessagesAddedElsewhere) {
  InboxWaiters& waiters = Make({.poll_interval = milliseconds(20)});
  Outcome1 out;
  waiters.Wait(For("a@x.io"), seconds(30), out.Callback());
  ASSERT_TRUE(WaitForWaiting(waiters, 1));
  store_.inbox.Add(To("a@x.io", "111111"));
  const std::optional<WaitResult> r = out.Get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->end, WaitEnd::kFound);
  EXPECT_EQ(r->messages.at(0).message.code, "111111");
  // Nobody waits: the poller stops (nothing left in the timer queue: no poll, no timeout).
  ASSERT_TRUE(WaitUntil("no timers", [&] { return timers_.pending() == 0; }));
  timers_.Stop();
}

TEST_P(InboxWaitersTest, ZeroWaitLooksOnceAndHoldsNothing) {
  InboxWaiters& waiters = Make({.max_waiters = 1});
  Outcome1 out;
  waiters.Wait(For("a@x.io"), milliseconds(0), out.Callback());
  const std::optional<WaitResult> r = out.Get();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->end, WaitEnd::kTimedOut);
  EXPECT_EQ(waiters.waiting(), 0u);
  timers_.Stop();
}

TEST_P(InboxWaitersTest, ManyWaitersOnManyThreadsAreEachAnsweredOnce) {
  InboxWaiters& waiters = Make({.max_waiters = 64});
  constexpr int kWaiters = 32;
  std::vector<Outcome1> outs(kWaiters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      waiters.Wait(For("r" + std::to_string(i) + "@x.io"), seconds(30), outs[i].Callback());
    });
  }
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      store_.inbox.Add(To("r" + std::to_string(i) + "@x.io", std::to_string(100000 + i)));
      waiters.Notify();
    });
  }
  for (std::thread& t : threads) t.join();
  waiters.Notify();  // a waiter registered after every add looked once already; harmless
  for (int i = 0; i < kWaiters; ++i) {
    const std::optional<WaitResult> r = outs[i].Get();
    ASSERT_TRUE(r) << i;
    EXPECT_EQ(r->end, WaitEnd::kFound) << i;
    EXPECT_EQ(r->messages.at(0).message.code, std::to_string(100000 + i));
  }
  timers_.Stop();
}

INSTANTIATE_TEST_SUITE_P(Stores, InboxWaitersTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("LaterOnAnotherThread")
                                             : std::string("BeforeTheCallReturns");
                         });

}  // namespace
}  // namespace mfa
