// SPDX-License-Identifier: Apache-2.0
#include "redis/derived_store.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <future>
#include <mutex>

#include "core/secure_random.h"
#include "redis/scripts.h"
#include "redis/store_support.h"

namespace mfa::redis {
namespace {

// The header word of a chunk whose batch was deleted (big-endian u32 1, as BITFIELD reads it).
const std::string kDeletedHeader("\0\0\0\1", 4);
// Chunk writes in flight at once while a delete-all marks chunks deleted.
constexpr size_t kClearWindow = 512;
// Chunks read ahead by an export.
constexpr size_t kExportReadAhead = 8;
// How often a node busy with derived ids reads the key and generation again.
constexpr int64_t kKeyRefreshMs = 1000;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Hex(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

bool FromHex(std::string_view hex, uint8_t* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < n; ++i) {
    const int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return true;
}

// A rule from HGETALL's field/value pairs; null when absent or malformed.
std::shared_ptr<SharedRule> ParseRule(const Value& reply) {
  if (reply.type != Value::Type::kArray || reply.elements.empty()) return nullptr;
  auto shared = std::make_shared<SharedRule>();
  DerivedRule& r = shared->rule;
  bool typed = false;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    const std::string& field = reply.elements[i].str;
    const std::string& value = reply.elements[i + 1].str;
    if (field == "id") {
      r.id = value;
    } else if (field == "s") {
      r.serial = static_cast<uint64_t>(ParseInt(value));
    } else if (field == "t") {
      const std::optional<IdentifierType> type = ParseIdentifierType(value);
      typed = type.has_value();
      if (type) r.type = *type;
    } else if (field == "p") {
      r.pattern = value;
    } else if (field == "n") {
      r.count = static_cast<uint32_t>(ParseInt(value));
    } else if (field == "cr") {
      r.created_ms = ParseInt(value);
    } else if (field == "ttl") {
      r.ttl_seconds = static_cast<uint32_t>(ParseInt(value));
    } else if (field == "fc") {
      r.fixed_code = value;
    } else if (field == "g") {
      shared->gone = static_cast<uint64_t>(ParseInt(value));
    }
  }
  if (!typed || r.serial == 0 || r.count == 0) return nullptr;
  return shared;
}

DerivedTarget Failed(Outcome failure) {
  DerivedTarget target;
  target.failure = failure;
  return target;
}

// Reads word `index` of a chunk's bytes (absent bytes are zeros, as BITFIELD reads them).
uint32_t WordAt(const std::string& chunk, uint64_t index) {
  const uint64_t at = index * 4;
  uint32_t w = 0;
  for (uint64_t i = 0; i < 4; ++i) {
    const uint8_t byte = at + i < chunk.size() ? static_cast<uint8_t>(chunk[at + i]) : 0;
    w = (w << 8) | byte;
  }
  return w;
}

// When a record of `rule` with state `w` stopped answering normally (DerivedBatch::SettledMs).
int64_t SettledMs(const SharedRule& rule, uint32_t w) {
  const int64_t expires = rule.expires_ms();
  if (!DerivedState::Consumed(w)) return expires;
  const int64_t consumed = rule.rule.created_ms + int64_t{DerivedState::After(w)} * rule.unit_ms();
  return std::min(consumed, expires);
}

}  // namespace

struct RedisDerivedStore::Scripts {
  Script key{EmbeddedScript(kDerivedKeyLua, kDerivedKeyLua_size)};
  Script add{EmbeddedScript(kDerivedAddLua, kDerivedAddLua_size)};
  Script verify{EmbeddedScript(kVerifyDerivedLua, kVerifyDerivedLua_size)};
  Script erase{EmbeddedScript(kDerivedEraseLua, kDerivedEraseLua_size)};
  Script drop{EmbeddedScript(kDerivedDropLua, kDerivedDropLua_size)};
};

RedisDerivedStore::RedisDerivedStore(const Clock& clock, Router& client,
                                     DerivedStoreOptions options)
    : clock_(clock),
      client_(client),
      options_(std::move(options)),
      scripts_(std::make_unique<Scripts>()) {}

RedisDerivedStore::~RedisDerivedStore() = default;

std::string RedisDerivedStore::ChunkKey(uint64_t serial, uint64_t chunk) const {
  return options_.prefix + ":dc:{" + std::to_string(serial) + ":" + std::to_string(chunk) + "}";
}
std::string RedisDerivedStore::RuleKey(uint64_t serial) const {
  return RegistryKey() + ":r:" + std::to_string(serial);
}
std::string RedisDerivedStore::LiveKey() const { return RegistryKey() + ":derived"; }
std::string RedisDerivedStore::RegistryKey() const { return options_.prefix + ":{batches}"; }

// Redis drops a batch's keys after the mock would have: its TTL plus the retention, plus slack.
// Relative to the write, so a chunk first written late lives longer, never shorter.
int64_t RedisDerivedStore::GarbageAfterMs(const SharedRule& rule) const {
  return int64_t{rule.rule.ttl_seconds} * 1000 + options_.retention_ms + kExpirySlackMs;
}

void RedisDerivedStore::Generate(DerivedSpec spec, Done<GenerateResult> done) {
  auto rule = std::make_shared<SharedRule>();
  rule->rule.id = std::move(spec.id);
  rule->rule.type = spec.type;
  rule->rule.pattern = std::move(spec.pattern);
  rule->rule.count = spec.count;
  rule->rule.created_ms = spec.created_ms;
  rule->rule.ttl_seconds = spec.ttl_seconds;
  rule->rule.fixed_code = std::move(spec.fixed_code);
  // The deployment's key exists before its first batch does, and the batch's serial comes after
  // the counter's jump if Redis lost its state (read every time: generating is rare).
  RefreshKey([this, rule,
              done = std::move(done)](StoreAnswer<std::shared_ptr<const IdCipher>> cipher) mutable {
    if (cipher.outcome != Outcome::kOk) {
      GenerateResult result;
      result.batch_id = rule->rule.id;
      result.outcome = cipher.outcome;
      return done(std::move(result));
    }
    AddBatch(std::move(rule), std::move(done));
  });
}

void RedisDerivedStore::AddBatch(std::shared_ptr<SharedRule> rule, Done<GenerateResult> done) {
  client_.Call({"HINCRBY", RegistryKey(), "next", "1"}, "generate",
               [this, rule, done = std::move(done)](CallResult&& r) mutable {
                 GenerateResult result;
                 result.batch_id = rule->rule.id;
                 result.outcome = Failure(r);
                 if (result.outcome != Outcome::kOk) return done(std::move(result));
                 rule->rule.serial = static_cast<uint64_t>(r.value.integer);
                 const DerivedRule& d = rule->rule;
                 client_.CallScript(
                     scripts_->add, {RegistryKey(), RuleKey(d.serial), LiveKey()},
                     {Decimal(static_cast<int64_t>(d.serial)), d.id, std::string(ToString(d.type)),
                      d.pattern, Decimal(d.count), Decimal(d.created_ms), Decimal(d.ttl_seconds),
                      d.fixed_code, Decimal(GarbageAfterMs(*rule))},
                     "generate",
                     [this, rule, result, done = std::move(done)](CallResult&& added) mutable {
                       result.outcome = Failure(added);
                       if (result.outcome == Outcome::kOk) {
                         result.created = rule->rule.count;
                         Cache(rule);
                       }
                       done(std::move(result));
                     });
               });
}

void RedisDerivedStore::WithCipher(Done<StoreAnswer<std::shared_ptr<const IdCipher>>> done) {
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (cipher_) return done({Outcome::kOk, cipher_});
  }
  RefreshKey(std::move(done));
}

