// SPDX-License-Identifier: Apache-2.0
// Micro-benchmark of the verification store: is the sharding worth it?
//
// Three maps, same Record value, same work per operation:
//   Sharded64    mfa::VerificationStore, 64 shards (the server's default)
//   Sharded1     mfa::VerificationStore, 1 shard (same table, one mutex: isolates the lock)
//   MutexMap     std::unordered_map<std::string, mfa::Record> behind one std::mutex (baseline)
// Operations, each with 1 and 2 threads (each thread works on its own disjoint slice of ids):
//   Verify       find the id, check type/identified/expiry/attempts, compare the code, mark
//                consumed: Logto's success path as MfaService::Verify runs it under the lock.
//                The walk never revisits an id within a run, so every verify is a success.
//                Ids are looked up in a random order (not insertion order) over 2M records.
//   Insert       insert a fresh record with a precomputed 21-char id.
// Plus BM_ServiceVerify (the real MfaService::Verify, config and clock included, sharded store)
// and BM_Generate (VerificationStore::Generate of 1M random records: the stored generate path),
// and for derived batches (issue 17) BM_ServiceVerifyDerived (the same verify on records of a
// derived batch: id decoding, AES code, compare-and-swap) and BM_GenerateDerived (1M and 100M).
//
// Items/s is per benchmark (all threads together); with 2 threads on 2 cores that is the number
// to compare with 1 thread.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/inbox.h"
#include "core/mfa_service.h"
#include "core/record.h"
#include "core/secure_random.h"
#include "core/send_rate_limiter.h"
#include "core/verification_store.h"

namespace {

using mfa::IdentifierRef;
using mfa::IdentifierType;
using mfa::Record;

// Operations per thread in one run. Fixed so a run never walks past its slice: the store is
// seeded with kOpsPerThread * kMaxThreads records, and every verify hits an unconsumed one.
constexpr int64_t kOpsPerThread = 1'000'000;
constexpr int kMaxThreads = 2;
constexpr size_t kSeeded = static_cast<size_t>(kOpsPerThread) * kMaxThreads;
constexpr std::string_view kCode = "123456";
constexpr int64_t kCreatedMs = 1'700'000'000'000;
constexpr uint32_t kTtlSeconds = 600;
constexpr uint32_t kMaxAttempts = 10;

const std::vector<std::string>& Ids() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> v(kSeeded);
    for (auto& id : v) {
      id.resize(mfa::kGeneratedIdLength);
      mfa::SecureRandom::FillId(id.data());
    }
    return v;
  }();
  return ids;
}

// The same ids in a random order: verifies look them up in this order, so neither map gets the
// prefetcher's help from walking records in the order they were inserted (and laid out).
const std::vector<std::string>& ShuffledIds() {
  static const std::vector<std::string> ids = [] {
    std::vector<std::string> v = Ids();
    std::mt19937_64 rng(42);
    std::shuffle(v.begin(), v.end(), rng);
    return v;
  }();
  return ids;
}

// Logto's verify checks on one record, the same for every map. Returns true on success.
inline bool VerifyRecord(Record& r, IdentifierType type, std::string_view code, int64_t now) {
  if (r.type() != type || !r.identified()) return false;
  if (code.empty() || r.consumed()) return false;
  if (now > r.expires_ms()) return false;
  if (r.try_count >= kMaxAttempts) return false;
  if (code != r.code.view()) {
    ++r.try_count;
    return false;
  }
  r.flags |= Record::kConsumed | Record::kVerified;
  r.consumed_after_seconds = static_cast<uint32_t>((now - r.created_ms) / 1000);
  return true;
}

inline void FillRecord(Record& r, std::string_view id, uint32_t seq) {
  r.id.Assign(id);
  r.code.Assign(kCode);
  r.identifier = IdentifierRef::Generated(1, seq);
  r.created_ms = kCreatedMs;
  r.ttl_seconds = kTtlSeconds;
  r.consumed_after_seconds = 0;
  r.try_count = 0;
  r.flags = Record::kLive | Record::kIdentified;
}

// ---- The maps under test -----------------------------------------------------------------

class MutexMap {
 public:
  bool Insert(std::string_view id, uint32_t seq) {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = map_.try_emplace(std::string(id));
    if (inserted) FillRecord(it->second, id, seq);
    return inserted;
  }
  template <typename Fn>
  bool WithRecord(std::string_view id, Fn&& fn) {
    // Heterogeneous lookup needs C++20 transparent hashing; build the key like a typical
    // std::string-keyed handler would.
    std::string key(id);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    fn(it->second);
    return true;
  }
  void Reserve(size_t n) { map_.reserve(n); }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, Record> map_;
};

