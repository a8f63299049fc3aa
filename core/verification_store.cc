// SPDX-License-Identifier: Apache-2.0
#include "core/verification_store.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <unordered_set>

#include "core/derived_ids.h"
#include "core/secure_random.h"

namespace mfa {
namespace {

inline uint64_t Mix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

constexpr uint32_t kInitialCapacity = 16;
constexpr uint32_t kSweepSliceRecords = 4096;

}  // namespace

VerificationStore::VerificationStore(StoreOptions options) : max_records_(options.max_records) {
  const size_t n = options.shards;
  if (n == 0 || n > 65536 || (n & (n - 1)) != 0) {
    throw std::invalid_argument("shard count must be a power of two between 1 and 65536");
  }
  while ((size_t{1} << shard_bits_) < n) ++shard_bits_;
  SecureRandom::Fill(&seed_, sizeof(seed_));
  shards_ = std::vector<Shard>(n);
}

VerificationStore::~VerificationStore() {
  for (Shard& shard : shards_) std::free(shard.slots);
}

uint64_t VerificationStore::Hash(std::string_view id) const {
  uint64_t h = seed_ ^ (id.size() * 0x9E3779B97F4A7C15ULL);
  size_t i = 0;
  for (; i + 8 <= id.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, id.data() + i, 8);
    h = Mix(h ^ w);
  }
  uint64_t tail = 0;
  if (id.size() > i) std::memcpy(&tail, id.data() + i, id.size() - i);
  return Mix(h ^ tail ^ 0xA5A5A5A5A5A5A5A5ULL);
}

int64_t VerificationStore::Find(const Shard& shard, uint64_t hash, std::string_view id) {
  if (shard.capacity == 0) return -1;
  const uint32_t mask = shard.capacity - 1;
  const auto low = static_cast<uint32_t>(hash);
  for (uint32_t pos = low & mask;; pos = (pos + 1) & mask) {
    const IndexSlot& s = shard.slots[pos];
    if (s.ref == 0) return -1;
    if (s.hash_low == low && shard.at(s.ref - 1).id.view() == id) return s.ref - 1;
  }
}

void VerificationStore::Grow(Shard& shard) {
  const uint32_t new_capacity = shard.capacity == 0 ? kInitialCapacity : shard.capacity * 2;
  auto* fresh = static_cast<IndexSlot*>(std::calloc(new_capacity, sizeof(IndexSlot)));
  if (fresh == nullptr) throw std::bad_alloc();
  const uint32_t mask = new_capacity - 1;
  for (uint32_t i = 0; i < shard.capacity; ++i) {
    const IndexSlot& s = shard.slots[i];
    if (s.ref == 0) continue;
    uint32_t pos = s.hash_low & mask;
    while (fresh[pos].ref != 0) pos = (pos + 1) & mask;
    fresh[pos] = s;
  }
  std::free(shard.slots);
  shard.slots = fresh;
  shard.capacity = new_capacity;
}

Record& VerificationStore::Emplace(Shard& shard, uint64_t hash) {
  // Keep the load factor at or under 3/4 so probes stay short.
  if ((uint64_t{shard.used} + 1) * 4 > uint64_t{shard.capacity} * 3) Grow(shard);
  uint32_t slot;
  if (!shard.free_slots.empty()) {
    slot = shard.free_slots.back();
    shard.free_slots.pop_back();
  } else {
    if (shard.next_unused % kChunkRecords == 0 &&
        shard.next_unused / kChunkRecords == shard.chunks.size()) {
      shard.chunks.push_back(std::make_unique<Record[]>(kChunkRecords));
    }
    slot = shard.next_unused++;
  }
  const uint32_t mask = shard.capacity - 1;
  const auto low = static_cast<uint32_t>(hash);
  uint32_t pos = low & mask;
  while (shard.slots[pos].ref != 0) pos = (pos + 1) & mask;
  shard.slots[pos] = IndexSlot{low, slot + 1};
  ++shard.used;
  return shard.at(slot);
}