void RedisDerivedStore::RefreshKey(Done<StoreAnswer<std::shared_ptr<const IdCipher>>> done) {
  last_refresh_ms_.store(SteadyMs(), std::memory_order_relaxed);
  // Any node may be first: HSETNX keeps one key. This node offers the key it already uses, so
  // that after Redis lost its state the nodes still derive the same ids.
  std::array<uint8_t, kDerivedKeyBytes> offer{};
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (cipher_) offer = cipher_->key();
  }
  if (offer == std::array<uint8_t, kDerivedKeyBytes>{})
    SecureRandom::Fill(offer.data(), offer.size());
  uint8_t generation[8];
  SecureRandom::Fill(generation, sizeof(generation));
  uint64_t jump = 0;
  SecureRandom::Fill(&jump, sizeof(jump));
  jump = 1 + jump % (uint64_t{1} << 40);
  client_.CallScript(scripts_->key, {RegistryKey()},
                     {Hex(offer.data(), offer.size()), Hex(generation, sizeof(generation)),
                      Decimal(static_cast<int64_t>(jump))},
                     "derived_key", [this, done = std::move(done)](CallResult&& r) {
                       const Outcome failure = Failure(r);
                       if (failure != Outcome::kOk) return done({failure, nullptr});
                       std::array<uint8_t, kDerivedKeyBytes> key{};
                       if (r.value.type != Value::Type::kArray || r.value.elements.size() != 2 ||
                           !FromHex(r.value.elements[0].str, key.data(), key.size())) {
                         return done({Outcome::kInternal, nullptr});
                       }
                       const std::string& generation = r.value.elements[1].str;
                       std::shared_ptr<const IdCipher> cipher;
                       {
                         std::unique_lock<std::shared_mutex> lock(mu_);
                         // Another generation: Redis's state is not the one this node's rules came
                         // from.
                         if (generation != generation_) {
                           rules_.clear();
                           generation_ = generation;
                         }
                         if (!cipher_ || cipher_->key() != key)
                           cipher_ = std::make_shared<const IdCipher>(key);
                         cipher = cipher_;
                       }
                       done({Outcome::kOk, std::move(cipher)});
                     });
}

