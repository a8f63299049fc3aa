// SPDX-License-Identifier: Apache-2.0
// Generated batches are derived (issue 17): every route on their records against the real
// binary. Clients see the same ids, codes, bodies and check order as for stored records.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/large_fetch.h"
#include "tests/support/mock_server.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_values.h"
#include "tests/support/wait.h"

namespace mfa_test {
namespace {

struct Row {
  std::string id, code, type, identifier;
};

bool IsLogtoId(const std::string& s) {
  if (s.size() != 21) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

// A CSV export's rows (the tests' identifiers hold no commas or quotes).
std::vector<Row> ParseCsv(const std::string& body) {
  std::vector<Row> rows;
  bool header = true;
  for (const std::string& line : SplitLines(body)) {
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> cols;
    size_t start = 0;
    for (;;) {
      const size_t comma = line.find(',', start);
      cols.push_back(line.substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (cols.size() == 4) rows.push_back({cols[0], cols[1], cols[2], cols[3]});
  }
  return rows;
}

std::string Wrong(const std::string& code) {
  std::string w = code;
  w[5] = w[5] == '9' ? '0' : static_cast<char>(w[5] + 1);
  return w;
}

// A sanitizer's allocator fills what calloc returns, so a batch's state pages are resident at
// once there; the memory checks below hold for the ordinary build only (the server is built
// like this test).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kLazyStatePages = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kLazyStatePages = false;
#else
constexpr bool kLazyStatePages = true;
#endif
#else
constexpr bool kLazyStatePages = true;
#endif

// The server's resident set in kB, from /proc.
long RssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      long kb = 0;
      status >> kb;
      return kb;
    }
    std::getline(status, key);
  }
  return -1;
}

// Generates a batch on `server`; returns its id ("" on failure).
std::string Generate(MockServer& server, const std::string& body) {
  HttpResponse r = server.AdminPost("/admin/verifications/generate", body);
  EXPECT_TRUE(HasStatus(r, 201)) << body;
  return Json(r.body).String("/batchId").value_or("");
}

std::vector<Row> Export(MockServer& server, const std::string& batch) {
  HttpResponse r = server.AdminGet("/admin/verifications/export?format=csv" +
                                   (batch.empty() ? std::string() : "&batch=" + UrlEncode(batch)));
  EXPECT_TRUE(HasStatus(r, 200));
  return ParseCsv(r.body);
}

class DerivedBatchesTest : public MockServerTest {
 public:
  // No cap: a batch far larger than the records limit costs its rule, not records.
  static void SetUpTestSuite() { StartSharedServer({"--max-records", "0"}); }

 protected:
  std::vector<Row> GenerateAndExport(const std::string& body) {
    return Export(server(), Generate(server(), body));
  }
  int64_t Records() {
    return Json(server().AdminGet("/admin/stats").body).Int("/records").value_or(-1);
  }
};

TEST_F(DerivedBatchesTest, GeneratedRecordsLookLikeLogtoRecordsAndVerifyOnce) {
  const std::vector<Row> rows = GenerateAndExport(
      R"({"count":500,"identifierType":"email","identifier":"load{n}@example.com"})");
  ASSERT_EQ(rows.size(), 500u);
  std::set<std::string> ids, identifiers;
  for (const Row& row : rows) {
    EXPECT_TRUE(IsLogtoId(row.id)) << row.id;
    EXPECT_TRUE(IsSixDigitCode(row.code)) << row.code;
    EXPECT_EQ(row.type, "email");
    ids.insert(row.id);
    identifiers.insert(row.identifier);
  }
  EXPECT_EQ(ids.size(), 500u);
  EXPECT_TRUE(identifiers.count("load1@example.com"));
  EXPECT_TRUE(identifiers.count("load500@example.com"));
  for (size_t i : {size_t{0}, size_t{250}, size_t{499}}) {
    HttpResponse ok = server().Verify(rows[i].id, rows[i].code, "email");
    EXPECT_TRUE(HasStatus(ok, 200)) << rows[i].id;
    EXPECT_EQ(Json(ok.body).String("/verificationId"), rows[i].id);
    EXPECT_TRUE(
        IsErrorCode(server().Verify(rows[i].id, rows[i].code, "email"), 400, kCodeNotFound));
  }
  EXPECT_EQ(Records(), 500);
}

TEST_F(DerivedBatchesTest, TheCheckOrderAnswersAsForStoredRecords) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"maxAttempts":2})"), 200));
  const std::vector<Row> rows =
      GenerateAndExport(R"({"count":3,"identifierType":"phone","ttlSeconds":60})");
  ASSERT_EQ(rows.size(), 3u);
  const Row& a = rows[0];
  EXPECT_TRUE(IsErrorCode(server().Verify(a.id, a.code, "email"), 404, kVerificationNotFound));
  HttpResponse mismatch = server().Verify(a.id, Wrong(a.code), "phone");
  EXPECT_TRUE(IsErrorCode(mismatch, 400, kCodeMismatch));
  EXPECT_EQ(Json(mismatch.body).String("/message"), std::string(kCodeMismatchMessage));
  EXPECT_TRUE(IsErrorCode(server().Verify(a.id, Wrong(a.code), "phone"), 400, kCodeMismatch));
  EXPECT_TRUE(IsErrorCode(server().Verify(a.id, a.code, "phone"), 400, kExceedMaxTry));
  EXPECT_EQ(Json(server().AdminGet("/admin/verifications/" + a.id).body).Int("/tryCount"), 2);
  // Expiry: after the batch's TTL every record answers expired.
  ASSERT_TRUE(HasStatus(server().AdvanceClock(61), 200));
  EXPECT_TRUE(IsErrorCode(server().Verify(rows[1].id, rows[1].code, "phone"), 400, kCodeExpired));
  // An id of the same shape that no batch holds.
  EXPECT_TRUE(IsErrorCode(server().Verify("000000000000000000000", "123456", "phone"), 404,
                          kVerificationNotFound));
  // The documented profile checks the connector first.
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"connectors":{"phone":false}})"), 200));
  EXPECT_TRUE(
      IsErrorCode(server().Verify(rows[2].id, rows[2].code, "phone"), 501, kConnectorNotFound));
}

