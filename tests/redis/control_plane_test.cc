// SPDX-License-Identifier: Apache-2.0
// RedisControlPlane over a real redis-server: the first node publishes its settings, a write is
// answered only once every live node applied it, concurrent writes lose nothing, and a node that
// stops is no longer waited for.
#include "redis/control_plane.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/redis_server.h"
#include "tests/support/wait.h"

namespace mfa::redis {
namespace {

// One node: a client, a control plane, and what it applied.
struct Node {
  Node(uint16_t port, std::string prefix, std::string id, std::string config,
       std::chrono::milliseconds live_window = std::chrono::milliseconds(1000)) {
    RouterOptions options;
    options.seeds = {{"127.0.0.1", port}};
    client = std::make_unique<Router>(options);
    EXPECT_TRUE(client->Start());
    control = std::make_unique<RedisControlPlane>(
        *client,
        ControlPlaneOptions{
            .prefix = std::move(prefix), .node_id = std::move(id), .live_window = live_window},
        ControlState{.config = std::move(config)}, [this](const ControlState& s) {
          std::lock_guard<std::mutex> lock(mu);
          applied = s;
        });
    control->Start();
  }
  ~Node() {
    control->Stop();
    client->Stop();
  }
  ControlState Applied() {
    std::lock_guard<std::mutex> lock(mu);
    return applied;
  }
  Outcome Update(std::function<bool(ControlState*)> modify) {
    std::promise<Outcome> promise;
    control->Update(std::move(modify), [&promise](Outcome o) { promise.set_value(o); });
    return promise.get_future().get();
  }

  std::unique_ptr<Router> client;
  std::unique_ptr<RedisControlPlane> control;
  std::mutex mu;
  ControlState applied;  // GUARDED_BY(mu)
};

class ControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = mfa_test::RedisServer::Start();
    ASSERT_NE(redis_, nullptr);
  }
  std::unique_ptr<mfa_test::RedisServer> redis_;
};

TEST_F(ControlPlaneTest, TheFirstNodesSettingsBecomeTheDeploymentsAndLaterNodesAdoptThem) {
  Node a(redis_->port(), "cp1", "a", "config-of-a");
  ASSERT_TRUE(mfa_test::WaitFor("a published", [&] { return a.Applied().version == 1; }));
  Node b(redis_->port(), "cp1", "b", "config-of-b");
  ASSERT_TRUE(mfa_test::WaitFor("b adopted", [&] { return b.Applied().version == 1; }));
  EXPECT_EQ(b.Applied().config, "config-of-a");
}

TEST_F(ControlPlaneTest, AWriteIsAnsweredOnlyOnceEveryLiveNodeAppliedIt) {
  Node a(redis_->port(), "cp2", "a", "v1");
  Node b(redis_->port(), "cp2", "b", "v1");
  ASSERT_TRUE(mfa_test::WaitFor("both applied the first version", [&] {
    return a.Applied().version == 1 && b.Applied().version == 1;
  }));
  // Let both heartbeats land so b counts as live for a's writes.
  ASSERT_TRUE(mfa_test::WaitFor("two live nodes", [&] {
    std::promise<size_t> count;
    a.control->Nodes(
        [&](StoreAnswer<std::vector<ControlNode>> nodes) { count.set_value(nodes.value.size()); });
    return count.get_future().get() == 2;
  }));
  for (int i = 2; i <= 20; ++i) {
    ASSERT_EQ(a.Update([i](ControlState* s) {
      s->config = "v" + std::to_string(i);
      s->clock_offset_ms = i * 1000;
      return true;
    }),
              Outcome::kOk);
    const ControlState seen = b.Applied();  // at once, no waiting
    EXPECT_EQ(seen.config, "v" + std::to_string(i));
    EXPECT_EQ(seen.clock_offset_ms, i * 1000);
  }
}

TEST_F(ControlPlaneTest, ConcurrentWritesOnTwoNodesLoseNoUpdate) {
  Node a(redis_->port(), "cp3", "a", "x");
  Node b(redis_->port(), "cp3", "b", "x");
  ASSERT_TRUE(mfa_test::WaitFor(
      "both applied", [&] { return a.Applied().version >= 1 && b.Applied().version >= 1; }));
  auto add_seconds = [](ControlState* s) {
    s->clock_offset_ms += 1000;
    return true;
  };
  std::thread other([&] {
    for (int i = 0; i < 15; ++i) EXPECT_EQ(b.Update(add_seconds), Outcome::kOk);
  });
  for (int i = 0; i < 15; ++i) EXPECT_EQ(a.Update(add_seconds), Outcome::kOk);
  other.join();
  ASSERT_TRUE(mfa_test::WaitFor("both saw every write", [&] {
    return a.Applied().clock_offset_ms == 30'000 && b.Applied().clock_offset_ms == 30'000;
  }));
}

TEST_F(ControlPlaneTest, AbandonedWriteAnswersInvalidInputAndChangesNothing) {
  Node a(redis_->port(), "cp4", "a", "keep");
  ASSERT_TRUE(mfa_test::WaitFor("published", [&] { return a.Applied().version == 1; }));
  EXPECT_EQ(a.Update([](ControlState*) { return false; }), Outcome::kInvalidInput);
  EXPECT_EQ(a.Applied().version, 1);
  EXPECT_EQ(a.Applied().config, "keep");
}

TEST_F(ControlPlaneTest, ANodeThatStoppedIsNoLongerWaitedFor) {
  Node a(redis_->port(), "cp5", "a", "s", std::chrono::milliseconds(300));
  {
    Node b(redis_->port(), "cp5", "b", "s", std::chrono::milliseconds(300));
    ASSERT_TRUE(mfa_test::WaitFor("b applied", [&] { return b.Applied().version == 1; }));
  }
  // b is gone; after its heartbeat ages out, a write needs only a.
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(a.Update([](ControlState* s) {
    s->config = "t";
    return true;
  }),
            Outcome::kOk);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(a.Applied().config, "t");
}

TEST_F(ControlPlaneTest, AWriteWhileRedisIsDownAnswersUnavailable) {
  Node a(redis_->port(), "cp6", "a", "s");
  ASSERT_TRUE(mfa_test::WaitFor("published", [&] { return a.Applied().version == 1; }));
  redis_->Kill();
  EXPECT_EQ(a.Update([](ControlState* s) {
    s->config = "lost";
    return true;
  }),
            Outcome::kStoreUnavailable);
  EXPECT_EQ(a.Applied().config, "s");
}

}  // namespace
}  // namespace mfa::redis