std::shared_ptr<const SharedRule> RedisDerivedStore::Cache(std::shared_ptr<const SharedRule> rule) {
  const int64_t now = clock_.NowMs();
  std::unique_lock<std::shared_mutex> lock(mu_);
  // Bounded by the live batches: those past their retention answer nothing any more.
  for (auto it = rules_.begin(); it != rules_.end();) {
    if (now > it->second->expires_ms() + options_.retention_ms) {
      it = rules_.erase(it);
    } else {
      ++it;
    }
  }
  return rules_.try_emplace(rule->rule.serial, std::move(rule)).first->second;
}

void RedisDerivedStore::RuleOf(uint64_t serial,
                               Done<StoreAnswer<std::shared_ptr<const SharedRule>>> done) {
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    const auto it = rules_.find(serial);
    if (it != rules_.end()) return done({Outcome::kOk, it->second});
  }
  // Not known here: one read of its rule (an unknown serial is not cached: it may be generated
  // later).
  client_.Call({"HGETALL", RuleKey(serial)}, "derived_rule",
               [this, done = std::move(done)](CallResult&& r) {
                 const Outcome failure = Failure(r);
                 if (failure != Outcome::kOk) return done({failure, nullptr});
                 std::shared_ptr<SharedRule> rule = ParseRule(r.value);
                 if (!rule) return done({Outcome::kOk, nullptr});
                 done({Outcome::kOk, Cache(std::move(rule))});
               });
}

