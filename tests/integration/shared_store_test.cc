// SPDX-License-Identifier: Apache-2.0
// Two mfa-mock nodes over one real redis-server (--store redis://): whichever node answers, the
// answer is the one a single node would give; an outage is a bounded 503, and the nodes recover
// by themselves. With MFA_TEST_SHARED_BACKEND=cluster (ctest's shared_cluster entries) the same
// scenarios run over a local Redis Cluster of three masters instead (issue 13), except the two
// that pause or kill the one redis-server (the cluster's failover: tests/redis/router_test.cc).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/mock_server.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/shared_backend.h"
#include "tests/support/wait.h"

namespace mfa_test {
namespace {

class SharedStoreTest : public SharedBackendTest<SharedStoreTest> {
 protected:
  static void SetUpTestSuite() {
    backend_.Start("it", {"--store-timeout-ms", "500", "--send-limit", "0"});
  }
  void SetUp() override {
    ASSERT_FALSE(url_.empty()) << "no Redis or Redis Cluster started";
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
    ASSERT_TRUE(WaitFor("both nodes ready", [] {
      return a_->AdminGet("/readyz").status == 200 && b_->AdminGet("/readyz").status == 200;
    }));
    ASSERT_EQ(a_->AdminDelete("/admin/verifications").status, 200);
    ASSERT_EQ(b_->AdminDelete("/admin/inbox").status, 204);
  }
};

std::string IdOf(const HttpResponse& r) {
  return Json(r.body).String("/verificationId").value_or("");
}

TEST_F(SharedStoreTest, CodeSentThroughOneNodeVerifiesOnTheOtherOnce) {
  const HttpResponse sent = a_->Send("email");
  ASSERT_EQ(sent.status, 200) << sent.Describe();
  const std::string id = IdOf(sent);
  // The inbox of the other node shows it.
  const std::optional<std::string> code = b_->LatestCode("user@example.com");
  ASSERT_TRUE(code);
  EXPECT_EQ(b_->Verify(id, *code, "email").status, 200);
  EXPECT_TRUE(IsErrorCode(a_->Verify(id, *code, "email"), 400, "verification_code.not_found"));
  const Json record(a_->AdminGet("/admin/verifications/" + id).body);
  EXPECT_EQ(record.Bool("/verified"), true);
}

TEST_F(SharedStoreTest, AttemptsCountAcrossNodes) {
  const Json seeded = a_->SeedOne(
      R"({"identifierType":"email","verificationId":"shared-attempts","code":"123456"})");
  ASSERT_TRUE(seeded.valid());
  for (int i = 0; i < 10; ++i) {
    MockServer& node = i % 2 == 0 ? *a_ : *b_;
    EXPECT_TRUE(IsErrorCode(node.Verify("shared-attempts", "000000", "email"), 400,
                            "verification_code.code_mismatch"))
        << i;
  }
  EXPECT_TRUE(IsErrorCode(b_->Verify("shared-attempts", "123456", "email"), 400,
                          "verification_code.exceed_max_try"));
}

TEST_F(SharedStoreTest, SendLimitCountsAcrossNodes) {
  // Two more nodes with a limit, on their own prefix.
  MockServer c, d;
  for (MockServer* node : {&c, &d}) {
    ASSERT_TRUE(node->Start({"--store", url_ + "?prefix=limit", "--send-limit", "3/600"}))
        << node->error();
  }
  ASSERT_TRUE(WaitFor("nodes ready", [&] {
    return c.AdminGet("/readyz").status == 200 && d.AdminGet("/readyz").status == 200;
  }));
  EXPECT_EQ(c.Send("phone").status, 200);
  EXPECT_EQ(d.Send("phone").status, 200);
  EXPECT_EQ(c.Send("phone").status, 200);
  EXPECT_TRUE(IsErrorCode(d.Send("phone"), 429, "request.message_rate_limited"));
  EXPECT_TRUE(IsErrorCode(c.Send("phone"), 429, "request.message_rate_limited"));
  EXPECT_EQ(c.Send("email").status, 200) << "another recipient has its own limit";
}

TEST_F(SharedStoreTest, ConcurrentCorrectVerifiesOfOneCodeOnBothNodesSucceedExactlyOnce) {
  constexpr int kCodes = 200;
  constexpr int kThreadsPerNode = 4;
  std::string body = "[";
  for (int i = 0; i < kCodes; ++i) {
    if (i > 0) body += ',';
    body += R"({"identifierType":"email","verificationId":"race-)" + std::to_string(i) +
            R"(","code":"424242"})";
  }
  body += "]";
  ASSERT_EQ(a_->AdminPost("/admin/verifications", body).status, 201);
  std::atomic<int> successes{0}, others{0};
  std::vector<std::atomic<int>> per_code(kCodes);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerNode; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<HttpClient> client = (t % 2 == 0 ? a_ : b_)->NewPublicClient();
      for (int i = 0; i < kCodes; ++i) {
        const HttpResponse r =
            client->Post("/api/experience/verification/mfa-verification-code/verify",
                         R"({"verificationId":"race-)" + std::to_string(i) +
                             R"(","code":"424242","identifierType":"email"})");
        if (r.status == 200) {
          ++successes;
          ++per_code[i];
        } else if (!IsErrorCode(r, 400, "verification_code.not_found")) {
          ++others;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(successes.load(), kCodes);
  EXPECT_EQ(others.load(), 0);
  for (int i = 0; i < kCodes; ++i) EXPECT_EQ(per_code[i].load(), 1) << "race-" << i;
}

