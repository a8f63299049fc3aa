// SPDX-License-Identifier: Apache-2.0
// A sharded in-memory map from verificationId to Record.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/derived_batch.h"
#include "core/derived_ids.h"
#include "core/record.h"

namespace mfa {

struct StoreOptions {
  size_t shards = 64;      // a power of two, 1..65536
  size_t max_records = 0;  // 0 = no cap
};

// What to insert. The store takes ownership of `identifier`.
struct NewRecord {
  std::string id;
  std::string code;
  IdentifierType type = IdentifierType::kEmail;
  IdentifierRef identifier;
  int64_t created_ms = 0;
  uint32_t ttl_seconds = 0;
  bool identified = true;
  bool session_bound = false;
};

// A named group of generated records; identifiers are derived from `pattern`
// ("{n}" = the record's sequence number, starting at 1). Either stored records (Generate) or a
// derived batch (GenerateDerived: derived_serial != 0).
struct Batch {
  std::string id;
  IdentifierType type;
  std::string pattern;
  uint64_t derived_serial = 0;
};

// What GenerateDerived makes: `count` records 1..count, ids and codes derived.
struct DerivedSpec {
  std::string id;
  IdentifierType type = IdentifierType::kEmail;
  std::string pattern;
  uint32_t count = 0;
  int64_t created_ms = 0;
  uint32_t ttl_seconds = 0;
  std::string fixed_code;  // empty: derived 6-digit codes
};

// One record of a derived batch, inside WithDerived's callback.
struct DerivedSlot {
  DerivedBatch& batch;
  uint64_t n;                      // sequence number, 1..count
  std::atomic_ref<uint32_t> word;  // its state (DerivedState); change it by compare-and-swap
  const IdCipher& cipher;
  // Whether `code` is the record's code.
  bool CodeMatches(std::string_view code) const {
    if (!batch.rule().fixed_code.empty()) return code == batch.rule().fixed_code;
    if (code.size() != kDerivedCodeLength) return false;
    char expected[kDerivedCodeLength];
    cipher.Code(DerivedPlain(batch.rule().serial, n), expected);
    return code == std::string_view(expected, kDerivedCodeLength);
  }
};

// Up to kDerivedChunkRows consecutive rows of one derived batch, produced for a scan.
inline constexpr size_t kDerivedChunkRows = 512;
struct DerivedChunk {
  size_t size = 0;
  IdentifierType type = IdentifierType::kEmail;
  std::string fixed_code;
  char ids[kDerivedChunkRows * 21];
  char codes[kDerivedChunkRows * kDerivedCodeLength];
  std::string identifiers;                   // every row's identifier, back to back
  size_t identifier_end[kDerivedChunkRows];  // end offset of row i's identifier
};

// A generated record's identifier: `pattern` with its first "{n}" replaced by `n`. Appends to *out.
void ExpandIdentifierPattern(std::string_view pattern, uint32_t n, std::string* out);

enum class InsertStatus : uint8_t { kInserted, kExists, kFull };

struct BulkInsertResult {
  InsertStatus status = InsertStatus::kInserted;
  size_t failed_index = 0;  // the first offending item when status != kInserted
};

// Position of an incremental scan (export). Start with a default-constructed cursor.
struct ScanCursor {
  size_t shard = 0;
  uint32_t slot = 0;
  uint32_t derived_handle = 0;  // after the shards: the derived batch being read, and its next
  uint64_t derived_n = 1;       // sequence number
  bool done = false;
};

// Thread-safe. Records are spread over `shards` shards by a seeded hash of their id; each
// shard's mutex guards that shard's index, record slots and free list, and nothing else.
// No operation on a single id takes more than one shard lock; bulk inserts lock the shards
// they touch in ascending order. `size_` is an atomic so the cap is exact without a global lock.
// Derived batches (rule + state words) live beside the shards under derived_mu_, read-locked by
// every operation on a derived id; their records count in size() like stored ones. Ids of
// individually created records never fall in a live derived batch: such an insert answers
// kExists, and a new batch's serial avoids every stored id that decodes (DecodeDerivedId).
class VerificationStore {
 public:
  explicit VerificationStore(StoreOptions options = {});
  ~VerificationStore();
  VerificationStore(const VerificationStore&) = delete;
  VerificationStore& operator=(const VerificationStore&) = delete;