void RedisDerivedStore::Resolve(std::string_view id, Done<DerivedTarget> done) {
  // Ids of individually created records never decode (NewIndividualId): no key needed for them.
  const std::optional<Uint128> value = DecodeDerivedId(id);
  if (!value) return done({});
  // At most once a second, the key and its generation are read again before the id is decoded:
  // a node notices within a second that Redis lost its state (restarted without persistence)
  // and drops the rules it cached from it.
  const int64_t now = SteadyMs();
  int64_t last = last_refresh_ms_.load(std::memory_order_relaxed);
  const bool refresh = now - last >= kKeyRefreshMs && last_refresh_ms_.compare_exchange_strong(
                                                          last, now, std::memory_order_relaxed);
  auto cipher_then = [this, refresh](Done<StoreAnswer<std::shared_ptr<const IdCipher>>> next) {
    if (refresh) return RefreshKey(std::move(next));
    WithCipher(std::move(next));
  };
  cipher_then([this, encoded = *value, done = std::move(done)](
                  StoreAnswer<std::shared_ptr<const IdCipher>> cipher) mutable {
    if (cipher.outcome != Outcome::kOk) return done(Failed(cipher.outcome));
    const Uint128 plain = cipher.value->Decrypt(encoded);
    if (!IsDerivedPlain(plain)) return done({});
    const uint64_t n = SeqOf(plain);
    RuleOf(SerialOf(plain), [n, plain, cipher = std::move(cipher.value), done = std::move(done)](
                                StoreAnswer<std::shared_ptr<const SharedRule>> rule) mutable {
      if (rule.outcome != Outcome::kOk) return done(Failed(rule.outcome));
      if (!rule.value || n < 1 || n > rule.value->rule.count) return done({});
      done({Outcome::kOk, std::move(rule.value), n, plain, std::move(cipher)});
    });
  });
}

void RedisDerivedStore::Verify(const DerivedTarget& target, IdentifierType type,
                               std::string_view code, bool session_bound, uint32_t max_attempts,
                               Done<Outcome> done) {
  const SharedRule& rule = *target.rule;
  // Another type's record, or a verify inside a session (a derived record never belongs to one):
  // not found, as in MfaService::Verify.
  if (rule.rule.type != type || session_bound) return done(Outcome::kVerificationNotFound);
  std::string expected = rule.rule.fixed_code;
  if (expected.empty()) {
    expected.resize(kDerivedCodeLength);
    target.cipher->Code(target.plain, expected.data());
  }
  const uint64_t index = target.n - 1;
  client_.CallScript(
      scripts_->verify, {ChunkKey(rule.rule.serial, index / kDerivedChunkRecords)},
      {Decimal(static_cast<int64_t>(index % kDerivedChunkRecords + 1)), std::string(code),
       std::move(expected), Decimal(clock_.NowMs()), Decimal(rule.rule.created_ms),
       Decimal(rule.expires_ms()), Decimal(options_.retention_ms), Decimal(max_attempts),
       Decimal(rule.unit_ms()), Decimal(GarbageAfterMs(rule))},
      "verify", [done = std::move(done)](CallResult&& r) {
        const Outcome failure = Failure(r);
        done(failure != Outcome::kOk ? failure : VerifyOutcome(r.value.str));
      });
}

void RedisDerivedStore::Get(const DerivedTarget& target, std::string id,
                            Done<StoreAnswer<std::optional<RecordSnapshot>>> done) {
  const uint64_t index = target.n - 1;
  client_.Call(
      {"BITFIELD", ChunkKey(target.rule->rule.serial, index / kDerivedChunkRecords), "GET", "u32",
       "0", "GET", "u32", Decimal(static_cast<int64_t>((index % kDerivedChunkRecords + 1) * 32))},
      "get",
      [this, target, id = std::move(id), done = std::move(done),
       now = clock_.NowMs()](CallResult&& r) mutable {
        StoreAnswer<std::optional<RecordSnapshot>> answer;
        answer.outcome = Failure(r);
        if (answer.outcome != Outcome::kOk) return done(std::move(answer));
        if (r.value.type != Value::Type::kArray || r.value.elements.size() != 2) {
          return done({Outcome::kInternal, std::nullopt});
        }
        const SharedRule& rule = *target.rule;
        const auto w = static_cast<uint32_t>(r.value.elements[1].integer);
        if (r.value.elements[0].integer != 0 || DerivedState::Gone(w) ||
            now > SettledMs(rule, w) + options_.retention_ms) {
          return done(std::move(answer));
        }
        RecordSnapshot s;
        s.verification_id = std::move(id);
        s.identifier_type = rule.rule.type;
        ExpandIdentifierPattern(rule.rule.pattern, static_cast<uint32_t>(target.n), &s.identifier);
        if (rule.rule.fixed_code.empty()) {
          s.code.resize(kDerivedCodeLength);
          target.cipher->Code(target.plain, s.code.data());
        } else {
          s.code = rule.rule.fixed_code;
        }
        s.created_ms = rule.rule.created_ms;
        s.expires_ms = rule.expires_ms();
        s.try_count = DerivedState::Tries(w);
        s.consumed = s.verified = DerivedState::Consumed(w);
        s.identified = true;
        s.batch_id = rule.rule.id;
        answer.value = std::move(s);
        done(std::move(answer));
      });
}

