// SPDX-License-Identifier: Apache-2.0
// Snapshots and graceful shutdown against the real binary (issue 5, part 4): a million records
// survive SIGTERM + restart exactly; corrupt or truncated files stop start-up with one clear line
// (or start empty with --snapshot-ignore-corrupt); kill -9 during snapshot writes never leaves a
// file that fails to load; SIGTERM lets requests in flight finish.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/http_client.h"
#include "tests/support/json_helpers.h"
#include "tests/support/large_fetch.h"
#include "tests/support/mock_server.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_files.h"
#include "tests/support/wait.h"

namespace mfa_test {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kMillion = 1'000'000;

std::string VerifyBody(std::string_view id, std::string_view code) {
  return R"({"verificationId":)" + Quote(id) + R"(,"code":)" + Quote(code) +
         R"(,"identifierType":"email"})";
}

// GET /admin/verifications/export (CSV) as id -> code; `duplicates` counts repeated ids.
std::unordered_map<std::string, std::string> ExportAll(uint16_t admin_port, size_t* rows,
                                                       size_t* duplicates,
                                                       const std::string& batch = {}) {
  std::unordered_map<std::string, std::string> out;
  *rows = 0;
  *duplicates = 0;
  Fetched r = FetchLarge(admin_port, "/admin/verifications/export" +
                                         (batch.empty() ? std::string() : "?batch=" + batch));
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.error, "");
  out.reserve(kMillion + 1000);
  std::string_view text = r.body;
  bool header = true;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (header) {
      header = false;
      continue;
    }
    if (line.empty()) continue;
    const size_t c1 = line.find(',');
    const size_t c2 = line.find(',', c1 + 1);
    if (c1 == std::string_view::npos || c2 == std::string_view::npos) continue;
    ++*rows;
    if (!out.emplace(std::string(line.substr(0, c1)), std::string(line.substr(c1 + 1, c2 - c1 - 1)))
             .second) {
      ++*duplicates;
    }
  }
  return out;
}

// The "restored N records ... in M ms" line's N and M, or -1.
std::pair<int64_t, int64_t> RestoredFromLog(const std::string& stderr_text) {
  const size_t at = stderr_text.find("restored ");
  if (at == std::string::npos) return {-1, -1};
  const int64_t records = std::atoll(stderr_text.c_str() + at + 9);
  const size_t in = stderr_text.find(" in ", at);
  const size_t nl = stderr_text.find('\n', at);
  if (in == std::string::npos || in > nl) return {records, -1};
  return {records, std::atoll(stderr_text.c_str() + in + 4)};
}

int64_t StoreSize(HttpClient& admin) {
  return Json(admin.Get("/admin/stats").body).Int("/records").value_or(-1);
}