class ShardedMap {
 public:
  explicit ShardedMap(size_t shards) : store_(mfa::StoreOptions{shards, 0}) {
    batch_ = store_.RegisterBatch(mfa::Batch{"b_bench", IdentifierType::kEmail, "user{n}@example.com"});
  }
  bool Insert(std::string_view id, uint32_t seq, mfa::NewRecord& scratch) {
    scratch.id.assign(id);  // reuses the scratch string's buffer: no allocation
    scratch.code.assign(kCode);
    scratch.identifier = IdentifierRef::Generated(batch_, seq);
    return store_.Insert(scratch) == mfa::InsertStatus::kInserted;
  }
  bool Insert(std::string_view id, uint32_t seq) {
    mfa::NewRecord r;
    r.created_ms = kCreatedMs;
    r.ttl_seconds = kTtlSeconds;
    return Insert(id, seq, r);
  }
  template <typename Fn>
  bool WithRecord(std::string_view id, Fn&& fn) {
    return store_.WithRecord(id, std::forward<Fn>(fn));
  }
  void Reserve(size_t) {}
  mfa::VerificationStore& store() { return store_; }

 private:
  mfa::VerificationStore store_;
  uint32_t batch_ = 0;
};

struct Sharded64 : ShardedMap {
  Sharded64() : ShardedMap(64) {}
};
struct Sharded1 : ShardedMap {
  Sharded1() : ShardedMap(1) {}
};

template <typename Map>
void Seed(Map& map, size_t n) {
  map.Reserve(n);
  const auto& ids = Ids();
  for (size_t i = 0; i < n; ++i) map.Insert(ids[i], static_cast<uint32_t>(i + 1));
}

// One map per type, rebuilt before every run (Setup runs once per run, before the threads).
template <typename Map>
std::unique_ptr<Map>& Instance() {
  static std::unique_ptr<Map> map;
  return map;
}

template <typename Map>
void SetupSeeded(const benchmark::State&) {
  Instance<Map>() = std::make_unique<Map>();
  Seed(*Instance<Map>(), kSeeded);
}
template <typename Map>
void SetupEmpty(const benchmark::State&) {
  Instance<Map>() = std::make_unique<Map>();
  Instance<Map>()->Reserve(kSeeded);
}
template <typename Map>
void TeardownMap(const benchmark::State&) {
  Instance<Map>().reset();
}

// ---- Benchmarks --------------------------------------------------------------------------

template <typename Map>
void BM_Verify(benchmark::State& state) {
  Map& map = *Instance<Map>();
  const auto& ids = ShuffledIds();
  size_t i = static_cast<size_t>(state.thread_index()) * kOpsPerThread;
  int64_t ok = 0;
  for (auto _ : state) {
    map.WithRecord(ids[i++], [&](Record& r) {
      ok += VerifyRecord(r, IdentifierType::kEmail, kCode, kCreatedMs + 1000);
    });
  }
  if (ok != state.iterations()) state.SkipWithError("a verify did not succeed");
  state.SetItemsProcessed(state.iterations());
}

template <typename Map>
void BM_Insert(benchmark::State& state) {
  Map& map = *Instance<Map>();
  const auto& ids = Ids();
  size_t i = static_cast<size_t>(state.thread_index()) * kOpsPerThread;
  int64_t ok = 0;
  for (auto _ : state) {
    ok += map.Insert(ids[i], static_cast<uint32_t>(i + 1));
    ++i;
  }
  if (ok != state.iterations()) state.SkipWithError("an insert failed");
  state.SetItemsProcessed(state.iterations());
}