void VerificationStore::EraseSlot(Shard& shard, uint64_t hash, uint32_t record_slot) {
  const uint32_t mask = shard.capacity - 1;
  uint32_t i = static_cast<uint32_t>(hash) & mask;
  while (shard.slots[i].ref != record_slot + 1) i = (i + 1) & mask;
  // Backward-shift deletion keeps linear probing free of tombstones.
  shard.slots[i] = IndexSlot{0, 0};
  uint32_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (shard.slots[j].ref == 0) break;
    const uint32_t home = shard.slots[j].hash_low & mask;
    const bool home_in_gap = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
    if (home_in_gap) continue;
    shard.slots[i] = shard.slots[j];
    shard.slots[j] = IndexSlot{0, 0};
    i = j;
  }
  Record& r = shard.at(record_slot);
  r.id.Assign({});
  r.code.Assign({});
  r.identifier = IdentifierRef();
  r.flags = 0;
  shard.free_slots.push_back(record_slot);
  --shard.used;
}

void VerificationStore::FillRecord(Record& r, NewRecord& from) {
  r.id.Assign(from.id);
  r.code.Assign(from.code);
  r.identifier = std::move(from.identifier);
  r.created_ms = from.created_ms;
  r.ttl_seconds = from.ttl_seconds;
  r.consumed_after_seconds = 0;
  r.try_count = 0;
  r.flags = Record::kLive;
  if (from.type == IdentifierType::kPhone) r.flags |= Record::kPhone;
  if (from.identified) r.flags |= Record::kIdentified;
  if (from.session_bound) r.flags |= Record::kSessionBound;
}

bool VerificationStore::Reserve(size_t n) {
  const size_t before = size_.fetch_add(n, std::memory_order_relaxed);
  if (max_records_ != 0 && before + n > max_records_) {
    size_.fetch_sub(n, std::memory_order_relaxed);
    return false;
  }
  return true;
}

InsertStatus VerificationStore::Insert(NewRecord& record) {
  if (!ClaimIndividualId(record.id)) return InsertStatus::kExists;
  if (!Reserve(1)) return InsertStatus::kFull;
  const uint64_t hash = Hash(record.id);
  Shard& shard = shards_[ShardOf(hash)];
  std::lock_guard<std::mutex> lock(shard.mu);
  if (Find(shard, hash, record.id) >= 0) {
    Unreserve(1);
    return InsertStatus::kExists;
  }
  Record& r = Emplace(shard, hash);
  FillRecord(r, record);
  NoteSettled(shard, r);
  return InsertStatus::kInserted;
}

BulkInsertResult VerificationStore::InsertAll(std::vector<NewRecord>& records) {
  // The first offending item is reported, whether it repeats an earlier item or an existing id.
  size_t first_bad = records.size();
  {
    std::unordered_set<std::string_view> seen;
    seen.reserve(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      if (!seen.insert(records[i].id).second || !ClaimIndividualId(records[i].id)) {
        first_bad = i;
        break;
      }
    }
  }
  std::vector<uint64_t> hashes(records.size());
  std::vector<bool> touched(shards_.size(), false);
  for (size_t i = 0; i < records.size(); ++i) {
    hashes[i] = Hash(records[i].id);
    touched[ShardOf(hashes[i])] = true;
  }
  std::vector<std::unique_lock<std::mutex>> locks;
  for (size_t s = 0; s < shards_.size(); ++s) {
    if (touched[s]) locks.emplace_back(shards_[s].mu);
  }
  for (size_t i = 0; i < first_bad; ++i) {
    if (Find(shards_[ShardOf(hashes[i])], hashes[i], records[i].id) >= 0) {
      first_bad = i;
      break;
    }
  }
  if (first_bad < records.size()) return {InsertStatus::kExists, first_bad};
  if (!Reserve(records.size())) return {InsertStatus::kFull, 0};
  for (size_t i = 0; i < records.size(); ++i) {
    Shard& shard = shards_[ShardOf(hashes[i])];
    Record& r = Emplace(shard, hashes[i]);
    FillRecord(r, records[i]);
    NoteSettled(shard, r);
  }
  return {};
}

uint32_t VerificationStore::RegisterBatch(Batch batch) {
  std::lock_guard<std::mutex> lock(batches_mu_);
  batches_.push_back(std::move(batch));
  return static_cast<uint32_t>(batches_.size());
}