std::vector<std::string> NonEmptyLines(const std::string& text) {
  std::vector<std::string> lines;
  for (std::string& line : SplitLines(text)) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

// ===== 1M records through SIGTERM and restart ================================================

TEST(SnapshotTest, AMillionRecordsWithTheirStateAndTheInboxSurviveARestart) {
  TempDir dir;
  const std::string snapshot = dir.File("store.snap");
  const std::vector<std::string> args = {"--snapshot", snapshot,       "--snapshot-interval",
                                         "0",          "--send-limit", "0"};
  MockServer before;
  ASSERT_TRUE(before.Start(args)) << before.error();
  auto admin = before.NewAdminClient();
  auto pub = before.NewPublicClient();

  auto t = Clock::now();
  HttpResponse gen = admin->Post(
      "/admin/verifications/generate",
      R"({"count":1000000,"identifierType":"email","identifier":"seed{n}@example.com"})");
  ASSERT_TRUE(HasStatus(gen, 201));
  const std::string batch = Json(gen.body).String("/batchId").value_or("");
  const double generate_s = std::chrono::duration<double>(Clock::now() - t).count();
  // A few hand-seeded records (explicit ids, other identifiers, a phone, an unidentified one).
  ASSERT_TRUE(HasStatus(
      admin->Post(
          "/admin/verifications",
          R"([{"verificationId":"hand-1","identifierType":"email","identifier":"a@b.c","code":"111111"},)"
          R"({"verificationId":"hand-2","identifierType":"phone","identifier":"+15555550123","code":"222222","ttlSeconds":86400},)"
          R"({"verificationId":"hand-3","identifierType":"email","code":"333333","identified":false}])"),
      201));
  // Sends: records with the default user's address, and inbox messages.
  std::vector<std::string> sent_ids;
  for (int i = 0; i < 40; ++i) {
    HttpResponse r = pub->Post(
        kSendPath, i % 2 ? R"({"identifierType":"phone"})" : R"({"identifierType":"email"})");
    ASSERT_TRUE(HasStatus(r, 200));
    sent_ids.push_back(Json(r.body).String("/verificationId").value_or(""));
  }
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(
        HasStatus(admin->Post("/admin/send", R"({"identifierType":"email","identifier":"inbox)" +
                                                 std::to_string(i) + R"(@example.com"})"),
                  201));
  }

  size_t rows = 0, dups = 0;
  t = Clock::now();
  const auto exported = ExportAll(before.process().admin_port(), &rows, &dups);
  const double export_s = std::chrono::duration<double>(Clock::now() - t).count();
  ASSERT_EQ(rows, static_cast<size_t>(kMillion) + 3 + 40 + 10);
  ASSERT_EQ(dups, 0u);

  // Pick disjoint generated records to verify, to fail 3 times, and to lock (maxAttempts).
  const auto gen_rows = ExportAll(before.process().admin_port(), &rows, &dups, batch);
  ASSERT_EQ(rows, static_cast<size_t>(kMillion));
  std::vector<std::pair<std::string, std::string>>
      picks;  // unordered_map order: effectively random
  for (auto it = gen_rows.begin(); picks.size() < 900 && it != gen_rows.end(); ++it)
    picks.push_back(*it);
  const std::vector<std::pair<std::string, std::string>> verified(picks.begin(),
                                                                  picks.begin() + 300);
  const std::vector<std::pair<std::string, std::string>> failed(picks.begin() + 300,
                                                                picks.begin() + 600);
  const std::vector<std::pair<std::string, std::string>> locked(picks.begin() + 600,
                                                                picks.begin() + 620);
  const std::vector<std::pair<std::string, std::string>> untouched(picks.begin() + 620,
                                                                   picks.end());
  auto wrong = [](const std::string& code) { return code == "000000" ? "000001" : "000000"; };
  for (const auto& [id, code] : verified)
    ASSERT_TRUE(HasStatus(pub->Post(kVerifyPath, VerifyBody(id, code)), 200));
  for (const auto& [id, code] : failed) {
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(
          IsErrorCode(pub->Post(kVerifyPath, VerifyBody(id, wrong(code))), 400, kCodeMismatch));
    }
  }
  for (const auto& [id, code] : locked) {
    for (int i = 0; i < kDefaultMaxAttempts; ++i)
      pub->Post(kVerifyPath, VerifyBody(id, wrong(code)));
    ASSERT_TRUE(IsErrorCode(pub->Post(kVerifyPath, VerifyBody(id, code)), 400, kExceedMaxTry));
  }
  // Two sent codes verified as well.
  for (int i = 0; i < 2; ++i) {
    HttpResponse rec = admin->Get("/admin/verifications/" + sent_ids[i]);
    const std::string code = Json(rec.body).String("/code").value_or("");
    const std::string type = i % 2 ? "phone" : "email";
    ASSERT_TRUE(HasStatus(
        pub->Post(kVerifyPath, R"({"verificationId":)" + Quote(sent_ids[i]) + R"(,"code":)" +
                                   Quote(code) + R"(,"identifierType":)" + Quote(type) + "}"),
        200));
  }
  const HttpResponse inbox_before = admin->Get("/admin/inbox?limit=1000");
  ASSERT_TRUE(HasStatus(inbox_before, 200));
  ASSERT_EQ(Json(inbox_before.body).Size("/messages"), 50u);
  const std::string hand2_before = admin->Get("/admin/verifications/hand-2").body;
  const std::string sent0_before = admin->Get("/admin/verifications/" + sent_ids[0]).body;
  const int64_t rss_before = ReadRssBytes(before.process().pid());

  // SIGTERM: exit 0 after the final snapshot.
  t = Clock::now();
  ASSERT_EQ(before.process().Stop(seconds(120)), 0) << before.process().Stderr(4000);
  const double stop_s = std::chrono::duration<double>(Clock::now() - t).count();
  const std::string saved_log = before.process().Stderr();
  EXPECT_NE(saved_log.find("saved " + std::to_string(kMillion + 53) + " records and 50 inbox"),
            std::string::npos)
      << saved_log.substr(saved_log.size() > 2000 ? saved_log.size() - 2000 : 0);
  const uintmax_t file_bytes = std::filesystem::file_size(snapshot);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "store.snap") << "left behind: " << entry.path();
  }

  // Restart from the same file.
  MockServer after;
  t = Clock::now();
  ASSERT_TRUE(after.Start(args)) << after.error();
  const double ready_s = std::chrono::duration<double>(Clock::now() - t).count();
  const auto [restored, restore_ms] = RestoredFromLog(after.process().Stderr());
  EXPECT_EQ(restored, kMillion + 53);
  const int64_t rss_after = ReadRssBytes(after.process().pid());
  auto admin2 = after.NewAdminClient();
  auto pub2 = after.NewPublicClient();

  const auto exported_again = ExportAll(after.process().admin_port(), &rows, &dups);
  EXPECT_EQ(dups, 0u);
  EXPECT_EQ(exported_again.size(), exported.size());
  size_t missing = 0, changed = 0;
  for (const auto& [id, code] : exported) {
    auto it = exported_again.find(id);
    if (it == exported_again.end()) {
      ++missing;
    } else if (it->second != code) {
      ++changed;
    }
  }
  EXPECT_EQ(missing, 0u) << "records lost across the restart";
  EXPECT_EQ(changed, 0u) << "codes changed across the restart";
  // The batch is still addressable.
  ExportAll(after.process().admin_port(), &rows, &dups, batch);
  EXPECT_EQ(rows, static_cast<size_t>(kMillion));

  // State, spot-checked record by record.
  for (const auto& [id, code] : verified) {
    Json rec(admin2->Get("/admin/verifications/" + id).body);
    ASSERT_EQ(rec.Bool("/consumed"), true) << id;
    ASSERT_EQ(rec.Bool("/verified"), true) << id;
    ASSERT_EQ(rec.String("/batchId"), batch) << id;
  }
  for (const auto& [id, code] : failed) {
    Json rec(admin2->Get("/admin/verifications/" + id).body);
    ASSERT_EQ(rec.Int("/tryCount"), 3) << id;
    ASSERT_EQ(rec.Bool("/consumed"), false) << id;
  }
  for (const auto& [id, code] : locked) {
    ASSERT_EQ(Json(admin2->Get("/admin/verifications/" + id).body).Int("/tryCount"),
              kDefaultMaxAttempts);
    ASSERT_TRUE(IsErrorCode(pub2->Post(kVerifyPath, VerifyBody(id, code)), 400, kExceedMaxTry));
  }
  for (const auto& [id, code] : untouched) {
    Json rec(admin2->Get("/admin/verifications/" + id).body);
    ASSERT_EQ(rec.Int("/tryCount"), 0) << id;
    ASSERT_EQ(rec.Bool("/consumed"), false) << id;
    ASSERT_EQ(rec.String("/code"), code) << id;
  }
  // A verified code stays consumed; an untouched one still verifies; a failed one still counts.
  EXPECT_TRUE(
      IsErrorCode(pub2->Post(kVerifyPath, VerifyBody(verified[0].first, verified[0].second)), 400,
                  kCodeNotFound));
  EXPECT_TRUE(
      HasStatus(pub2->Post(kVerifyPath, VerifyBody(untouched[0].first, untouched[0].second)), 200));
  EXPECT_TRUE(
      IsErrorCode(pub2->Post(kVerifyPath, VerifyBody(failed[0].first, wrong(failed[0].second))),
                  400, kCodeMismatch));
  EXPECT_EQ(Json(admin2->Get("/admin/verifications/" + failed[0].first).body).Int("/tryCount"), 4);
  EXPECT_EQ(admin2->Get("/admin/verifications/hand-2").body, hand2_before);
  EXPECT_EQ(admin2->Get("/admin/verifications/" + sent_ids[0]).body, sent0_before);
  Json hand3(admin2->Get("/admin/verifications/hand-3").body);
  EXPECT_EQ(hand3.Bool("/identified"), false);
  // The inbox, message for message (newest first, same states).
  EXPECT_EQ(admin2->Get("/admin/inbox?limit=1000").body, inbox_before.body);
  EXPECT_TRUE(HasStatus(admin2->Get("/admin/inbox/latest?to=inbox9%40example.com"), 200));

  std::cout << "[ snapshot ] generated 1M in " << generate_s << " s, exported " << exported.size()
            << " rows in " << export_s << " s; SIGTERM to exit " << stop_s << " s; file "
            << file_bytes << " bytes; restart to ready " << ready_s << " s (restore " << restore_ms
            << " ms for " << restored << " records); RSS before " << rss_before / (1 << 20)
            << " MiB, after restore " << rss_after / (1 << 20) << " MiB\n";
  EXPECT_EQ(after.Stop(), 0);
}