  // Consumes record.identifier only when the record is inserted.
  InsertStatus Insert(NewRecord& record);
  // All or nothing: on any duplicate (in the store or within `records`) or if the cap would be
  // exceeded, nothing is inserted.
  BulkInsertResult InsertAll(std::vector<NewRecord>& records);

  // Creates `count` records with fresh random ids, in batch `batch` (from RegisterBatch).
  // Codes are `fixed_code` or fresh random 6-digit codes. Returns false (and inserts nothing)
  // when the cap would be exceeded.
  bool Generate(uint32_t batch, uint32_t count, std::string_view fixed_code, int64_t created_ms,
                uint32_t ttl_seconds, bool identified);
  // Registers a batch; returns its handle (1-based). Thread-safe.
  uint32_t RegisterBatch(Batch batch);

  // Creates a derived batch in O(1) of its count; returns its handle, or 0 (nothing created) when
  // the cap would be exceeded. Throws std::bad_alloc if its state cannot be mapped.
  uint32_t GenerateDerived(DerivedSpec spec);
  // Runs fn(DerivedSlot&) under a shared lock when `id` is a record of a live derived batch and
  // not gone; false (fn not called) otherwise. Decoding the id costs one Feistel inversion.
  template <typename Fn>
  bool WithDerived(std::string_view id, Fn&& fn);
  // The cipher of every derived batch (its key goes into snapshots).
  const IdCipher& cipher() const { return cipher_; }
  // Live derived batches, in handle order. The state words keep changing while serving.
  std::vector<std::shared_ptr<const DerivedBatch>> DerivedBatches() const;
  // Snapshot load only (before serving, and before any record is inserted): the key the saved
  // batches were derived with.
  void RestoreCipherKey(const std::array<uint8_t, kDerivedKeyBytes>& key) {
    cipher_ = IdCipher(key);
  }
  // Snapshot load only: adopts a derived batch whose words are filled in; `handle` names a batch
  // registered with RegisterBatch. Recounts its remaining records and its earliest consumption.
  // kFull when its records exceed the cap, kExists when the handle or serial is taken.
  InsertStatus AdoptDerived(std::shared_ptr<DerivedBatch> batch);

  // Runs fn(Record&) under the record's shard lock; false if there is no such id.
  template <typename Fn>
  bool WithRecord(std::string_view id, Fn&& fn);

  std::optional<RecordSnapshot> Get(std::string_view id) const;
  bool Erase(std::string_view id);
  size_t Clear();

  // Removes records expired more than `retention_ms` ago, and consumed ones consumed more than
  // `retention_ms` ago, except records bound to a session (they go with it). Locks one shard slice
  // at a time; skips shards where no record can be due
  // yet (the usual case during a load test), so an idle pass costs nothing per record.
  // Returns how many were removed.
  size_t Sweep(int64_t now_ms, int64_t retention_ms);

  // Calls fn(const RecordView&) for up to `max_rows` live records from `cursor` on: the stored
  // records under one shard lock at a time, then the derived batches' records (RecordView::record
  // is null for those); `batch_filter` 0 = all records. Advances the cursor.
  template <typename Fn>
  size_t Scan(ScanCursor& cursor, uint32_t batch_filter, size_t max_rows, Fn&& fn) const;
  // Scan over the stored records only.
  template <typename Fn>
  size_t ScanStored(ScanCursor& cursor, uint32_t batch_filter, size_t max_rows, Fn&& fn) const;
  // The next rows of derived batches from `cursor` on (one batch per chunk, up to `max_rows`
  // and kDerivedChunkRows); false, with the cursor done, when none is left.
  bool NextDerivedChunk(ScanCursor& cursor, uint32_t batch_filter, size_t max_rows,
                        DerivedChunk* chunk) const;

  // A record as a snapshot holds it: every field, generated identifiers as (batch, seq).
  struct RestoredRecord {
    std::string id;
    std::string code;
    uint8_t flags = 0;  // Record::Flag bits; kLive is implied
    uint16_t try_count = 0;
    int64_t created_ms = 0;
    uint32_t ttl_seconds = 0;
    uint32_t consumed_after_seconds = 0;
    bool generated = false;
    std::string identifier;       // when !generated
    uint32_t batch = 0, seq = 0;  // when generated
  };
  // Restores one record (start-up only, before serving). kExists / kFull as for Insert.
  InsertStatus InsertRestored(RestoredRecord& record);
  // Every batch, in handle order (handle = index + 1).
  std::vector<Batch> Batches() const;

