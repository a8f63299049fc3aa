// SPDX-License-Identifier: Apache-2.0
// mfa::redis::Client against a real redis-server (tests/support/redis_server.h): replies, pipelined
// order under concurrency, scripts, and what callers see while Redis is down, stopped or killed.
#include "redis/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/redis_server.h"
#include "tests/support/wait.h"

namespace mfa::redis {
namespace {

using mfa_test::kStateTimeout;
using mfa_test::RedisServer;
using mfa_test::WaitFor;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// One call's completion, shared with its callback (which may outlive the test's locals).
class Completion {
 public:
  Completion() : state_(std::make_shared<State>()) {}

  // The callback to hand to the client. Records the result, the time and how often it ran.
  Callback Done() const {
    return [state = state_](CallResult&& result) {
      std::lock_guard<std::mutex> lock(state->mu);
      if (++state->runs == 1) {
        state->result = std::move(result);
        state->at = SteadyClock::now();
        state->on_thread = std::this_thread::get_id();
      }
      state->cv.notify_all();
    };
  }
  // Waits (bounded generously) until the callback ran.
  ::testing::AssertionResult Wait() const {
    std::unique_lock<std::mutex> lock(state_->mu);
    if (state_->cv.wait_for(lock, kStateTimeout, [&] { return state_->runs > 0; })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "the callback did not run within " << kStateTimeout.count() << " ms";
  }
  int runs() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->runs;
  }
  // For a waiter with its own bound: the state's mutex, condition and the fields it guards.
  std::mutex& mu() const { return state_->mu; }
  std::condition_variable& cv() const { return state_->cv; }
  int runs_locked() const { return state_->runs; }
  const CallResult& result_locked() const { return state_->result; }
  CallResult result() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->result;
  }
  SteadyClock::time_point at() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->at;
  }
  std::thread::id on_thread() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->on_thread;
  }

 private:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    int runs = 0;                // GUARDED_BY(mu)
    CallResult result;           // GUARDED_BY(mu)
    SteadyClock::time_point at;  // GUARDED_BY(mu)
    std::thread::id on_thread;   // GUARDED_BY(mu)
  };
  std::shared_ptr<State> state_;
};

class CountingObserver : public ClientObserver {
 public:
  void CallFinished(std::string_view op, CallError error, std::chrono::nanoseconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++finished_[std::string(op) + ":" + std::string(ToString(error))];
  }
  void Reconnected() override { reconnected_.fetch_add(1); }
  void ConnectionChanged(bool up) override {
    std::lock_guard<std::mutex> lock(mu_);
    changes_.push_back(up);
  }
  int finished(const std::string& op_and_error) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = finished_.find(op_and_error);
    return it == finished_.end() ? 0 : it->second;
  }
  int reconnected() const { return reconnected_.load(); }
  std::vector<bool> changes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return changes_;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, int> finished_;  // GUARDED_BY(mu_)
  std::vector<bool> changes_;            // GUARDED_BY(mu_)
  std::atomic<int> reconnected_{0};
};

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = RedisServer::Start();
    ASSERT_NE(server_, nullptr);
  }

  ClientOptions Options(milliseconds call_timeout = milliseconds(5000)) const {
    ClientOptions options;
    options.port = server_->port();
    options.call_timeout = call_timeout;
    return options;
  }

  // A started client, connected (unless `wait_connected` is false).
  std::unique_ptr<Client> Connect(ClientOptions options, bool wait_connected = true) {
    auto client = std::make_unique<Client>(std::move(options), &observer_);
    EXPECT_TRUE(client->Start());
    if (wait_connected) {
      EXPECT_TRUE(WaitForConnected(*client, true));
    }
    return client;
  }

  static ::testing::AssertionResult WaitForConnected(const Client& client, bool up) {
    return WaitFor(up ? "the client to connect" : "the client to notice the outage",
                   [&] { return client.connected() == up; });
  }

  // Runs one call and waits for its result.
  static CallResult Run(Client& client, const std::vector<std::string>& argv) {
    Completion done;
    client.Call(argv, "test", done.Done());
    EXPECT_TRUE(done.Wait()) << argv[0];
    EXPECT_EQ(done.runs(), 1);
    return done.result();
  }

  CountingObserver observer_;  // declared first: outlives the clients
  std::unique_ptr<RedisServer> server_;
};