void RedisDerivedStore::Erase(const DerivedTarget& target, Done<StoreAnswer<bool>> done) {
  const SharedRule& rule = *target.rule;
  const uint64_t index = target.n - 1;
  client_.CallScript(
      scripts_->erase, {ChunkKey(rule.rule.serial, index / kDerivedChunkRecords)},
      {Decimal(static_cast<int64_t>(index % kDerivedChunkRecords + 1)), Decimal(clock_.NowMs()),
       Decimal(rule.rule.created_ms), Decimal(rule.expires_ms()), Decimal(options_.retention_ms),
       Decimal(rule.unit_ms()), Decimal(GarbageAfterMs(rule))},
      "delete", [this, serial = rule.rule.serial, done = std::move(done)](CallResult&& r) {
        StoreAnswer<bool> answer;
        answer.outcome = Failure(r);
        answer.value = answer.outcome == Outcome::kOk && r.value.integer == 1;
        if (!answer.value) return done(answer);
        // Counted for a later delete-all's answer (a failure here only makes that count high).
        client_.Call({"HINCRBY", RuleKey(serial), "g", "1"}, "delete",
                     [done, answer](CallResult&&) { done(answer); });
      });
}

void RedisDerivedStore::LiveRules(
    Done<StoreAnswer<std::vector<std::shared_ptr<const SharedRule>>>> done) {
  using Answer = StoreAnswer<std::vector<std::shared_ptr<const SharedRule>>>;
  client_.Call(
      {"SMEMBERS", LiveKey()}, "derived_rules",
      [this, done = std::move(done)](CallResult&& r) mutable {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return done({failure, {}});
        struct Gather {
          std::mutex mu;
          std::vector<uint64_t> serials;
          Answer answer;  // GUARDED_BY(mu)
          Done<Answer> done;
        };
        auto gather = std::make_shared<Gather>();
        for (const Value& member : r.value.elements) {
          gather->serials.push_back(static_cast<uint64_t>(ParseInt(member.str)));
        }
        gather->done = std::move(done);
        const int64_t now = clock_.NowMs();
        std::make_shared<Windowed>(
            gather->serials.size(), kClearWindow,
            [this, gather, now](size_t i, std::function<void()> complete) {
              const uint64_t serial = gather->serials[i];
              client_.Call(
                  {"HGETALL", RuleKey(serial)}, "derived_rules",
                  [this, gather, now, serial, complete](CallResult&& read) {
                    {
                      std::lock_guard<std::mutex> lock(gather->mu);
                      const Outcome failed = Failure(read);
                      if (failed != Outcome::kOk) {
                        gather->answer.outcome = failed;
                      } else if (std::shared_ptr<SharedRule> rule = ParseRule(read.value)) {
                        if (now <= rule->expires_ms() + options_.retention_ms) {
                          gather->answer.value.push_back(std::move(rule));
                        }
                      } else {  // Redis dropped it (garbage): forget the serial
                        client_.Call({"SREM", LiveKey(), std::to_string(serial)}, "derived_rules",
                                     [](CallResult&&) {});
                      }
                    }
                    complete();
                  });
              return true;
            },
            [gather] {
              Answer answer;
              {
                std::lock_guard<std::mutex> lock(gather->mu);
                answer = std::move(gather->answer);
              }
              if (answer.outcome != Outcome::kOk) answer.value.clear();
              std::sort(answer.value.begin(), answer.value.end(), [](const auto& a, const auto& b) {
                return a->rule.serial < b->rule.serial;
              });
              gather->done(std::move(answer));
            })
            ->Start();
      });
}