std::vector<Batch> VerificationStore::Batches() const {
  std::lock_guard<std::mutex> lock(batches_mu_);
  return batches_;
}

InsertStatus VerificationStore::InsertRestored(RestoredRecord& in) {
  if (!ClaimIndividualId(in.id)) return InsertStatus::kExists;
  if (!Reserve(1)) return InsertStatus::kFull;
  const uint64_t hash = Hash(in.id);
  Shard& shard = shards_[ShardOf(hash)];
  std::lock_guard<std::mutex> lock(shard.mu);
  if (Find(shard, hash, in.id) >= 0) {
    Unreserve(1);
    return InsertStatus::kExists;
  }
  Record& r = Emplace(shard, hash);
  r.id.Assign(in.id);
  r.code.Assign(in.code);
  r.identifier = in.generated ? IdentifierRef::Generated(in.batch, in.seq)
                              : IdentifierRef::Shared(SharedTextRef(in.identifier));
  r.created_ms = in.created_ms;
  r.ttl_seconds = in.ttl_seconds;
  r.consumed_after_seconds = in.consumed_after_seconds;
  r.try_count = in.try_count;
  r.flags = static_cast<uint8_t>(in.flags | Record::kLive);
  NoteSettled(shard, r);
  return InsertStatus::kInserted;
}

uint32_t VerificationStore::FindBatch(std::string_view batch_id) const {
  std::lock_guard<std::mutex> lock(batches_mu_);
  for (size_t i = 0; i < batches_.size(); ++i) {
    if (batches_[i].id == batch_id) return static_cast<uint32_t>(i + 1);
  }
  return 0;
}

bool VerificationStore::Generate(uint32_t batch, uint32_t count, std::string_view fixed_code,
                                 int64_t created_ms, uint32_t ttl_seconds, bool identified) {
  if (!Reserve(count)) return false;
  IdentifierType type;
  {
    std::lock_guard<std::mutex> lock(batches_mu_);
    type = batches_.at(batch - 1).type;
  }
  // Work in groups sorted by shard so each shard lock is taken once per group.
  constexpr uint32_t kGroup = 8192;
  struct Pending {
    uint64_t hash;
    uint32_t seq;
    char id[kGeneratedIdLength];
    char code[kGeneratedCodeLength];
  };
  std::vector<Pending> group;
  group.reserve(kGroup);
  uint32_t seq = 1;
  while (seq <= count) {
    group.clear();
    const uint32_t end = std::min<uint64_t>(uint64_t{count} + 1, uint64_t{seq} + kGroup);
    for (; seq < end; ++seq) {
      Pending& p = group.emplace_back();
      FillIndividualId(p.id);
      if (fixed_code.empty()) SecureRandom::FillDigits(p.code, kGeneratedCodeLength);
      p.hash = Hash({p.id, kGeneratedIdLength});
      p.seq = seq;
    }
    std::sort(group.begin(), group.end(), [this](const Pending& a, const Pending& b) {
      return ShardOf(a.hash) < ShardOf(b.hash);
    });
    size_t i = 0;
    while (i < group.size()) {
      const size_t shard_index = ShardOf(group[i].hash);
      Shard& shard = shards_[shard_index];
      std::lock_guard<std::mutex> lock(shard.mu);
      for (; i < group.size() && ShardOf(group[i].hash) == shard_index; ++i) {
        Pending& p = group[i];
        std::string_view id(p.id, kGeneratedIdLength);
        // 36^21 ids make a collision practically impossible; redraw rather than assume.
        while (Find(shard, p.hash, id) >= 0) {
          do {
            FillIndividualId(p.id);
            p.hash = Hash(id);
          } while (ShardOf(p.hash) != shard_index);
        }
        Record& r = Emplace(shard, p.hash);
        r.id.Assign(id);
        r.code.Assign(fixed_code.empty() ? std::string_view(p.code, kGeneratedCodeLength)
                                         : fixed_code);
        r.identifier = IdentifierRef::Generated(batch, p.seq);
        r.created_ms = created_ms;
        r.ttl_seconds = ttl_seconds;
        r.consumed_after_seconds = 0;
        r.try_count = 0;
        r.flags = Record::kLive;
        if (type == IdentifierType::kPhone) r.flags |= Record::kPhone;
        if (identified) r.flags |= Record::kIdentified;
        NoteSettled(shard, r);
      }
    }
  }
  return true;
}