TEST_F(RedisClientTest, ACallReturnsItsValue) {
  auto client = Connect(Options());

  CallResult set = Run(*client, {"SET", "greeting", "hello"});
  EXPECT_EQ(set.error, CallError::kNone);
  EXPECT_EQ(set.value.type, Value::Type::kStatus);
  EXPECT_EQ(set.value.str, "OK");

  CallResult get = Run(*client, {"GET", "greeting"});
  EXPECT_EQ(get.error, CallError::kNone);
  EXPECT_EQ(get.value.type, Value::Type::kString);
  EXPECT_EQ(get.value.str, "hello");

  CallResult incr = Run(*client, {"INCR", "counter"});
  EXPECT_EQ(incr.value.type, Value::Type::kInteger);
  EXPECT_EQ(incr.value.integer, 1);

  CallResult missing = Run(*client, {"GET", "no-such-key"});
  EXPECT_EQ(missing.error, CallError::kNone);
  EXPECT_TRUE(missing.value.is_nil());

  CallResult error = Run(*client, {"INCR", "greeting"});
  EXPECT_EQ(error.error, CallError::kNone);  // an error reply is a value
  EXPECT_TRUE(error.value.is_error());
  EXPECT_EQ(error.value.str.substr(0, 4), "ERR ") << error.value.str;

  CallResult mget = Run(*client, {"MGET", "greeting", "no-such-key", "counter"});
  ASSERT_EQ(mget.value.type, Value::Type::kArray);
  ASSERT_EQ(mget.value.elements.size(), 3u);
  EXPECT_EQ(mget.value.elements[0].str, "hello");
  EXPECT_TRUE(mget.value.elements[1].is_nil());
  EXPECT_EQ(mget.value.elements[2].str, "1");

  const std::string binary("a\0b\r\n$3\r\nc", 11);
  EXPECT_EQ(Run(*client, {"SET", binary, binary}).value.str, "OK");
  EXPECT_EQ(Run(*client, {"GET", binary}).value.str, binary);

  EXPECT_EQ(observer_.finished("test:none"), 8);
  EXPECT_EQ(client->in_flight(), 0u);
}