// The _interaction cookie of node A on node B: the session, its user, its records and the
// lockout are the deployment's, whichever node answers.
TEST_F(SharedStoreTest, InteractionCookieFromOneNodeWorksOnTheOther) {
  ASSERT_EQ(a_->AdminDelete("/admin/sessions").status, 200);
  a_->AdminDelete("/admin/users/shared-alice");
  ASSERT_EQ(a_->AdminPost("/admin/users",
                          R"({"id":"shared-alice","primaryEmail":"shared-alice@example.com"})")
                .status,
            201);
  EXPECT_EQ(Json(b_->AdminGet("/admin/users/shared-alice").body).String("/primaryEmail"),
            "shared-alice@example.com");
  const HttpResponse put =
      a_->pub().Request("PUT", "/api/experience", R"({"interactionEvent":"SignIn"})");
  ASSERT_EQ(put.status, 204) << put.Describe();
  std::string cookie;
  for (const std::string& v : put.HeaderValues("Set-Cookie")) {
    if (v.rfind("_interaction=", 0) == 0) cookie = v.substr(0, v.find(';'));
  }
  ASSERT_FALSE(cookie.empty()) << put.Describe();
  const std::string session = cookie.substr(cookie.find('=') + 1);
  ASSERT_EQ(
      b_->AdminPost("/admin/sessions/" + session + "/identify", R"({"userId":"shared-alice"})")
          .status,
      200);
  const Headers with_cookie{{"Cookie", cookie}};
  const HttpResponse sent = b_->pub().Post("/api/experience/verification/mfa-verification-code",
                                           R"({"identifierType":"email"})", with_cookie);
  ASSERT_EQ(sent.status, 200) << sent.Describe();
  const std::string id = IdOf(sent);
  const std::optional<std::string> code = a_->LatestCode("shared-alice@example.com");
  ASSERT_TRUE(code);
  auto verify = [&](MockServer& node, std::string_view with_code) {
    return node.pub().Post("/api/experience/verification/mfa-verification-code/verify",
                           R"({"verificationId":")" + id + R"(","code":")" +
                               std::string(with_code) + R"(","identifierType":"email"})",
                           with_cookie);
  };
  // Open mode (no cookie) never sees a session's record.
  EXPECT_TRUE(
      IsErrorCode(b_->Verify(id, *code, "email"), 404, "session.verification_session_not_found"));
  EXPECT_EQ(verify(*a_, *code).status, 200);
  const Json interaction(b_->pub().Get("/api/experience/interaction", with_cookie).body);
  EXPECT_EQ(interaction.String("/userId"), "shared-alice");
  EXPECT_EQ(interaction.Bool("/verificationRecords/0/verified"), true);
  EXPECT_EQ(Json(a_->AdminGet("/admin/sessions/" + session).body).String("/userId"),
            "shared-alice");
}