std::string_view VerificationStore::ResolveIdentifier(const Record& r, std::string& scratch) const {
  if (!r.identifier.IsGenerated()) return r.identifier.SharedView();
  std::string pattern;
  {
    std::lock_guard<std::mutex> lock(batches_mu_);
    pattern = batches_.at(r.identifier.batch() - 1).pattern;
  }
  scratch.clear();
  ExpandIdentifierPattern(pattern, r.identifier.seq(), &scratch);
  return scratch;
}

void ExpandIdentifierPattern(std::string_view pattern, uint32_t n, std::string* out) {
  const size_t at = pattern.find("{n}");
  if (at == std::string_view::npos) {
    out->append(pattern);
    return;
  }
  out->append(pattern.substr(0, at));
  *out += std::to_string(n);
  out->append(pattern.substr(at + 3));
}

std::string VerificationStore::ResolveIdentifier(const Record& r) const {
  std::string scratch;
  return std::string(ResolveIdentifier(r, scratch));
}

std::optional<RecordSnapshot> VerificationStore::Get(std::string_view id) const {
  if (const std::optional<Uint128> plain = DerivedPlainOf(id)) {
    std::shared_lock<std::shared_mutex> lock(derived_mu_);
    uint64_t n = 0;
    if (const DerivedBatch* batch = FindDerived(*plain, &n)) {
      const uint32_t w = batch->word(n).load(std::memory_order_relaxed);
      if (DerivedState::Gone(w)) return std::nullopt;
      const DerivedRule& rule = batch->rule();
      RecordSnapshot s;
      s.verification_id = std::string(id);
      s.identifier_type = rule.type;
      ExpandIdentifierPattern(rule.pattern, static_cast<uint32_t>(n), &s.identifier);
      if (rule.fixed_code.empty()) {
        s.code.resize(kDerivedCodeLength);
        cipher_.Code(DerivedPlain(rule.serial, n), s.code.data());
      } else {
        s.code = rule.fixed_code;
      }
      s.created_ms = rule.created_ms;
      s.expires_ms = batch->expires_ms();
      s.try_count = DerivedState::Tries(w);
      s.consumed = s.verified = DerivedState::Consumed(w);
      s.identified = true;
      s.batch_id = rule.id;
      return s;
    }
  }
  const uint64_t hash = Hash(id);
  const Shard& shard = shards_[ShardOf(hash)];
  std::lock_guard<std::mutex> lock(shard.mu);
  const int64_t slot = Find(shard, hash, id);
  if (slot < 0) return std::nullopt;
  const Record& r = shard.at(static_cast<uint32_t>(slot));
  RecordSnapshot s;
  s.verification_id = std::string(r.id.view());
  s.identifier_type = r.type();
  s.identifier = ResolveIdentifier(r);
  s.code = std::string(r.code.view());
  s.created_ms = r.created_ms;
  s.expires_ms = r.expires_ms();
  s.try_count = r.try_count;
  s.consumed = r.consumed();
  s.verified = r.verified();
  s.identified = r.identified();
  if (r.identifier.IsGenerated()) {
    std::lock_guard<std::mutex> batch_lock(batches_mu_);
    s.batch_id = batches_.at(r.identifier.batch() - 1).id;
  }
  return s;
}

bool VerificationStore::Erase(std::string_view id) {
  if (const std::optional<Uint128> plain = DerivedPlainOf(id)) {
    std::shared_lock<std::shared_mutex> lock(derived_mu_);
    uint64_t n = 0;
    if (DerivedBatch* batch = FindDerived(*plain, &n)) {
      std::atomic_ref<uint32_t> word = batch->word(n);
      uint32_t w = word.load(std::memory_order_relaxed);
      do {
        if (DerivedState::Gone(w)) return false;
      } while (!word.compare_exchange_weak(w, w | DerivedState::kGone));
      batch->NoteGone();
      Unreserve(1);
      return true;
    }
  }
  const uint64_t hash = Hash(id);
  Shard& shard = shards_[ShardOf(hash)];
  std::lock_guard<std::mutex> lock(shard.mu);
  const int64_t slot = Find(shard, hash, id);
  if (slot < 0) return false;
  EraseSlot(shard, hash, static_cast<uint32_t>(slot));
  Unreserve(1);
  return true;
}

