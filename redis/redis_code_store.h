// SPDX-License-Identifier: Apache-2.0
// The verification-code state in Redis, shared by every node pointed at the same Redis and
// prefix: records (one hash per record, one slot per operation), the per-recipient send limit
// and the inbox. Each step that must be atomic is one Lua script on one key's slot, with the
// mock's clock passed in; Redis's own expiry only collects garbage.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/code_store.h"
#include "core/config.h"
#include "redis/derived_store.h"
#include "redis/router.h"

namespace mfa::redis {

struct CodeStoreOptions {
  std::string prefix = "mfa";  // every key starts with "<prefix>:"
  std::string address;         // "HOST:PORT", for Describe()
  size_t inbox_capacity = 1000;
  int64_t retention_ms = 600'000;
  // Seeds are written this many records at a time (each a script call), so a large seed never
  // fills the client's in-flight cap.
  size_t seed_window = 256;
  // Generated records are written this many per script call (one slot's worth on a cluster).
  size_t generate_slice = 500;
};

// Thread-safe: calls come from any thread; their completions run on the client's I/O thread.
// Holds no state of its own beyond its options and loaded scripts, and the derived batches'
// cipher and rule cache (RedisDerivedStore). `config`, `clock` and `client`
// must outlive it, and the client must be stopped before it is destroyed (no completion may run
// after).
class RedisCodeStore final : public CodeStore {
 public:
  RedisCodeStore(const ConfigStore& config, const Clock& clock, Router& client,
                 CodeStoreOptions options);
  ~RedisCodeStore() override;

  void Send(IdentifierType type, Done<SendResult> done) override;
  void Verify(IdentifierType type, std::string_view verification_id, std::string_view code,
              Done<Outcome> done) override;
  void AdminSend(IdentifierType type, std::string_view identifier, Done<SendResult> done) override;
  void Seed(std::vector<SeedItem> items, Done<SeedResult> done) override;
  void Generate(const GenerateSpec& spec, Done<GenerateResult> done) override;
  void Get(std::string_view verification_id,
           Done<StoreAnswer<std::optional<RecordSnapshot>>> done) override;
  void Erase(std::string_view verification_id, Done<StoreAnswer<bool>> done) override;
  void Clear(Done<StoreAnswer<size_t>> done) override;
  void OpenPager(std::string_view batch_id,
                 Done<StoreAnswer<std::shared_ptr<RecordPager>>> done) override;
  void CountDerivedRecords(Done<StoreAnswer<uint64_t>> done) override;
  void ListInbox(const InboxQuery& query, Done<StoreAnswer<std::vector<InboxEntry>>> done) override;
  void ClearInbox(const InboxQuery& query, Done<Outcome> done) override;
  void InboxHead(Done<StoreAnswer<uint64_t>> done) override;
  void AddExternalMessage(InboxMessage message, Done<StoreAnswer<uint64_t>> done) override;
  // Called (on the client's I/O thread, must not block) after each message this node added to
  // the inbox. REQUIRES: set before the first send.
  void set_inbox_added_hook(std::function<void()> hook) { inbox_added_ = std::move(hook); }
  bool Ready() const override;
  std::string Describe() const override;

  // Inside an interaction session (RedisInteractionStore): a send to the identified user's
  // address whose record is bound to sessions (limit, connector, record, inbox), and a verify
  // of such a record; `blocked`: the sentinel blocks the record's identifier (the checks still
  // run, and a right code is used up without the record becoming verified; the caller answers
  // blocked). `session_id` is kept with the inbox message.
  void SendBound(IdentifierType type, std::string address, std::string session_id,
                 Done<SendResult> done);
  void VerifyRecord(IdentifierType type, std::string_view verification_id, std::string_view code,
                    bool session_bound, bool blocked, Done<Outcome> done);

  // Key names, for tests that look inside Redis.
  std::string RecordKey(std::string_view verification_id) const;
  std::string SendLimitKey(std::string_view normalized_recipient) const;
  std::string InboxKey() const;
  std::string BatchesKey() const;
  RedisDerivedStore& derived() { return *derived_; }

 private:
  struct Scripts;
  struct SendFlow;
  struct SeedFlow;
  struct InboxFlow;
  struct GenerateFlow;

  // Send's steps after the recipient is known: limit, record, inbox.
  void LimitedSend(IdentifierType type, std::string address, bool limited, bool session_bound,
                   Done<SendResult> done, std::string session_id = {});
  void CreateRecord(std::shared_ptr<SendFlow> flow, int attempts_left);
  int64_t GarbageAfterMs(const Config& c, int flags) const;
  void AddToInbox(std::shared_ptr<SendFlow> flow);
  void SeedNext(std::shared_ptr<SeedFlow> flow);
  void GenerateSlice(std::shared_ptr<GenerateFlow> flow, size_t first, size_t count,
                     std::function<void()> complete);
  void GetStored(std::string_view verification_id,
                 Done<StoreAnswer<std::optional<RecordSnapshot>>> done);
  void VerifyStored(IdentifierType type, std::string_view id, std::string_view code,
                    bool session_bound, bool blocked, bool documented, uint32_t max_attempts,
                    Done<Outcome> done);
  void GenerateOne(std::shared_ptr<GenerateFlow> flow, size_t index, std::function<void()> complete,
                   int attempts_left = 3);

  const ConfigStore& config_;
  const Clock& clock_;
  Router& client_;
  const CodeStoreOptions options_;
  std::unique_ptr<Scripts> scripts_;
  std::unique_ptr<RedisDerivedStore> derived_;
  std::function<void()> inbox_added_;
};

}  // namespace mfa::redis