TEST_F(SharedStoreTest, LockoutCountsFailuresOnEveryNode) {
  ASSERT_EQ(a_->AdminDelete("/admin/sessions").status, 200);
  ASSERT_EQ(a_->PatchConfig(R"({"lockout":{"maxFailures":3}})").status, 200);
  b_->AdminDelete("/admin/users/shared-bob");
  ASSERT_EQ(
      b_->AdminPost("/admin/users", R"({"id":"shared-bob","primaryPhone":"+15555550199"})").status,
      201);
  const HttpResponse session = a_->AdminPost("/admin/sessions", R"({"userId":"shared-bob"})");
  ASSERT_EQ(session.status, 201) << session.Describe();
  const std::string cookie = Json(session.body).String("/cookie").value_or("");
  const Headers with_cookie{{"Cookie", cookie}};
  const HttpResponse sent = a_->pub().Post("/api/experience/verification/mfa-verification-code",
                                           R"({"identifierType":"phone"})", with_cookie);
  ASSERT_EQ(sent.status, 200) << sent.Describe();
  const std::string id = IdOf(sent);
  const std::string code = b_->LatestCode("+15555550199").value_or("");
  const std::string wrong = code == "111111" ? "222222" : "111111";
  auto verify = [&](MockServer& node, const std::string& with_code) {
    return node.pub().Post("/api/experience/verification/mfa-verification-code/verify",
                           R"({"verificationId":")" + id + R"(","code":")" + with_code +
                               R"(","identifierType":"phone"})",
                           with_cookie);
  };
  EXPECT_TRUE(IsErrorCode(verify(*a_, wrong), 400, "verification_code.code_mismatch"));
  EXPECT_TRUE(IsErrorCode(verify(*b_, wrong), 400, "verification_code.code_mismatch"));
  // The third failure reaches the threshold: blocked already (Logto's withSentinel).
  EXPECT_TRUE(
      IsErrorCode(verify(*a_, wrong), 400, "session.verification_blocked_too_many_attempts"));
  EXPECT_TRUE(
      IsErrorCode(verify(*b_, code), 400, "session.verification_blocked_too_many_attempts"));
  ASSERT_EQ(b_->AdminDelete("/admin/sessions").status, 200);
  ASSERT_EQ(a_->PatchConfig(R"({"lockout":{"maxFailures":100}})").status, 200);
}

TEST_F(SharedStoreTest, ExportFromEitherNodeStreamsTheWholeDeployment) {
  std::string body = "[";
  for (int i = 0; i < 1500; ++i) {
    if (i > 0) body += ',';
    body += R"({"identifierType":"email","verificationId":"exp-)" + std::to_string(i) +
            R"(","code":"123456","identifier":"e)" + std::to_string(i) + R"(@example.com"})";
  }
  body += "]";
  ASSERT_EQ(a_->AdminPost("/admin/verifications", body).status, 201);
  const HttpResponse csv = b_->AdminGet("/admin/verifications/export");
  ASSERT_EQ(csv.status, 200) << csv.Describe();
  EXPECT_TRUE(csv.chunked);
  EXPECT_EQ(csv.body.rfind("verificationId,code,identifierType,identifier\n", 0), 0u);
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 1501);
  EXPECT_NE(csv.body.find("exp-1499,123456,email,e1499@example.com\n"), std::string::npos);

  const HttpResponse generated =
      a_->AdminPost("/admin/verifications/generate", R"({"count":700,"identifierType":"phone"})");
  ASSERT_EQ(generated.status, 201) << generated.Describe();
  const std::string batch = Json(generated.body).String("/batchId").value_or("");
  const HttpResponse ndjson =
      b_->AdminGet("/admin/verifications/export?format=ndjson&batch=" + batch);
  ASSERT_EQ(ndjson.status, 200) << ndjson.Describe();
  EXPECT_EQ(std::count(ndjson.body.begin(), ndjson.body.end(), '\n'), 700);
  EXPECT_EQ(ndjson.body.find("exp-"), std::string::npos);
  const HttpResponse json = b_->AdminGet("/admin/verifications/export?format=json&batch=" + batch);
  ASSERT_EQ(json.status, 200) << json.Describe();
  EXPECT_EQ(Json(json.body).Size(), 700u) << json.body.substr(0, 200);
  EXPECT_TRUE(IsErrorCode(b_->AdminGet("/admin/verifications/export?batch=b_nope"), 404,
                          "admin.not_found"));
}