// ===== Corrupt and truncated files ============================================================

class CorruptSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    snapshot_ = dir_.File("good.snap");
    MockServer server;
    ASSERT_TRUE(server.Start({"--snapshot", snapshot_, "--snapshot-interval", "0"}))
        << server.error();
    // Stored records fill most of the file (the flips land there); a derived batch adds its
    // rule and state runs.
    ASSERT_TRUE(
        HasStatus(server.AdminPost("/admin/verifications/generate",
                                   R"({"count":2000,"identifierType":"email","derived":false})"),
                  201));
    ASSERT_TRUE(HasStatus(server.AdminPost("/admin/verifications/generate",
                                           R"({"count":3000,"identifierType":"phone"})"),
                          201));
    ASSERT_TRUE(HasStatus(server.Send("email"), 200));
    ASSERT_TRUE(HasStatus(server.Send("phone"), 200));
    ASSERT_EQ(server.Stop(), 0);
    auto bytes = ReadFile(snapshot_);
    ASSERT_TRUE(bytes);
    good_ = *bytes;
    ASSERT_GT(good_.size(), 2000u * 20);
  }

  // Starts the binary on `content`; expects exit 1 with exactly one stderr line naming the file
  // and the way out. Returns that line.
  std::string ExpectRefused(const std::string& content, const std::string& what) {
    const std::string path = dir_.File("bad.snap");
    EXPECT_TRUE(WriteFile(path, content));
    RunResult run =
        RunBinary({"--snapshot", path, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"},
                  seconds(60));
    EXPECT_EQ(run.exit_code, 1) << what << ": " << run.Describe();
    const std::vector<std::string> lines = NonEmptyLines(run.err);
    EXPECT_EQ(lines.size(), 1u) << what << ": " << run.err;
    const std::string line = lines.empty() ? "" : lines.back();
    EXPECT_EQ(line.rfind("mfa-mock: --snapshot " + path + ": ", 0), 0u) << what << ": " << line;
    EXPECT_NE(line.find("--snapshot-ignore-corrupt"), std::string::npos) << line;
    EXPECT_EQ(run.out.find("mfa-mock ready"), std::string::npos) << what << ": it started";
    return line;
  }

  TempDir dir_;
  std::string snapshot_;
  std::string good_;
};