  // Looks up a batch by its public id; 0 if unknown.
  uint32_t FindBatch(std::string_view batch_id) const;

  size_t size() const { return size_.load(std::memory_order_relaxed); }
  size_t shard_count() const { return shards_.size(); }
  size_t max_records() const { return max_records_; }
  uint64_t swept_total() const { return swept_total_.load(std::memory_order_relaxed); }
  // Records read by sweeps so far (skipped shards read none).
  uint64_t sweep_examined_total() const {
    return sweep_examined_total_.load(std::memory_order_relaxed);
  }

 private:
  struct IndexSlot {
    uint32_t hash_low;  // low 32 bits of the id's hash; also gives the home position
    uint32_t ref;       // record slot + 1; 0 = empty
  };
  static constexpr uint32_t kChunkRecords = 1024;

  struct alignas(64) Shard {
    mutable std::mutex mu;
    IndexSlot* slots = nullptr;                     // GUARDED_BY(mu), calloc'd, `capacity` entries
    uint32_t capacity = 0;                          // GUARDED_BY(mu), power of two
    uint32_t used = 0;                              // GUARDED_BY(mu)
    std::vector<std::unique_ptr<Record[]>> chunks;  // GUARDED_BY(mu)
    uint32_t next_unused = 0;                       // GUARDED_BY(mu)
    // A lower bound of settled_ms() over the shard's live records (INT64_MAX: none), so a
    // sweep skips shards where nothing can be due instead of reading every record.
    int64_t earliest_settled_ms = INT64_MAX;  // GUARDED_BY(mu)
    std::vector<uint32_t> free_slots;         // GUARDED_BY(mu)

    Record& at(uint32_t slot) { return chunks[slot / kChunkRecords][slot % kChunkRecords]; }
    const Record& at(uint32_t slot) const {
      return chunks[slot / kChunkRecords][slot % kChunkRecords];
    }
  };

  uint64_t Hash(std::string_view id) const;
  size_t ShardOf(uint64_t hash) const {
    return shard_bits_ == 0 ? 0 : static_cast<size_t>(hash >> (64 - shard_bits_));
  }
  // REQUIRES: shard.mu held. Returns the record slot or -1.
  static int64_t Find(const Shard& shard, uint64_t hash, std::string_view id);
  // REQUIRES: shard.mu held, id absent.
  static Record& Emplace(Shard& shard, uint64_t hash);
  // REQUIRES: shard.mu held.
  static void EraseSlot(Shard& shard, uint64_t hash, uint32_t record_slot);
  static void Grow(Shard& shard);
  // REQUIRES: shard.mu held. Keeps earliest_settled_ms a lower bound after `r` was written.
  static void NoteSettled(Shard& shard, const Record& r) {
    const int64_t settled = r.settled_ms();
    if (settled < shard.earliest_settled_ms) shard.earliest_settled_ms = settled;
  }
  static void FillRecord(Record& r, NewRecord& from);
  bool Reserve(size_t n);
  void Unreserve(size_t n) { size_.fetch_sub(n, std::memory_order_relaxed); }
  std::string ResolveIdentifier(const Record& r) const;
  std::string_view ResolveIdentifier(const Record& r, std::string& scratch) const;

  std::vector<Shard> shards_;
  unsigned shard_bits_ = 0;
  uint64_t seed_ = 0;
  size_t max_records_ = 0;
  std::atomic<size_t> size_{0};
  std::atomic<uint64_t> swept_total_{0};
  std::atomic<uint64_t> sweep_examined_total_{0};

  mutable std::mutex batches_mu_;
  std::vector<Batch> batches_;  // GUARDED_BY(batches_mu_); append-only, index = handle - 1

  // Whether `id` may be inserted as an individual record: false when it names a record of a live
  // derived batch. Notes the serial of any id that decodes, so no later batch takes it.
  bool ClaimIndividualId(std::string_view id);
  // The plaintext `id` decodes to, if it can name a derived record at all. No lock: the key is
  // only set before serving.
  std::optional<Uint128> DerivedPlainOf(std::string_view id) const;
  // REQUIRES: derived_mu_ held (shared or exclusive). The live batch and sequence number of
  // `plain`; nullptr if none.
  DerivedBatch* FindDerived(Uint128 plain, uint64_t* n) const;
  size_t SweepDerived(int64_t now_ms, int64_t retention_ms, uint64_t* examined);
  size_t ClearDerived();
  // The derived serial of batch handle `batch_filter`; 0 for a stored-record batch or none.
  uint64_t BatchFilterSerial(uint32_t batch_filter) const;