TEST_F(SharedStoreTest, ConfigPatchedOnOneNodeIsInForceOnTheOtherWhenItAnswers) {
  for (int round = 0; round < 5; ++round) {
    const int attempts = 3 + round;
    const std::string patch = R"({"maxAttempts":)" + std::to_string(attempts) + "}";
    ASSERT_EQ(a_->PatchConfig(patch).status, 200);
    // No wait: B must already answer with the new value.
    EXPECT_EQ(Json(b_->AdminGet("/admin/config").body).Int("/maxAttempts"), attempts) << round;
  }
  const Json seeded =
      b_->SeedOne(R"({"identifierType":"email","verificationId":"cfg-1","code":"123456"})");
  ASSERT_TRUE(seeded.valid());
  for (int i = 0; i < 7; ++i) {
    EXPECT_TRUE(IsErrorCode(b_->Verify("cfg-1", "000000", "email"), 400,
                            "verification_code.code_mismatch"));
  }
  EXPECT_TRUE(
      IsErrorCode(b_->Verify("cfg-1", "123456", "email"), 400, "verification_code.exceed_max_try"));
  // Session settings are the deployment's too.
  ASSERT_EQ(a_->PatchConfig(R"({"sessions":"required","maxAttempts":10})").status, 200);
  EXPECT_EQ(Json(b_->AdminGet("/admin/config").body).String("/sessions"), "required");
  EXPECT_TRUE(IsErrorCode(b_->Verify("cfg-1", "123456", "email"), 400, "session.not_found"));
  ASSERT_EQ(b_->PatchConfig(R"({"sessions":"optional"})").status, 200);
}

TEST_F(SharedStoreTest, ClockAdvancedOnOneNodeExpiresCodesOnTheOther) {
  const Json seeded =
      a_->SeedOne(R"({"identifierType":"email","verificationId":"clock-1","code":"123456"})");
  ASSERT_TRUE(seeded.valid());
  ASSERT_EQ(a_->AdvanceClock(601).status, 200);
  EXPECT_TRUE(
      IsErrorCode(b_->Verify("clock-1", "123456", "email"), 400, "verification_code.expired"));
  const Json clock(b_->AdminGet("/admin/clock").body);
  EXPECT_EQ(clock.Int("/offsetSeconds"), 601) << clock.Dump();
  ASSERT_EQ(b_->AdminDelete("/admin/clock").status, 200);
  EXPECT_EQ(Json(a_->AdminGet("/admin/clock").body).Int("/offsetSeconds"), 0);
}

TEST_F(SharedStoreTest, StatsListTheLiveNodesAndTheirSettingsVersion) {
  ASSERT_EQ(a_->PatchConfig(R"({"maxAttempts":10})").status, 200);
  Json stats;
  ASSERT_TRUE(WaitFor(
      "two live nodes",
      [&] {
        stats = Json(b_->AdminGet("/admin/stats").body);
        return stats.Size("/nodes") == 2u;
      },
      [&] { return stats.Dump(); }));
  EXPECT_EQ(stats.Int("/nodes/0/settingsVersion"), stats.Int("/settingsVersion"));
  EXPECT_EQ(stats.Int("/nodes/1/settingsVersion"), stats.Int("/settingsVersion"));
}

