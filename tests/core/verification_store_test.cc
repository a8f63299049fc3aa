// SPDX-License-Identifier: Apache-2.0
#include "core/verification_store.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <latch>
#include <map>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mfa {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

NewRecord MakeRecord(std::string id, std::string code = "123456",
                     IdentifierType type = IdentifierType::kEmail,
                     std::string identifier = "user@example.com", int64_t created_ms = kT0,
                     uint32_t ttl_seconds = 600, bool identified = true) {
  NewRecord r;
  r.id = std::move(id);
  r.code = std::move(code);
  r.type = type;
  r.identifier = IdentifierRef::Shared(SharedTextRef(identifier));
  r.created_ms = created_ms;
  r.ttl_seconds = ttl_seconds;
  r.identified = identified;
  return r;
}

InsertStatus InsertOne(VerificationStore& store, std::string id, std::string code = "123456") {
  NewRecord r = MakeRecord(std::move(id), std::move(code));
  return store.Insert(r);
}

bool IsIdChar(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); }

// Every record the store yields, id -> (identifier, code), scanning `max_rows` at a time.
// Fails the test if an id is yielded twice.
std::map<std::string, std::pair<std::string, std::string>> ScanAll(const VerificationStore& store,
                                                                   uint32_t batch_filter,
                                                                   size_t max_rows) {
  std::map<std::string, std::pair<std::string, std::string>> seen;
  ScanCursor cursor;
  size_t calls = 0;
  while (!cursor.done) {
    const size_t emitted = store.Scan(cursor, batch_filter, max_rows, [&](const RecordView& v) {
      const bool fresh =
          seen.emplace(std::string(v.verification_id),
                       std::make_pair(std::string(v.identifier), std::string(v.code)))
              .second;
      EXPECT_TRUE(fresh) << "scanned twice: " << v.verification_id;
    });
    EXPECT_LE(emitted, max_rows);
    if (++calls > 1'000'000) {
      ADD_FAILURE() << "scan did not finish";
      break;
    }
  }
  return seen;
}

TEST(VerificationStoreTest, RecordIs64Bytes) { EXPECT_EQ(sizeof(Record), 64u); }

TEST(VerificationStoreTest, ShardCountMustBeAPowerOfTwoUpTo65536) {
  for (size_t bad : {size_t{0}, size_t{3}, size_t{6}, size_t{100}, size_t{65535}, size_t{65537},
                     size_t{131072}}) {
    EXPECT_THROW(VerificationStore(StoreOptions{bad, 0}), std::invalid_argument) << bad;
  }
  for (size_t good : {size_t{1}, size_t{2}, size_t{64}, size_t{65536}}) {
    VerificationStore store(StoreOptions{good, 0});
    EXPECT_EQ(store.shard_count(), good);
  }
}

