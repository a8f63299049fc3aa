// SPDX-License-Identifier: Apache-2.0
// Derived (generated) batches in Redis (issue 17): a batch is one hash of its rule plus its
// records' 32-bit state words (DerivedState, core/derived_batch.h) in BITFIELD strings, one per
// chunk of records, so generating N codes costs two commands and a verify stays one script call
// on one slot. Every node of a deployment (one key prefix) derives the same ids: the IdCipher key
// is kept in Redis and each batch's serial comes from the registry's shared counter.
//
// Keys ("P" = the prefix):
//   P:{batches}              hash: "next" (the serial counter, shared with stored-record batches),
//                            "derived_key" (the cipher key, hex), "derived_gen" (made with the
//                            key: a new one means Redis lost its state), "id:<batch id>" -> serial
//   P:{batches}:r:<serial>   hash: the rule (id, s, t, p, n, cr, ttl, fc, g = records deleted)
//   P:{batches}:derived      set: the serials of live derived batches
//   P:dc:{<serial>:<chunk>}  string: word 0 = header (nonzero: the batch was deleted), word i =
//                            the state of record chunk * kDerivedChunkRecords + i; absent = zeros
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/code_store.h"
#include "core/derived_batch.h"
#include "core/derived_ids.h"
#include "core/verification_store.h"
#include "redis/router.h"

namespace mfa::redis {

// Records per state chunk. 65536 records = a chunk of at most 256 KiB + its 4-byte header:
// - a 1,000,000,000-code batch is 15,259 chunks, still spread over every slot of a cluster;
// - the export reads a chunk with one GET (one round trip per 65536 rows), and DELETE
//   /admin/verifications marks a batch deleted with one SET per chunk (15,259 for 1B codes);
// - the cost of touching a record is at most its whole chunk, so a batch whose records are all
//   touched costs 4 bytes a record, as in memory, and an untouched one costs nothing.
// Smaller chunks (4096) would cap a lone verify's cost at 16 KiB but make 16x more keys,
// deletes and export round trips.
inline constexpr uint64_t kDerivedChunkRecords = 65536;

struct DerivedStoreOptions {
  std::string prefix = "mfa";
  int64_t retention_ms = 600'000;
};

// A batch's rule as Redis holds it. Immutable once read, except `gone` (a count read with it).
struct SharedRule {
  DerivedRule rule;   // rule.handle unused; rule.serial = the registry's serial
  uint64_t gone = 0;  // records deleted one by one (DELETE /admin/verifications/{id})
  int64_t expires_ms() const { return rule.created_ms + int64_t{rule.ttl_seconds} * 1000; }
  int64_t unit_ms() const { return int64_t{DerivedUnitSeconds(rule.ttl_seconds)} * 1000; }
};

// What an id names. `failure` != kOk: the store did not answer. `rule` null: not a record of a
// live derived batch (the caller takes the stored-record path).
struct DerivedTarget {
  Outcome failure = Outcome::kOk;
  std::shared_ptr<const SharedRule> rule;
  uint64_t n = 0;  // sequence number, 1..count
  Uint128 plain = 0;
  std::shared_ptr<const IdCipher> cipher;
};

// Thread-safe: calls come from any thread, completions run on the client's I/O thread (or inline
// when nothing needs Redis). mu_ guards the cipher, its generation and the rule cache; the time of
// the last key refresh is an atomic.
// `clock` and `client` must outlive it; the client must be stopped before it is destroyed.
class RedisDerivedStore {
 public:
  RedisDerivedStore(const Clock& clock, Router& client, DerivedStoreOptions options);
  ~RedisDerivedStore();
  RedisDerivedStore(const RedisDerivedStore&) = delete;
  RedisDerivedStore& operator=(const RedisDerivedStore&) = delete;

  // A new batch: its serial (HINCRBY), then its rule (one script). spec.id names it.
  void Generate(DerivedSpec spec, Done<GenerateResult> done);

  // Decodes `id` (constant time), then finds its batch: in this node's cache, or with one read of
  // its rule from Redis (cached after). Answers inline when no call is needed.
  void Resolve(std::string_view id, Done<DerivedTarget> done);

  // Contract §3 steps 3-9 on a resolved record (verify_derived.lua).
  void Verify(const DerivedTarget& target, IdentifierType type, std::string_view code,
              bool session_bound, uint32_t max_attempts, Done<Outcome> done);
  void Get(const DerivedTarget& target, std::string id,
           Done<StoreAnswer<std::optional<RecordSnapshot>>> done);
  // Sets the record's gone bit; value: whether it existed.
  void Erase(const DerivedTarget& target, Done<StoreAnswer<bool>> done);
  // Every live batch: its chunks marked deleted, then its rule dropped; value: the records
  // deleted (count minus those deleted one by one, of batches not past their retention).
  void Clear(Done<StoreAnswer<size_t>> done);

  // The rules of the live batches (not past their expiry + retention by the mock's clock).
  void LiveRules(Done<StoreAnswer<std::vector<std::shared_ptr<const SharedRule>>>> done);
  // The rule of the batch with this serial; null when it has none (not derived, or gone).
  void RuleOf(uint64_t serial, Done<StoreAnswer<std::shared_ptr<const SharedRule>>> done);
  // Export rows of `rules` (nullopt: every live batch, listed on the first page), computed here
  // (ids and codes) with one GET per chunk for the states. Its Next blocks: an export thread only.
  std::shared_ptr<RecordPager> NewPager(
      std::optional<std::vector<std::shared_ptr<const SharedRule>>> rules);

  std::string ChunkKey(uint64_t serial, uint64_t chunk) const;
  std::string RuleKey(uint64_t serial) const;
  std::string LiveKey() const;
  std::string RegistryKey() const;

  // The cipher of this deployment: read (or made) in Redis on first use, then cached.
  void WithCipher(Done<StoreAnswer<std::shared_ptr<const IdCipher>>> done);
  // Reads (or makes) the key and its generation in Redis now; a new generation drops the rules
  // this node caches.
  void RefreshKey(Done<StoreAnswer<std::shared_ptr<const IdCipher>>> done);

 private:
  struct Scripts;
  class Pager;

  // Generate's steps once the key exists: the serial, then the rule.
  void AddBatch(std::shared_ptr<SharedRule> rule, Done<GenerateResult> done);
  int64_t GarbageAfterMs(const SharedRule& rule) const;
  // Adds a rule to the cache (dropping those past their retention). Returns the cached one.
  std::shared_ptr<const SharedRule> Cache(std::shared_ptr<const SharedRule> rule);

  const Clock& clock_;
  Router& client_;
  const DerivedStoreOptions options_;
  std::unique_ptr<Scripts> scripts_;

  std::atomic<int64_t> last_refresh_ms_{0};  // steady clock: the last RefreshKey

  mutable std::shared_mutex mu_;
  std::shared_ptr<const IdCipher> cipher_;  // GUARDED_BY(mu_); null until read from Redis
  std::string generation_;                  // GUARDED_BY(mu_): of the key; the rules' state
  std::unordered_map<uint64_t, std::shared_ptr<const SharedRule>> rules_;  // GUARDED_BY(mu_)
};

}  // namespace mfa::redis