TEST_F(DerivedBatchesTest, GetAndDeleteReadAndRemoveOneDerivedRecord) {
  const std::string batch = Generate(
      server(), R"({"count":4,"identifierType":"email","identifier":"g{n}@x.io","code":"424242"})");
  const std::vector<Row> rows = Export(server(), batch);
  ASSERT_EQ(rows.size(), 4u);
  Json record(server().AdminGet("/admin/verifications/" + rows[1].id).body);
  EXPECT_EQ(record.String("/verificationId"), rows[1].id);
  EXPECT_EQ(record.String("/code"), "424242");
  EXPECT_EQ(record.String("/identifier"), rows[1].identifier);
  EXPECT_EQ(record.String("/batchId"), batch);
  EXPECT_EQ(record.Int("/tryCount"), 0);
  EXPECT_EQ(record.Bool("/consumed"), false);
  EXPECT_EQ(record.Bool("/identified"), true);
  ASSERT_TRUE(HasStatus(server().Verify(rows[2].id, "424242", "email"), 200));
  Json consumed(server().AdminGet("/admin/verifications/" + rows[2].id).body);
  EXPECT_EQ(consumed.Bool("/consumed"), true);
  EXPECT_EQ(consumed.Bool("/verified"), true);

  EXPECT_TRUE(HasStatus(server().AdminDelete("/admin/verifications/" + rows[1].id), 204));
  EXPECT_TRUE(
      IsErrorCode(server().AdminDelete("/admin/verifications/" + rows[1].id), 404, kAdminNotFound));
  EXPECT_TRUE(
      IsErrorCode(server().AdminGet("/admin/verifications/" + rows[1].id), 404, kAdminNotFound));
  EXPECT_TRUE(
      IsErrorCode(server().Verify(rows[1].id, "424242", "email"), 404, kVerificationNotFound));
  EXPECT_EQ(Export(server(), batch).size(), 3u);
  EXPECT_EQ(Records(), 3);
  // Seeding the id of a live generated record is a duplicate.
  EXPECT_TRUE(IsErrorCode(
      server().AdminPost("/admin/verifications", R"([{"verificationId":")" + rows[0].id +
                                                     R"(","identifierType":"email"}])"),
      409, kAdminVerificationExists));
}