TEST_F(SharedStoreTest, PausedRedisGivesBounded503ThenRecovers) {
  const Json seeded =
      a_->SeedOne(R"({"identifierType":"email","verificationId":"outage-1","code":"111111"})");
  ASSERT_TRUE(seeded.valid());
  ASSERT_NE(redis_, nullptr) << "a scenario of the one redis-server";
  redis_->Pause();
  const auto started = std::chrono::steady_clock::now();
  const HttpResponse during = b_->Verify("outage-1", "111111", "email");
  const auto waited = std::chrono::steady_clock::now() - started;
  redis_->Resume();
  EXPECT_TRUE(IsErrorCode(during, 503, "mock.store_unavailable")) << during.Describe();
  // --store-timeout-ms 500: the bound holds with a wide margin for a slow, busy machine.
  EXPECT_LT(waited, std::chrono::seconds(10));
  EXPECT_EQ(b_->AdminGet("/healthz").status, 200);
  ASSERT_TRUE(WaitFor("node B ready again", [] { return b_->AdminGet("/readyz").status == 200; }));
  // The verify that timed out was sent: Redis may have run it when it woke up (a 503 on verify
  // means "unknown", not "did not happen"; docs/scale-out.md), unless the connection was remade
  // first. Either way the record and the next verify agree.
  const Json record(a_->AdminGet("/admin/verifications/outage-1").body);
  ASSERT_TRUE(record.Bool("/verified").has_value()) << record.Dump();
  if (*record.Bool("/verified")) {
    EXPECT_TRUE(
        IsErrorCode(b_->Verify("outage-1", "111111", "email"), 400, "verification_code.not_found"));
  } else {
    EXPECT_EQ(b_->Verify("outage-1", "111111", "email").status, 200);
  }
  const HttpResponse sent = b_->Send("email");
  ASSERT_EQ(sent.status, 200) << sent.Describe();
  EXPECT_EQ(a_->Verify(IdOf(sent), *a_->LatestCode("user@example.com"), "email").status, 200);
}

TEST_F(SharedStoreTest, KilledRedisReplacedOnTheSamePortIsReconnectedWithoutRestart) {
  ASSERT_NE(redis_, nullptr) << "a scenario of the one redis-server";
  redis_->Kill();
  ASSERT_TRUE(WaitFor("node A not ready", [] { return a_->AdminGet("/readyz").status == 503; }));
  EXPECT_TRUE(IsErrorCode(a_->AdminGet("/readyz"), 503, "mock.store_unavailable"));
  EXPECT_TRUE(IsErrorCode(a_->Send("email"), 503, "mock.store_unavailable"));
  EXPECT_EQ(a_->AdminGet("/healthz").status, 200);
  ASSERT_TRUE(redis_->Restart());
  ASSERT_TRUE(WaitFor("both nodes ready", [] {
    return a_->AdminGet("/readyz").status == 200 && b_->AdminGet("/readyz").status == 200;
  }));
  const HttpResponse sent = a_->Send("email");
  ASSERT_EQ(sent.status, 200) << sent.Describe();
  const std::optional<std::string> code = b_->LatestCode("user@example.com");
  ASSERT_TRUE(code);
  EXPECT_EQ(b_->Verify(IdOf(sent), *code, "email").status, 200);
}

// A waiting latest on node B is answered by a send through node A: B's poller sees the shared
// cursor move (docs/scale-out.md). Run 10 times; the latency from the send's answer to the
// waiter's answer is printed.
TEST_F(SharedStoreTest, WaiterOnOneNodeIsAnsweredBySendThroughTheOther) {
  std::vector<double> ms;
  for (int i = 0; i < 10; ++i) {
    const std::string to = "cross" + std::to_string(i) + "@example.com";
    auto waiting = std::async(std::launch::async, [client = b_->NewAdminClient(), to] {
      return client->Get("/admin/inbox/latest?wait=30&to=" + to);
    });
    ASSERT_TRUE(WaitFor("B holds the waiter", [] {
      return Json(b_->AdminGet("/admin/stats").body).Int("/inboxWaiters") == 1;
    }));
    const HttpResponse sent =
        a_->AdminPost("/admin/send", R"({"identifierType":"email","identifier":")" + to + "\"}");
    const auto sent_at = std::chrono::steady_clock::now();
    ASSERT_EQ(sent.status, 201) << sent.Describe();
    const HttpResponse answered = waiting.get();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent_at)
            .count());
    ASSERT_EQ(answered.status, 200) << answered.Describe();
    EXPECT_EQ(Json(answered.body).String("/code"), Json(sent.body).String("/code"));
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "redis, two nodes: send on A to answer of a waiting latest on B over %zu runs: "
      "min %.1f ms, median %.1f ms, max %.1f ms\n",
      ms.size(), ms.front(), ms[ms.size() / 2], ms.back());
  // The poll is every 50 ms; the bound only absorbs a busy machine.
  EXPECT_LT(ms[ms.size() / 2], 5000.0);
}