TEST(VerificationStoreTest, DefaultOptions) {
  VerificationStore store;
  EXPECT_EQ(store.shard_count(), 64u);
  EXPECT_EQ(store.max_records(), 0u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(VerificationStoreTest, InsertThenGetReturnsEveryField) {
  VerificationStore store;
  NewRecord r = MakeRecord("rec1", "000123", IdentifierType::kPhone, "+15555550100", kT0, 300,
                           /*identified=*/false);
  ASSERT_EQ(store.Insert(r), InsertStatus::kInserted);
  EXPECT_EQ(store.size(), 1u);
  const auto s = store.Get("rec1");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->verification_id, "rec1");
  EXPECT_EQ(s->identifier_type, IdentifierType::kPhone);
  EXPECT_EQ(s->identifier, "+15555550100");
  EXPECT_EQ(s->code, "000123");
  EXPECT_EQ(s->created_ms, kT0);
  EXPECT_EQ(s->expires_ms, kT0 + 300'000);
  EXPECT_EQ(s->try_count, 0u);
  EXPECT_FALSE(s->consumed);
  EXPECT_FALSE(s->verified);
  EXPECT_FALSE(s->identified);
  EXPECT_EQ(s->batch_id, "");
}

TEST(VerificationStoreTest, GetOfUnknownIdIsEmpty) {
  VerificationStore store;
  EXPECT_FALSE(store.Get("nope").has_value());
  ASSERT_EQ(InsertOne(store, "a"), InsertStatus::kInserted);
  EXPECT_FALSE(store.Get("b").has_value());
  EXPECT_FALSE(store.Get("").has_value());
  EXPECT_FALSE(store.Get("a ").has_value());
}

TEST(VerificationStoreTest, DuplicateIdAnswersExistsAndKeepsTheOriginal) {
  VerificationStore store;
  ASSERT_EQ(InsertOne(store, "dup", "111111"), InsertStatus::kInserted);
  NewRecord again = MakeRecord("dup", "222222", IdentifierType::kEmail, "other@example.com");
  EXPECT_EQ(store.Insert(again), InsertStatus::kExists);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.Get("dup")->code, "111111");
  EXPECT_EQ(store.Get("dup")->identifier, "user@example.com");
  // The refused record still owns its identifier.
  EXPECT_EQ(again.identifier.SharedView(), "other@example.com");
}

TEST(VerificationStoreTest, InsertTakesTheIdentifier) {
  VerificationStore store;
  NewRecord r = MakeRecord("x");
  ASSERT_EQ(store.Insert(r), InsertStatus::kInserted);
  EXPECT_EQ(r.identifier.SharedView(), "");
  EXPECT_EQ(store.Get("x")->identifier, "user@example.com");
}

TEST(VerificationStoreTest, EraseRemovesOnlyThatRecord) {
  VerificationStore store;
  ASSERT_EQ(InsertOne(store, "a"), InsertStatus::kInserted);
  ASSERT_EQ(InsertOne(store, "b"), InsertStatus::kInserted);
  EXPECT_TRUE(store.Erase("a"));
  EXPECT_FALSE(store.Get("a").has_value());
  EXPECT_TRUE(store.Get("b").has_value());
  EXPECT_EQ(store.size(), 1u);
  EXPECT_FALSE(store.Erase("a"));
  EXPECT_FALSE(store.Erase("never"));
  EXPECT_EQ(store.size(), 1u);
  // The id can be used again.
  EXPECT_EQ(InsertOne(store, "a", "999999"), InsertStatus::kInserted);
  EXPECT_EQ(store.Get("a")->code, "999999");
}

TEST(VerificationStoreTest, ClearRemovesEverythingAndTheStoreStaysUsable) {
  VerificationStore store(StoreOptions{8, 0});
  for (int i = 0; i < 500; ++i)
    ASSERT_EQ(InsertOne(store, "id" + std::to_string(i)), InsertStatus::kInserted);
  EXPECT_EQ(store.Clear(), 500u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.Get("id0").has_value());
  EXPECT_FALSE(store.Erase("id1"));
  EXPECT_EQ(ScanAll(store, 0, 100).size(), 0u);
  EXPECT_EQ(InsertOne(store, "id0"), InsertStatus::kInserted);
  EXPECT_TRUE(store.Get("id0").has_value());
  EXPECT_EQ(store.Clear(), 1u);
  EXPECT_EQ(store.Clear(), 0u);
}

TEST(VerificationStoreTest, WithRecordMutatesUnderTheLock) {
  VerificationStore store;
  ASSERT_EQ(InsertOne(store, "w"), InsertStatus::kInserted);
  bool called = false;
  EXPECT_TRUE(store.WithRecord("w", [&](Record& r) {
    called = true;
    EXPECT_EQ(r.id.view(), "w");
    EXPECT_EQ(r.code.view(), "123456");
    r.try_count = 4;
    r.flags |= Record::kConsumed | Record::kVerified;
  }));
  EXPECT_TRUE(called);
  const auto s = store.Get("w");
  EXPECT_EQ(s->try_count, 4u);
  EXPECT_TRUE(s->consumed);
  EXPECT_TRUE(s->verified);
}

TEST(VerificationStoreTest, WithRecordOfUnknownIdDoesNotCall) {
  VerificationStore store;
  bool called = false;
  EXPECT_FALSE(store.WithRecord("none", [&](Record&) { called = true; }));
  EXPECT_FALSE(called);
}

TEST(VerificationStoreTest, InsertAllInsertsEveryRecord) {
  VerificationStore store;
  std::vector<NewRecord> records;
  for (int i = 0; i < 300; ++i) records.push_back(MakeRecord("bulk" + std::to_string(i)));
  const BulkInsertResult result = store.InsertAll(records);
  EXPECT_EQ(result.status, InsertStatus::kInserted);
  EXPECT_EQ(store.size(), 300u);
  for (int i = 0; i < 300; ++i) EXPECT_TRUE(store.Get("bulk" + std::to_string(i)).has_value());
}

TEST(VerificationStoreTest, InsertAllOfNothingSucceeds) {
  VerificationStore store(StoreOptions{64, 1});
  std::vector<NewRecord> none;
  EXPECT_EQ(store.InsertAll(none).status, InsertStatus::kInserted);
  EXPECT_EQ(store.size(), 0u);
}

TEST(VerificationStoreTest, InsertAllWithADuplicateInsideTheBatchStoresNothing) {
  VerificationStore store;
  std::vector<NewRecord> records;
  for (const char* id : {"a", "b", "c", "b", "d"}) records.push_back(MakeRecord(id));
  const BulkInsertResult result = store.InsertAll(records);
  EXPECT_EQ(result.status, InsertStatus::kExists);
  EXPECT_EQ(result.failed_index, 3u);
  EXPECT_EQ(store.size(), 0u);
  for (const char* id : {"a", "b", "c", "d"}) EXPECT_FALSE(store.Get(id).has_value()) << id;
}

TEST(VerificationStoreTest, InsertAllWithAnIdAlreadyStoredStoresNothing) {
  VerificationStore store;
  ASSERT_EQ(InsertOne(store, "taken", "555555"), InsertStatus::kInserted);
  std::vector<NewRecord> records;
  for (const char* id : {"n1", "n2", "taken", "n3"}) records.push_back(MakeRecord(id));
  const BulkInsertResult result = store.InsertAll(records);
  EXPECT_EQ(result.status, InsertStatus::kExists);
  EXPECT_EQ(result.failed_index, 2u);
  EXPECT_EQ(store.size(), 1u);
  for (const char* id : {"n1", "n2", "n3"}) EXPECT_FALSE(store.Get(id).has_value()) << id;
  EXPECT_EQ(store.Get("taken")->code, "555555");
}

// The header promises failed_index is "the first offending item": with an id already stored at
// index 1 and a within-batch duplicate at index 3, index 1 is the first that cannot be inserted.
TEST(VerificationStoreTest, InsertAllReportsTheFirstOffendingIndexWhenBothKindsOccur) {
  VerificationStore store;
  ASSERT_EQ(InsertOne(store, "taken"), InsertStatus::kInserted);
  std::vector<NewRecord> records;
  for (const char* id : {"n1", "taken", "n2", "n1"}) records.push_back(MakeRecord(id));
  const BulkInsertResult result = store.InsertAll(records);
  EXPECT_EQ(result.status, InsertStatus::kExists);
  EXPECT_EQ(result.failed_index, 1u);
  EXPECT_EQ(store.size(), 1u);
}

TEST(VerificationStoreTest, CapIsExactForSingleInserts) {
  VerificationStore store(StoreOptions{4, 3});
  EXPECT_EQ(store.max_records(), 3u);
  for (const char* id : {"a", "b", "c"}) ASSERT_EQ(InsertOne(store, id), InsertStatus::kInserted);
  EXPECT_EQ(InsertOne(store, "d"), InsertStatus::kFull);
  EXPECT_EQ(store.size(), 3u);
  EXPECT_FALSE(store.Get("d").has_value());
  ASSERT_TRUE(store.Erase("a"));
  EXPECT_EQ(InsertOne(store, "d"), InsertStatus::kInserted);
  EXPECT_EQ(InsertOne(store, "e"), InsertStatus::kFull);
  EXPECT_EQ(store.size(), 3u);
}

TEST(VerificationStoreTest, DuplicateInsertDoesNotUseUpTheCap) {
  VerificationStore store(StoreOptions{4, 2});
  ASSERT_EQ(InsertOne(store, "a"), InsertStatus::kInserted);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(InsertOne(store, "a"), InsertStatus::kExists);
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(InsertOne(store, "b"), InsertStatus::kInserted);
}

TEST(VerificationStoreTest, InsertAllOverTheCapStoresNothing) {
  VerificationStore store(StoreOptions{64, 5});
  ASSERT_EQ(InsertOne(store, "existing"), InsertStatus::kInserted);
  std::vector<NewRecord> five;
  for (int i = 0; i < 5; ++i) five.push_back(MakeRecord("five" + std::to_string(i)));
  EXPECT_EQ(store.InsertAll(five).status, InsertStatus::kFull);
  EXPECT_EQ(store.size(), 1u);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(store.Get("five" + std::to_string(i)).has_value());
  std::vector<NewRecord> four;
  for (int i = 0; i < 4; ++i) four.push_back(MakeRecord("four" + std::to_string(i)));
  EXPECT_EQ(store.InsertAll(four).status, InsertStatus::kInserted);
  EXPECT_EQ(store.size(), 5u);
  EXPECT_EQ(InsertOne(store, "one-more"), InsertStatus::kFull);
}

TEST(VerificationStoreTest, GenerateRefusesWhenItWouldExceedTheCap) {
  VerificationStore store(StoreOptions{16, 10});
  const uint32_t batch = store.RegisterBatch(Batch{"b1", IdentifierType::kEmail, "u{n}@x.io"});
  EXPECT_FALSE(store.Generate(batch, 11, "", kT0, 600, true));
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(ScanAll(store, 0, 100).size(), 0u);
  EXPECT_TRUE(store.Generate(batch, 10, "", kT0, 600, true));
  EXPECT_EQ(store.size(), 10u);
  EXPECT_FALSE(store.Generate(batch, 1, "", kT0, 600, true));
  EXPECT_EQ(InsertOne(store, "x"), InsertStatus::kFull);
  EXPECT_EQ(store.size(), 10u);
}

TEST(VerificationStoreTest, ConcurrentInsertsStopExactlyAtTheCap) {
  constexpr size_t kCap = 1000;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 500;
  VerificationStore store(StoreOptions{16, kCap});
  std::atomic<size_t> inserted{0};
  std::atomic<size_t> full{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        const InsertStatus s = InsertOne(store, "t" + std::to_string(t) + "-" + std::to_string(i));
        (s == InsertStatus::kInserted ? inserted : full).fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(inserted.load(), kCap);
  EXPECT_EQ(full.load(), size_t{kThreads} * kPerThread - kCap);
  EXPECT_EQ(store.size(), kCap);
  EXPECT_EQ(ScanAll(store, 0, 1000).size(), kCap);
}

TEST(VerificationStoreTest, GenerateCreatesCountRecordsWithRandomIdsAndCodes) {
  VerificationStore store;
  const uint32_t batch = store.RegisterBatch(Batch{"gen", IdentifierType::kPhone, "+1555{n}"});
  ASSERT_TRUE(store.Generate(batch, 1000, "", kT0, 120, true));
  EXPECT_EQ(store.size(), 1000u);
  const auto all = ScanAll(store, 0, 256);
  ASSERT_EQ(all.size(), 1000u);
  std::unordered_set<std::string> codes;
  for (const auto& [id, identifier_and_code] : all) {
    ASSERT_EQ(id.size(), 21u) << id;
    for (char c : id) ASSERT_TRUE(IsIdChar(c)) << id;
    const std::string& code = identifier_and_code.second;
    ASSERT_EQ(code.size(), 6u) << code;
    for (char c : code) ASSERT_TRUE(c >= '0' && c <= '9') << code;
    codes.insert(code);
  }
  EXPECT_GT(codes.size(), 900u);  // random, not one repeated code
  const auto s = store.Get(all.begin()->first);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->identifier_type, IdentifierType::kPhone);
  EXPECT_EQ(s->created_ms, kT0);
  EXPECT_EQ(s->expires_ms, kT0 + 120'000);
  EXPECT_TRUE(s->identified);
  EXPECT_FALSE(s->consumed);
  EXPECT_EQ(s->try_count, 0u);
  EXPECT_EQ(s->batch_id, "gen");
}

TEST(VerificationStoreTest, GenerateWithAFixedCodeUsesItForEveryRecord) {
  VerificationStore store;
  const uint32_t batch = store.RegisterBatch(Batch{"fixed", IdentifierType::kEmail, "a@x.io"});
  ASSERT_TRUE(store.Generate(batch, 200, "4242", kT0, 600, false));
  const auto all = ScanAll(store, 0, 1000);
  ASSERT_EQ(all.size(), 200u);
  for (const auto& [id, identifier_and_code] : all) EXPECT_EQ(identifier_and_code.second, "4242");
  EXPECT_FALSE(store.Get(all.begin()->first)->identified);
}

TEST(VerificationStoreTest, GenerateWithALongFixedCodeStoresItOnTheHeap) {
  VerificationStore store;
  const std::string code = "12345678901234567890";
  const uint32_t batch = store.RegisterBatch(Batch{"long", IdentifierType::kEmail, "a@x.io"});
  ASSERT_TRUE(store.Generate(batch, 50, code, kT0, 600, true));
  for (const auto& [id, identifier_and_code] : ScanAll(store, 0, 1000)) {
    EXPECT_EQ(identifier_and_code.second, code);
    EXPECT_EQ(store.Get(id)->code, code);
  }
}

TEST(VerificationStoreTest, GenerateOfZeroRecordsSucceedsAndStoresNothing) {
  VerificationStore store(StoreOptions{64, 1});
  const uint32_t batch = store.RegisterBatch(Batch{"zero", IdentifierType::kEmail, "a@x.io"});
  EXPECT_TRUE(store.Generate(batch, 0, "", kT0, 600, true));
  EXPECT_EQ(store.size(), 0u);
}

TEST(VerificationStoreTest, GeneratedIdentifiersFollowThePatternFromOne) {
  VerificationStore store;
  const uint32_t batch =
      store.RegisterBatch(Batch{"pat", IdentifierType::kEmail, "user{n}@example.com"});
  ASSERT_TRUE(store.Generate(batch, 25, "", kT0, 600, true));
  std::multiset<std::string> identifiers;
  for (const auto& [id, identifier_and_code] : ScanAll(store, 0, 7)) {
    const auto s = store.Get(id);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->identifier, identifier_and_code.first);  // Get and Scan agree
    EXPECT_EQ(s->batch_id, "pat");
    identifiers.insert(s->identifier);
  }
  std::multiset<std::string> expected;
  for (int n = 1; n <= 25; ++n) expected.insert("user" + std::to_string(n) + "@example.com");
  EXPECT_EQ(identifiers, expected);
}

TEST(VerificationStoreTest, PatternWithoutPlaceholderIsUsedAsIs) {
  VerificationStore store;
  const uint32_t batch = store.RegisterBatch(Batch{"same", IdentifierType::kEmail, "all@x.io"});
  ASSERT_TRUE(store.Generate(batch, 5, "", kT0, 600, true));
  for (const auto& [id, identifier_and_code] : ScanAll(store, 0, 100)) {
    EXPECT_EQ(store.Get(id)->identifier, "all@x.io");
  }
}

TEST(VerificationStoreTest, PlaceholderAtEitherEndOfThePattern) {
  VerificationStore store;
  const uint32_t front = store.RegisterBatch(Batch{"front", IdentifierType::kPhone, "{n}"});
  const uint32_t back = store.RegisterBatch(Batch{"back", IdentifierType::kPhone, "+1555{n}"});
  ASSERT_TRUE(store.Generate(front, 3, "", kT0, 600, true));
  ASSERT_TRUE(store.Generate(back, 3, "", kT0, 600, true));
  std::multiset<std::string> front_ids;
  for (const auto& [id, ic] : ScanAll(store, front, 100))
    front_ids.insert(store.Get(id)->identifier);
  std::multiset<std::string> back_ids;
  for (const auto& [id, ic] : ScanAll(store, back, 100)) back_ids.insert(store.Get(id)->identifier);
  EXPECT_EQ(front_ids, (std::multiset<std::string>{"1", "2", "3"}));
  EXPECT_EQ(back_ids, (std::multiset<std::string>{"+15551", "+15552", "+15553"}));
}

TEST(VerificationStoreTest, BatchesHaveOneBasedHandlesAndAreFoundByPublicId) {
  VerificationStore store;
  EXPECT_EQ(store.FindBatch("b_one"), 0u);
  const uint32_t one = store.RegisterBatch(Batch{"b_one", IdentifierType::kEmail, "x"});
  const uint32_t two = store.RegisterBatch(Batch{"b_two", IdentifierType::kPhone, "y"});
  EXPECT_EQ(one, 1u);
  EXPECT_EQ(two, 2u);
  EXPECT_EQ(store.FindBatch("b_one"), one);
  EXPECT_EQ(store.FindBatch("b_two"), two);
  EXPECT_EQ(store.FindBatch("b_three"), 0u);
  EXPECT_EQ(store.FindBatch(""), 0u);
}

TEST(VerificationStoreTest, BatchesListsEveryBatchInHandleOrder) {
  VerificationStore store;
  EXPECT_TRUE(store.Batches().empty());
  store.RegisterBatch(Batch{"b_one", IdentifierType::kEmail, "a{n}@x.io"});
  store.RegisterBatch(Batch{"b_two", IdentifierType::kPhone, "+1{n}"});
  const std::vector<Batch> batches = store.Batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].id, "b_one");
  EXPECT_EQ(batches[0].type, IdentifierType::kEmail);
  EXPECT_EQ(batches[0].pattern, "a{n}@x.io");
  EXPECT_EQ(batches[1].id, "b_two");
  EXPECT_EQ(batches[1].type, IdentifierType::kPhone);
  EXPECT_EQ(batches[1].pattern, "+1{n}");
}

