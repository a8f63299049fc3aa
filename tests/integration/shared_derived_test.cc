// SPDX-License-Identifier: Apache-2.0
// Derived (generated) batches over a shared store (issue 17): two mfa-mock nodes over one real
// redis-server, or (MFA_TEST_SHARED_BACKEND=cluster, ctest's shared_cluster entries) over a local
// Redis Cluster of three masters. A batch generated on one node is one rule in Redis; its records
// answer on every node exactly as stored records do.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/derived_ids.h"
#include "tests/support/contract.h"
#include "tests/support/large_fetch.h"
#include "tests/support/mock_server.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/shared_backend.h"
#include "tests/support/wait.h"

namespace mfa_test {
namespace {

struct Row {
  std::string id, code, identifier;
};

class SharedDerivedTest : public SharedBackendTest<SharedDerivedTest> {
 protected:
  static void SetUpTestSuite() {
    backend_.Start("dv", {"--store-timeout-ms", "2000", "--send-limit", "0"});
  }
  void SetUp() override {
    ASSERT_FALSE(url_.empty()) << "no Redis or Redis Cluster started";
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
    ASSERT_TRUE(WaitFor("both nodes ready", [] {
      return a_->AdminGet("/admin/stats").status == 200 && a_->AdminGet("/readyz").status == 200 &&
             b_->AdminGet("/readyz").status == 200;
    }));
    ASSERT_EQ(a_->AdminDelete("/admin/verifications").status, 200);
  }

  // POST /admin/verifications/generate on `node`; the batch id.
  static std::string Generate(MockServer& node, std::string_view body) {
    const HttpResponse r = node.AdminPost("/admin/verifications/generate", body);
    EXPECT_EQ(r.status, 201) << r.Describe();
    return Json(r.body).String("/batchId").value_or("");
  }

  // The batch's rows as `node` exports them (NDJSON).
  static std::vector<Row> Export(MockServer& node, const std::string& batch) {
    const Fetched f = FetchLarge(node.process().admin_port(),
                                 "/admin/verifications/export?format=ndjson&batch=" + batch);
    EXPECT_EQ(f.status, 200) << f.error << f.body.substr(0, 300);
    std::vector<Row> rows;
    size_t begin = 0;
    while (begin < f.body.size()) {
      const size_t end = f.body.find('\n', begin);
      const Json line(f.body.substr(begin, end - begin));
      rows.push_back(Row{line.String("/verificationId").value_or(""),
                         line.String("/code").value_or(""),
                         line.String("/identifier").value_or("")});
      if (end == std::string::npos) break;
      begin = end + 1;
    }
    return rows;
  }

  // A command on whichever Redis node holds its key (every node is tried on a cluster).
  static RedisServer::ReplyPtr Command(const std::vector<std::string>& argv) {
    if (redis_) return redis_->Command(argv);
    for (size_t i = 0; i < cluster_->size(); ++i) {
      RedisServer::ReplyPtr reply = cluster_->node(i).Command(argv);
      if (reply && !(reply->type == REDIS_REPLY_ERROR &&
                     std::string_view(reply->str, reply->len).rfind("MOVED", 0) == 0)) {
        return reply;
      }
    }
    return RedisServer::ReplyPtr(nullptr, freeReplyObject);
  }

  // used_memory over every Redis node.
  static int64_t UsedMemory() {
    int64_t total = 0;
    auto add = [&](RedisServer& server) {
      RedisServer::ReplyPtr info = server.Command({"INFO", "memory"});
      if (!info || info->type != REDIS_REPLY_STRING) return;
      const std::string text(info->str, info->len);
      const size_t at = text.find("used_memory:");
      if (at != std::string::npos) total += std::atoll(text.c_str() + at + 12);
    };
    if (redis_) add(*redis_);
    if (cluster_) {
      for (size_t i = 0; i < cluster_->size(); ++i) add(cluster_->node(i));
    }
    return total;
  }

