// SPDX-License-Identifier: Apache-2.0
// The router over a real redis-server and a real local Redis Cluster (Debian's redis-server and
// redis-cli): topology found by itself, commands routed by slot, MOVED after resharding and ASK
// during a slot's migration followed, a single server's keyless commands, and the seeds' rules.
#include "redis/router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "redis/slot.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait.h"

namespace mfa::redis {
namespace {

CallResult Await(Router& router, const std::vector<std::string>& argv) {
  std::promise<CallResult> promise;
  std::future<CallResult> answer = promise.get_future();
  router.Call(argv, "other", [&promise](CallResult&& r) { promise.set_value(std::move(r)); });
  return answer.get();
}

class Counts final : public RouterObserver {
 public:
  void Redirected(bool ask) override { (ask ? asks : moves).fetch_add(1); }
  void SlotsRefreshed() override { refreshes.fetch_add(1); }
  void MastersChanged() override { changes.fetch_add(1); }
  std::atomic<int> moves{0}, asks{0}, refreshes{0}, changes{0};
};

RouterOptions SeedsOf(mfa_test::RedisCluster& cluster) {
  RouterOptions options;
  for (size_t i = 0; i < cluster.size(); ++i) {
    options.seeds.push_back({"127.0.0.1", cluster.node(i).port()});
  }
  // Long enough that only redirects, not the periodic refresh, can fix a stale table.
  options.refresh_interval = std::chrono::seconds(60);
  return options;
}

// The index of the cluster master that owns `key`'s slot now: the one that answers a GET of it
// (the others answer MOVED).
size_t OwnerOf(mfa_test::RedisCluster& cluster, const std::string& key) {
  for (size_t i = 0; i < cluster.size(); ++i) {
    if (cluster.node(i).pid() < 0) continue;  // killed
    auto reply = cluster.node(i).Command({"GET", key});
    if (reply && reply->type != REDIS_REPLY_ERROR) return i;
  }
  return cluster.size();
}

TEST(RouterTest, ASingleServerIsNotAClusterAndOwnsEverySlot) {
  auto redis = mfa_test::RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  RouterOptions options;
  options.seeds = {{"127.0.0.1", redis->port()}};
  Router router(options);
  ASSERT_TRUE(router.Start());
  ASSERT_TRUE(mfa_test::WaitFor("the router to connect", [&] { return router.connected(); }));
  EXPECT_FALSE(router.cluster());
  EXPECT_EQ(router.Masters(), std::vector<std::string>{redis->address()});
  for (const char* key : {"a", "b", "{x}y", "zzz"}) {
    EXPECT_EQ(Await(router, {"SET", key, "1"}).value.str, "OK") << key;
  }
  EXPECT_EQ(Await(router, {"GET", "zzz"}).value.str, "1");
}

TEST(RouterTest, UnreachableSeedsAnswerUnavailableUntilOneAnswers) {
  auto redis = mfa_test::RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  const uint16_t port = redis->port();
  redis->Kill();
  RouterOptions options;
  options.seeds = {{"127.0.0.1", port}};
  options.client.call_timeout = std::chrono::milliseconds(300);
  Router router(options);
  ASSERT_TRUE(router.Start());
  EXPECT_EQ(Await(router, {"GET", "k"}).error, CallError::kUnavailable);
  EXPECT_FALSE(router.connected());
  ASSERT_TRUE(redis->Restart());
  ASSERT_TRUE(mfa_test::WaitFor("the router to connect", [&] { return router.connected(); }));
  EXPECT_TRUE(Await(router, {"GET", "k"}).value.is_nil());
}

class RouterClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = mfa_test::RedisCluster::Start(3); }
  static void TearDownTestSuite() { cluster_.reset(); }
  void SetUp() override { ASSERT_NE(cluster_, nullptr); }
  static inline std::unique_ptr<mfa_test::RedisCluster> cluster_;
};