TEST(VerificationStoreTest, InsertRestoredKeepsEveryField) {
  VerificationStore store;
  VerificationStore::RestoredRecord in;
  in.id = "restored-with-a-long-id-over-23";
  in.code = "87654321";
  in.flags = Record::kPhone | Record::kConsumed | Record::kVerified | Record::kIdentified;
  in.try_count = 3;
  in.created_ms = kT0;
  in.ttl_seconds = 90;
  in.consumed_after_seconds = 7;
  in.identifier = "+15555550100";
  ASSERT_EQ(store.InsertRestored(in), InsertStatus::kInserted);
  EXPECT_EQ(store.size(), 1u);
  const auto s = store.Get(in.id);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->identifier_type, IdentifierType::kPhone);
  EXPECT_EQ(s->identifier, "+15555550100");
  EXPECT_EQ(s->code, "87654321");
  EXPECT_EQ(s->created_ms, kT0);
  EXPECT_EQ(s->expires_ms, kT0 + 90'000);
  EXPECT_EQ(s->try_count, 3u);
  EXPECT_TRUE(s->consumed);
  EXPECT_TRUE(s->verified);
  EXPECT_TRUE(s->identified);
  EXPECT_TRUE(store.WithRecord(in.id, [](Record& r) {
    EXPECT_TRUE(r.live());
    EXPECT_EQ(r.consumed_after_seconds, 7u);
  }));
}