void RedisDerivedStore::Clear(Done<StoreAnswer<size_t>> done) {
  // Every rule in the set, also those past their retention (their chunks may still exist).
  client_.Call(
      {"SMEMBERS", LiveKey()}, "clear", [this, done = std::move(done)](CallResult&& r) mutable {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return done({failure, 0});
        struct Flow {
          std::mutex mu;
          std::vector<uint64_t> serials;
          std::vector<std::shared_ptr<SharedRule>> rules;  // GUARDED_BY(mu) while reading
          // (rule, chunk) pairs to mark, as a running position over `rules`.
          size_t chunks = 0;
          std::vector<size_t> chunk_start;  // first chunk number of each rule in the sequence
          Outcome failure = Outcome::kOk;   // GUARDED_BY(mu)
          Done<StoreAnswer<size_t>> done;
        };
        auto flow = std::make_shared<Flow>();
        for (const Value& member : r.value.elements) {
          flow->serials.push_back(static_cast<uint64_t>(ParseInt(member.str)));
        }
        flow->done = std::move(done);
        if (flow->serials.empty()) return flow->done({Outcome::kOk, 0});
        auto finish = [this, flow] {
          // Chunks marked: drop the rules, then answer what a delete-all of memory would count.
          {
            std::lock_guard<std::mutex> lock(flow->mu);
            if (flow->failure != Outcome::kOk) return flow->done({flow->failure, 0});
          }
          std::vector<std::string> keys{RegistryKey(), LiveKey()};
          std::vector<std::string> args;
          size_t deleted = 0;
          const int64_t now = clock_.NowMs();
          for (const auto& rule : flow->rules) {
            keys.push_back(RuleKey(rule->rule.serial));
            args.push_back(std::to_string(rule->rule.serial));
            args.push_back(rule->rule.id);
            if (now <= rule->expires_ms() + options_.retention_ms) {
              deleted += rule->rule.count - std::min<uint64_t>(rule->gone, rule->rule.count);
            }
          }
          // Serials whose rule Redis already dropped go too.
          for (uint64_t serial : flow->serials) {
            const bool listed =
                std::any_of(flow->rules.begin(), flow->rules.end(),
                            [&](const auto& r) { return r->rule.serial == serial; });
            if (!listed)
              client_.Call({"SREM", LiveKey(), std::to_string(serial)}, "clear",
                           [](CallResult&&) {});
          }
          client_.CallScript(scripts_->drop, keys, args, "clear",
                             [this, flow, deleted](CallResult&& dropped) {
                               const Outcome failed = Failure(dropped);
                               if (failed == Outcome::kOk) {
                                 std::unique_lock<std::shared_mutex> lock(mu_);
                                 for (const auto& rule : flow->rules)
                                   rules_.erase(rule->rule.serial);
                               }
                               flow->done({failed, failed == Outcome::kOk ? deleted : 0});
                             });
        };
        auto mark = [this, flow, finish] {
          {
            std::lock_guard<std::mutex> lock(flow->mu);
            if (flow->failure != Outcome::kOk) return flow->done({flow->failure, 0});
            for (const auto& rule : flow->rules) {
              flow->chunk_start.push_back(flow->chunks);
              flow->chunks +=
                  (uint64_t{rule->rule.count} + kDerivedChunkRecords - 1) / kDerivedChunkRecords;
            }
          }
          // Every chunk gets the deleted header (an absent chunk would read as all pending): a
          // node that still caches the rule then finds nothing.
          std::make_shared<Windowed>(
              flow->chunks, kClearWindow,
              [this, flow](size_t i, std::function<void()> complete) {
                const size_t r =
                    std::upper_bound(flow->chunk_start.begin(), flow->chunk_start.end(), i) -
                    flow->chunk_start.begin() - 1;
                const SharedRule& rule = *flow->rules[r];
                client_.Call({"SET", ChunkKey(rule.rule.serial, i - flow->chunk_start[r]),
                              kDeletedHeader, "PX", Decimal(GarbageAfterMs(rule))},
                             "clear", [flow, complete](CallResult&& set) {
                               const Outcome failed = Failure(set);
                               if (failed != Outcome::kOk) {
                                 std::lock_guard<std::mutex> lock(flow->mu);
                                 flow->failure = failed;
                               }
                               complete();
                             });
                return true;
              },
              finish)
              ->Start();
        };
        std::make_shared<Windowed>(
            flow->serials.size(), kClearWindow,
            [this, flow](size_t i, std::function<void()> complete) {
              client_.Call(
                  {"HGETALL", RuleKey(flow->serials[i])}, "clear",
                  [flow, complete](CallResult&& read) {
                    {
                      std::lock_guard<std::mutex> lock(flow->mu);
                      const Outcome failed = Failure(read);
                      if (failed != Outcome::kOk) {
                        flow->failure = failed;
                      } else if (std::shared_ptr<SharedRule> rule = ParseRule(read.value)) {
                        flow->rules.push_back(std::move(rule));
                      }
                    }
                    complete();
                  });
              return true;
            },
            mark)
            ->Start();
      });
}