TEST_F(DerivedBatchesTest, DeleteAllCountsDerivedRecordsAndExportListsBothKinds) {
  ASSERT_TRUE(HasStatus(server().AdminPost("/admin/verifications",
                                           R"([{"verificationId":"s1","identifierType":"email"}])"),
                        201));
  const std::string a = Generate(server(), R"({"count":70,"identifierType":"email"})");
  const std::string b = Generate(server(), R"({"count":30,"identifierType":"phone"})");
  EXPECT_EQ(Export(server(), a).size(), 70u);
  EXPECT_EQ(Export(server(), b).size(), 30u);
  EXPECT_EQ(Export(server(), "").size(), 101u);
  HttpResponse ndjson = server().AdminGet("/admin/verifications/export?format=ndjson&batch=" + b);
  ASSERT_TRUE(HasStatus(ndjson, 200));
  size_t ndjson_rows = 0;
  for (const std::string& line : SplitLines(ndjson.body)) ndjson_rows += !line.empty();
  EXPECT_EQ(ndjson_rows, 30u);
  HttpResponse deleted = server().AdminDelete("/admin/verifications");
  EXPECT_EQ(Json(deleted.body).Int("/deleted"), 101);
  EXPECT_EQ(Export(server(), "").size(), 0u);
  EXPECT_EQ(Records(), 0);
}

TEST_F(DerivedBatchesTest, MetricsCountGeneratedRecords) {
  Generate(server(), R"({"count":1234,"identifierType":"email"})");
  const std::string metrics = server().AdminGet("/metrics").body;
  EXPECT_NE(metrics.find("mfa_mock_store_records 1234"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("mfa_mock_codes_seeded_total{source=\"generate\"}"), std::string::npos);
}

TEST_F(DerivedBatchesTest, StoredBatchesRemainAvailable) {
  const std::vector<Row> rows =
      GenerateAndExport(R"({"count":50,"identifierType":"email","derived":false})");
  ASSERT_EQ(rows.size(), 50u);
  EXPECT_TRUE(HasStatus(server().Verify(rows[7].id, rows[7].code, "email"), 200));
  EXPECT_TRUE(IsErrorCode(server().AdminPost("/admin/verifications/generate",
                                             R"({"count":10000001,"identifierType":"email",)"
                                             R"("derived":false})"),
                          400, kAdminInvalidRequest));
}

// The large-batch test, sized for a 2-core CI machine: 100M codes are one rule and zero pages;
// a 1M-row export streams every row once.
TEST_F(DerivedBatchesTest, AHundredMillionCodesCostAlmostNothingAndAMillionExportOnce) {
  const pid_t pid = server().process().pid();
  const long rss_before = RssKb(pid);
  const auto started = std::chrono::steady_clock::now();
  const std::string huge = Generate(
      server(), R"({"count":100000000,"identifierType":"email","identifier":"h{n}@x.io"})");
  const double generate_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_FALSE(huge.empty());
  EXPECT_EQ(Records(), 100'000'000);
  const long rss_after = RssKb(pid);
  std::cout << "[ derived  ] generate 100M: " << generate_s << " s, RSS " << rss_before << " -> "
            << rss_after << " kB\n";
  if (kLazyStatePages) {
    EXPECT_LT(rss_after - rss_before, 64 * 1024);  // stored: ~7.8 GB
  }

  const std::string million = Generate(server(), R"({"count":1000000,"identifierType":"phone"})");
  const auto export_started = std::chrono::steady_clock::now();
  // 180 s: a TSan build streams these 58 MB in about a minute.
  Fetched fetched =
      FetchLarge(server().process().admin_port(), "/admin/verifications/export?batch=" + million,
                 std::chrono::seconds(180));
  ASSERT_EQ(fetched.error, "");
  const double export_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - export_started).count();
  ASSERT_EQ(fetched.status, 200) << fetched.error;
  std::cout << "[ derived  ] export 1M rows: " << export_s << " s\n";
  // Every row once: ids as views into the body (a million strings would cost seconds here).
  std::unordered_set<std::string_view> ids;
  ids.reserve(1'000'000);
  std::string_view text = fetched.body, last;
  text.remove_prefix(text.find('\n') + 1);  // the header
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    last = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ASSERT_TRUE(ids.insert(last.substr(0, last.find(','))).second) << last;
  }
  EXPECT_EQ(ids.size(), 1'000'000u);
  const std::string last_id(last.substr(0, 21)), last_code(last.substr(22, 6));
  EXPECT_TRUE(IsLogtoId(last_id)) << last;
  EXPECT_TRUE(HasStatus(server().Verify(last_id, last_code, "phone"), 200)) << last;
  EXPECT_EQ(Json(server().AdminDelete("/admin/verifications").body).Int("/deleted"), 101'000'000);
}

// --- flags: --max-records, snapshots, the sweeper ---------------------------------------------