TEST_F(CorruptSnapshotTest, EveryFlippedByteStopsStartUpWithOneClearLine) {
  // The header, the record area, the inbox and the trailer.
  std::vector<size_t> positions = {0,
                                   5,
                                   8,
                                   12,
                                   16,
                                   23,
                                   24,
                                   30,
                                   good_.size() / 3,
                                   good_.size() / 2,
                                   good_.size() - 300,
                                   good_.size() - 13,
                                   good_.size() - 12,
                                   good_.size() - 9,
                                   good_.size() - 8,
                                   good_.size() - 1};
  std::mt19937 rng(12345);
  for (int i = 0; i < 8; ++i) positions.push_back(rng() % good_.size());
  for (size_t pos : positions) {
    std::string bad = good_;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    const std::string line = ExpectRefused(bad, "byte " + std::to_string(pos) + " flipped");
    if (pos == 0 || pos == good_.size() / 2 || pos == good_.size() - 1 || pos == 8) {
      std::cout << "[ corrupt  ] byte " << pos << " flipped: " << line << "\n";
    }
  }
}

TEST_F(CorruptSnapshotTest, EveryTruncationStopsStartUpWithOneClearLine) {
  for (size_t keep : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{20}, size_t{28},
                      size_t{100}, good_.size() / 2, good_.size() - 100, good_.size() - 13,
                      good_.size() - 12, good_.size() - 8, good_.size() - 1}) {
    const std::string line = ExpectRefused(good_.substr(0, keep), "kept " + std::to_string(keep));
    if (keep == 0 || keep == good_.size() / 2 || keep == good_.size() - 1) {
      std::cout << "[ truncated] kept " << keep << " of " << good_.size() << " bytes: " << line
                << "\n";
    }
  }
  // Bytes appended after the trailer, and a future version number.
  ExpectRefused(good_ + "x", "one byte appended");
  std::string v3 = good_;
  v3[8] = 3;
  const std::string line = ExpectRefused(v3, "version 3");
  EXPECT_NE(line.find("version 3 is not supported"), std::string::npos) << line;
}

TEST_F(CorruptSnapshotTest, IgnoreCorruptStartsEmptyWithAWarning) {
  const std::string path = dir_.File("bad.snap");
  {
    // A flipped bit in the middle: the loader reads the file as a stream, so whichever check the
    // damaged field meets first names it (a batch reference, a kind, or at the end the
    // checksum); the file layout varies between runs, so the cause does too.
    std::string bad = good_;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 1);
    ASSERT_TRUE(WriteFile(path, bad));
    MockServer server;
    ASSERT_TRUE(
        server.Start({"--snapshot", path, "--snapshot-ignore-corrupt", "--snapshot-interval", "0"}))
        << server.error();
    EXPECT_EQ(Json(server.AdminGet("/admin/stats").body).Int("/records"), 0);
    const std::string log = server.process().Stderr();
    EXPECT_NE(log.find("ignoring corrupt snapshot"), std::string::npos) << log;
    EXPECT_EQ(server.Stop(), 0);
  }
  // A flipped bit of the checksum itself: only the checksum can tell.
  std::string bad = good_;
  const size_t crc_at = bad.size() - 12;  // the trailer: CRC-32, then 8 bytes of end magic
  bad[crc_at] = static_cast<char>(bad[crc_at] ^ 1);
  ASSERT_TRUE(WriteFile(path, bad));
  MockServer server;
  ASSERT_TRUE(
      server.Start({"--snapshot", path, "--snapshot-ignore-corrupt", "--snapshot-interval", "0"}))
      << server.error();
  EXPECT_EQ(Json(server.AdminGet("/admin/stats").body).Int("/records"), 0);
  EXPECT_EQ(Json(server.AdminGet("/admin/stats").body).Int("/inboxMessages"), 0);
  const std::string log = server.process().Stderr();
  EXPECT_NE(log.find("ignoring corrupt snapshot"), std::string::npos) << log;
  EXPECT_NE(log.find("checksum mismatch"), std::string::npos) << log;
  // It serves normally, and its shutdown replaces the corrupt file with a good one.
  ASSERT_TRUE(HasStatus(server.Send("email"), 200));
  EXPECT_EQ(server.Stop(), 0);
  MockServer again;
  ASSERT_TRUE(again.Start({"--snapshot", path, "--snapshot-interval", "0"})) << again.error();
  EXPECT_EQ(Json(again.AdminGet("/admin/stats").body).Int("/records"), 1);
  EXPECT_EQ(again.Stop(), 0);
  // A truncated file too.
  ASSERT_TRUE(WriteFile(path, good_.substr(0, good_.size() / 3)));
  MockServer truncated;
  ASSERT_TRUE(truncated.Start({"--snapshot", path, "--snapshot-ignore-corrupt"}))
      << truncated.error();
  EXPECT_EQ(Json(truncated.AdminGet("/admin/stats").body).Int("/records"), 0);
  EXPECT_EQ(truncated.Stop(), 0);
}