// An export of derived batches: rows computed from each rule (ids with EncryptMany, codes with
// CodeMany), states from one GET of each chunk, read a few chunks ahead. Blocks on the store:
// an export thread only. Not thread-safe.
class RedisDerivedStore::Pager final : public RecordPager {
 public:
  // `rules` null: every live batch, listed on the first Next (so an export's status does not
  // wait on the store, as for stored records).
  Pager(RedisDerivedStore& store,
        std::optional<std::vector<std::shared_ptr<const SharedRule>>> rules)
      : store_(store), listed_(rules.has_value()) {
    if (rules) rules_ = std::move(*rules);
  }

  bool Next(size_t max_rows, std::vector<RecordSnapshot>* rows) override {
    if (failure_ != Outcome::kOk) return false;
    if (!listed_) {
      using Listed = StoreAnswer<std::vector<std::shared_ptr<const SharedRule>>>;
      std::promise<Listed> promise;
      auto answer = promise.get_future();
      store_.LiveRules([&promise](Listed listed) { promise.set_value(std::move(listed)); });
      Listed listed = answer.get();
      if (listed.outcome != Outcome::kOk) {
        failure_ = listed.outcome;
        return false;
      }
      rules_ = std::move(listed.value);
      listed_ = true;
    }
    if (!cipher_ && !rules_.empty()) {
      std::promise<StoreAnswer<std::shared_ptr<const IdCipher>>> promise;
      auto answer = promise.get_future();
      store_.WithCipher([&promise](StoreAnswer<std::shared_ptr<const IdCipher>> a) {
        promise.set_value(std::move(a));
      });
      StoreAnswer<std::shared_ptr<const IdCipher>> cipher = answer.get();
      if (cipher.outcome != Outcome::kOk) {
        failure_ = cipher.outcome;
        return false;
      }
      cipher_ = std::move(cipher.value);
    }
    const int64_t now = store_.clock_.NowMs();
    size_t added = 0;
    while (added < max_rows) {
      if (rule_ >= rules_.size()) return false;
      const SharedRule& rule = *rules_[rule_];
      const uint64_t count = rule.rule.count;
      const uint64_t chunk = (n_ - 1) / kDerivedChunkRecords;
      if (!LoadChunk(rule, chunk)) return false;
      const uint64_t chunk_end = std::min(count, (chunk + 1) * kDerivedChunkRecords);
      if (WordAt(chunk_bytes_, 0) != 0) {  // the batch was deleted
        n_ = chunk_end + 1;
      } else {
        // A group of rows: the words first, then one cipher pass for the ids and the codes.
        const uint64_t end =
            std::min<uint64_t>(chunk_end, n_ + std::min<size_t>(kGroup, max_rows - added) - 1);
        size_t k = 0;
        for (; n_ <= end; ++n_) {
          const uint32_t w = WordAt(chunk_bytes_, (n_ - 1) % kDerivedChunkRecords + 1);
          if (DerivedState::Gone(w) || now > SettledMs(rule, w) + store_.options_.retention_ms) {
            continue;
          }
          seqs_[k] = n_;
          words_[k] = w;
          plains_[k++] = DerivedPlain(rule.rule.serial, n_);
        }
        if (rule.rule.fixed_code.empty()) cipher_->CodeMany(plains_, codes_, k);
        cipher_->EncryptMany(plains_, plains_, k);
        for (size_t i = 0; i < k; ++i) {
          RecordSnapshot& s = rows->emplace_back();
          s.verification_id.resize(21);
          EncodeId21(plains_[i], s.verification_id.data());
          s.identifier_type = rule.rule.type;
          ExpandIdentifierPattern(rule.rule.pattern, static_cast<uint32_t>(seqs_[i]),
                                  &s.identifier);
          if (rule.rule.fixed_code.empty()) {
            s.code.assign(codes_ + i * kDerivedCodeLength, kDerivedCodeLength);
          } else {
            s.code = rule.rule.fixed_code;
          }
          s.created_ms = rule.rule.created_ms;
          s.expires_ms = rule.expires_ms();
          s.try_count = DerivedState::Tries(words_[i]);
          s.consumed = s.verified = DerivedState::Consumed(words_[i]);
          s.identified = true;
          s.batch_id = rule.rule.id;
        }
        added += k;
      }
      if (n_ > count) {
        ++rule_;
        n_ = 1;
        ahead_.clear();
        loaded_ = UINT64_MAX;
      }
    }
    return rule_ < rules_.size();
  }
  Outcome failure() const override { return failure_; }