TEST_F(SharedStoreTest, CursorsIncreaseAcrossNodesAndStreamInOrderFromEither) {
  std::vector<std::string> codes;
  for (int i = 0; i < 6; ++i) {
    MockServer& node = i % 2 == 0 ? *a_ : *b_;
    const HttpResponse sent =
        node.AdminPost("/admin/send", R"({"identifierType":"email","identifier":"order)" +
                                          std::to_string(i) + R"(@x.io"})");
    ASSERT_EQ(sent.status, 201);
    codes.push_back(Json(sent.body).String("/code").value_or(""));
  }
  const HttpResponse streamed = b_->AdminGet("/admin/inbox/stream?after=0&wait=5");
  ASSERT_EQ(streamed.status, 200) << streamed.Describe();
  std::vector<std::string> seen;
  int64_t last = 0;
  for (size_t at = streamed.body.find("data: "); at != std::string::npos;
       at = streamed.body.find("data: ", at + 1)) {
    const Json data(streamed.body.substr(at + 6, streamed.body.find('\n', at) - at - 6));
    const int64_t cursor = data.Int("/cursor").value_or(0);
    EXPECT_GT(cursor, last);
    last = cursor;
    seen.push_back(data.String("/code").value_or(""));
  }
  EXPECT_EQ(seen, codes);
}

TEST_F(SharedStoreTest, SessionAndRecipientFiltersClearOnlyTheirMessagesOnEveryNode) {
  for (const char* to : {"keep@x.io", "drop@x.io", "Drop@X.io"}) {
    ASSERT_EQ(a_->AdminPost("/admin/send",
                            R"({"identifierType":"email","identifier":")" + std::string(to) + "\"}")
                  .status,
              201);
  }
  ASSERT_EQ(b_->AdminDelete("/admin/inbox?to=drop%40x.io").status, 204);
  const Json left(a_->AdminGet("/admin/inbox").body);
  ASSERT_EQ(left.Size("/messages"), 1u) << left.Dump();
  EXPECT_EQ(left.String("/messages/0/to"), "keep@x.io");
  EXPECT_EQ(Json(a_->AdminGet("/admin/inbox?session=none").body).Size("/messages"), 0u);
}

TEST(SharedStoreStartTest, NodeStartsWithRedisDownAndIsReadyOnceItAnswers) {
  std::unique_ptr<RedisServer> redis = RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  redis->Kill();
  MockServer node;
  ASSERT_TRUE(node.Start({"--store", redis->url()})) << node.error();
  EXPECT_EQ(node.AdminGet("/healthz").status, 200);
  EXPECT_TRUE(IsErrorCode(node.AdminGet("/readyz"), 503, "mock.store_unavailable"));
  EXPECT_TRUE(IsErrorCode(node.Verify("any-id", "123456", "email"), 503, "mock.store_unavailable"));
  ASSERT_TRUE(redis->Restart());
  ASSERT_TRUE(WaitFor("ready", [&] { return node.AdminGet("/readyz").status == 200; }));
  EXPECT_EQ(node.Send("email").status, 200);
}

TEST(SharedStoreStartTest, OptionsThatAShardStoreCannotHonourAreRefused) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--store", "redis://127.0.0.1:1", "--snapshot", "/tmp/x.snap"},
           {"--store", "redis://127.0.0.1:1", "--max-records", "5"},
           {"--store", "redis://127.0.0.1:1?db=2"},
           {"--store", "postgres://127.0.0.1:5432"}}) {
    ServerProcess process;
    EXPECT_FALSE(process.Start(args, {}, std::chrono::seconds(30))) << args[1];
    EXPECT_EQ(process.WaitForExit(std::chrono::seconds(30)), 2) << args.back();
  }
}

}  // namespace
}  // namespace mfa_test
