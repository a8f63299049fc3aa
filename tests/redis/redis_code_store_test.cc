// SPDX-License-Identifier: Apache-2.0
// The CodeStore contract, run against both implementations: the in-memory store (the reference,
// MfaService) and the Redis store over a real redis-server. Every scenario must answer the same.
#include "redis/redis_code_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/memory_code_store.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"
#include "tests/support/wait.h"

namespace mfa {
namespace {

constexpr int64_t kStartMs = 1'800'000'000'000;

template <typename T, typename Start>
T Await(Start&& start) {
  std::promise<T> promise;
  std::future<T> future = promise.get_future();
  start([&promise](T value) { promise.set_value(std::move(value)); });
  return future.get();
}

enum class Backend { kMemory, kRedis, kCluster };

// One store of the backend under test, with its own config and manual clock.
class CodeStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { Build(Config{}); }

  void Build(Config config) {
    codes_.reset();
    if (client_) client_->Stop();
    client_.reset();
    service_.reset();
    config.sessions = SessionMode::kOff;
    config_ = std::make_unique<ConfigStore>(config);
    store_ = std::make_unique<VerificationStore>();
    inbox_ = std::make_unique<mfa::Inbox>(100);
    limiter_ = std::make_unique<SendRateLimiter>();
    service_ = std::make_unique<MfaService>(*config_, *store_, *inbox_, *limiter_, clock_,
                                            ServiceOptions{100, kRetentionMs});
    if (GetParam() == Backend::kMemory) {
      codes_ = std::make_unique<MemoryCodeStore>(*service_);
      return;
    }
    redis::RouterOptions options;
    if (GetParam() == Backend::kCluster) {
      // One 3-master cluster for the whole binary (started once: 3-4 s).
      if (!cluster_) cluster_ = mfa_test::RedisCluster::Start(3);
      ASSERT_NE(cluster_, nullptr);
      for (size_t i = 0; i < cluster_->size(); ++i) {
        options.seeds.push_back({"127.0.0.1", cluster_->node(i).port()});
      }
    } else {
      if (!redis_) redis_ = mfa_test::RedisServer::Start();
      ASSERT_NE(redis_, nullptr);
      options.seeds = {{"127.0.0.1", redis_->port()}};
    }
    options.client.call_timeout = std::chrono::milliseconds(500);
    client_ = std::make_unique<redis::Router>(options);
    ASSERT_TRUE(client_->Start());
    // A fresh prefix per store: no state leaks from one test into the next.
    static int generation = 0;
    codes_ = std::make_unique<redis::RedisCodeStore>(
        *config_, clock_, *client_,
        redis::CodeStoreOptions{
            .prefix = "t" + std::to_string(++generation),
            .address = GetParam() == Backend::kCluster ? cluster_->url() : redis_->address(),
            .inbox_capacity = 100,
            .retention_ms = kRetentionMs});
    ASSERT_TRUE(WaitConnected());
  }

  void TearDown() override {
    if (client_) client_->Stop();
  }