TEST_F(CorruptSnapshotTest, StartUpRemovesTempFilesOfDeadWritersAndLoadsTheSnapshot) {
  const std::string path = dir_.File("good.snap");
  ASSERT_TRUE(WriteFile(path, good_));
  std::ifstream pid_max_file("/proc/sys/kernel/pid_max");
  long pid_max = 4194304;
  pid_max_file >> pid_max;
  const std::string stale = path + ".tmp." + std::to_string(pid_max + 1);  // no such process
  ASSERT_TRUE(WriteFile(stale, good_.substr(0, good_.size() / 2)));
  MockServer server;
  ASSERT_TRUE(server.Start({"--snapshot", path, "--snapshot-interval", "0"})) << server.error();
  EXPECT_FALSE(std::filesystem::exists(stale));
  const std::string log = server.process().Stderr();
  EXPECT_NE(log.find("removed " + stale), std::string::npos) << log;
  EXPECT_GT(Json(server.AdminGet("/admin/stats").body).Int("/records").value_or(0), 0);
  EXPECT_EQ(server.Stop(), 0);
}

TEST_F(CorruptSnapshotTest, AGoodFileStillLoads) {
  MockServer server;
  ASSERT_TRUE(server.Start({"--snapshot", snapshot_})) << server.error();
  EXPECT_EQ(Json(server.AdminGet("/admin/stats").body).Int("/records"), 2000 + 3000 + 2);
  EXPECT_EQ(Json(server.AdminGet("/admin/stats").body).Int("/inboxMessages"), 2);
  EXPECT_EQ(server.Stop(), 0);
}

// ===== kill -9 during snapshot writes =========================================================

// Seeds and sends until stopped, so snapshots run against a changing store.
class Churn {
 public:
  explicit Churn(const ServerProcess& process) {
    thread_ = std::thread([this, admin_port = process.admin_port(),
                           public_port = process.public_port()] {
      HttpClient admin(admin_port);
      HttpClient pub(public_port);
      while (!stop_) {
        // No new batches here: see ASnapshotTakenWhileBatchesAreGeneratedLoads for that.
        admin.Post(
            "/admin/verifications",
            R"([{"identifierType":"email"},{"identifierType":"phone"},{"identifierType":"email","identifier":"c@d.e"}])");
        pub.Post(kSendPath, R"({"identifierType":"email"})");
        ++rounds_;
      }
    });
  }
  ~Churn() { Stop(); }
  int Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return rounds_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> rounds_{0};
  std::thread thread_;
};

// Waits until a periodic snapshot that started after this call has replaced `path`: the second
// replacement from now (the first may have begun earlier). On a slow (sanitized) build a periodic
// snapshot can take seconds, so one taken during a big generate may hold only part of it.
bool WaitForASnapshotStartedNow(const std::string& path, milliseconds timeout) {
  auto stamp = [&] {
    std::error_code ec;
    return std::filesystem::last_write_time(path, ec);
  };
  auto seen = stamp();
  int replaced = 0;
  for (auto until = Clock::now() + timeout; Clock::now() < until && replaced < 2;) {
    std::this_thread::sleep_for(milliseconds(20));
    const auto now_stamp = stamp();
    if (now_stamp != seen) {
      seen = now_stamp;
      ++replaced;
    }
  }
  return replaced == 2;
}