TEST(VerificationStoreTest, InsertRestoredOfAGeneratedRecordResolvesItsBatch) {
  VerificationStore store;
  const uint32_t batch = store.RegisterBatch(Batch{"b_r", IdentifierType::kEmail, "u{n}@x.io"});
  VerificationStore::RestoredRecord in;
  in.id = "gen";
  in.code = "111111";
  in.flags = Record::kIdentified;
  in.created_ms = kT0;
  in.ttl_seconds = 600;
  in.generated = true;
  in.batch = batch;
  in.seq = 42;
  ASSERT_EQ(store.InsertRestored(in), InsertStatus::kInserted);
  const auto s = store.Get("gen");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->identifier, "u42@x.io");
  EXPECT_EQ(s->batch_id, "b_r");
  EXPECT_FALSE(s->consumed);
  EXPECT_EQ(ScanAll(store, batch, 10).size(), 1u);
}

TEST(VerificationStoreTest, InsertRestoredRefusesDuplicatesAndRespectsTheCap) {
  VerificationStore store(StoreOptions{4, 2});
  VerificationStore::RestoredRecord in;
  in.id = "r1";
  in.identifier = "a@x.io";
  ASSERT_EQ(store.InsertRestored(in), InsertStatus::kInserted);
  EXPECT_EQ(store.InsertRestored(in), InsertStatus::kExists);
  in.id = "r2";
  ASSERT_EQ(store.InsertRestored(in), InsertStatus::kInserted);
  in.id = "r3";
  EXPECT_EQ(store.InsertRestored(in), InsertStatus::kFull);
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.Get("r3").has_value());
}

TEST(VerificationStoreTest, ScanVisitsEveryRecordExactlyOnceAcrossManyShards) {
  VerificationStore store(StoreOptions{256, 0});
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(InsertOne(store, "s" + std::to_string(i), std::to_string(100000 + i)),
              InsertStatus::kInserted);
  }
  const uint32_t batch = store.RegisterBatch(Batch{"g", IdentifierType::kEmail, "g{n}@x.io"});
  ASSERT_TRUE(store.Generate(batch, 2000, "", kT0, 600, true));
  for (size_t max_rows : {size_t{1}, size_t{13}, size_t{1000}, size_t{100000}}) {
    const auto all = ScanAll(store, 0, max_rows);
    EXPECT_EQ(all.size(), 5000u) << max_rows;
    for (int i = 0; i < 3000; i += 97) {
      const auto it = all.find("s" + std::to_string(i));
      ASSERT_NE(it, all.end());
      EXPECT_EQ(it->second.first, "user@example.com");
      EXPECT_EQ(it->second.second, std::to_string(100000 + i));
    }
  }
}

TEST(VerificationStoreTest, ScanWithABatchFilterVisitsOnlyThatBatchExactlyOnce) {
  VerificationStore store(StoreOptions{64, 0});
  const uint32_t a = store.RegisterBatch(Batch{"a", IdentifierType::kEmail, "a{n}@x.io"});
  const uint32_t b = store.RegisterBatch(Batch{"b", IdentifierType::kEmail, "b{n}@x.io"});
  ASSERT_TRUE(store.Generate(a, 1500, "", kT0, 600, true));
  for (int i = 0; i < 700; ++i)
    ASSERT_EQ(InsertOne(store, "plain" + std::to_string(i)), InsertStatus::kInserted);
  ASSERT_TRUE(store.Generate(b, 2500, "", kT0, 600, true));
  const auto only_b = ScanAll(store, b, 11);
  ASSERT_EQ(only_b.size(), 2500u);
  std::set<std::string> identifiers;
  for (const auto& [id, ic] : only_b) {
    EXPECT_EQ(ic.first.substr(0, 1), "b") << ic.first;
    identifiers.insert(ic.first);
  }
  EXPECT_EQ(identifiers.size(), 2500u);
  EXPECT_EQ(ScanAll(store, a, 500).size(), 1500u);
  EXPECT_EQ(ScanAll(store, 99, 500).size(), 0u);  // unknown batch: nothing
}

TEST(VerificationStoreTest, ScanSkipsErasedRecords) {
  VerificationStore store(StoreOptions{4, 0});
  for (int i = 0; i < 400; ++i)
    ASSERT_EQ(InsertOne(store, "e" + std::to_string(i)), InsertStatus::kInserted);
  for (int i = 0; i < 400; i += 2) ASSERT_TRUE(store.Erase("e" + std::to_string(i)));
  const auto all = ScanAll(store, 0, 17);
  EXPECT_EQ(all.size(), 200u);
  for (int i = 0; i < 400; ++i) EXPECT_EQ(all.count("e" + std::to_string(i)), size_t(i % 2)) << i;
}

TEST(VerificationStoreTest, ScanWithZeroRowsEmitsNothingAndDoesNotFinish) {
  VerificationStore store;
  ASSERT_EQ(InsertOne(store, "a"), InsertStatus::kInserted);
  ScanCursor cursor;
  EXPECT_EQ(store.Scan(cursor, 0, 0, [](const RecordView&) { ADD_FAILURE(); }), 0u);
  EXPECT_FALSE(cursor.done);
}