  bool WaitConnected() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!codes_->Ready()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  SendResult Send(IdentifierType type = IdentifierType::kEmail) {
    return Await<SendResult>([&](Done<SendResult> done) { codes_->Send(type, std::move(done)); });
  }
  SendResult AdminSend(std::string_view to, IdentifierType type = IdentifierType::kEmail) {
    return Await<SendResult>(
        [&](Done<SendResult> done) { codes_->AdminSend(type, to, std::move(done)); });
  }
  Outcome Verify(std::string_view id, std::string_view code,
                 IdentifierType type = IdentifierType::kEmail) {
    return Await<Outcome>(
        [&](Done<Outcome> done) { codes_->Verify(type, id, code, std::move(done)); });
  }
  SeedResult Seed(std::vector<SeedItem> items) {
    return Await<SeedResult>(
        [&](Done<SeedResult> done) { codes_->Seed(std::move(items), std::move(done)); });
  }
  std::optional<RecordSnapshot> Get(std::string_view id) {
    using Answer = StoreAnswer<std::optional<RecordSnapshot>>;
    Answer answer = Await<Answer>([&](Done<Answer> done) { codes_->Get(id, std::move(done)); });
    EXPECT_EQ(answer.outcome, Outcome::kOk);
    return answer.value;
  }
  std::vector<InboxEntry> ListInbox(InboxQuery query = {}) {
    using Answer = StoreAnswer<std::vector<InboxEntry>>;
    Answer answer =
        Await<Answer>([&](Done<Answer> done) { codes_->ListInbox(query, std::move(done)); });
    EXPECT_EQ(answer.outcome, Outcome::kOk);
    return answer.value;
  }
  GenerateResult Generate(const GenerateSpec& spec) {
    return Await<GenerateResult>(
        [&](Done<GenerateResult> done) { codes_->Generate(spec, std::move(done)); });
  }
  bool Erase(std::string_view id) {
    const StoreAnswer<bool> answer = Await<StoreAnswer<bool>>(
        [&](Done<StoreAnswer<bool>> done) { codes_->Erase(id, std::move(done)); });
    EXPECT_EQ(answer.outcome, Outcome::kOk);
    return answer.value;
  }
  size_t Clear() {
    const StoreAnswer<size_t> answer = Await<StoreAnswer<size_t>>(
        [&](Done<StoreAnswer<size_t>> done) { codes_->Clear(std::move(done)); });
    EXPECT_EQ(answer.outcome, Outcome::kOk);
    return answer.value;
  }
  // The rows of batch `batch_id` (id, code, identifier), read where each store keeps them: the
  // in-memory store's scan, or the shared store's export pager.
  std::vector<RecordSnapshot> BatchRows(const std::string& batch_id) {
    std::vector<RecordSnapshot> rows;
    if (GetParam() == Backend::kMemory) {
      const uint32_t batch = store_->FindBatch(batch_id);
      EXPECT_NE(batch, 0u);
      ScanCursor cursor;
      for (int pages = 0; !cursor.done && pages < 10'000; ++pages) {
        store_->Scan(cursor, batch, 10'000, [&](const RecordView& r) {
          RecordSnapshot s;
          s.verification_id = std::string(r.verification_id);
          s.code = std::string(r.code);
          s.identifier = std::string(r.identifier);
          rows.push_back(std::move(s));
        });
      }
      return rows;
    }
    using Answer = StoreAnswer<std::shared_ptr<RecordPager>>;
    const Answer pager =
        Await<Answer>([&](Done<Answer> done) { codes_->OpenPager(batch_id, std::move(done)); });
    EXPECT_EQ(pager.outcome, Outcome::kOk);
    if (!pager.value) return rows;
    while (pager.value->Next(500, &rows)) {
    }
    EXPECT_EQ(pager.value->failure(), Outcome::kOk);
    return rows;
  }
  static SeedItem Item(std::string id, std::string code) {
    SeedItem item;
    item.verification_id = std::move(id);
    item.code = std::move(code);
    return item;
  }

  static constexpr int64_t kRetentionMs = 600'000;
  ManualClock clock_{kStartMs};
  std::unique_ptr<ConfigStore> config_;
  std::unique_ptr<VerificationStore> store_;
  std::unique_ptr<mfa::Inbox> inbox_;
  std::unique_ptr<SendRateLimiter> limiter_;
  std::unique_ptr<MfaService> service_;
  static inline std::unique_ptr<mfa_test::RedisServer> redis_;
  static inline std::unique_ptr<mfa_test::RedisCluster> cluster_;
  std::unique_ptr<redis::Router> client_;
  std::unique_ptr<CodeStore> codes_;
};