TEST(SnapshotKillTest, KillDashNineDuringSnapshotWritesNeverLeavesAnUnloadableFile) {
  TempDir dir;
  const std::string snapshot = dir.File("store.snap");
  const std::vector<std::string> args = {"--snapshot", snapshot,       "--snapshot-interval",
                                         "1",          "--send-limit", "0"};
  const unsigned seed = static_cast<unsigned>(Clock::now().time_since_epoch().count());
  std::mt19937 rng(seed);
  std::cout << "[ kill -9  ] seed " << seed << "\n";
  // Kills go on until enough of them landed inside a write, whatever the machine's speed: a kill
  // is counted as inside a write when the killed process left its temporary file behind (it exists
  // from the first byte written until the rename).
  constexpr int kMinKills = 6;
  constexpr int kMinInsideAWrite = 3;
  constexpr int kMaxKills = 20;
  int kills = 0;
  int mid_write = 0;
  int64_t last_restored = -1;
  for (;;) {
    ServerProcess server;
    ASSERT_TRUE(server.Start(args, {}, seconds(120)))
        << "after kill " << kills << ": the snapshot left by the kill -9 does not load:\n"
        << server.error();
    // Generous: a 1M generate competes with churn and 1 s snapshots (minutes under TSan).
    HttpClient admin(server.admin_port(), "127.0.0.1", seconds(60));
    const auto [restored, ms] = RestoredFromLog(server.Stderr());
    last_restored = restored;
    if (kills > 0 && std::filesystem::exists(snapshot)) {
      EXPECT_GE(restored, kMillion) << "after kill " << kills;
    }
    const bool enough = kills >= kMinKills && mid_write >= kMinInsideAWrite;
    if (enough || kills == kMaxKills) break;
    if (StoreSize(admin) < kMillion) {
      ASSERT_TRUE(HasStatus(admin.Post("/admin/verifications/generate",
                                       R"({"count":1000000,"identifierType":"email"})"),
                            201));
      // The next round expects the million on disk.
      ASSERT_TRUE(WaitForASnapshotStartedNow(snapshot, seconds(120)));
    }
    Churn churn(server);
    const std::string temp = snapshot + ".tmp." + std::to_string(server.pid());
    if (kills % 2 == 0) {
      // At a random moment.
      std::this_thread::sleep_for(milliseconds(1200 + rng() % 2000));
    } else {
      // Aimed at a write: as soon as the temporary file appears, plus a short random delay. (The
      // bound only matters if no snapshot ever starts; a busy machine spaces them out.)
      bool seen = false;
      for (auto until = Clock::now() + seconds(60); Clock::now() < until && !seen;) {
        seen = std::filesystem::exists(temp);
        if (!seen) std::this_thread::sleep_for(milliseconds(1));
      }
      std::this_thread::sleep_for(microseconds(rng() % 3000));
    }
    ASSERT_TRUE(server.Signal(SIGKILL));
    EXPECT_EQ(server.WaitForExit(seconds(30)), 128 + SIGKILL);
    ++kills;
    const int rounds = churn.Stop();
    const bool writing = std::filesystem::exists(temp);
    mid_write += writing ? 1 : 0;
    std::cout << "[ kill -9  ] kill " << kills << ": "
              << (writing ? "during a snapshot write" : "between writes") << " (" << rounds
              << " churn rounds); file "
              << (std::filesystem::exists(snapshot)
                      ? std::to_string(std::filesystem::file_size(snapshot)) + " bytes"
                      : std::string("absent"))
              << "\n";
  }
  int leftovers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    leftovers += entry.path().filename() != "store.snap";
  }
  std::cout << "[ kill -9  ] " << kills << " kills, " << mid_write
            << " inside a write; last restore " << last_restored << " records; " << leftovers
            << " temporary files left behind\n";
  EXPECT_GE(mid_write, kMinInsideAWrite)
      << "after " << kMaxKills << " kills, too few landed inside a write to mean much";
  // Each restart removes the temporary file the killed process left; the last server stopped
  // normally.
  EXPECT_EQ(leftovers, 0);
}

// Records generated into a new batch while a periodic snapshot is scanning the store must not
// make that snapshot unloadable.
TEST(SnapshotKillTest, ASnapshotTakenWhileBatchesAreGeneratedLoads) {
  TempDir dir;
  const std::string snapshot = dir.File("store.snap");
  const std::vector<std::string> args = {"--snapshot", snapshot, "--snapshot-interval", "1"};
  {
    ServerProcess server;
    ASSERT_TRUE(server.Start(args)) << server.error();
    HttpClient admin(server.admin_port(), "127.0.0.1", seconds(60));
    ASSERT_TRUE(HasStatus(admin.Post("/admin/verifications/generate",
                                     R"({"count":1000000,"identifierType":"email"})"),
                          201));
    ASSERT_TRUE(WaitForASnapshotStartedNow(snapshot, seconds(120)));
    // Many small batches while at least two periodic snapshots run.
    const auto until = Clock::now() + milliseconds(2600);
    int batches = 0;
    while (Clock::now() < until) {
      ASSERT_TRUE(HasStatus(
          admin.Post("/admin/verifications/generate", R"({"count":20,"identifierType":"email"})"),
          201));
      ++batches;
    }
    // Wait for the write in progress (if any) to finish, then kill -9: the file on disk is a
    // periodic snapshot taken during the churn.
    const std::string temp = snapshot + ".tmp." + std::to_string(server.pid());
    for (auto stop = Clock::now() + seconds(3);
         Clock::now() < stop && std::filesystem::exists(temp);) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    ASSERT_TRUE(server.Signal(SIGKILL));
    server.WaitForExit(seconds(30));
    std::cout << "[ batches  ] " << batches << " batches generated during periodic snapshots\n";
    ASSERT_TRUE(std::filesystem::exists(snapshot));
  }
  ServerProcess again;
  ASSERT_TRUE(again.Start(args, {}, seconds(120)))
      << "the periodic snapshot taken while batches were being generated does not load:\n"
      << again.error();
  HttpClient admin(again.admin_port());
  EXPECT_GE(StoreSize(admin), kMillion);
}