TEST_F(RedisClientTest, TenThousandCallsFromFourThreadsEachGetTheirOwnAnswer) {
  auto client = Connect(Options(milliseconds(60'000)));
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2500;
  std::vector<std::atomic<int>> runs(kThreads * kPerThread);
  std::atomic<int> wrong{0};
  std::atomic<int> finished{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const int id = t * kPerThread + i;
        std::string token = "token-" + std::to_string(id);
        client->Call({"ECHO", token}, "echo", [&, id, token](CallResult&& result) {
          if (result.error != CallError::kNone || result.value.str != token) wrong.fetch_add(1);
          runs[id].fetch_add(1);
          finished.fetch_add(1);
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(WaitFor(
      "every call to complete", [&] { return finished.load() == 10'000; },
      [&] { return std::to_string(finished.load()) + " completed"; }));
  EXPECT_EQ(wrong.load(), 0);
  int not_once = 0;
  for (const auto& r : runs) not_once += r.load() != 1;
  EXPECT_EQ(not_once, 0);
  EXPECT_TRUE(WaitFor("no call in flight", [&] { return client->in_flight() == 0; }));
}

TEST_F(RedisClientTest, ACallbackMayCallAgainWithinTheCap) {
  ClientOptions options = Options();
  options.max_in_flight = 1;
  auto client = Connect(options);
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  std::function<void(int)> next = [&](int left) {
    client->Call({"INCR", "chain"}, "incr", [&, left](CallResult&& result) {
      if (result.error != CallError::kNone) failed.fetch_add(1);
      if (left > 1) {
        next(left - 1);
      } else {
        done.store(1);
      }
    });
  };
  next(100);
  EXPECT_TRUE(WaitFor("the chain to finish", [&] { return done.load() == 1; }));
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(Run(*client, {"GET", "chain"}).value.str, "100");
}

TEST_F(RedisClientTest, ScriptLoadsOnFirstUseAndAfterScriptFlush) {
  auto client = Connect(Options());
  const Script script("return {KEYS[1], ARGV[1]}\n");
  EXPECT_EQ(script.sha1().size(), 40u);
  auto exists = server_->Command({"SCRIPT", "EXISTS", script.sha1()});
  ASSERT_NE(exists, nullptr);
  ASSERT_EQ(exists->elements, 1u);
  EXPECT_EQ(exists->element[0]->integer, 0);

  auto run_script = [&](const std::string& key, const std::string& arg) {
    Completion done;
    client->CallScript(script, {key}, {arg}, "script", done.Done());
    EXPECT_TRUE(done.Wait());
    EXPECT_EQ(done.runs(), 1);
    CallResult result = done.result();
    EXPECT_EQ(result.error, CallError::kNone);
    EXPECT_EQ(result.value.type, Value::Type::kArray) << result.value.str;
    if (result.value.elements.size() == 2) {
      EXPECT_EQ(result.value.elements[0].str, key);
      EXPECT_EQ(result.value.elements[1].str, arg);
    } else {
      ADD_FAILURE() << "expected 2 elements, got " << result.value.elements.size();
    }
  };
  run_script("k1", "a1");
  // Redis now knows it under the SHA-1 computed here, from the exact bytes (trailing newline).
  auto loaded = server_->Command({"SCRIPT", "LOAD", script.source()});
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(std::string(loaded->str, loaded->len), script.sha1());
  EXPECT_NE(Script("return {KEYS[1], ARGV[1]}").sha1(), script.sha1());
  run_script("k2", "a2");  // loaded: no retry

  ASSERT_NE(server_->Command({"SCRIPT", "FLUSH"}), nullptr);
  run_script("k3", "a3");

  // Many calls at once after a flush: all NOSCRIPT, one load in the pipeline, all retried.
  ASSERT_NE(server_->Command({"SCRIPT", "FLUSH"}), nullptr);
  constexpr int kCalls = 300;
  std::atomic<int> right{0};
  std::atomic<int> finished{0};
  for (int i = 0; i < kCalls; ++i) {
    const std::string key = "key-" + std::to_string(i);
    client->CallScript(script, {key}, {"x"}, "script", [&, key](CallResult&& result) {
      if (result.error == CallError::kNone && result.value.elements.size() == 2 &&
          result.value.elements[0].str == key) {
        right.fetch_add(1);
      }
      finished.fetch_add(1);
    });
  }
  EXPECT_TRUE(WaitFor("every script call to complete", [&] { return finished.load() == kCalls; }));
  EXPECT_EQ(right.load(), kCalls);
  EXPECT_TRUE(WaitFor("no call in flight", [&] { return client->in_flight() == 0; }));
}

TEST_F(RedisClientTest, AScriptErrorOtherThanNoScriptIsTheCallersValue) {
  auto client = Connect(Options());
  const Script script("return redis.call('INCR', KEYS[1])");
  ASSERT_NE(server_->Command({"SET", "text", "not a number"}), nullptr);
  Completion done;
  client->CallScript(script, {"text"}, {}, "script", done.Done());
  ASSERT_TRUE(done.Wait());
  EXPECT_EQ(done.result().error, CallError::kNone);
  EXPECT_TRUE(done.result().value.is_error());
  EXPECT_EQ(done.runs(), 1);
}

TEST_F(RedisClientTest, RedisDownAtStartAnswersUnavailableAtOnceThenTheClientConnectsByItself) {
  const milliseconds call_timeout(5000);
  ClientOptions options = Options(call_timeout);
  server_->Kill();  // its port is now free and nothing listens there
  auto client = Connect(options, /*wait_connected=*/false);
  EXPECT_FALSE(client->connected());
  for (int i = 0; i < 3; ++i) {
    Completion done;
    const auto start = SteadyClock::now();
    client->Call({"PING"}, "ping", done.Done());
    ASSERT_EQ(done.runs(), 1) << "answered before Call returned";
    EXPECT_EQ(done.result().error, CallError::kUnavailable);
    EXPECT_EQ(done.on_thread(), std::this_thread::get_id());
    EXPECT_LT(done.at() - start, call_timeout / 5);
  }
  EXPECT_EQ(observer_.finished("ping:unavailable"), 3);
  EXPECT_EQ(client->in_flight(), 0u);

  ASSERT_TRUE(server_->Restart());
  EXPECT_TRUE(WaitForConnected(*client, true));
  CallResult pong = Run(*client, {"PING"});
  EXPECT_EQ(pong.error, CallError::kNone);
  EXPECT_EQ(pong.value.str, "PONG");
  EXPECT_EQ(observer_.reconnected(), 0);  // the first connection is not a reconnection
}

TEST_F(RedisClientTest, StoppedRedisTimesCallsOutAndTheyWorkAgainAfterItContinues) {
  const milliseconds call_timeout(1000);
  ClientOptions options = Options(call_timeout);
  options.health_interval = milliseconds(100);
  auto client = Connect(options);
  ASSERT_EQ(Run(*client, {"SET", "k", "v"}).error, CallError::kNone);

  server_->Pause();
  // Idle: the health PING goes unanswered.
  EXPECT_TRUE(WaitForConnected(*client, false));

  Completion done;
  const auto start = SteadyClock::now();
  client->Call({"GET", "k"}, "get", done.Done());
  ASSERT_TRUE(done.Wait());
  EXPECT_EQ(done.result().error, CallError::kTimeout);
  EXPECT_GE(done.at() - start, call_timeout);
  EXPECT_LE(done.at() - start, 5 * call_timeout);
  EXPECT_NE(done.on_thread(), std::this_thread::get_id());
  EXPECT_EQ(client->in_flight(), 1u);  // still owed a reply

  server_->Resume();
  EXPECT_TRUE(WaitForConnected(*client, true));
  CallResult get = Run(*client, {"GET", "k"});
  EXPECT_EQ(get.error, CallError::kNone);
  EXPECT_EQ(get.value.str, "v");
  EXPECT_EQ(done.runs(), 1);  // the late reply to the timed-out call was discarded
  EXPECT_TRUE(WaitFor("no call in flight", [&] { return client->in_flight() == 0; }));
  EXPECT_EQ(observer_.finished("get:timeout"), 1);
  const std::vector<bool> changes = observer_.changes();
  ASSERT_GE(changes.size(), 3u);
  EXPECT_TRUE(changes[0]);
  EXPECT_FALSE(changes[1]);
  EXPECT_TRUE(changes[2]);
}

TEST_F(RedisClientTest, KilledRedisFailsCallsInFlightAndTheClientReconnectsToItsRestart) {
  auto client = Connect(Options(milliseconds(60'000)));
  server_->Pause();  // so that the calls are surely in flight when it dies
  std::vector<Completion> calls(5);
  for (Completion& c : calls) client->Call({"INCR", "n"}, "incr", c.Done());
  server_->Kill();
  for (Completion& c : calls) {
    ASSERT_TRUE(c.Wait());
    const CallError error = c.result().error;
    EXPECT_TRUE(error == CallError::kIo || error == CallError::kUnavailable) << ToString(error);
  }
  EXPECT_TRUE(WaitForConnected(*client, false));
  EXPECT_EQ(Run(*client, {"PING"}).error, CallError::kUnavailable);
  EXPECT_EQ(client->in_flight(), 0u);

  ASSERT_TRUE(server_->Restart());
  EXPECT_TRUE(WaitForConnected(*client, true));
  CallResult incr = Run(*client, {"INCR", "n"});
  EXPECT_EQ(incr.error, CallError::kNone);
  EXPECT_EQ(incr.value.integer, 1);
  EXPECT_EQ(observer_.reconnected(), 1);
  for (Completion& c : calls) EXPECT_EQ(c.runs(), 1);
}

TEST_F(RedisClientTest, TheCallBeyondTheInFlightCapFailsOverloadedAtOnce) {
  constexpr size_t kCap = 5;
  ClientOptions options = Options(milliseconds(60'000));
  options.max_in_flight = kCap;
  auto client = Connect(options);
  server_->Pause();
  std::vector<Completion> accepted(kCap);
  for (Completion& c : accepted) client->Call({"PING"}, "ping", c.Done());
  EXPECT_EQ(client->in_flight(), kCap);

  Completion refused;
  client->Call({"PING"}, "ping", refused.Done());
  ASSERT_EQ(refused.runs(), 1) << "answered before Call returned";
  EXPECT_EQ(refused.result().error, CallError::kOverloaded);
  for (Completion& c : accepted) EXPECT_EQ(c.runs(), 0);

  server_->Resume();
  for (Completion& c : accepted) {
    ASSERT_TRUE(c.Wait());
    EXPECT_EQ(c.result().error, CallError::kNone);
  }
  EXPECT_TRUE(WaitFor("no call in flight", [&] { return client->in_flight() == 0; }));
  EXPECT_EQ(Run(*client, {"PING"}).error, CallError::kNone);
}

TEST_F(RedisClientTest, ATimedOutCallKeepsItsSlotUntilItsReplyArrives) {
  ClientOptions options = Options(milliseconds(1000));
  options.max_in_flight = 2;
  auto client = Connect(options);
  server_->Pause();
  Completion first, second;
  client->Call({"PING"}, "ping", first.Done());
  client->Call({"PING"}, "ping", second.Done());
  ASSERT_TRUE(first.Wait());
  ASSERT_TRUE(second.Wait());
  EXPECT_EQ(first.result().error, CallError::kTimeout);
  EXPECT_EQ(second.result().error, CallError::kTimeout);
  EXPECT_EQ(client->in_flight(), 2u);
  Completion third;
  client->Call({"PING"}, "ping", third.Done());
  EXPECT_EQ(third.result().error, CallError::kOverloaded);

  server_->Resume();
  EXPECT_TRUE(
      WaitFor("the owed replies to free the slots", [&] { return client->in_flight() == 0; }));
  EXPECT_EQ(first.runs(), 1);
  EXPECT_EQ(second.runs(), 1);
}

TEST_F(RedisClientTest, AConnectionStalledForTenCallTimeoutsIsRemadeAndFreesItsSlots) {
  auto client = Connect(Options(milliseconds(200)));
  server_->Pause();
  Completion done;
  client->Call({"PING"}, "ping", done.Done());
  ASSERT_TRUE(done.Wait());
  EXPECT_EQ(done.result().error, CallError::kTimeout);
  // Still stopped: after 10 × 200 ms without a reply the client gives the connection up.
  EXPECT_TRUE(
      WaitFor("the stalled call's slot to be freed", [&] { return client->in_flight() == 0; }));
  EXPECT_EQ(done.runs(), 1);
  server_->Resume();
  EXPECT_TRUE(WaitForConnected(*client, true));
  EXPECT_EQ(Run(*client, {"PING"}).error, CallError::kNone);
}

TEST_F(RedisClientTest, StopCompletesOutstandingCallsWithStoppedExactlyOnce) {
  auto client = Connect(Options(milliseconds(60'000)));
  server_->Pause();
  std::vector<Completion> calls(20);
  for (Completion& c : calls) client->Call({"INCR", "n"}, "incr", c.Done());
  client->Stop();
  for (Completion& c : calls) {
    EXPECT_EQ(c.runs(), 1);
    EXPECT_EQ(c.result().error, CallError::kStopped);
  }
  EXPECT_EQ(client->in_flight(), 0u);
  EXPECT_FALSE(client->connected());

  Completion after;
  client->Call({"PING"}, "ping", after.Done());
  EXPECT_EQ(after.runs(), 1);
  EXPECT_EQ(after.result().error, CallError::kStopped);
  client->Stop();  // idempotent
  client.reset();
  for (Completion& c : calls) EXPECT_EQ(c.runs(), 1);
  server_->Resume();
}

// ---- clients sharing one EventLoop (a Router's masters) ----

TEST_F(RedisClientTest, ClientsSharingALoopEachGetTheirOwnAnswersOnTheLoopsThread) {
  auto second_server = RedisServer::Start();
  ASSERT_NE(second_server, nullptr);
  EventLoop loop;
  ASSERT_TRUE(loop.Start());
  ClientOptions second_options = Options(milliseconds(60'000));
  second_options.port = second_server->port();
  std::vector<std::unique_ptr<Client>> clients;
  clients.push_back(std::make_unique<Client>(Options(milliseconds(60'000)), &observer_, &loop));
  clients.push_back(std::make_unique<Client>(second_options, &observer_, &loop));
  for (auto& client : clients) {
    ASSERT_TRUE(client->Start());
    ASSERT_TRUE(WaitForConnected(*client, true));
  }
  // Each server keeps its own counter: a reply routed to the other client would show.
  EXPECT_EQ(Run(*clients[0], {"SET", "who", "first"}).value.str, "OK");
  EXPECT_EQ(Run(*clients[1], {"SET", "who", "second"}).value.str, "OK");

  constexpr int kThreads = 4;
  constexpr int kPerThread = 1000;
  std::atomic<int> wrong{0};
  std::atomic<int> finished{0};
  std::mutex threads_mu;
  std::set<std::thread::id> callback_threads;  // GUARDED_BY(threads_mu)
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const size_t which = static_cast<size_t>(i + t) % 2;
        const std::string expected = which == 0 ? "first" : "second";
        clients[which]->Call({"GET", "who"}, "get", [&, expected](CallResult&& result) {
          if (result.error != CallError::kNone || result.value.str != expected) wrong.fetch_add(1);
          {
            std::lock_guard<std::mutex> lock(threads_mu);
            callback_threads.insert(std::this_thread::get_id());
          }
          finished.fetch_add(1);
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(WaitFor(
      "every call to complete", [&] { return finished.load() == kThreads * kPerThread; },
      [&] { return std::to_string(finished.load()) + " completed"; }));
  EXPECT_EQ(wrong.load(), 0);
  std::lock_guard<std::mutex> lock(threads_mu);
  EXPECT_EQ(callback_threads.size(), 1u) << "both clients' callbacks run on the loop's one thread";
}

TEST_F(RedisClientTest, NoWakeUpIsLostWhileCallsArriveFromManyThreads) {
  // Without health pings and with long deadlines, a lost wake-up leaves a call unsent until its
  // deadline (60 s); every healthy round trip takes well under a second even on a busy machine.
  ClientOptions options = Options(milliseconds(60'000));
  options.health_interval = milliseconds(0);
  auto client = Connect(options);
  constexpr int kThreads = 4;
  constexpr int kRoundTrips = 20000;
  constexpr auto kStuck = std::chrono::seconds(20);
  std::atomic<int> stuck{0};
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRoundTrips && stuck.load() == 0; ++i) {
        const std::string token = std::to_string(t) + ":" + std::to_string(i);
        Completion done;
        client->Call({"ECHO", token}, "echo", done.Done());
        std::unique_lock<std::mutex> lock(done.mu());
        if (!done.cv().wait_for(lock, kStuck, [&] { return done.runs_locked() > 0; })) {
          stuck.fetch_add(1);
        } else if (done.result_locked().value.str != token) {
          wrong.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(stuck.load(), 0) << "a call waited " << kStuck.count() << " s: its wake-up was lost";
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(RedisClientTest, StoppingOneClientOfASharedLoopLeavesTheOtherServing) {
  auto second_server = RedisServer::Start();
  ASSERT_NE(second_server, nullptr);
  EventLoop loop;
  ASSERT_TRUE(loop.Start());
  ClientOptions second_options = Options(milliseconds(60'000));
  second_options.port = second_server->port();
  auto paused = std::make_unique<Client>(Options(milliseconds(60'000)), &observer_, &loop);
  auto other = std::make_unique<Client>(second_options, &observer_, &loop);
  ASSERT_TRUE(paused->Start());
  ASSERT_TRUE(other->Start());
  ASSERT_TRUE(WaitForConnected(*paused, true));
  ASSERT_TRUE(WaitForConnected(*other, true));

  server_->Pause();  // the stopped client's calls are outstanding when it stops
  std::vector<Completion> calls(10);
  for (Completion& c : calls) paused->Call({"INCR", "n"}, "incr", c.Done());
  paused->Stop();
  for (Completion& c : calls) {
    EXPECT_EQ(c.runs(), 1);
    EXPECT_EQ(c.result().error, CallError::kStopped);
  }
  Completion after;
  paused->Call({"PING"}, "ping", after.Done());
  EXPECT_EQ(after.runs(), 1);
  EXPECT_EQ(after.result().error, CallError::kStopped);
  server_->Resume();

  EXPECT_EQ(Run(*other, {"PING"}).value.str, "PONG");
  paused.reset();
  EXPECT_EQ(Run(*other, {"PING"}).value.str, "PONG");
}

TEST_F(RedisClientTest, StoppingASharedLoopStopsEveryClientAndRefusesNewOnes) {
  EventLoop loop;
  ASSERT_TRUE(loop.Start());
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(std::make_unique<Client>(Options(milliseconds(60'000)), &observer_, &loop));
    ASSERT_TRUE(clients.back()->Start());
    ASSERT_TRUE(WaitForConnected(*clients.back(), true));
  }
  server_->Pause();
  std::vector<Completion> calls(30);
  for (size_t i = 0; i < calls.size(); ++i) {
    clients[i % clients.size()]->Call({"INCR", "n"}, "incr", calls[i].Done());
  }
  loop.Stop();
  for (Completion& c : calls) {
    EXPECT_EQ(c.runs(), 1);
    EXPECT_EQ(c.result().error, CallError::kStopped);
  }
  for (auto& client : clients) {
    EXPECT_FALSE(client->connected());
    EXPECT_EQ(client->in_flight(), 0u);
    Completion after;
    client->Call({"PING"}, "ping", after.Done());
    EXPECT_EQ(after.result().error, CallError::kStopped);
  }
  Client late(Options(), &observer_, &loop);
  EXPECT_FALSE(late.Start()) << "a stopped loop takes no new client";
  server_->Resume();
}

TEST_F(RedisClientTest, ACallbackMayStartANewClientOnItsOwnLoop) {
  // What a Router does on a MOVED to a node it has not met: a completion adds a client.
  EventLoop loop;
  ASSERT_TRUE(loop.Start());
  auto first = std::make_unique<Client>(Options(), &observer_, &loop);
  ASSERT_TRUE(first->Start());
  ASSERT_TRUE(WaitForConnected(*first, true));
  std::unique_ptr<Client> added;
  std::atomic<bool> started{false};
  Completion done;
  first->Call({"PING"}, "ping", [&, callback = done.Done()](CallResult&& result) mutable {
    added = std::make_unique<Client>(Options(), &observer_, &loop);
    started.store(added->Start());
    callback(std::move(result));
  });
  ASSERT_TRUE(done.Wait());
  ASSERT_TRUE(started.load());
  ASSERT_TRUE(WaitForConnected(*added, true));
  EXPECT_EQ(Run(*added, {"ECHO", "joined"}).value.str, "joined");
  loop.Stop();
}

TEST(RedisClientUnitTest, ScriptShaIsTheSha1OfItsBytes) {
  EXPECT_EQ(Script("").sha1(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Script("abc").sha1(), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(RedisClientUnitTest, CallsBeforeStartAreUnavailableAndAnEmptyCommandIsAnErrorValue) {
  Client client(ClientOptions{});
  Completion before;
  client.Call({"PING"}, "ping", before.Done());
  EXPECT_EQ(before.runs(), 1);
  EXPECT_EQ(before.result().error, CallError::kUnavailable);
  Completion empty;
  client.Call({}, "empty", empty.Done());
  EXPECT_EQ(empty.runs(), 1);
  EXPECT_EQ(empty.result().error, CallError::kNone);
  EXPECT_TRUE(empty.result().value.is_error());
  EXPECT_EQ(ToString(CallError::kOverloaded), "overloaded");
}

}  // namespace
}  // namespace mfa::redis