TEST_P(CodeStoreTest, SentCodeVerifiesOnceThenIsNotFound) {
  const SendResult sent = Send();
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  EXPECT_EQ(sent.verification_id.size(), 21u);
  EXPECT_EQ(sent.code.size(), 6u);
  EXPECT_EQ(sent.identifier, "user@example.com");
  EXPECT_EQ(sent.expires_ms, kStartMs + 600'000);
  EXPECT_EQ(Verify(sent.verification_id, sent.code), Outcome::kOk);
  EXPECT_EQ(Verify(sent.verification_id, sent.code), Outcome::kCodeNotFound);
  const std::optional<RecordSnapshot> record = Get(sent.verification_id);
  ASSERT_TRUE(record);
  EXPECT_TRUE(record->consumed);
  EXPECT_TRUE(record->verified);
}

TEST_P(CodeStoreTest, CheckOrderMatchesTheContract) {
  const SendResult sent = Send();
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  EXPECT_EQ(Verify("no-such-id", sent.code), Outcome::kVerificationNotFound);
  EXPECT_EQ(Verify(sent.verification_id, sent.code, IdentifierType::kPhone),
            Outcome::kVerificationNotFound);
  EXPECT_EQ(Verify(sent.verification_id, ""), Outcome::kCodeNotFound);
  const std::string wrong = sent.code == "000000" ? "111111" : "000000";
  for (uint32_t i = 0; i < 10; ++i) {
    EXPECT_EQ(Verify(sent.verification_id, wrong), Outcome::kCodeMismatch) << i;
  }
  EXPECT_EQ(Get(sent.verification_id)->try_count, 10u);
  EXPECT_EQ(Verify(sent.verification_id, sent.code), Outcome::kExceedMaxTry);
}

TEST_P(CodeStoreTest, ExpiryFollowsTheMocksClockAndRetentionThenNotFound) {
  const SendResult sent = Send();
  clock_.AdvanceMs(600'001);
  EXPECT_EQ(Verify(sent.verification_id, sent.code), Outcome::kCodeExpired);
  ASSERT_EQ(ListInbox().size(), 1u);
  EXPECT_EQ(ListInbox()[0].state, MessageState::kExpired);
  clock_.AdvanceMs(kRetentionMs);
  service_->SweepOnce();  // the memory store forgets by sweeping; Redis by reading the clock
  EXPECT_EQ(Verify(sent.verification_id, sent.code), Outcome::kVerificationNotFound);
  EXPECT_FALSE(Get(sent.verification_id));
}

TEST_P(CodeStoreTest, UnidentifiedRecordAnswersPerProfile) {
  SeedItem item = Item("unidentified-1", "123456");
  item.identified = false;
  ASSERT_EQ(Seed({item}).outcome, Outcome::kOk);
  EXPECT_EQ(Verify("unidentified-1", "123456"), Outcome::kIdentifierNotFound);
  Config strict;
  strict.profile = Profile::kLogto;
  Build(strict);
  ASSERT_EQ(Seed({item}).outcome, Outcome::kOk);
  EXPECT_EQ(Verify("unidentified-1", "123456"), Outcome::kVerificationNotFound);
}

TEST_P(CodeStoreTest, SendLimitCountsOnlySendsThatSucceed) {
  Config config;
  config.send_rate_limit = {2, 60};
  config.phone_connector = false;
  Build(config);
  EXPECT_EQ(Send(IdentifierType::kPhone).outcome, Outcome::kConnectorNotFound);
  EXPECT_EQ(Send().outcome, Outcome::kOk);
  EXPECT_EQ(Send().outcome, Outcome::kOk);
  EXPECT_EQ(Send().outcome, Outcome::kRateLimited);
  clock_.AdvanceMs(60'000);
  EXPECT_EQ(Send().outcome, Outcome::kOk);
  // The documented profile checks the connector before anything else on verify.
  EXPECT_EQ(Verify("any", "123456", IdentifierType::kPhone), Outcome::kConnectorNotFound);
}

TEST_P(CodeStoreTest, OpenModeSendNeedsAnIdentifiedUserWithTheFactor) {
  Config config;
  config.default_user.phone.clear();
  Build(config);
  EXPECT_EQ(Send(IdentifierType::kPhone).outcome, Outcome::kFactorNotEnabled);
  config.default_user.identified = false;
  Build(config);
  EXPECT_EQ(Send().outcome, Outcome::kIdentifierNotFound);
}

TEST_P(CodeStoreTest, SeedIsAllOrNothing) {
  ASSERT_EQ(Seed({Item("taken", "111111")}).outcome, Outcome::kOk);
  const SeedResult clash = Seed({Item("fresh-1", "222222"), Item("taken", "333333")});
  EXPECT_EQ(clash.outcome, Outcome::kInvalidInput);
  EXPECT_EQ(clash.failed_index, 1u);
  EXPECT_FALSE(Get("fresh-1"));
  EXPECT_EQ(Get("taken")->code, "111111");
  const SeedResult twice = Seed({Item("dup", "1"), Item("other", "2"), Item("dup", "3")});
  EXPECT_EQ(twice.outcome, Outcome::kInvalidInput);
  EXPECT_EQ(twice.failed_index, 2u);
  EXPECT_FALSE(Get("other"));
}

TEST_P(CodeStoreTest, LargeSeedIsWrittenInWindows) {
  std::vector<SeedItem> items;
  for (int i = 0; i < 3000; ++i) items.push_back(Item("bulk-" + std::to_string(i), "654321"));
  const SeedResult seeded = Seed(std::move(items));
  ASSERT_EQ(seeded.outcome, Outcome::kOk);
  EXPECT_EQ(seeded.records.size(), 3000u);
  EXPECT_EQ(Verify("bulk-2999", "654321"), Outcome::kOk);
  const StoreAnswer<size_t> cleared = Await<StoreAnswer<size_t>>(
      [&](Done<StoreAnswer<size_t>> done) { codes_->Clear(std::move(done)); });
  EXPECT_EQ(cleared.outcome, Outcome::kOk);
  EXPECT_EQ(cleared.value, 3000u);
  EXPECT_FALSE(Get("bulk-1"));
}

TEST_P(CodeStoreTest, GeneratedBatchVerifiesAndNamesItsBatch) {
  GenerateSpec spec;
  spec.count = 1200;
  spec.identifier_pattern = "gen{n}@example.com";
  spec.code = "777777";
  const GenerateResult generated =
      Await<GenerateResult>([&](Done<GenerateResult> done) { codes_->Generate(spec, done); });
  ASSERT_EQ(generated.outcome, Outcome::kOk);
  EXPECT_EQ(generated.created, 1200u);
  EXPECT_EQ(generated.batch_id.rfind("b_", 0), 0u);
  // Every generated id, read from where each store keeps them.
  std::vector<std::string> ids;
  if (GetParam() == Backend::kMemory) {
    ScanCursor cursor;
    store_->Scan(cursor, 0, 10'000,
                 [&](const RecordView& r) { ids.emplace_back(r.verification_id); });
  } else {
    // Read back through the store's own export pager (every master of a cluster).
    using Answer = StoreAnswer<std::shared_ptr<RecordPager>>;
    const Answer pager = Await<Answer>(
        [&](Done<Answer> done) { codes_->OpenPager(generated.batch_id, std::move(done)); });
    ASSERT_EQ(pager.outcome, Outcome::kOk);
    ASSERT_NE(pager.value, nullptr);
    std::vector<RecordSnapshot> rows;
    bool more = true;
    while (more) {
      more = pager.value->Next(500, &rows);
      ASSERT_EQ(pager.value->failure(), Outcome::kOk);
    }
    for (const RecordSnapshot& r : rows) ids.push_back(r.verification_id);
  }
  ASSERT_EQ(ids.size(), 1200u);
  std::set<std::string> identifiers;
  for (const std::string& id : ids) {
    const std::optional<RecordSnapshot> record = Get(id);
    ASSERT_TRUE(record) << id;
    EXPECT_EQ(record->code, "777777");
    EXPECT_EQ(record->batch_id, generated.batch_id);
    identifiers.insert(record->identifier);
  }
  EXPECT_EQ(identifiers.size(), 1200u);
  EXPECT_TRUE(identifiers.count("gen1@example.com"));
  EXPECT_TRUE(identifiers.count("gen1200@example.com"));
  EXPECT_EQ(Verify(ids[0], "777777"), Outcome::kOk);
  EXPECT_EQ(Verify(ids[0], "777777"), Outcome::kCodeNotFound);
}

// A derived batch (the default): the check order of contract §3 on its records, in the same
// order as a stored record's (verify_derived.lua on Redis).
TEST_P(CodeStoreTest, DerivedRecordFollowsTheCheckOrder) {
  GenerateSpec spec;
  spec.count = 4;
  spec.identifier_pattern = "d{n}@example.com";
  const GenerateResult generated = Generate(spec);
  ASSERT_EQ(generated.outcome, Outcome::kOk);
  EXPECT_EQ(generated.created, 4u);
  const std::vector<RecordSnapshot> rows = BatchRows(generated.batch_id);
  ASSERT_EQ(rows.size(), 4u);
  auto wrong = [](const std::string& code) { return code == "000000" ? "111111" : "000000"; };
  const RecordSnapshot& tried = rows[0];
  EXPECT_EQ(Verify(tried.verification_id, tried.code, IdentifierType::kPhone),
            Outcome::kVerificationNotFound);
  EXPECT_EQ(Verify(tried.verification_id, ""), Outcome::kCodeNotFound);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(Verify(tried.verification_id, wrong(tried.code)), Outcome::kCodeMismatch) << i;
  }
  EXPECT_EQ(Verify(tried.verification_id, tried.code), Outcome::kExceedMaxTry);
  const std::optional<RecordSnapshot> locked = Get(tried.verification_id);
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->try_count, 10u);
  EXPECT_EQ(locked->batch_id, generated.batch_id);
  EXPECT_FALSE(locked->verified);

  const RecordSnapshot& used = rows[1];
  EXPECT_EQ(Verify(used.verification_id, used.code), Outcome::kOk);
  EXPECT_EQ(Verify(used.verification_id, used.code), Outcome::kCodeNotFound);
  const std::optional<RecordSnapshot> verified = Get(used.verification_id);
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->verified);
  EXPECT_EQ(verified->code, used.code);
  EXPECT_EQ(verified->identifier, used.identifier);

  // Expiry before attempts; the retention after settling, then not found.
  const RecordSnapshot& late = rows[2];
  EXPECT_EQ(Verify(late.verification_id, wrong(late.code)), Outcome::kCodeMismatch);
  clock_.AdvanceMs(600'001);
  EXPECT_EQ(Verify(late.verification_id, late.code), Outcome::kCodeExpired);
  EXPECT_TRUE(Get(late.verification_id));
  clock_.AdvanceMs(kRetentionMs);
  if (GetParam() == Backend::kMemory) service_->SweepOnce();  // its sweeper does this in time
  EXPECT_EQ(Verify(late.verification_id, late.code), Outcome::kVerificationNotFound);
  EXPECT_FALSE(Get(late.verification_id));
  EXPECT_FALSE(Get(used.verification_id));
}

TEST_P(CodeStoreTest, DerivedRecordErasedOrClearedIsNotFound) {
  GenerateSpec spec;
  spec.count = 5;
  spec.code = "123123";
  const GenerateResult generated = Generate(spec);
  ASSERT_EQ(generated.outcome, Outcome::kOk);
  const std::vector<RecordSnapshot> rows = BatchRows(generated.batch_id);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_TRUE(Erase(rows[0].verification_id));
  EXPECT_FALSE(Erase(rows[0].verification_id));
  EXPECT_FALSE(Get(rows[0].verification_id));
  EXPECT_EQ(Verify(rows[0].verification_id, "123123"), Outcome::kVerificationNotFound);
  EXPECT_EQ(BatchRows(generated.batch_id).size(), 4u);
  ASSERT_EQ(Seed({Item("stored-one", "111111")}).outcome, Outcome::kOk);
  EXPECT_EQ(Clear(), 5u) << "4 derived records and 1 stored";
  EXPECT_EQ(Verify(rows[1].verification_id, "123123"), Outcome::kVerificationNotFound);
  EXPECT_FALSE(Get(rows[4].verification_id));
  EXPECT_FALSE(Erase(rows[4].verification_id));
}

TEST_P(CodeStoreTest, SeedOfAnIdThatNamesALiveDerivedRecordIsRefusedWhole) {
  GenerateSpec spec;
  spec.count = 2;
  spec.code = "424242";
  const GenerateResult generated = Generate(spec);
  ASSERT_EQ(generated.outcome, Outcome::kOk);
  const std::vector<RecordSnapshot> rows = BatchRows(generated.batch_id);
  ASSERT_EQ(rows.size(), 2u);
  const SeedResult seeded =
      Seed({Item("before-derived", "111111"), Item(rows[1].verification_id, "222222")});
  EXPECT_EQ(seeded.outcome, Outcome::kInvalidInput);
  EXPECT_EQ(seeded.failed_index, 1u);
  EXPECT_FALSE(Get("before-derived"));
  EXPECT_EQ(Verify(rows[1].verification_id, "222222"), Outcome::kCodeMismatch);
  EXPECT_EQ(Verify(rows[1].verification_id, "424242"), Outcome::kOk);
  // Sent and seeded records get ids outside the derived space (NewIndividualId).
  const SendResult sent = Send();
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  EXPECT_GE(sent.verification_id[0], 'p');
  const SeedResult drawn = Seed({SeedItem{}});
  ASSERT_EQ(drawn.outcome, Outcome::kOk);
  EXPECT_GE(drawn.records[0].verification_id[0], 'p');
}

TEST_P(CodeStoreTest, IdsOfDifferentBatchesNeverCollideAndDoNotCrossBatches) {
  GenerateSpec spec;
  spec.count = 2000;
  const GenerateResult first = Generate(spec);
  const GenerateResult second = Generate(spec);
  ASSERT_EQ(first.outcome, Outcome::kOk);
  ASSERT_EQ(second.outcome, Outcome::kOk);
  EXPECT_NE(first.batch_id, second.batch_id);
  std::set<std::string> ids;
  for (const RecordSnapshot& r : BatchRows(first.batch_id)) ids.insert(r.verification_id);
  const std::vector<RecordSnapshot> rows = BatchRows(second.batch_id);
  for (const RecordSnapshot& r : rows) ids.insert(r.verification_id);
  EXPECT_EQ(ids.size(), 4000u);
  const std::optional<RecordSnapshot> last = Get(rows.back().verification_id);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->batch_id, second.batch_id);
  // A sent code's id is never a derived one.
  const SendResult sent = Send();
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  EXPECT_FALSE(ids.count(sent.verification_id));
  EXPECT_EQ(Verify(sent.verification_id, sent.code), Outcome::kOk);
}