TEST(VerificationStoreTest, ScanOfAnEmptyStoreFinishes) {
  VerificationStore store(StoreOptions{1, 0});
  ScanCursor cursor;
  EXPECT_EQ(store.Scan(cursor, 0, 10, [](const RecordView&) { ADD_FAILURE(); }), 0u);
  EXPECT_TRUE(cursor.done);
}

TEST(VerificationStoreTest, ScanViewCarriesTypeAndRecord) {
  VerificationStore store;
  NewRecord r = MakeRecord("phone1", "654321", IdentifierType::kPhone, "+15555550100");
  ASSERT_EQ(store.Insert(r), InsertStatus::kInserted);
  ScanCursor cursor;
  size_t seen = 0;
  store.Scan(cursor, 0, 10, [&](const RecordView& v) {
    ++seen;
    EXPECT_EQ(v.verification_id, "phone1");
    EXPECT_EQ(v.identifier_type, IdentifierType::kPhone);
    EXPECT_EQ(v.identifier, "+15555550100");
    EXPECT_EQ(v.code, "654321");
    ASSERT_NE(v.record, nullptr);
    EXPECT_EQ(v.record->created_ms, kT0);
  });
  EXPECT_EQ(seen, 1u);
}

TEST(VerificationStoreTest, LongIdsAndCodesRoundTrip) {
  VerificationStore store(StoreOptions{8, 0});
  const std::vector<std::string> ids = {std::string(23, 'a'), std::string(24, 'b'),
                                        std::string(25, 'c'), std::string(200, 'd'),
                                        "verification-id-that-is-clearly-longer-than-23"};
  const std::vector<std::string> codes = {"1234567", "12345678", "123456789012", "1",
                                          std::string(32, '7')};
  for (size_t i = 0; i < ids.size(); ++i) {
    NewRecord r = MakeRecord(ids[i], codes[i]);
    ASSERT_EQ(store.Insert(r), InsertStatus::kInserted) << ids[i];
  }
  std::vector<NewRecord> bulk;
  bulk.push_back(MakeRecord(std::string(64, 'x') + "bulk", "0000000000"));
  ASSERT_EQ(store.InsertAll(bulk).status, InsertStatus::kInserted);
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto s = store.Get(ids[i]);
    ASSERT_TRUE(s.has_value()) << ids[i];
    EXPECT_EQ(s->verification_id, ids[i]);
    EXPECT_EQ(s->code, codes[i]);
    EXPECT_TRUE(store.WithRecord(ids[i], [&](Record& rec) {
      EXPECT_EQ(rec.id.view(), ids[i]);
      EXPECT_EQ(rec.code.view(), codes[i]);
    }));
  }
  EXPECT_EQ(store.Get(std::string(64, 'x') + "bulk")->code, "0000000000");
  // A long id that shares a 23-char prefix with a stored one is a different id.
  EXPECT_FALSE(store.Get(std::string(23, 'a') + "a").has_value());
  const auto all = ScanAll(store, 0, 2);
  ASSERT_EQ(all.size(), ids.size() + 1);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(all.at(ids[i]).second, codes[i]);
  for (const auto& id : ids) EXPECT_TRUE(store.Erase(id)) << id;
  for (const auto& id : ids) EXPECT_FALSE(store.Get(id).has_value()) << id;
  EXPECT_EQ(store.size(), 1u);
}

// Marks `id` consumed `after_seconds` after its creation, as Verify would.
void Consume(VerificationStore& store, const std::string& id, uint32_t after_seconds) {
  ASSERT_TRUE(store.WithRecord(id, [&](Record& r) {
    r.flags |= Record::kConsumed | Record::kVerified;
    r.consumed_after_seconds = after_seconds;
  }));
}