TEST(DerivedBatchesFlagsTest, TheRecordsCapCountsDerivedRecords) {
  MockServer server;
  ASSERT_TRUE(server.Start({"--max-records", "1000"})) << server.error();
  EXPECT_TRUE(HasStatus(server.AdminPost("/admin/verifications/generate",
                                         R"({"count":900,"identifierType":"email"})"),
                        201));
  EXPECT_TRUE(IsErrorCode(server.AdminPost("/admin/verifications/generate",
                                           R"({"count":101,"identifierType":"email"})"),
                          503, kStoreFull));
  EXPECT_TRUE(HasStatus(server.AdminPost("/admin/verifications/generate",
                                         R"({"count":100,"identifierType":"email"})"),
                        201));
  EXPECT_TRUE(IsErrorCode(server.Send("email"), 503, kStoreFull));
}

TEST(DerivedBatchesFlagsTest, ASnapshotKeepsABatchWithItsStateAcrossARestart) {
  TempDir dir;
  const std::string snapshot = dir.File("derived.snap");
  const std::vector<std::string> args = {"--snapshot", snapshot, "--snapshot-interval", "0"};
  std::vector<Row> rows;
  {
    MockServer before;
    ASSERT_TRUE(before.Start(args)) << before.error();
    const std::string batch = Generate(before, R"({"count":20000,"identifierType":"email"})");
    rows = Export(before, batch);
    ASSERT_EQ(rows.size(), 20'000u);
    ASSERT_TRUE(HasStatus(before.Verify(rows[0].id, rows[0].code, "email"), 200));
    ASSERT_TRUE(
        IsErrorCode(before.Verify(rows[1].id, Wrong(rows[1].code), "email"), 400, kCodeMismatch));
    ASSERT_TRUE(HasStatus(before.AdminDelete("/admin/verifications/" + rows[2].id), 204));
    ASSERT_EQ(before.Stop(), 0);
  }
  EXPECT_LT(std::filesystem::file_size(snapshot), 4096u);  // 20k codes: a rule and 3 words
  MockServer after;
  ASSERT_TRUE(after.Start(args)) << after.error();
  EXPECT_EQ(Json(after.AdminGet("/admin/stats").body).Int("/records"), 19'999);
  EXPECT_TRUE(IsErrorCode(after.Verify(rows[0].id, rows[0].code, "email"), 400, kCodeNotFound));
  EXPECT_EQ(Json(after.AdminGet("/admin/verifications/" + rows[1].id).body).Int("/tryCount"), 1);
  EXPECT_TRUE(
      IsErrorCode(after.AdminGet("/admin/verifications/" + rows[2].id), 404, kAdminNotFound));
  for (size_t i : {size_t{1}, size_t{3}, size_t{19'999}}) {
    EXPECT_TRUE(HasStatus(after.Verify(rows[i].id, rows[i].code, "email"), 200)) << i;
  }
}

TEST(DerivedBatchesFlagsTest, TheSweeperRemovesConsumedRecordsThenTheWholeBatch) {
  MockServer server;
  ASSERT_TRUE(server.Start({"--sweep-interval", "1", "--retention", "5"})) << server.error();
  const std::string batch = Generate(server, R"({"count":10,"identifierType":"email",)"
                                             R"("ttlSeconds":100})");
  const std::vector<Row> rows = Export(server, batch);
  ASSERT_EQ(rows.size(), 10u);
  ASSERT_TRUE(HasStatus(server.Verify(rows[0].id, rows[0].code, "email"), 200));
  auto records = [&] { return Json(server.AdminGet("/admin/stats").body).Int("/records"); };
  ASSERT_TRUE(HasStatus(server.AdvanceClock(7), 200));  // consumed 1 s (rounded) + 5 s ago
  EXPECT_TRUE(WaitFor(
      "the consumed record swept", [&] { return records() == 9; },
      [&] { return std::to_string(records().value_or(-1)) + " records"; }));
  EXPECT_TRUE(
      IsErrorCode(server.AdminGet("/admin/verifications/" + rows[0].id), 404, kAdminNotFound));
  EXPECT_TRUE(HasStatus(server.AdminGet("/admin/verifications/" + rows[1].id), 200));
  ASSERT_TRUE(HasStatus(server.AdvanceClock(100), 200));  // expired 7 s ago, retention 5 s
  EXPECT_TRUE(WaitFor(
      "the expired batch swept", [&] { return records() == 0; },
      [&] { return std::to_string(records().value_or(-1)) + " records"; }));
  EXPECT_TRUE(
      IsErrorCode(server.Verify(rows[1].id, rows[1].code, "email"), 404, kVerificationNotFound));
  EXPECT_EQ(Export(server, batch).size(), 0u);
}

}  // namespace
}  // namespace mfa_test