TEST_P(CodeStoreTest, EraseAnswersWhetherTheRecordExisted) {
  ASSERT_EQ(Seed({Item("to-erase", "111111")}).outcome, Outcome::kOk);
  auto erase = [&](std::string_view id) {
    return Await<StoreAnswer<bool>>(
        [&](Done<StoreAnswer<bool>> done) { codes_->Erase(id, std::move(done)); });
  };
  EXPECT_TRUE(erase("to-erase").value);
  EXPECT_FALSE(erase("to-erase").value);
  EXPECT_EQ(Verify("to-erase", "111111"), Outcome::kVerificationNotFound);
}

TEST_P(CodeStoreTest, InboxListsNewestFirstWithFiltersAndStates) {
  const SendResult a = AdminSend("a@example.com");
  const SendResult b = AdminSend("+15555550111", IdentifierType::kPhone);
  const SendResult c = AdminSend("A@Example.com");
  ASSERT_EQ(Verify(c.verification_id, c.code), Outcome::kOk);
  std::vector<InboxEntry> all = ListInbox();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].message.verification_id, c.verification_id);
  EXPECT_EQ(all[0].state, MessageState::kVerified);
  EXPECT_EQ(all[2].message.code, a.code);
  EXPECT_EQ(all[2].state, MessageState::kPending);
  EXPECT_GT(all[0].message.seq, all[1].message.seq);
  InboxQuery to_a;
  to_a.to = "a@example.com";
  EXPECT_EQ(ListInbox(to_a).size(), 2u);
  InboxQuery sms;
  sms.channel = IdentifierType::kPhone;
  ASSERT_EQ(ListInbox(sms).size(), 1u);
  EXPECT_EQ(ListInbox(sms)[0].message.to, b.identifier);
  InboxQuery one;
  one.limit = 1;
  EXPECT_EQ(ListInbox(one).size(), 1u);
  EXPECT_EQ(Await<Outcome>(
                [&](Done<Outcome> done) { codes_->ClearInbox(InboxQuery{}, std::move(done)); }),
            Outcome::kOk);
  EXPECT_TRUE(ListInbox().empty());
}

