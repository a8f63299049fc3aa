// SPDX-License-Identifier: Apache-2.0
// snapshot: the parts testable without a server (the round trips and corruption cases run on the
// real binary in tests/integration/snapshot_test.cc).

#include "core/snapshot.h"

#include "core/derived_ids.h"
#include "core/inbox.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
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

// ---------------------------------------------------------------------------------------------
// Derived batches (issue 17): saved as their rule, their key and their state words.

constexpr int64_t kT0 = 1'700'000'000'000;

class SnapshotTest : public SnapshotTempsTest {};  // the same temporary directory

DerivedSpec Spec(uint32_t count, std::string fixed_code = "") {
  DerivedSpec spec;
  spec.id = "b_snap" + std::to_string(count);
  spec.type = IdentifierType::kPhone;
  spec.pattern = "+1555{n}";
  spec.count = count;
  spec.created_ms = kT0;
  spec.ttl_seconds = 900;
  spec.fixed_code = std::move(fixed_code);
  return spec;
}

// Every record of batch `handle` a scan yields: id -> "identifier,code,tries,consumed".
std::map<std::string, std::string> Contents(const VerificationStore& store, uint32_t handle) {
  std::map<std::string, std::string> out;
  ScanCursor cursor;
  while (!cursor.done) {
    store.Scan(cursor, handle, 1000, [&](const RecordView& v) {
      const auto s = store.Get(v.verification_id);
      out[std::string(v.verification_id)] = std::string(v.identifier) + "," + std::string(v.code) +
                                            "," + std::to_string(s->try_count) + "," +
                                            (s->consumed ? "consumed" : "pending");
    });
  }
  return out;
}

TEST_F(SnapshotTest, DerivedBatchesSurviveWithTheirKeyAndStateAndStaySmall) {
  VerificationStore before(StoreOptions{8, 0});
  Inbox inbox(10);
  NewRecord stored;
  stored.id = "seeded";
  stored.code = "123456";
  stored.identifier = IdentifierRef::Shared(SharedTextRef("a@x.io"));
  stored.created_ms = kT0;
  stored.ttl_seconds = 60;
  ASSERT_EQ(before.Insert(stored), InsertStatus::kInserted);
  const uint32_t small = before.GenerateDerived(Spec(5000));
  const uint32_t large = before.GenerateDerived(Spec(10'000'000, "777"));
  ASSERT_NE(small, 0u);
  ASSERT_NE(large, 0u);
  // State on a few records of each: tries, a consumption, a deletion.
  const auto batches = before.DerivedBatches();
  for (const auto& batch : batches) {
    auto id_of = [&](uint64_t n) {
      std::string id(21, '\0');
      EncodeId21(before.cipher().Encrypt(DerivedPlain(batch->rule().serial, n)), id.data());
      return id;
    };
    ASSERT_TRUE(before.WithDerived(id_of(2), [](DerivedSlot& slot) {
      slot.word.store(DerivedState::WithFailedTry(DerivedState::WithFailedTry(0)));
    }));
    ASSERT_TRUE(before.WithDerived(id_of(3), [&](DerivedSlot& slot) {
      slot.word.store(slot.batch.ConsumedWord(0, kT0 + 4'000));
      slot.batch.NoteConsumed(kT0 + 4'000);
    }));
    ASSERT_TRUE(before.Erase(id_of(4)));
  }
  const std::string path = dir_ + "/derived.snap";
  SnapshotStats written;
  std::string error;
  ASSERT_TRUE(WriteSnapshot(path, before, inbox, kT0, &written, &error)) << error;
  EXPECT_EQ(written.records, 1u + 4999u + 9'999'999u);
  EXPECT_LT(written.bytes, 1000u);  // 10M records: a rule and a few state words

  VerificationStore after(StoreOptions{8, 0});
  Inbox inbox_after(10);
  SnapshotStats loaded;
  ASSERT_EQ(LoadSnapshot(path, &after, &inbox_after, &loaded, &error), SnapshotLoad::kLoaded)
      << error;
  EXPECT_EQ(loaded.records, written.records);
  EXPECT_EQ(after.size(), before.size());
  EXPECT_EQ(after.FindBatch("b_snap5000"), small);
  EXPECT_EQ(after.FindBatch("b_snap10000000"), large);
  // The small batch record by record, the large one by sample: same ids, codes and state.
  const auto before_rows = Contents(before, small);
  EXPECT_EQ(before_rows.size(), 4999u);
  EXPECT_TRUE(before_rows == Contents(after, small));
  for (uint64_t n : {uint64_t{1}, uint64_t{2}, uint64_t{3}, uint64_t{4}, uint64_t{9'999'999}}) {
    std::string id(21, '\0');
    EncodeId21(before.cipher().Encrypt(DerivedPlain(batches[1]->rule().serial, n)), id.data());
    const auto was = before.Get(id);
    const auto is = after.Get(id);
    ASSERT_EQ(was.has_value(), is.has_value()) << n;
    if (!was) continue;
    EXPECT_EQ(was->code, is->code);
    EXPECT_EQ(was->try_count, is->try_count);
    EXPECT_EQ(was->consumed, is->consumed);
    EXPECT_EQ(was->identifier, is->identifier);
  }
  EXPECT_TRUE(after.Get("seeded").has_value());
  // The consumed record keeps its time: it is swept with the same retention.
  EXPECT_EQ(after.Sweep(kT0 + 4'000 + 1'000, 1'000), 0u);
  EXPECT_EQ(after.Sweep(kT0 + 4'000 + 1'001, 1'000), 2u);
}

TEST_F(SnapshotTest, ADerivedBatchOverTheCapStopsTheLoad) {
  VerificationStore before(StoreOptions{8, 0});
  Inbox inbox(10);
  ASSERT_NE(before.GenerateDerived(Spec(100)), 0u);
  const std::string path = dir_ + "/cap.snap";
  std::string error;
  ASSERT_TRUE(WriteSnapshot(path, before, inbox, kT0, nullptr, &error)) << error;
  VerificationStore capped(StoreOptions{8, 99});
  Inbox inbox_after(10);
  EXPECT_EQ(LoadSnapshot(path, &capped, &inbox_after, nullptr, &error), SnapshotLoad::kCorrupt);
  EXPECT_NE(error.find("more records than --max-records"), std::string::npos) << error;
}

}  // namespace
}  // namespace mfa