  static std::string Wrong(const std::string& code) {
    return code == "000000" ? "111111" : "000000";
  }
};

TEST_F(SharedDerivedTest, BatchGeneratedOnOneNodeVerifiesOnTheOtherOnce) {
  const std::string batch =
      Generate(*a_, R"({"count":1000,"identifierType":"email","identifier":"d{n}@x.io"})");
  const std::vector<Row> rows = Export(*a_, batch);
  ASSERT_EQ(rows.size(), 1000u);
  EXPECT_EQ(rows[0].id.size(), 21u);
  EXPECT_EQ(rows[0].code.size(), 6u);
  EXPECT_EQ(b_->Verify(rows[0].id, rows[0].code, "email").status, 200);
  EXPECT_TRUE(IsErrorCode(a_->Verify(rows[0].id, rows[0].code, "email"), 400,
                          "verification_code.not_found"));
  EXPECT_TRUE(IsErrorCode(b_->Verify(rows[1].id, rows[1].code, "phone"), 404,
                          "session.verification_session_not_found"));
  EXPECT_TRUE(IsErrorCode(b_->Verify(rows[1].id, "", "email"), 400, "verification_code.not_found"));
  const Json record(a_->AdminGet("/admin/verifications/" + rows[0].id).body);
  EXPECT_EQ(record.Bool("/verified"), true) << record.Dump();
  EXPECT_EQ(record.String("/batchId"), batch);
  EXPECT_EQ(record.String("/identifier"), rows[0].identifier);
  // Both nodes export the same rows: one key and one serial for the deployment.
  const std::vector<Row> from_b = Export(*b_, batch);
  ASSERT_EQ(from_b.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(from_b[i].id, rows[i].id);
    EXPECT_EQ(from_b[i].code, rows[i].code);
  }
}

TEST_F(SharedDerivedTest, WrongCodesCountTriesOnBothNodesUpToExceedMaxTry) {
  const std::string batch = Generate(*b_, R"({"count":5,"identifierType":"phone"})");
  const std::vector<Row> rows = Export(*b_, batch);
  ASSERT_EQ(rows.size(), 5u);
  const Row& r = rows[2];
  for (int i = 0; i < 10; ++i) {
    MockServer& node = i % 2 == 0 ? *a_ : *b_;
    EXPECT_TRUE(IsErrorCode(node.Verify(r.id, Wrong(r.code), "phone"), 400,
                            "verification_code.code_mismatch"))
        << i;
  }
  EXPECT_EQ(Json(a_->AdminGet("/admin/verifications/" + r.id).body).Int("/tryCount"), 10);
  EXPECT_TRUE(
      IsErrorCode(b_->Verify(r.id, r.code, "phone"), 400, "verification_code.exceed_max_try"));
  EXPECT_EQ(a_->Verify(rows[3].id, rows[3].code, "phone").status, 200) << "its neighbour is intact";
}

TEST_F(SharedDerivedTest, SharedClockExpiresDerivedRecordsThenRetentionForgetsThem) {
  const std::string batch = Generate(*a_, R"({"count":3,"identifierType":"email"})");
  const std::vector<Row> rows = Export(*a_, batch);
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(a_->AdvanceClock(601).status, 200);
  EXPECT_TRUE(
      IsErrorCode(b_->Verify(rows[0].id, rows[0].code, "email"), 400, "verification_code.expired"));
  EXPECT_EQ(b_->AdminGet("/admin/verifications/" + rows[1].id).status, 200);
  ASSERT_EQ(b_->AdvanceClock(600).status, 200);  // past the retention (600 s by default)
  EXPECT_TRUE(IsErrorCode(a_->Verify(rows[0].id, rows[0].code, "email"), 404,
                          "session.verification_session_not_found"));
  EXPECT_EQ(a_->AdminGet("/admin/verifications/" + rows[1].id).status, 404);
  ASSERT_EQ(a_->AdminDelete("/admin/clock").status, 200);
}

TEST_F(SharedDerivedTest, GetAndDeleteOneRecordOnEitherNode) {
  const std::string batch = Generate(
      *a_, R"({"count":4,"identifierType":"email","identifier":"g{n}@x.io","code":"424242"})");
  const std::vector<Row> rows = Export(*b_, batch);
  ASSERT_EQ(rows.size(), 4u);
  const Json got(b_->AdminGet("/admin/verifications/" + rows[1].id).body);
  EXPECT_EQ(got.String("/code"), "424242") << got.Dump();
  EXPECT_EQ(got.String("/identifier"), "g2@x.io");
  EXPECT_EQ(got.Int("/tryCount"), 0);
  EXPECT_EQ(got.Bool("/verified"), false);
  EXPECT_EQ(b_->AdminDelete("/admin/verifications/" + rows[1].id).status, 204);
  EXPECT_EQ(a_->AdminGet("/admin/verifications/" + rows[1].id).status, 404);
  EXPECT_EQ(a_->AdminDelete("/admin/verifications/" + rows[1].id).status, 404);
  EXPECT_TRUE(IsErrorCode(a_->Verify(rows[1].id, "424242", "email"), 404,
                          "session.verification_session_not_found"));
  EXPECT_EQ(Export(*a_, batch).size(), 3u);
  EXPECT_EQ(a_->Verify(rows[2].id, "424242", "email").status, 200);
}

TEST_F(SharedDerivedTest, StatsOfEitherNodeCountTheLiveDerivedRecords) {
  EXPECT_EQ(Json(b_->AdminGet("/admin/stats").body).Int("/derivedRecords"), 0);
  Generate(*a_, R"({"count":1000000000,"identifierType":"email"})");
  const std::string batch = Generate(*b_, R"({"count":10,"identifierType":"phone"})");
  const std::vector<Row> rows = Export(*a_, batch);
  ASSERT_EQ(rows.size(), 10u);
  ASSERT_EQ(a_->AdminDelete("/admin/verifications/" + rows[9].id).status, 204);
  const Json stats(b_->AdminGet("/admin/stats").body);
  EXPECT_EQ(stats.Int("/derivedRecords"), 1'000'000'009) << stats.Dump();
  // Past their expiry and the retention, batches count no more.
  ASSERT_EQ(a_->AdvanceClock(1201).status, 200);
  EXPECT_EQ(Json(a_->AdminGet("/admin/stats").body).Int("/derivedRecords"), 0);
  ASSERT_EQ(a_->AdminDelete("/admin/clock").status, 200);
  ASSERT_EQ(a_->AdminDelete("/admin/verifications").status, 200);
  EXPECT_EQ(Json(b_->AdminGet("/admin/stats").body).Int("/derivedRecords"), 0);
}

TEST_F(SharedDerivedTest, DeleteAllForgetsBatchesAlsoOnANodeThatCachedTheirRule) {
  const std::string batch = Generate(*a_, R"({"count":70000,"identifierType":"email"})");
  const std::vector<Row> rows = Export(*a_, batch);
  ASSERT_EQ(rows.size(), 70000u);
  ASSERT_EQ(b_->AdminDelete("/admin/verifications/" + rows[5].id).status, 204);
  // B reads (and keeps) the rule.
  EXPECT_TRUE(IsErrorCode(b_->Verify(rows[0].id, Wrong(rows[0].code), "email"), 400,
                          "verification_code.code_mismatch"));
  const HttpResponse deleted = a_->AdminDelete("/admin/verifications");
  ASSERT_EQ(deleted.status, 200) << deleted.Describe();
  EXPECT_EQ(Json(deleted.body).Int("/deleted"), 69999) << deleted.body;
  for (size_t i : {size_t{1}, size_t{65536}, size_t{69999}}) {
    EXPECT_TRUE(IsErrorCode(b_->Verify(rows[i].id, rows[i].code, "email"), 404,
                            "session.verification_session_not_found"))
        << i;
    EXPECT_EQ(b_->AdminGet("/admin/verifications/" + rows[i].id).status, 404) << i;
  }
  EXPECT_EQ(b_->AdminGet("/admin/verifications/export?batch=" + batch).status, 404);
  const Fetched all = FetchLarge(b_->process().admin_port(), "/admin/verifications/export");
  EXPECT_EQ(all.body, "verificationId,code,identifierType,identifier\n");
}

TEST_F(SharedDerivedTest, ExportedRowsOfEveryChunkVerifyOnTheOtherNode) {
  // 2.x chunks of 65536 records.
  const std::string batch = Generate(
      *b_, R"({"count":140000,"identifierType":"phone","identifier":"+1555{n}","ttlSeconds":900})");
  const auto started = std::chrono::steady_clock::now();
  const std::vector<Row> rows = Export(*a_, batch);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "export of a 140000-code derived batch over HTTP (NDJSON, parsed by the test): %.3f s\n",
      seconds);
  ASSERT_EQ(rows.size(), 140000u);
  std::set<std::string> ids;
  for (const Row& r : rows) ids.insert(r.id);
  EXPECT_EQ(ids.size(), rows.size());
  EXPECT_EQ(rows[0].identifier, "+15551");
  EXPECT_EQ(rows.back().identifier, "+1555140000");
  for (size_t i : {size_t{0}, size_t{65535}, size_t{65536}, size_t{131072}, size_t{139999}}) {
    EXPECT_EQ(b_->Verify(rows[i].id, rows[i].code, "phone").status, 200) << i;
    EXPECT_TRUE(IsErrorCode(a_->Verify(rows[i].id, rows[i].code, "phone"), 400,
                            "verification_code.not_found"))
        << i;
  }
  // The whole deployment's export lists the batch too (after the stored records: none here).
  const Fetched all = FetchLarge(a_->process().admin_port(), "/admin/verifications/export");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(std::count(all.body.begin(), all.body.end(), '\n'), 140001);
}

// The floors of issue 17 for the shared store: a 100M-code batch is one rule, generated in well
// under a second, and Redis's memory barely moves; its records verify on the other node.
TEST_F(SharedDerivedTest, HundredMillionCodeBatchIsGeneratedAtOnceAndCostsRedisNoMemory) {
  // A first batch loads the scripts and makes the key (Lua's memory is in used_memory too).
  const int64_t fresh = UsedMemory();
  Generate(*a_, R"({"count":1,"identifierType":"email"})");
  const int64_t before = UsedMemory();
  const auto started = std::chrono::steady_clock::now();
  const std::string batch = Generate(*a_, R"({"count":100000000,"identifierType":"email"})");
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const int64_t after = UsedMemory();
  std::printf(
      "derived batch of 100,000,000 codes over %s: generate %.2f ms (HTTP round trip included), "
      "Redis used_memory %lld -> %lld bytes (%+lld; a 1-code batch before it: %+lld)\n",
      cluster_ ? "a 3-master cluster" : "one redis-server", ms, static_cast<long long>(before),
      static_cast<long long>(after), static_cast<long long>(after - before),
      static_cast<long long>(before - fresh));
  EXPECT_LT(ms, 1000.0);
  EXPECT_LT(after - before, 1 << 20) << "a rule, not records";

  // Its records, derived here from the deployment's key and the batch's serial as kept in Redis.
  RedisServer::ReplyPtr key = Command({"HGET", "dv:{batches}", "derived_key"});
  RedisServer::ReplyPtr serial = Command({"HGET", "dv:{batches}", "id:" + batch});
  ASSERT_TRUE(key && key->type == REDIS_REPLY_STRING);
  ASSERT_TRUE(serial && serial->type == REDIS_REPLY_STRING);
  std::array<uint8_t, mfa::kDerivedKeyBytes> bytes{};
  for (size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<uint8_t>(std::stoi(std::string(key->str + 2 * i, 2), nullptr, 16));
  }
  const mfa::IdCipher cipher(bytes);
  auto record = [&](uint64_t n) {
    const mfa::Uint128 plain = mfa::DerivedPlain(std::stoull(serial->str), n);
    Row r;
    r.id.resize(21);
    mfa::EncodeId21(cipher.Encrypt(plain), r.id.data());
    r.code.resize(6);
    cipher.Code(plain, r.code.data());
    return r;
  };
  for (uint64_t n : {uint64_t{1}, uint64_t{50'000'001}, uint64_t{100'000'000}}) {
    const Row r = record(n);
    EXPECT_EQ(b_->Verify(r.id, r.code, "email").status, 200) << n;
    EXPECT_TRUE(IsErrorCode(a_->Verify(r.id, r.code, "email"), 400, "verification_code.not_found"))
        << n;
  }
  // One past the end is no record.
  const Row past = record(100'000'001);
  EXPECT_TRUE(IsErrorCode(b_->Verify(past.id, past.code, "email"), 404,
                          "session.verification_session_not_found"));
  std::printf("after 3 verifies: used_memory %lld bytes (%+lld from before the batch)\n",
              static_cast<long long>(UsedMemory()), static_cast<long long>(UsedMemory() - before));
}

// Redis restarted without its state: batches made afterwards never take the serial of one a
// node still caches, both nodes keep deriving the same ids, and a lost batch's records become
// not found on a node that cached its rule once it read the new generation (within a second).
TEST_F(SharedDerivedTest, RedisRestartedEmptyNeitherRevivesNorConfusesCachedBatches) {
  ASSERT_NE(redis_, nullptr) << "a scenario of the one redis-server";
  MockServer c, d;
  for (MockServer* node : {&c, &d}) {
    ASSERT_TRUE(node->Start({"--store", url_ + "?prefix=restart", "--send-limit", "0"}))
        << node->error();
  }
  auto ready = [&] {
    return c.AdminGet("/readyz").status == 200 && d.AdminGet("/readyz").status == 200;
  };
  ASSERT_TRUE(WaitFor("nodes ready", ready));
  const std::string lost = Generate(c, R"({"count":3,"identifierType":"email","code":"111111"})");
  const std::vector<Row> lost_rows = Export(c, lost);
  ASSERT_EQ(lost_rows.size(), 3u);
  EXPECT_EQ(d.Verify(lost_rows[0].id, "111111", "email").status, 200);  // D caches its rule
  RedisServer::ReplyPtr lost_serial = Command({"HGET", "restart:{batches}", "id:" + lost});
  ASSERT_TRUE(lost_serial && lost_serial->type == REDIS_REPLY_STRING);
  const std::string old_serial(lost_serial->str, lost_serial->len);

  redis_->Kill();
  ASSERT_TRUE(redis_->Restart());
  ASSERT_TRUE(WaitFor("nodes ready again", ready));
  const std::string fresh = Generate(c, R"({"count":3,"identifierType":"email","code":"222222"})");
  RedisServer::ReplyPtr fresh_serial = Command({"HGET", "restart:{batches}", "id:" + fresh});
  ASSERT_TRUE(fresh_serial && fresh_serial->type == REDIS_REPLY_STRING);
  EXPECT_NE(std::string(fresh_serial->str, fresh_serial->len), old_serial);
  const std::vector<Row> rows = Export(c, fresh);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_TRUE(
      IsErrorCode(d.Verify(rows[0].id, "111111", "email"), 400, "verification_code.code_mismatch"));
  EXPECT_EQ(d.Verify(rows[0].id, "222222", "email").status, 200);
  EXPECT_TRUE(WaitFor("D forgets the lost batch", [&] {
    return d.AdminGet("/admin/verifications/" + lost_rows[2].id).status == 404;
  }));
  EXPECT_TRUE(IsErrorCode(d.Verify(lost_rows[1].id, "111111", "email"), 404,
                          "session.verification_session_not_found"));
  // The other suites' nodes reconnected too.
  ASSERT_TRUE(WaitFor("both nodes ready", [] {
    return a_->AdminGet("/readyz").status == 200 && b_->AdminGet("/readyz").status == 200;
  }));
}

TEST_F(SharedDerivedTest, BothNodesVerifyingTheSame20kCodesAtOnceSucceedExactlyOnceEach) {
  constexpr size_t kCodes = 20'000;
  const std::string batch = Generate(*a_, R"({"count":20000,"identifierType":"email"})");
  const std::vector<Row> rows = Export(*b_, batch);
  ASSERT_EQ(rows.size(), kCodes);
  std::vector<std::atomic<int>> per_code(kCodes);
  std::atomic<int> successes{0}, others{0};
  std::vector<std::thread> threads;
  // Two threads per node, each node verifying every code once: each code is raced by both nodes.
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<HttpClient> client = (t < 2 ? a_ : b_)->NewPublicClient();
      for (size_t i = t % 2; i < kCodes; i += 2) {
        const HttpResponse r =
            client->Post("/api/experience/verification/mfa-verification-code/verify",
                         R"({"verificationId":")" + rows[i].id + R"(","code":")" + rows[i].code +
                             R"(","identifierType":"email"})");
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
  EXPECT_EQ(successes.load(), static_cast<int>(kCodes));
  EXPECT_EQ(others.load(), 0);
  size_t wrong = 0;
  for (size_t i = 0; i < kCodes; ++i) wrong += per_code[i].load() != 1;
  EXPECT_EQ(wrong, 0u);
}

}  // namespace
}  // namespace mfa_test