 private:
  static constexpr size_t kGroup = 512;

  // Makes chunk_bytes_ chunk `chunk` of the current rule, keeping reads of the next ones in
  // flight. False on a store failure.
  bool LoadChunk(const SharedRule& rule, uint64_t chunk) {
    if (loaded_ == chunk) return true;
    const uint64_t chunks =
        (uint64_t{rule.rule.count} + kDerivedChunkRecords - 1) / kDerivedChunkRecords;
    if (ahead_.empty() || ahead_.front().first != chunk) {
      ahead_.clear();
      next_read_ = chunk;
    }
    while (ahead_.size() < kExportReadAhead && next_read_ < chunks) {
      auto promise = std::make_shared<std::promise<CallResult>>();
      ahead_.emplace_back(next_read_, promise->get_future());
      store_.client_.Call({"GET", store_.ChunkKey(rule.rule.serial, next_read_++)}, "export",
                          [promise](CallResult&& r) { promise->set_value(std::move(r)); });
    }
    CallResult read = ahead_.front().second.get();
    ahead_.pop_front();
    failure_ = Failure(read);
    if (failure_ != Outcome::kOk) return false;
    chunk_bytes_ = read.value.type == Value::Type::kString ? std::move(read.value.str) : "";
    loaded_ = chunk;
    return true;
  }

  RedisDerivedStore& store_;
  bool listed_;
  std::vector<std::shared_ptr<const SharedRule>> rules_;
  std::shared_ptr<const IdCipher> cipher_;
  size_t rule_ = 0;               // the batch being read
  uint64_t n_ = 1;                // its next sequence number
  uint64_t loaded_ = UINT64_MAX;  // the chunk in chunk_bytes_
  std::string chunk_bytes_;
  uint64_t next_read_ = 0;
  std::deque<std::pair<uint64_t, std::future<CallResult>>> ahead_;
  Outcome failure_ = Outcome::kOk;
  Uint128 plains_[kGroup];
  uint64_t seqs_[kGroup];
  uint32_t words_[kGroup];
  char codes_[kGroup * kDerivedCodeLength];
};

std::shared_ptr<RecordPager> RedisDerivedStore::NewPager(
    std::optional<std::vector<std::shared_ptr<const SharedRule>>> rules) {
  return std::make_shared<Pager>(*this, std::move(rules));
}

}  // namespace mfa::redis