TEST_P(CodeStoreTest, AConnectorsMessageKeepsItsTemplateAndIsExternal) {
  const SendResult own = AdminSend("a@example.com");
  InboxMessage logto;
  logto.type = IdentifierType::kPhone;
  logto.to = "+1 555 555 0123";
  logto.code = "012345";
  logto.template_type = "SignIn";
  logto.sent_ms = 42;
  const StoreAnswer<uint64_t> added =
      Await<StoreAnswer<uint64_t>>([&](Done<StoreAnswer<uint64_t>> done) {
        codes_->AddExternalMessage(logto, std::move(done));
      });
  ASSERT_EQ(added.outcome, Outcome::kOk);
  std::vector<InboxEntry> all = ListInbox();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].message.seq, added.value);
  EXPECT_GT(all[0].message.seq, all[1].message.seq);
  EXPECT_EQ(all[0].message.template_type, "SignIn");
  EXPECT_EQ(all[0].message.code, "012345");
  EXPECT_EQ(all[0].message.to, "+1 555 555 0123");
  EXPECT_TRUE(all[0].message.verification_id.empty());
  EXPECT_TRUE(all[0].message.session_id.empty());
  EXPECT_EQ(all[0].message.sent_ms, 42);
  EXPECT_EQ(all[0].state, MessageState::kExternal);
  EXPECT_TRUE(all[1].message.template_type.empty());  // the mock's own send
  EXPECT_EQ(all[1].message.verification_id, own.verification_id);
  InboxQuery to;
  to.to = "15555550123";
  to.channel = IdentifierType::kPhone;
  EXPECT_EQ(ListInbox(to).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Stores, CodeStoreTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis, Backend::kCluster),
                         [](const auto& info) {
                           return info.param == Backend::kMemory  ? "Memory"
                                  : info.param == Backend::kRedis ? "Redis"
                                                                  : "Cluster";
                         });