TEST_F(RouterClusterTest, FindsTheClusterAndRoutesEveryKeyToItsMaster) {
  Counts counts;
  Router router(SeedsOf(*cluster_), nullptr, &counts);
  ASSERT_TRUE(router.Start());
  ASSERT_TRUE(mfa_test::WaitFor("the router to connect", [&] { return router.connected(); }));
  EXPECT_TRUE(router.cluster());
  EXPECT_EQ(router.Masters().size(), 3u);
  for (int i = 0; i < 300; ++i) {
    const std::string key = "route:" + std::to_string(i);
    ASSERT_EQ(Await(router, {"SET", key, std::to_string(i)}).value.str, "OK") << key;
  }
  for (int i = 0; i < 300; ++i) {
    const std::string key = "route:" + std::to_string(i);
    EXPECT_EQ(Await(router, {"GET", key}).value.str, std::to_string(i)) << key;
  }
  EXPECT_EQ(counts.moves.load(), 0) << "a fresh table needs no redirect";
  // Keyless commands go to each master in turn.
  int keys = 0;
  for (const std::string& master : router.Masters()) {
    std::promise<CallResult> promise;
    router.CallOn(master, {"DBSIZE"}, "other",
                  [&promise](CallResult&& r) { promise.set_value(std::move(r)); });
    keys += static_cast<int>(promise.get_future().get().value.integer);
  }
  EXPECT_GE(keys, 300);
}

TEST_F(RouterClusterTest, MovedAfterReshardingIsFollowedAndTheTableUpdated) {
  Counts counts;
  Router router(SeedsOf(*cluster_), nullptr, &counts);
  ASSERT_TRUE(router.Start());
  ASSERT_TRUE(mfa_test::WaitFor("the router to connect", [&] { return router.connected(); }));
  for (int i = 0; i < 200; ++i) {
    ASSERT_EQ(Await(router, {"SET", "moved:" + std::to_string(i), "v"}).value.str, "OK");
  }
  const std::vector<std::string> masters = cluster_->MasterIds();
  ASSERT_EQ(masters.size(), 3u);
  ASSERT_TRUE(cluster_->Reshard(masters[0], masters[1], 150));
  ASSERT_TRUE(mfa_test::WaitFor("the cluster to settle", [&] { return cluster_->Ready(); }));
  for (int i = 0; i < 200; ++i) {
    const CallResult r = Await(router, {"GET", "moved:" + std::to_string(i)});
    EXPECT_EQ(r.error, CallError::kNone) << i;
    EXPECT_EQ(r.value.str, "v") << i << " " << r.value.str;
  }
  EXPECT_GE(counts.moves.load(), 1) << "150 slots moved: some key of 200 lives there";
  EXPECT_GE(counts.changes.load(), 1);
}

TEST_F(RouterClusterTest, AskDuringAMigrationIsFollowedWithAsking) {
  Counts counts;
  Router router(SeedsOf(*cluster_), nullptr, &counts);
  ASSERT_TRUE(router.Start());
  ASSERT_TRUE(mfa_test::WaitFor("the router to connect", [&] { return router.connected(); }));
  const std::string key = "ask-me";
  const std::string slot = std::to_string(KeySlot(key));
  const size_t source = OwnerOf(*cluster_, key);
  ASSERT_LT(source, cluster_->size());
  size_t target = (source + 1) % cluster_->size();
  const std::string source_id = cluster_->NodeId(source), target_id = cluster_->NodeId(target);
  // The slot half-way from source to target; the key exists on neither, so the source answers
  // ASK and the target takes it only after ASKING.
  auto& to = cluster_->node(target);
  auto& from = cluster_->node(source);
  ASSERT_EQ(std::string(to.Command({"CLUSTER", "SETSLOT", slot, "IMPORTING", source_id})->str),
            "OK");
  ASSERT_EQ(std::string(from.Command({"CLUSTER", "SETSLOT", slot, "MIGRATING", target_id})->str),
            "OK");
  EXPECT_EQ(Await(router, {"SET", key, "asked"}).value.str, "OK");
  EXPECT_EQ(Await(router, {"GET", key}).value.str, "asked");
  EXPECT_GE(counts.asks.load(), 2);
  // The slot is the target's now, everywhere.
  for (size_t i = 0; i < cluster_->size(); ++i) {
    cluster_->node(i).Command({"CLUSTER", "SETSLOT", slot, "NODE", target_id});
  }
  ASSERT_TRUE(mfa_test::WaitFor("the cluster to settle", [&] { return cluster_->Ready(); }));
  EXPECT_EQ(Await(router, {"GET", key}).value.str, "asked");
}

}  // namespace
}  // namespace mfa::redis