size_t VerificationStore::Clear() {
  size_t removed = 0;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    removed += shard.used;
    Unreserve(shard.used);
    shard.chunks.clear();
    shard.chunks.shrink_to_fit();
    shard.free_slots.clear();
    shard.free_slots.shrink_to_fit();
    shard.next_unused = 0;
    shard.earliest_settled_ms = INT64_MAX;
    shard.used = 0;
    std::free(shard.slots);
    shard.slots = nullptr;
    shard.capacity = 0;
  }
  return removed + ClearDerived();
}

size_t VerificationStore::Sweep(int64_t now_ms, int64_t retention_ms) {
  size_t removed = 0;
  uint64_t examined = 0;
  for (Shard& shard : shards_) {
    {
      std::lock_guard<std::mutex> lock(shard.mu);
      // Nothing settled more than the retention ago: no record here can be due.
      if (shard.earliest_settled_ms == INT64_MAX ||
          now_ms <= shard.earliest_settled_ms + retention_ms) {
        continue;
      }
      // Rebuilt by this pass: the records it reads, plus whatever NoteSettled adds meanwhile
      // (records written between slices, in slots before or after the pass's position).
      shard.earliest_settled_ms = INT64_MAX;
    }
    int64_t pass_earliest = INT64_MAX;
    uint32_t slot = 0;
    for (;;) {
      std::lock_guard<std::mutex> lock(shard.mu);
      if (slot >= shard.next_unused) {
        if (pass_earliest < shard.earliest_settled_ms) shard.earliest_settled_ms = pass_earliest;
        break;
      }
      const uint32_t end = std::min(shard.next_unused, slot + kSweepSliceRecords);
      for (; slot < end; ++slot) {
        Record& r = shard.at(slot);
        // A session's records live as long as the session, as in Logto (its sweep erases them).
        if (!r.live() || r.session_bound()) continue;
        ++examined;
        const int64_t settled = r.settled_ms();
        if (now_ms > settled + retention_ms) {
          EraseSlot(shard, Hash(r.id.view()), slot);
          Unreserve(1);
          ++removed;
        } else if (settled < pass_earliest) {
          pass_earliest = settled;
        }
      }
    }
  }
  removed += SweepDerived(now_ms, retention_ms, &examined);
  swept_total_.fetch_add(removed, std::memory_order_relaxed);
  sweep_examined_total_.fetch_add(examined, std::memory_order_relaxed);
  return removed;
}

// ---------------------------------------------------------------------------------------------
// Derived batches.

bool VerificationStore::ClaimIndividualId(std::string_view id) {
  // Outside the derived space: every random id of ours, most seeded ones.
  const std::optional<Uint128> plain = DerivedPlainOf(id);
  if (!plain) return true;
  std::unique_lock<std::shared_mutex> lock(derived_mu_);
  uint64_t n = 0;
  if (FindDerived(*plain, &n) != nullptr) return false;
  taken_serials_.insert(SerialOf(*plain));
  return true;
}

std::optional<Uint128> VerificationStore::DerivedPlainOf(std::string_view id) const {
  const std::optional<Uint128> value = DecodeDerivedId(id);
  if (!value) return std::nullopt;
  const Uint128 plain = cipher_.Decrypt(*value);
  if (!IsDerivedPlain(plain)) return std::nullopt;
  return plain;
}

DerivedBatch* VerificationStore::FindDerived(Uint128 plain, uint64_t* n) const {
  const auto it = derived_by_serial_.find(SerialOf(plain));
  if (it == derived_by_serial_.end()) return nullptr;
  const uint64_t seq = SeqOf(plain);
  if (seq < 1 || seq > it->second->rule().count) return nullptr;
  *n = seq;
  return it->second;
}