// The node side of a derived batch's export: rows computed from the rule, one GET per chunk.
// Prints rows per second (issue 17's target: 1M rows/s or more, measured on a quiet machine).
TEST(RedisDerivedExportTest, PagerComputesEveryRowOfAMillionCodeBatchOnce) {
  auto redis = mfa_test::RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  ConfigStore config{Config{}};
  ManualClock clock{kStartMs};
  redis::RouterOptions options;
  options.seeds = {{"127.0.0.1", redis->port()}};
  redis::Router client(options);
  ASSERT_TRUE(client.Start());
  redis::RedisCodeStore codes(config, clock, client,
                              {.prefix = "export", .address = redis->address()});
  ASSERT_TRUE(mfa_test::WaitFor("the store to connect", [&] { return codes.Ready(); }));
  GenerateSpec spec;
  spec.count = 1'000'000;
  spec.identifier_pattern = "e{n}@example.com";
  const GenerateResult generated =
      Await<GenerateResult>([&](Done<GenerateResult> done) { codes.Generate(spec, done); });
  ASSERT_EQ(generated.outcome, Outcome::kOk);
  using Answer = StoreAnswer<std::shared_ptr<RecordPager>>;
  const Answer pager = Await<Answer>(
      [&](Done<Answer> done) { codes.OpenPager(generated.batch_id, std::move(done)); });
  ASSERT_EQ(pager.outcome, Outcome::kOk);
  ASSERT_NE(pager.value, nullptr);
  const auto started = std::chrono::steady_clock::now();
  size_t rows_seen = 0;
  std::string last_identifier;
  std::vector<RecordSnapshot> rows;
  bool more = true;
  while (more) {
    rows.clear();
    more = pager.value->Next(512, &rows);
    rows_seen += rows.size();
    if (!rows.empty()) last_identifier = rows.back().identifier;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(pager.value->failure(), Outcome::kOk);
  EXPECT_EQ(rows_seen, 1'000'000u);
  EXPECT_EQ(last_identifier, "e1000000@example.com");
  std::printf("derived export pager: %zu rows in %.3f s = %.2f M rows/s\n", rows_seen, seconds,
              rows_seen / seconds / 1e6);
  client.Stop();
}

// Only Redis can be away: a paused server gives 503-worthy answers within the timeout.
TEST(RedisCodeStoreOutageTest, PausedRedisAnswersUnavailableWithinTheTimeout) {
  auto redis = mfa_test::RedisServer::Start();
  ASSERT_NE(redis, nullptr);
  ConfigStore config{Config{}};
  ManualClock clock{kStartMs};
  redis::RouterOptions options;
  options.seeds = {{"127.0.0.1", redis->port()}};
  options.client.call_timeout = std::chrono::milliseconds(300);
  redis::Router client(options);
  ASSERT_TRUE(client.Start());
  redis::RedisCodeStore codes(config, clock, client,
                              {.prefix = "outage", .address = redis->address()});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!codes.Ready() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(codes.Ready());
  redis->Pause();
  const auto started = std::chrono::steady_clock::now();
  const Outcome outcome = Await<Outcome>([&](Done<Outcome> done) {
    codes.Verify(IdentifierType::kEmail, "some-id", "123456", std::move(done));
  });
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(outcome, Outcome::kStoreUnavailable);
  EXPECT_LT(waited, std::chrono::seconds(5)) << "bounded by the call timeout, with slack";
  EXPECT_FALSE(codes.Ready());
  redis->Resume();
  const SendResult sent = Await<SendResult>(
      [&](Done<SendResult> done) { codes.Send(IdentifierType::kEmail, std::move(done)); });
  // Right after the resume the client may still be catching up: a retry is what a client does.
  SendResult retried = sent;
  for (int i = 0; i < 100 && retried.outcome != Outcome::kOk; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    retried = Await<SendResult>(
        [&](Done<SendResult> done) { codes.Send(IdentifierType::kEmail, std::move(done)); });
  }
  EXPECT_EQ(retried.outcome, Outcome::kOk);
  client.Stop();
}

}  // namespace
}  // namespace mfa