#define STORE_BENCH(op, map, setup)                                                    \
  BENCHMARK_TEMPLATE(BM_##op, map)                                                     \
      ->Setup(setup<map>)                                                              \
      ->Teardown(TeardownMap<map>)                                                     \
      ->Iterations(kOpsPerThread)                                                      \
      ->Threads(1)                                                                     \
      ->Threads(2)                                                                     \
      ->UseRealTime()                                                                  \
      ->Unit(benchmark::kNanosecond)

STORE_BENCH(Verify, Sharded64, SetupSeeded);
STORE_BENCH(Verify, Sharded1, SetupSeeded);
STORE_BENCH(Verify, MutexMap, SetupSeeded);
STORE_BENCH(Insert, Sharded64, SetupEmpty);
STORE_BENCH(Insert, Sharded1, SetupEmpty);
STORE_BENCH(Insert, MutexMap, SetupEmpty);

// The real service path on the sharded store: config snapshot, clock, all of Logto's checks.
struct ServiceFixture {
  mfa::ConfigStore config{mfa::Config{}};
  Sharded64 map;
  mfa::Inbox inbox{16};
  mfa::SendRateLimiter limiter;
  mfa::SystemClock clock;
  mfa::MfaService service{config, map.store(), inbox, limiter, clock};
  ServiceFixture() {
    const auto& ids = Ids();
    mfa::NewRecord scratch;
    scratch.created_ms = clock.NowMs();
    scratch.ttl_seconds = kTtlSeconds;
    for (size_t i = 0; i < kSeeded; ++i) map.Insert(ids[i], static_cast<uint32_t>(i + 1), scratch);
  }
};
std::unique_ptr<ServiceFixture> service_fixture;

void BM_ServiceVerify(benchmark::State& state) {
  mfa::MfaService& service = service_fixture->service;
  const auto& ids = ShuffledIds();
  size_t i = static_cast<size_t>(state.thread_index()) * kOpsPerThread;
  int64_t ok = 0;
  for (auto _ : state) {
    ok += service.Verify(IdentifierType::kEmail, ids[i++], kCode) == mfa::Outcome::kOk;
  }
  if (ok != state.iterations()) state.SkipWithError("a verify did not succeed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServiceVerify)
    ->Setup([](const benchmark::State&) { service_fixture = std::make_unique<ServiceFixture>(); })
    ->Teardown([](const benchmark::State&) { service_fixture.reset(); })
    ->Iterations(kOpsPerThread)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kNanosecond);

// The same verify over a derived batch of kSeeded records, ids and codes read by a scan.
struct DerivedFixture {
  mfa::ConfigStore config{mfa::Config{}};
  mfa::VerificationStore store{mfa::StoreOptions{64, 0}};
  mfa::Inbox inbox{16};
  mfa::SendRateLimiter limiter;
  mfa::SystemClock clock;
  mfa::MfaService service{config, store, inbox, limiter, clock};
  std::vector<std::pair<std::string, std::string>> rows;  // id, code; shuffled
  DerivedFixture() {
    mfa::DerivedSpec spec;
    spec.id = "b_bench";
    spec.pattern = "user{n}@example.com";
    spec.count = static_cast<uint32_t>(kSeeded);
    spec.created_ms = clock.NowMs();
    spec.ttl_seconds = kTtlSeconds;
    const uint32_t handle = store.GenerateDerived(spec);
    rows.reserve(kSeeded);
    mfa::ScanCursor cursor;
    while (!cursor.done) {
      store.Scan(cursor, handle, 4096, [&](const mfa::RecordView& v) {
        rows.emplace_back(std::string(v.verification_id), std::string(v.code));
      });
    }
    std::shuffle(rows.begin(), rows.end(), std::mt19937_64(42));
  }
};
std::unique_ptr<DerivedFixture> derived_fixture;

void BM_ServiceVerifyDerived(benchmark::State& state) {
  mfa::MfaService& service = derived_fixture->service;
  const auto& rows = derived_fixture->rows;
  size_t i = static_cast<size_t>(state.thread_index()) * kOpsPerThread;
  int64_t ok = 0;
  for (auto _ : state) {
    const auto& [id, code] = rows[i++];
    ok += service.Verify(IdentifierType::kEmail, id, code) == mfa::Outcome::kOk;
  }
  if (ok != state.iterations()) state.SkipWithError("a verify did not succeed");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ServiceVerifyDerived)
    ->Setup([](const benchmark::State&) { derived_fixture = std::make_unique<DerivedFixture>(); })
    ->Teardown([](const benchmark::State&) { derived_fixture.reset(); })
    ->Iterations(kOpsPerThread)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime()
    ->Unit(benchmark::kNanosecond);

// A derived batch: its rule and untouched state pages, whatever the count.
void BM_GenerateDerived(benchmark::State& state) {
  const auto count = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto store = std::make_unique<mfa::VerificationStore>(mfa::StoreOptions{64, 0});
    mfa::DerivedSpec spec;
    spec.id = "b_gen";
    spec.pattern = "user{n}@example.com";
    spec.count = count;
    spec.created_ms = kCreatedMs;
    spec.ttl_seconds = kTtlSeconds;
    state.ResumeTiming();
    if (store->GenerateDerived(spec) == 0) state.SkipWithError("generate failed");
    benchmark::DoNotOptimize(store->size());
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_GenerateDerived)
    ->Arg(1'000'000)
    ->Arg(100'000'000)
    ->Iterations(3)
    ->Unit(benchmark::kMicrosecond);

// The admin generate path: 1M random ids and codes into a fresh 64-shard store.
void BM_Generate(benchmark::State& state) {
  const auto count = static_cast<uint32_t>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    auto store = std::make_unique<mfa::VerificationStore>(mfa::StoreOptions{64, 0});
    const uint32_t batch =
        store->RegisterBatch(mfa::Batch{"b_gen", IdentifierType::kEmail, "user{n}@example.com"});
    state.ResumeTiming();
    if (!store->Generate(batch, count, "", kCreatedMs, kTtlSeconds, true)) {
      state.SkipWithError("generate failed");
    }
    benchmark::DoNotOptimize(store->size());
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_Generate)->Arg(1'000'000)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