uint32_t VerificationStore::GenerateDerived(DerivedSpec spec) {
  if (!Reserve(spec.count)) return 0;
  std::unique_lock<std::shared_mutex> lock(derived_mu_);
  uint64_t serial = 0;
  // Fresh and random: no live batch has it, and no stored id decodes into it.
  while (serial == 0 || derived_by_serial_.count(serial) != 0 ||
         taken_serials_.count(serial) != 0) {
    SecureRandom::Fill(&serial, sizeof(serial));
  }
  DerivedRule rule;
  rule.id = spec.id;
  rule.serial = serial;
  rule.type = spec.type;
  rule.pattern = spec.pattern;
  rule.count = spec.count;
  rule.created_ms = spec.created_ms;
  rule.ttl_seconds = spec.ttl_seconds;
  rule.fixed_code = std::move(spec.fixed_code);
  std::shared_ptr<DerivedBatch> batch;
  try {
    rule.handle =
        RegisterBatch(Batch{std::move(spec.id), spec.type, std::move(spec.pattern), serial});
    batch = std::make_shared<DerivedBatch>(std::move(rule));
  } catch (...) {
    Unreserve(spec.count);
    throw;
  }
  derived_by_serial_[serial] = batch.get();
  const uint32_t handle = batch->rule().handle;
  derived_.emplace(handle, std::move(batch));
  return handle;
}

std::vector<std::shared_ptr<const DerivedBatch>> VerificationStore::DerivedBatches() const {
  std::shared_lock<std::shared_mutex> lock(derived_mu_);
  std::vector<std::shared_ptr<const DerivedBatch>> out;
  out.reserve(derived_.size());
  for (const auto& [handle, batch] : derived_) out.push_back(batch);
  return out;
}

InsertStatus VerificationStore::AdoptDerived(std::shared_ptr<DerivedBatch> batch) {
  const DerivedRule& rule = batch->rule();
  uint64_t remaining = 0;
  uint32_t* words = batch->raw_words();
  for (uint64_t i = 0; i < rule.count; ++i) {
    const uint32_t w = words[i];
    if (DerivedState::Gone(w)) continue;
    ++remaining;
    if (DerivedState::Consumed(w)) batch->NoteConsumed(batch->ConsumedMs(w));
  }
  batch->set_remaining(remaining);
  if (!Reserve(remaining)) return InsertStatus::kFull;
  std::unique_lock<std::shared_mutex> lock(derived_mu_);
  {
    std::lock_guard<std::mutex> batches_lock(batches_mu_);
    if (rule.serial == 0 || rule.handle == 0 || rule.handle > batches_.size() ||
        derived_.count(rule.handle) != 0 || derived_by_serial_.count(rule.serial) != 0) {
      Unreserve(remaining);
      return InsertStatus::kExists;
    }
    batches_[rule.handle - 1].derived_serial = rule.serial;
  }
  derived_by_serial_[rule.serial] = batch.get();
  derived_.emplace(rule.handle, std::move(batch));
  return InsertStatus::kInserted;
}

uint64_t VerificationStore::BatchFilterSerial(uint32_t batch_filter) const {
  std::lock_guard<std::mutex> lock(batches_mu_);
  if (batch_filter == 0 || batch_filter > batches_.size()) return 0;
  return batches_[batch_filter - 1].derived_serial;
}

size_t VerificationStore::ClearDerived() {
  std::unique_lock<std::shared_mutex> lock(derived_mu_);
  size_t removed = 0;
  for (const auto& [handle, batch] : derived_) removed += batch->remaining();
  derived_.clear();
  derived_by_serial_.clear();
  taken_serials_.clear();
  Unreserve(removed);
  return removed;
}