  IdCipher cipher_;
  mutable std::shared_mutex derived_mu_;
  // GUARDED_BY(derived_mu_): live derived batches by handle (ordered: scans resume by handle)
  // and by serial; the serials of stored ids that decode (never given to a new batch).
  std::map<uint32_t, std::shared_ptr<DerivedBatch>> derived_;
  std::unordered_map<uint64_t, DerivedBatch*> derived_by_serial_;
  std::unordered_set<uint64_t> taken_serials_;
};

template <typename Fn>
bool VerificationStore::WithDerived(std::string_view id, Fn&& fn) {
  const std::optional<Uint128> plain = DerivedPlainOf(id);  // outside the lock
  if (!plain) return false;
  std::shared_lock<std::shared_mutex> lock(derived_mu_);
  uint64_t n = 0;
  DerivedBatch* batch = FindDerived(*plain, &n);
  if (batch == nullptr) return false;
  DerivedSlot slot{*batch, n, batch->word(n), cipher_};
  if (DerivedState::Gone(slot.word.load(std::memory_order_relaxed))) return false;
  fn(slot);
  return true;
}

template <typename Fn>
bool VerificationStore::WithRecord(std::string_view id, Fn&& fn) {
  const uint64_t hash = Hash(id);
  Shard& shard = shards_[ShardOf(hash)];
  std::lock_guard<std::mutex> lock(shard.mu);
  const int64_t slot = Find(shard, hash, id);
  if (slot < 0) return false;
  Record& record = shard.at(static_cast<uint32_t>(slot));
  fn(record);
  NoteSettled(shard, record);  // fn may have consumed it
  return true;
}

template <typename Fn>
size_t VerificationStore::Scan(ScanCursor& cursor, uint32_t batch_filter, size_t max_rows,
                               Fn&& fn) const {
  size_t emitted = 0;
  if (cursor.shard < shards_.size()) {
    // A derived batch has no stored records: its scan starts after the shards.
    if (batch_filter != 0 && BatchFilterSerial(batch_filter) != 0) {
      cursor.shard = shards_.size();
    } else {
      emitted = ScanStored(cursor, batch_filter, max_rows, fn);
      if (cursor.shard < shards_.size()) return emitted;
      cursor.done = false;
    }
  }
  auto chunk = std::make_unique<DerivedChunk>();
  while (emitted < max_rows &&
         NextDerivedChunk(cursor, batch_filter, max_rows - emitted, chunk.get())) {
    size_t begin = 0;
    for (size_t i = 0; i < chunk->size; ++i) {
      const std::string_view identifier(chunk->identifiers.data() + begin,
                                        chunk->identifier_end[i] - begin);
      begin = chunk->identifier_end[i];
      const std::string_view code =
          chunk->fixed_code.empty()
              ? std::string_view(chunk->codes + i * kDerivedCodeLength, kDerivedCodeLength)
              : std::string_view(chunk->fixed_code);
      RecordView view{std::string_view(chunk->ids + i * 21, 21), chunk->type, identifier, code,
                      nullptr};
      fn(view);
    }
    emitted += chunk->size;
  }
  return emitted;
}

template <typename Fn>
size_t VerificationStore::ScanStored(ScanCursor& cursor, uint32_t batch_filter, size_t max_rows,
                                     Fn&& fn) const {
  size_t emitted = 0;
  std::string scratch;
  while (!cursor.done && emitted < max_rows) {
    if (cursor.shard >= shards_.size()) {
      cursor.done = true;
      break;
    }
    const Shard& shard = shards_[cursor.shard];
    std::lock_guard<std::mutex> lock(shard.mu);
    while (cursor.slot < shard.next_unused && emitted < max_rows) {
      const Record& r = shard.at(cursor.slot++);
      if (!r.live()) continue;
      if (batch_filter != 0 &&
          !(r.identifier.IsGenerated() && r.identifier.batch() == batch_filter))
        continue;
      RecordView view{r.id.view(), r.type(), ResolveIdentifier(r, scratch), r.code.view(), &r};
      fn(view);
      ++emitted;
    }
    if (cursor.slot >= shard.next_unused) {
      ++cursor.shard;
      cursor.slot = 0;
    }
  }
  return emitted;
}

}  // namespace mfa