// ===== SIGTERM with requests in flight ========================================================

// A verify slowed by fault injection is answered by the listener's timer thread after the handler
// has returned: is it "in flight" for the SIGTERM drain? It must still get its answer (its effect,
// the consumed code, is in the snapshot either way).
TEST(GracefulShutdownTest, SigtermLetsADelayedVerifyFinish) {
  TempDir dir;
  const std::string snapshot = dir.File("store.snap");
  MockServer server;
  ASSERT_TRUE(server.Start({"--snapshot", snapshot, "--snapshot-interval", "0"})) << server.error();
  ASSERT_TRUE(
      HasStatus(server.AdminPost(
                    "/admin/verifications",
                    R"([{"verificationId":"in-flight","identifierType":"email","code":"135790"}])"),
                201));
  // Long enough that the SIGTERM below lands while the answer is held back, however slowly the
  // test gets from seeing the request in the journal to sending the signal.
  ASSERT_TRUE(HasStatus(server.PatchConfig(R"({"faults":{"verify":{"delayMs":5000}}})"), 200));
  ASSERT_TRUE(HasStatus(server.AdminDelete("/admin/requests"), 204));
  HttpResponse answer;
  double answered_s = 0;
  std::atomic<bool> answered{false};
  const auto t0 = Clock::now();
  std::thread client([&] {
    HttpClient pub(server.process().public_port(), "127.0.0.1", seconds(60));
    answer = pub.Post(kVerifyPath, VerifyBody("in-flight", "135790"));
    answered_s = std::chrono::duration<double>(Clock::now() - t0).count();
    answered = true;
  });
  // The record is verified once the handler has run, while its answer is still held back by the
  // delay: the state this test is about, reached at any load. (The journal records a request
  // when its answer is written, so it would only show the verify after the delay.)
  const bool queued = WaitFor(
      "the record verified by the handler (answer held back by the delay)",
      [&] {
        return Json(server.AdminGet("/admin/verifications/in-flight").body)
            .Bool("/verified")
            .value_or(false);
      },
      [&] { return server.AdminGet("/admin/verifications/in-flight").body; });
  EXPECT_TRUE(queued);
  const bool answered_before_sigterm = answered.load();
  ASSERT_TRUE(server.process().Signal(SIGTERM));
  const int status = server.process().WaitForExit(seconds(60));
  const double exit_s = std::chrono::duration<double>(Clock::now() - t0).count();
  client.join();
  std::cout << "[ drain    ] delayed verify: server exited " << status << " after " << exit_s
            << " s; client "
            << (answer.ok() ? "got " + std::to_string(answer.status) : answer.error) << " after "
            << answered_s << " s\n";
  EXPECT_FALSE(answered_before_sigterm)
      << "the delayed answer arrived before SIGTERM: the test did not test the drain";
  EXPECT_EQ(status, 0);
  EXPECT_TRUE(HasStatus(answer, 200))
      << "SIGTERM dropped a verify delayed by fault injection: the drain must wait for the "
         "answers held by the timer thread, not only for Lifecycle's in-flight handlers "
         "(RouteTable::Dispatch counts a delayed request as done once its answer is queued)";
  // The verify's effect happened and was saved.
  MockServer after;
  ASSERT_TRUE(after.Start({"--snapshot", snapshot, "--snapshot-interval", "0"})) << after.error();
  Json rec(after.AdminGet("/admin/verifications/in-flight").body);
  EXPECT_EQ(rec.Bool("/consumed"), true) << rec.Dump();
  EXPECT_EQ(after.Stop(), 0);
}