TEST(VerificationStoreTest, SweepRemovesOnlyRecordsPastRetention) {
  constexpr int64_t kRetentionMs = 600'000;
  VerificationStore store(StoreOptions{16, 0});
  const int64_t now = kT0 + 10'000'000;
  auto insert = [&](const std::string& id, int64_t created_ms, uint32_t ttl_seconds) {
    NewRecord r =
        MakeRecord(id, "123456", IdentifierType::kEmail, "a@x.io", created_ms, ttl_seconds);
    ASSERT_EQ(store.Insert(r), InsertStatus::kInserted);
  };
  // Expired at now - retention - 1 ms: expired more than retention ago.
  insert("expired-long-ago", now - kRetentionMs - 60'000 - 1, 60);
  // Expired exactly retention ago: kept (only *more* than retention removes).
  insert("expired-at-boundary", now - kRetentionMs - 60'000, 60);
  insert("expired-recently", now - 120'000, 60);
  insert("live", now - 1000, 600);
  // Consumed 5 s after creation, long ago.
  insert("consumed-long-ago", now - kRetentionMs - 5000 - 1, 3600);
  Consume(store, "consumed-long-ago", 5);
  // Consumed exactly retention ago: kept.
  insert("consumed-at-boundary", now - kRetentionMs - 5000, 3600);
  Consume(store, "consumed-at-boundary", 5);
  insert("consumed-recently", now - 10'000, 3600);
  Consume(store, "consumed-recently", 5);

  const uint64_t swept_before = store.swept_total();
  EXPECT_EQ(store.Sweep(now, kRetentionMs), 2u);
  EXPECT_EQ(store.swept_total(), swept_before + 2);
  EXPECT_EQ(store.size(), 5u);
  EXPECT_FALSE(store.Get("expired-long-ago").has_value());
  EXPECT_FALSE(store.Get("consumed-long-ago").has_value());
  for (const char* id : {"expired-at-boundary", "expired-recently", "live", "consumed-at-boundary",
                         "consumed-recently"}) {
    EXPECT_TRUE(store.Get(id).has_value()) << id;
  }
  // One millisecond later the boundary records go too.
  EXPECT_EQ(store.Sweep(now + 1, kRetentionMs), 2u);
  EXPECT_FALSE(store.Get("expired-at-boundary").has_value());
  EXPECT_FALSE(store.Get("consumed-at-boundary").has_value());
  EXPECT_EQ(store.swept_total(), swept_before + 4);
}

TEST(VerificationStoreTest, SweepWithZeroRetentionRemovesAsSoonAsExpired) {
  VerificationStore store;
  NewRecord r = MakeRecord("r", "1", IdentifierType::kEmail, "a@x.io", kT0, 10);
  ASSERT_EQ(store.Insert(r), InsertStatus::kInserted);
  EXPECT_EQ(store.Sweep(kT0 + 10'000, 0), 0u);
  EXPECT_EQ(store.Sweep(kT0 + 10'001, 0), 1u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(VerificationStoreTest, SweepAcrossManySlicesKeepsTheIndexConsistent) {
  // One shard, so one index and many 4096-record sweep slices.
  VerificationStore store(StoreOptions{1, 0});
  constexpr int kCount = 20'000;
  for (int i = 0; i < kCount; ++i) {
    const bool old = i % 3 == 0;
    NewRecord r = MakeRecord("sw" + std::to_string(i), "1", IdentifierType::kEmail, "a@x.io",
                             old ? kT0 - 10'000'000 : kT0, 600);
    ASSERT_EQ(store.Insert(r), InsertStatus::kInserted);
  }
  const size_t removed = store.Sweep(kT0, 600'000);
  EXPECT_EQ(removed, static_cast<size_t>((kCount + 2) / 3));
  EXPECT_EQ(store.size(), kCount - removed);
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(store.Get("sw" + std::to_string(i)).has_value(), i % 3 != 0) << i;
  }
}

TEST(VerificationStoreTest, SweepReadsNoRecordWhenNothingCanBeDue) {
  VerificationStore store(StoreOptions{16, 0});
  for (int i = 0; i < 5000; ++i) {
    NewRecord r =
        MakeRecord("idle" + std::to_string(i), "1", IdentifierType::kEmail, "a@x.io", kT0, 600);
    ASSERT_EQ(store.Insert(r), InsertStatus::kInserted);
  }
  ASSERT_TRUE(store.Generate(store.RegisterBatch(Batch{"b_idle", IdentifierType::kEmail, ""}), 5000,
                             "", kT0, 600, false));
  // Expired at kT0 + 600 s; with 600 s retention nothing is due before kT0 + 1200 s.
  EXPECT_EQ(store.Sweep(kT0 + 1'200'000, 600'000), 0u);
  EXPECT_EQ(store.sweep_examined_total(), 0u);
  EXPECT_EQ(store.Sweep(kT0 + 1'200'001, 600'000), 10'000u);
  EXPECT_EQ(store.sweep_examined_total(), 10'000u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(VerificationStoreTest, AConsumedRecordMakesItsShardDueAgain) {
  VerificationStore store(StoreOptions{1, 0});
  NewRecord r = MakeRecord("c", "1", IdentifierType::kEmail, "a@x.io", kT0, 3600);
  ASSERT_EQ(store.Insert(r), InsertStatus::kInserted);
  EXPECT_EQ(store.Sweep(kT0 + 20'000, 10'000), 0u);  // expires in an hour: skipped
  EXPECT_EQ(store.sweep_examined_total(), 0u);
  Consume(store, "c", 5);  // consumed 5 s after creation
  EXPECT_EQ(store.Sweep(kT0 + 15'000, 10'000), 0u);
  EXPECT_EQ(store.Sweep(kT0 + 15'001, 10'000), 1u);
}

TEST(VerificationStoreTest, APassRebuildsTheBoundFromTheRecordsItKeeps) {
  VerificationStore store(StoreOptions{1, 0});
  auto insert = [&](const std::string& id, uint32_t ttl_seconds) {
    NewRecord r = MakeRecord(id, "1", IdentifierType::kEmail, "a@x.io", kT0, ttl_seconds);
    ASSERT_EQ(store.Insert(r), InsertStatus::kInserted);
  };
  insert("short", 10);
  insert("medium", 100);
  insert("long", 1000);
  EXPECT_EQ(store.Sweep(kT0 + 10'001, 0), 1u);  // "short" goes; the bound is now "medium"
  const uint64_t examined = store.sweep_examined_total();
  EXPECT_EQ(store.Sweep(kT0 + 100'000, 0), 0u);
  EXPECT_EQ(store.sweep_examined_total(), examined);  // skipped: nothing due until 100 s
  insert("newcomer", 1);  // added after the pass: due at 1 s, sweeps the shard again
  EXPECT_EQ(store.Sweep(kT0 + 100'001, 0), 2u);
  EXPECT_TRUE(store.Get("long").has_value());
  EXPECT_EQ(store.Sweep(kT0 + 1'000'001, 0), 1u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(VerificationStoreTest, ClearResetsTheSweepBound) {
  VerificationStore store(StoreOptions{1, 0});
  NewRecord old_record = MakeRecord("old", "1", IdentifierType::kEmail, "a@x.io", kT0, 1);
  ASSERT_EQ(store.Insert(old_record), InsertStatus::kInserted);
  store.Clear();
  NewRecord fresh = MakeRecord("fresh", "1", IdentifierType::kEmail, "a@x.io", kT0, 3600);
  ASSERT_EQ(store.Insert(fresh), InsertStatus::kInserted);
  EXPECT_EQ(store.Sweep(kT0 + 2000, 0), 0u);
  EXPECT_EQ(store.sweep_examined_total(), 0u);
}

// Inserts `n` ids, erases a random half, then checks every lookup: exercises backward-shift
// deletion in the open-addressing index.
void EraseHalfAndCheck(size_t shards, int n, uint32_t seed) {
  VerificationStore store(StoreOptions{shards, 0});
  std::vector<std::string> ids;
  ids.reserve(n);
  for (int i = 0; i < n; ++i) {
    ids.push_back("erase-" + std::to_string(i));
    ASSERT_EQ(InsertOne(store, ids.back()), InsertStatus::kInserted);
  }
  std::mt19937 rng(seed);
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<bool> erased(n, false);
  for (int k = 0; k < n / 2; ++k) {
    ASSERT_TRUE(store.Erase(ids[order[k]])) << ids[order[k]];
    erased[order[k]] = true;
  }
  EXPECT_EQ(store.size(), static_cast<size_t>(n - n / 2));
  int wrong = 0;
  for (int i = 0; i < n; ++i) {
    const bool found = store.Get(ids[i]).has_value();
    if (found == erased[i]) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
  // Reinsert the erased half (reusing freed slots) and everything must be found again.
  for (int i = 0; i < n; ++i) {
    if (erased[i]) {
      ASSERT_EQ(InsertOne(store, ids[i], "654321"), InsertStatus::kInserted) << i;
    }
  }
  EXPECT_EQ(store.size(), static_cast<size_t>(n));
  wrong = 0;
  for (int i = 0; i < n; ++i) {
    const auto s = store.Get(ids[i]);
    if (!s || s->code != (erased[i] ? "654321" : "123456")) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
}

TEST(VerificationStoreTest, EraseHeavyWorkloadKeepsEveryRemainingIdFindable) {
  EraseHalfAndCheck(64, 100'000, 1);
}

TEST(VerificationStoreTest, EraseHeavyWorkloadInOneShard) { EraseHalfAndCheck(1, 100'000, 2); }

TEST(VerificationStoreTest, RandomInsertEraseMatchesAReferenceMap) {
  // Few ids in one small shard: long probe clusters that wrap around the index.
  VerificationStore store(StoreOptions{1, 0});
  std::unordered_map<std::string, std::string> model;
  std::mt19937 rng(12345);
  for (int op = 0; op < 200'000; ++op) {
    const std::string id = "k" + std::to_string(rng() % 300);
    const std::string code = std::to_string(op);
    if (rng() % 2 == 0) {
      NewRecord r = MakeRecord(id, code);
      const InsertStatus s = store.Insert(r);
      const bool fresh = model.emplace(id, code).second;
      ASSERT_EQ(s, fresh ? InsertStatus::kInserted : InsertStatus::kExists) << op;
    } else {
      ASSERT_EQ(store.Erase(id), model.erase(id) == 1) << op;
    }
    if (op % 1000 == 0) {
      for (int k = 0; k < 300; ++k) {
        const std::string probe = "k" + std::to_string(k);
        const auto s = store.Get(probe);
        const auto it = model.find(probe);
        ASSERT_EQ(s.has_value(), it != model.end()) << op << " " << probe;
        if (s) {
          ASSERT_EQ(s->code, it->second);
        }
      }
    }
  }
  EXPECT_EQ(store.size(), model.size());
  EXPECT_EQ(ScanAll(store, 0, 50).size(), model.size());
}

TEST(VerificationStoreTest, ConcurrentInsertEraseAndGetOnDistinctIds) {
  VerificationStore store(StoreOptions{8, 0});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20'000;
  std::latch start(kThreads);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      const std::string prefix = "c" + std::to_string(t) + "-";
      for (int i = 0; i < kPerThread; ++i) {
        if (InsertOne(store, prefix + std::to_string(i)) != InsertStatus::kInserted) ++wrong;
        if (i % 2 == 1 && !store.Erase(prefix + std::to_string(i - 1))) ++wrong;
      }
      for (int i = 0; i < kPerThread; ++i) {
        if (store.Get(prefix + std::to_string(i)).has_value() != (i % 2 == 1)) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(store.size(), size_t{kThreads} * kPerThread / 2);
}

// ---------------------------------------------------------------------------------------------
// Derived batches: a rule and a state word per record (issue 17).

DerivedSpec Derived(uint32_t count, std::string pattern = "d{n}@x.io", uint32_t ttl = 600,
                    std::string fixed_code = "") {
  DerivedSpec spec;
  spec.id = "b_derived";
  spec.type = IdentifierType::kEmail;
  spec.pattern = std::move(pattern);
  spec.count = count;
  spec.created_ms = kT0;
  spec.ttl_seconds = ttl;
  spec.fixed_code = std::move(fixed_code);
  return spec;
}

// The id of record `n` of the batch with `handle`, as a client sees it.
std::string DerivedId(const VerificationStore& store, uint32_t handle, uint64_t n) {
  for (const auto& batch : store.DerivedBatches()) {
    if (batch->rule().handle != handle) continue;
    std::string id(21, '\0');
    EncodeId21(store.cipher().Encrypt(DerivedPlain(batch->rule().serial, n)), id.data());
    return id;
  }
  ADD_FAILURE() << "no derived batch " << handle;
  return {};
}

// A sanitizer's allocator fills what calloc returns, so a batch's state pages are resident at
// once there; the memory checks below hold for the ordinary build only.
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

size_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return pages_resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

TEST(VerificationStoreTest, ADerivedBatchCountsItsRecordsAndReadsThemLikeStoredOnes) {
  VerificationStore store(StoreOptions{16, 0});
  ASSERT_EQ(InsertOne(store, "stored-one"), InsertStatus::kInserted);
  const uint32_t handle = store.GenerateDerived(Derived(1000));
  ASSERT_NE(handle, 0u);
  EXPECT_EQ(store.size(), 1001u);
  EXPECT_EQ(store.FindBatch("b_derived"), handle);
  const auto rows = ScanAll(store, handle, 97);
  ASSERT_EQ(rows.size(), 1000u);
  std::set<std::string> codes;
  for (const auto& [id, fields] : rows) {
    const auto s = store.Get(id);
    ASSERT_TRUE(s.has_value()) << id;
    EXPECT_EQ(s->identifier, fields.first);
    EXPECT_EQ(s->code, fields.second);
    EXPECT_EQ(s->code.size(), 6u);
    EXPECT_EQ(s->batch_id, "b_derived");
    EXPECT_EQ(s->created_ms, kT0);
    EXPECT_EQ(s->expires_ms, kT0 + 600'000);
    EXPECT_TRUE(s->identified);
    EXPECT_FALSE(s->consumed);
    codes.insert(s->code);
  }
  EXPECT_GT(codes.size(), 990u);
  EXPECT_EQ(rows.count(DerivedId(store, handle, 1)), 1u);
  EXPECT_EQ(store.Get(DerivedId(store, handle, 7))->identifier, "d7@x.io");
  EXPECT_EQ(ScanAll(store, 0, 10).size(), 1001u);  // an unfiltered scan reads both kinds
}

TEST(VerificationStoreTest, IdsOutsideALiveDerivedBatchAreNotFound) {
  VerificationStore store(StoreOptions{16, 0});
  const uint32_t handle = store.GenerateDerived(Derived(10));
  const uint64_t serial = store.DerivedBatches().at(0)->rule().serial;
  auto id_of = [&](uint64_t s, uint64_t n) {
    std::string id(21, '\0');
    EncodeId21(store.cipher().Encrypt(DerivedPlain(s, n)), id.data());
    return id;
  };
  EXPECT_TRUE(store.Get(id_of(serial, 10)).has_value());
  EXPECT_FALSE(store.Get(id_of(serial, 11)).has_value());     // past the count
  EXPECT_FALSE(store.Get(id_of(serial, 0)).has_value());      // sequence numbers start at 1
  EXPECT_FALSE(store.Get(id_of(serial + 1, 1)).has_value());  // no such batch
  EXPECT_FALSE(store.Get(NewIndividualId()).has_value());
  EXPECT_FALSE(store.Get("zzzzzzzzzzzzzzzzzzzzz").has_value());  // >= 2^108
  const IdCipher other_key;  // another store's id of the same (batch, n)
  std::string foreign(21, '\0');
  EncodeId21(other_key.Encrypt(DerivedPlain(serial, 1)), foreign.data());
  EXPECT_FALSE(store.Get(foreign).has_value());
  EXPECT_FALSE(store.WithDerived(foreign, [](DerivedSlot&) { ADD_FAILURE(); }));
  EXPECT_TRUE(store.WithDerived(DerivedId(store, handle, 3),
                                [](DerivedSlot& slot) { EXPECT_EQ(slot.n, 3u); }));
}

TEST(VerificationStoreTest, IndividualRecordsCannotTakeADerivedId) {
  VerificationStore store(StoreOptions{16, 0});
  const uint32_t handle = store.GenerateDerived(Derived(5));
  const std::string taken = DerivedId(store, handle, 2);
  EXPECT_EQ(InsertOne(store, taken), InsertStatus::kExists);
  std::vector<NewRecord> seed;
  seed.push_back(MakeRecord("free-id"));
  seed.push_back(MakeRecord(taken));
  const BulkInsertResult bulk = store.InsertAll(seed);
  EXPECT_EQ(bulk.status, InsertStatus::kExists);
  EXPECT_EQ(bulk.failed_index, 1u);
  VerificationStore::RestoredRecord restored;
  restored.id = taken;
  restored.code = "1";
  restored.identifier = "a@x.io";
  EXPECT_EQ(store.InsertRestored(restored), InsertStatus::kExists);
  EXPECT_EQ(store.size(), 5u);
  // A stored id that decodes, but to no live batch, is an ordinary record.
  EXPECT_EQ(InsertOne(store, "000000000000000000042"), InsertStatus::kInserted);
  EXPECT_TRUE(store.Get("000000000000000000042").has_value());
  // Old-style stored batches draw their ids outside the derived space.
  const uint32_t stored = store.RegisterBatch(Batch{"b_stored", IdentifierType::kEmail, "s{n}"});
  ASSERT_TRUE(store.Generate(stored, 500, "", kT0, 600, true));
  for (const auto& [id, fields] : ScanAll(store, stored, 100)) EXPECT_FALSE(DecodeDerivedId(id));
}

TEST(VerificationStoreTest, ADerivedBatchRespectsTheCapAsRecords) {
  VerificationStore store(StoreOptions{16, 100});
  EXPECT_EQ(store.GenerateDerived(Derived(101)), 0u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.DerivedBatches().empty());
  ASSERT_NE(store.GenerateDerived(Derived(99)), 0u);
  EXPECT_EQ(InsertOne(store, "one"), InsertStatus::kInserted);
  EXPECT_EQ(InsertOne(store, "two"), InsertStatus::kFull);
  EXPECT_EQ(store.GenerateDerived(Derived(1)), 0u);
}

TEST(VerificationStoreTest, ErasingADerivedRecordMakesItGoneOnce) {
  VerificationStore store(StoreOptions{16, 0});
  const uint32_t handle = store.GenerateDerived(Derived(3));
  const std::string id = DerivedId(store, handle, 2);
  EXPECT_TRUE(store.Erase(id));
  EXPECT_FALSE(store.Erase(id));
  EXPECT_FALSE(store.Get(id).has_value());
  EXPECT_FALSE(store.WithDerived(id, [](DerivedSlot&) { ADD_FAILURE(); }));
  EXPECT_EQ(store.size(), 2u);
  const auto rows = ScanAll(store, handle, 10);
  EXPECT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.count(id), 0u);
}

TEST(VerificationStoreTest, ClearDropsDerivedBatches) {
  VerificationStore store(StoreOptions{16, 0});
  ASSERT_EQ(InsertOne(store, "s"), InsertStatus::kInserted);
  const uint32_t handle = store.GenerateDerived(Derived(50));
  const std::string id = DerivedId(store, handle, 1);
  store.Erase(DerivedId(store, handle, 2));
  EXPECT_EQ(store.Clear(), 50u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.Get(id).has_value());
  EXPECT_TRUE(ScanAll(store, handle, 10).empty());
  EXPECT_EQ(store.FindBatch("b_derived"), handle);  // the name stays known, with no records
}

TEST(VerificationStoreTest, SweepDropsADerivedBatchAfterExpiryAndRetentionWithoutReadingIt) {
  VerificationStore store(StoreOptions{16, 0});
  ASSERT_NE(store.GenerateDerived(Derived(100'000, "x", 600)), 0u);
  EXPECT_EQ(store.Sweep(kT0 + 1'200'000, 600'000), 0u);
  EXPECT_EQ(store.Sweep(kT0 + 1'200'001, 600'000), 100'000u);
  EXPECT_EQ(store.sweep_examined_total(), 0u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_TRUE(store.DerivedBatches().empty());
  EXPECT_EQ(store.swept_total(), 100'000u);
}

TEST(VerificationStoreTest, SweepRemovesConsumedDerivedRecordsPastTheirRetention) {
  VerificationStore store(StoreOptions{16, 0});
  const uint32_t handle = store.GenerateDerived(Derived(1000, "x", 3600));
  auto consume = [&](uint64_t n, int64_t at_ms) {
    ASSERT_TRUE(store.WithDerived(DerivedId(store, handle, n), [&](DerivedSlot& slot) {
      slot.word.store(slot.batch.ConsumedWord(0, at_ms));
      slot.batch.NoteConsumed(slot.batch.ConsumedMs(slot.word.load()));
    }));
  };
  EXPECT_EQ(store.Sweep(kT0 + 20'000, 10'000), 0u);  // nothing consumed: not read
  EXPECT_EQ(store.sweep_examined_total(), 0u);
  consume(10, kT0 + 5'000);
  consume(20, kT0 + 8'000);
  EXPECT_EQ(store.Sweep(kT0 + 15'000, 10'000), 0u);
  EXPECT_EQ(store.Sweep(kT0 + 15'001, 10'000), 1u);
  EXPECT_FALSE(store.Get(DerivedId(store, handle, 10)).has_value());
  EXPECT_TRUE(store.Get(DerivedId(store, handle, 20)).has_value());
  const uint64_t examined = store.sweep_examined_total();
  EXPECT_EQ(store.Sweep(kT0 + 18'000, 10'000), 0u);  // bound rebuilt to 8 s: skipped
  EXPECT_EQ(store.sweep_examined_total(), examined);
  EXPECT_EQ(store.Sweep(kT0 + 18'001, 10'000), 1u);
  EXPECT_EQ(store.size(), 998u);
}

TEST(VerificationStoreTest, DerivedRecordsStayOrderedAndCompleteAcrossScanSlices) {
  VerificationStore store(StoreOptions{4, 0});
  for (int i = 0; i < 300; ++i)
    ASSERT_EQ(InsertOne(store, "s" + std::to_string(i)), InsertStatus::kInserted);
  const uint32_t a = store.GenerateDerived(Derived(1500, "a{n}"));
  const uint32_t b = store.GenerateDerived(Derived(700, "b{n}", 600, "4242"));
  for (uint64_t n = 1; n <= 1500; n += 3) store.Erase(DerivedId(store, a, n));
  for (size_t slice : {size_t{1}, size_t{7}, size_t{512}, size_t{5000}}) {
    const auto all = ScanAll(store, 0, slice);
    EXPECT_EQ(all.size(), 300u + 1000u + 700u) << slice;
  }
  const auto only_b = ScanAll(store, b, 64);
  ASSERT_EQ(only_b.size(), 700u);
  for (const auto& [id, fields] : only_b) EXPECT_EQ(fields.second, "4242");
  EXPECT_EQ(only_b.at(DerivedId(store, b, 700)).first, "b700");
}

// A batch far larger than the CI machine could hold as records: 100M records cost no memory
// until their state changes, and a sample of them answers.
TEST(VerificationStoreTest, AHundredMillionRecordBatchCostsPagesOnlyWhereUsed) {
  VerificationStore store(StoreOptions{16, 0});
  const size_t before = ResidentBytes();
  const uint32_t handle = store.GenerateDerived(Derived(100'000'000, "big{n}@x.io"));
  ASSERT_NE(handle, 0u);
  EXPECT_EQ(store.size(), 100'000'000u);
  std::mt19937_64 rng(17);
  for (int i = 0; i < 2000; ++i) {
    const uint64_t n = 1 + rng() % 100'000'000;
    const std::string id = DerivedId(store, handle, n);
    ASSERT_TRUE(store.WithDerived(id, [&](DerivedSlot& slot) {
      EXPECT_EQ(slot.n, n);
      slot.word.store(DerivedState::WithFailedTry(0));
    }));
    EXPECT_EQ(store.Get(id)->try_count, 1u);
  }
  EXPECT_EQ(store.Get(DerivedId(store, handle, 100'000'000))->identifier, "big100000000@x.io");
  // 2000 touched pages of 4 KiB at most (8 MB), against 400 MB for every word or ~7.8 GB as
  // stored records. The margin covers the allocator and the test's own strings.
  if (kLazyStatePages) {
    EXPECT_LT(ResidentBytes() - std::min(before, ResidentBytes()), size_t{40} << 20);
  }
  EXPECT_TRUE(store.Erase(DerivedId(store, handle, 1)));
  EXPECT_EQ(store.Clear(), 100'000'000u - 1);
}

}  // namespace
}  // namespace mfa
