// SPDX-License-Identifier: Apache-2.0
// The seam between the verification-code routes and where their state lives: the records with
// their check order, the per-recipient send limit and the inbox. Two implementations: in this
// process (MemoryCodeStore, over MfaService; it answers before the call returns) and in Redis
// (redis/RedisCodeStore; it answers later, from its I/O thread), so N nodes can share one state.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/inbox.h"
#include "core/mfa_service.h"
#include "core/outcome.h"
#include "core/record.h"

namespace mfa {

// A result that may also be a store failure: `outcome` is kOk (then `value` holds the answer),
// kStoreUnavailable or kStoreBusy (the store did not answer in time, or too many calls wait).
template <typename T>
struct StoreAnswer {
  Outcome outcome = Outcome::kOk;
  T value{};
};

// A completion. Called exactly once: before the call returns (memory) or later on the store's
// thread (Redis). It must not block.
template <typename T>
using Done = std::function<void(T)>;

// One inbox message with what became of its code, read when the inbox was listed.
struct InboxEntry {
  InboxMessage message;
  MessageState state = MessageState::kGone;
};

// Reads every record (of one batch, or all), a page at a time. BLOCKING: Next waits for the
// store, so it runs only on a thread of its own, never a request worker. Not thread-safe.
class RecordPager {
 public:
  virtual ~RecordPager() = default;
  // Appends up to about `max_rows` records to *rows; false once there are no more, or on a store
  // failure (then failure() says which).
  virtual bool Next(size_t max_rows, std::vector<RecordSnapshot>* rows) = 0;
  virtual Outcome failure() const = 0;
};

// Thread-safe (every implementation): any Pistache worker calls it; completions may run on
// another thread. The strings a call takes are copied before it returns.
class CodeStore {
 public:
  virtual ~CodeStore() = default;

  // The public routes in open mode (no interaction session): contract §4 and §3.
  virtual void Send(IdentifierType type, Done<SendResult> done) = 0;
  virtual void Verify(IdentifierType type, std::string_view verification_id, std::string_view code,
                      Done<Outcome> done) = 0;

  // Admin: a send to any recipient (no identification, factor, limit or connector checks).
  virtual void AdminSend(IdentifierType type, std::string_view identifier,
                         Done<SendResult> done) = 0;
  // Admin: all-or-nothing insert (SeedResult's outcome may also be a store failure).
  virtual void Seed(std::vector<SeedItem> items, Done<SeedResult> done) = 0;
  // Admin: a batch of `spec.count` records with fresh ids (GenerateResult's outcome may also be a
  // store failure; a shared store may then hold part of the batch).
  virtual void Generate(const GenerateSpec& spec, Done<GenerateResult> done) = 0;
  virtual void Get(std::string_view verification_id,
                   Done<StoreAnswer<std::optional<RecordSnapshot>>> done) = 0;
  // value: whether the record existed.
  virtual void Erase(std::string_view verification_id, Done<StoreAnswer<bool>> done) = 0;
  // Every record and the send limit's memory; value: the records deleted.
  virtual void Clear(Done<StoreAnswer<size_t>> done) = 0;

  // Every record, or those of the generated batch `batch_id` (answers kOk with null when there
  // is no such batch). Only a store that answers later has one; the in-memory store's export
  // reads VerificationStore::Scan directly, faster.
  virtual void OpenPager(std::string_view batch_id,
                         Done<StoreAnswer<std::shared_ptr<RecordPager>>> done) {
    done({Outcome::kInternal, nullptr});
  }

  // Records of the live derived batches (count minus those deleted), for a shared store's stats
  // (the in-memory store counts them in VerificationStore::size()).
  virtual void CountDerivedRecords(Done<StoreAnswer<uint64_t>> done) { done({Outcome::kOk, 0}); }

  // The inbox, filtered by `query` (newest first, or oldest first after a cursor).
  virtual void ListInbox(const InboxQuery& query,
                         Done<StoreAnswer<std::vector<InboxEntry>>> done) = 0;
  // Removes the messages that pass `query`'s recipient, channel and session filters (all of them
  // when it has none).
  virtual void ClearInbox(const InboxQuery& query, Done<Outcome> done) = 0;
  // The cursor of the newest message ever added (0 = none): cheap, for noticing new messages.
  virtual void InboxHead(Done<StoreAnswer<uint64_t>> done) = 0;
  // Adds a message that no send of this store made (a real Logto's HTTP connector posted it; see
  // InboxMessage::template_type), waking the inbox's waiters as a send does; value: its cursor.
  virtual void AddExternalMessage(InboxMessage message, Done<StoreAnswer<uint64_t>> done) = 0;

  // Whether the store answers now (GET /readyz). Memory: always.
  virtual bool Ready() const = 0;
  // "memory", or "redis" with its address, for logs and /admin/stats.
  virtual std::string Describe() const = 0;
};

}  // namespace mfa