// A slow synchronous request (a 4M-record generate, about a second) finishes across SIGTERM; a new
// request during the drain gets a JSON 503 with Connection: close; exit 0.
TEST(GracefulShutdownTest, SigtermLetsASlowRequestFinishAndRefusesNewOnes) {
  MockServer server;
  // The default 10 s grace is ample for a ~1 s generate, not for one under ThreadSanitizer.
  ASSERT_TRUE(server.Start({"--shutdown-grace", "120"})) << server.error();
  // Connections opened before the signal.
  HttpClient generator(server.process().admin_port(), "127.0.0.1", seconds(120));
  HttpClient late(server.process().public_port());
  ASSERT_TRUE(HasStatus(generator.Get("/healthz"), 200));
  ASSERT_TRUE(IsErrorCode(late.Get("/nope"), 404, kRouteNotFound));
  HttpResponse generated;
  std::atomic<bool> generate_done{false};
  const auto t0 = Clock::now();
  std::thread b([&] {
    generated = generator.Post("/admin/verifications/generate",
                               R"({"count":4000000,"identifierType":"phone"})");
    generate_done = true;
  });
  // SIGTERM once the generate is in flight: it reserves its 4M records first, so the store's
  // count jumps before any is written. (A fixed head start fails on a slow or sanitized build.)
  HttpClient watcher(server.process().admin_port());
  for (auto until = Clock::now() + seconds(60); Clock::now() < until;) {
    if (Json(watcher.Get("/admin/stats").body).Int("/records").value_or(0) > 0) break;
    std::this_thread::sleep_for(milliseconds(2));
  }
  ASSERT_TRUE(server.process().Signal(SIGTERM));
  // The drain has begun once the admin listener answers 503 (both listeners share one
  // lifecycle): wait for that state, not for a head start that a busy machine may not give.
  HttpResponse last_probe;
  EXPECT_TRUE(WaitFor(
      "the drain (GET /healthz answering 503), or the generate finishing first",
      [&] {
        if (generate_done) return true;
        last_probe = watcher.Get("/healthz");
        return last_probe.ok() && last_probe.status == 503;
      },
      [&] { return last_probe.Describe(); }));
  HttpResponse refused = late.Post(kSendPath, R"({"identifierType":"email"})");
  const bool refused_during_drain = !generate_done;
  b.join();
  const int status = server.process().WaitForExit(seconds(60));
  const double exit_s = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_EQ(status, 0);
  EXPECT_TRUE(HasStatus(generated, 201));
  EXPECT_EQ(Json(generated.body).Int("/created"), 4000000);
  if (refused_during_drain) {
    EXPECT_TRUE(IsError(refused, 503, "request.shutting_down", "The mock is shutting down."))
        << refused.Describe();
    EXPECT_EQ(refused.Header("Connection").value_or(""), "Close");
  } else {
    std::cout << "[ drain    ] the generate finished before the late request; 503 not checked\n";
  }
  std::cout << "[ drain    ] 4M generate in flight at SIGTERM -> " << generated.status
            << "; late request -> " << refused.status << "; exit " << status << " after " << exit_s
            << " s\n";
}

// An export of `count` generated codes with SIGTERM sent as soon as its head arrives (the rows
// are still being produced), on a server with `grace_seconds` of --shutdown-grace.
struct ExportAtSigterm {
  int exit_status = -1;
  Fetched exported;
  size_t lines = 0;  // header included
  double exit_s = 0;
};
ExportAtSigterm RunExportAtSigterm(int count, int grace_seconds) {
  ExportAtSigterm out;
  MockServer server;
  EXPECT_TRUE(server.Start({"--shutdown-grace", std::to_string(grace_seconds)})) << server.error();
  HttpResponse batch =
      server.AdminPost("/admin/verifications/generate",
                       R"({"count":)" + std::to_string(count) + R"(,"identifierType":"email"})");
  EXPECT_TRUE(HasStatus(batch, 201));
  const auto t0 = Clock::now();
  out.exported = FetchLarge(server.process().admin_port(), "/admin/verifications/export",
                            seconds(60), [&] { server.process().Signal(SIGTERM); });
  out.exit_status = server.process().WaitForExit(seconds(60));
  out.exit_s = std::chrono::duration<double>(Clock::now() - t0).count();
  out.lines = std::count(out.exported.body.begin(), out.exported.body.end(), '\n');
  return out;
}

// A 1M-row export in flight at SIGTERM arrives whole: within the grace, as any request (120 s: a
// sanitized build exports 1M rows in more than the default 10 s).
TEST(GracefulShutdownTest, SigtermLetsAStreamedExportFinish) {
  const ExportAtSigterm run = RunExportAtSigterm(kMillion, 120);
  EXPECT_EQ(run.exit_status, 0);
  ASSERT_EQ(run.exported.status, 200) << run.exported.error;
  EXPECT_EQ(run.exported.error, "");
  EXPECT_EQ(run.lines, static_cast<size_t>(kMillion) + 1) << "export cut short by the shutdown";
  std::cout << "[ drain    ] 1M-row export in flight at SIGTERM: " << run.lines - 1
            << " rows arrived; exit " << run.exit_status << " after " << run.exit_s << " s\n";
}

// An export streams from a thread of its own: past the grace the listener ends it before closing
// (its client sees the body cut), and the process exits cleanly instead of writing into a
// transport that is gone (this aborted, exit 134, before the listener waited for it).
TEST(GracefulShutdownTest, SigtermPastTheGraceCutsAnExportAndExitsCleanly) {
  const ExportAtSigterm run = RunExportAtSigterm(10 * kMillion, 1);
  EXPECT_EQ(run.exit_status, 0);
  EXPECT_EQ(run.exported.status, 200);
  EXPECT_NE(run.exported.error, "") << "a 10M-row body arrived whole within a 1 s grace";
  EXPECT_LT(run.lines, static_cast<size_t>(10 * kMillion) + 1);
  EXPECT_LT(run.exit_s, 30.0);
  std::cout << "[ drain    ] 10M-row export at SIGTERM, 1 s grace: " << run.lines
            << " lines arrived; exit " << run.exit_status << " after " << run.exit_s << " s\n";
}

}  // namespace
}  // namespace mfa_test