size_t VerificationStore::SweepDerived(int64_t now_ms, int64_t retention_ms, uint64_t* examined) {
  constexpr uint64_t kSlice = 65536;
  size_t removed = 0;
  for (const std::shared_ptr<const DerivedBatch>& read : DerivedBatches()) {
    auto* batch = const_cast<DerivedBatch*>(read.get());
    const uint32_t handle = batch->rule().handle;
    auto still_live = [&] {
      const auto it = derived_.find(handle);
      return it != derived_.end() && it->second.get() == batch;
    };
    // Every record has settled by the batch's expiry: past it and the retention, the whole
    // batch goes at once, without reading its words.
    if (now_ms > batch->expires_ms() + retention_ms) {
      std::unique_lock<std::shared_mutex> lock(derived_mu_);
      if (!still_live()) continue;
      const uint64_t left = batch->remaining();
      removed += left;
      Unreserve(left);
      derived_by_serial_.erase(batch->rule().serial);
      derived_.erase(handle);
      continue;
    }
    const int64_t earliest = batch->earliest_consumed_ms();
    if (earliest == INT64_MAX || now_ms <= earliest + retention_ms) continue;
    // Rebuilt by this pass, plus whatever verifies note meanwhile (as for a shard).
    batch->ResetEarliestConsumed();
    int64_t pass_earliest = INT64_MAX;
    const uint64_t count = batch->rule().count;
    for (uint64_t n = 1; n <= count;) {
      std::shared_lock<std::shared_mutex> lock(derived_mu_);  // Clear must not count it twice
      if (!still_live()) break;
      const uint64_t end = std::min(count + 1, n + kSlice);
      for (; n < end; ++n) {
        std::atomic_ref<uint32_t> word = batch->word(n);
        uint32_t w = word.load(std::memory_order_relaxed);
        if (!DerivedState::Consumed(w) || DerivedState::Gone(w)) continue;
        ++*examined;
        if (now_ms > batch->SettledMs(w) + retention_ms) {
          if (word.compare_exchange_strong(w, w | DerivedState::kGone)) {
            batch->NoteGone();
            Unreserve(1);
            ++removed;
          }
        } else {
          pass_earliest = std::min(pass_earliest, batch->ConsumedMs(w));
        }
      }
    }
    if (pass_earliest != INT64_MAX) batch->NoteConsumed(pass_earliest);
  }
  return removed;
}

bool VerificationStore::NextDerivedChunk(ScanCursor& cursor, uint32_t batch_filter, size_t max_rows,
                                         DerivedChunk* chunk) const {
  constexpr uint64_t kMaxWordsRead = 65536;  // bounds the time one call holds the lock
  chunk->size = 0;
  if (cursor.done) return false;
  std::shared_lock<std::shared_mutex> lock(derived_mu_);
  auto it = derived_.lower_bound(cursor.derived_handle);
  if (batch_filter != 0)
    it = batch_filter >= cursor.derived_handle ? derived_.find(batch_filter) : derived_.end();
  if (it == derived_.end()) {
    cursor.done = true;
    return false;
  }
  if (it->first != cursor.derived_handle) {
    cursor.derived_handle = it->first;
    cursor.derived_n = 1;
  }
  const DerivedBatch& batch = *it->second;
  const DerivedRule& rule = batch.rule();
  const size_t limit = std::min(max_rows, kDerivedChunkRows);
  Uint128 plains[kDerivedChunkRows];
  uint64_t seqs[kDerivedChunkRows];
  const uint64_t last = std::min<uint64_t>(rule.count, cursor.derived_n + kMaxWordsRead - 1);
  uint64_t n = cursor.derived_n;
  for (; n <= last && chunk->size < limit; ++n) {
    if (DerivedState::Gone(batch.word(n).load(std::memory_order_relaxed))) continue;
    seqs[chunk->size] = n;
    plains[chunk->size++] = DerivedPlain(rule.serial, n);
  }
  cursor.derived_n = n;
  if (n > rule.count) {  // the next call starts at the next batch
    cursor.derived_handle = it->first + 1;
    cursor.derived_n = 1;
  }
  chunk->type = rule.type;
  chunk->fixed_code = rule.fixed_code;
  if (rule.fixed_code.empty()) cipher_.CodeMany(plains, chunk->codes, chunk->size);
  cipher_.EncryptMany(plains, plains, chunk->size);
  chunk->identifiers.clear();
  for (size_t i = 0; i < chunk->size; ++i) {
    EncodeId21(plains[i], chunk->ids + 21 * i);
    ExpandIdentifierPattern(rule.pattern, static_cast<uint32_t>(seqs[i]), &chunk->identifiers);
    chunk->identifier_end[i] = chunk->identifiers.size();
  }
  return true;
}

}  // namespace mfa
