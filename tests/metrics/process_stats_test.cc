// SPDX-License-Identifier: Apache-2.0
#include "metrics/process_stats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>

namespace mfa::metrics {
namespace {

namespace fs = std::filesystem;

// /proc/<pid>/stat of a process named "a b) c" (fields 14, 15, 22, 23, 24 set).
constexpr const char* kStat =
    "1234 (a b) c) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 150 0 0 20 0 3 0 12345 "
    "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

TEST(ProcessStatsTest, ParsesStatWithAwkwardCommandName) {
  ProcessStats stats;
  ParseProcSelfStat(kStat, 100, 4096, 1700000000, &stats);
  ASSERT_TRUE(stats.cpu_seconds);
  EXPECT_DOUBLE_EQ(*stats.cpu_seconds, 4.0);  // (250 + 150) / 100
  ASSERT_TRUE(stats.start_time_seconds);
  EXPECT_DOUBLE_EQ(*stats.start_time_seconds, 1700000000 + 123.45);
  ASSERT_TRUE(stats.virtual_bytes);
  EXPECT_DOUBLE_EQ(*stats.virtual_bytes, 104857600);
  ASSERT_TRUE(stats.resident_bytes);
  EXPECT_DOUBLE_EQ(*stats.resident_bytes, 2560.0 * 4096);
}

TEST(ProcessStatsTest, NoBootTimeMeansNoStartTime) {
  ProcessStats stats;
  ParseProcSelfStat(kStat, 100, 4096, std::nullopt, &stats);
  EXPECT_FALSE(stats.start_time_seconds);
  EXPECT_TRUE(stats.cpu_seconds);
}

TEST(ProcessStatsTest, TruncatedOrGarbageStatGivesNothing) {
  ProcessStats stats;
  ParseProcSelfStat("1234 (x) S 1 2 3", 100, 4096, 1, &stats);
  EXPECT_FALSE(stats.cpu_seconds);
  EXPECT_FALSE(stats.resident_bytes);
  ParseProcSelfStat("no parenthesis at all", 100, 4096, 1, &stats);
  EXPECT_FALSE(stats.cpu_seconds);
  ParseProcSelfStat("", 100, 4096, 1, &stats);
  EXPECT_FALSE(stats.virtual_bytes);
}

class FakeProcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("mfa_fake_proc_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "self" / "fd");
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const fs::path& relative, const std::string& text) {
    std::ofstream(root_ / relative) << text;
  }

  fs::path root_;
};

TEST_F(FakeProcTest, ReadsEverySource) {
  Write("stat", "cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n");
  Write("self/stat", kStat);
  Write("self/limits",
        "Limit                     Soft Limit           Hard Limit           Units\n"
        "Max open files            1024                 524288               files\n");
  for (const char* fd : {"0", "1", "2", "7"}) Write(fs::path("self/fd") / fd, "");
  ProcessStats stats = ReadProcessStats(root_.string());
  ASSERT_TRUE(stats.open_fds);
  EXPECT_EQ(*stats.open_fds, 4);
  ASSERT_TRUE(stats.max_fds);
  EXPECT_EQ(*stats.max_fds, 1024);
  ASSERT_TRUE(stats.start_time_seconds);
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_DOUBLE_EQ(*stats.start_time_seconds, 1700000000 + 12345 / ticks);
  ASSERT_TRUE(stats.cpu_seconds);
  EXPECT_DOUBLE_EQ(*stats.cpu_seconds, 400 / ticks);
}

TEST_F(FakeProcTest, MissingFilesGiveEmptyFields) {
  fs::remove_all(root_ / "self");
  ProcessStats stats = ReadProcessStats(root_.string());
  EXPECT_FALSE(stats.cpu_seconds);
  EXPECT_FALSE(stats.resident_bytes);
  EXPECT_FALSE(stats.open_fds);
  EXPECT_FALSE(stats.max_fds);
  EXPECT_FALSE(stats.start_time_seconds);
}

TEST_F(FakeProcTest, UnlimitedOpenFilesGivesNoMax) {
  Write("self/limits",
        "Max open files            unlimited            unlimited            files\n");
  EXPECT_FALSE(ReadProcessStats(root_.string()).max_fds);
}

TEST(ProcessStatsTest, RealProcIsPlausible) {
  ProcessStats stats = ReadProcessStats("/proc");
  ASSERT_TRUE(stats.cpu_seconds && stats.resident_bytes && stats.virtual_bytes && stats.open_fds &&
              stats.max_fds && stats.start_time_seconds);
  EXPECT_GE(*stats.cpu_seconds, 0);
  EXPECT_GT(*stats.resident_bytes, 0);
  EXPECT_GE(*stats.virtual_bytes, *stats.resident_bytes);
  EXPECT_GE(*stats.open_fds, 3);
  EXPECT_GE(*stats.max_fds, *stats.open_fds);
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(*stats.start_time_seconds, now + 1);
  EXPECT_GT(*stats.start_time_seconds, now - 24 * 3600);
}

}  // namespace
}  // namespace mfa::metrics
