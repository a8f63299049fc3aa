// SPDX-License-Identifier: Apache-2.0
// snapshot: the parts testable without a server (the round trips and corruption cases run on the
// real binary in tests/integration/snapshot_test.cc).

#include "core/snapshot.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace mfa {
namespace {

namespace fs = std::filesystem;

// A pid no process can have: one above the kernel's pid_max.
std::string ImpossiblePid() {
  std::ifstream in("/proc/sys/kernel/pid_max");
  long pid_max = 4194304;
  in >> pid_max;
  return std::to_string(pid_max + 1);
}

class SnapshotTempsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/mfa-snapshot-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Touch(const std::string& name) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path) << "x";
    return path;
  }

  std::string dir_;
};

TEST_F(SnapshotTempsTest, RemovesTempsOfDeadProcessesOnly) {
  const std::string dead = Touch("snap.bin.tmp." + ImpossiblePid());
  const std::string mine = Touch("snap.bin.tmp." + std::to_string(::getpid()));
  const std::string alive = Touch("snap.bin.tmp." + std::to_string(::getppid()));
  const std::string snapshot = Touch("snap.bin");
  const std::string not_a_pid = Touch("snap.bin.tmp.12ab");
  const std::string other_file = Touch("other.bin.tmp." + ImpossiblePid());

  std::vector<std::string> removed = RemoveStaleSnapshotTemps(dir_ + "/snap.bin");
  std::sort(removed.begin(), removed.end());
  std::vector<std::string> expected = {dead, mine};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(removed, expected);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(mine));
  for (const std::string& kept : {alive, snapshot, not_a_pid, other_file}) {
    EXPECT_TRUE(fs::exists(kept)) << kept;
  }
}

TEST_F(SnapshotTempsTest, AMissingDirectoryRemovesNothing) {
  EXPECT_TRUE(RemoveStaleSnapshotTemps(dir_ + "/no/such/dir/snap.bin").empty());
}

TEST_F(SnapshotTempsTest, ARelativePathLooksInTheWorkingDirectory) {
  const fs::path before = fs::current_path();
  fs::current_path(dir_);
  const std::string dead = "rel.bin.tmp." + ImpossiblePid();
  Touch(dead);
  const std::vector<std::string> removed = RemoveStaleSnapshotTemps("rel.bin");
  fs::current_path(before);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0], "./" + dead);
  EXPECT_FALSE(fs::exists(dir_ + "/" + dead));
}

}  // namespace
}  // namespace mfa
