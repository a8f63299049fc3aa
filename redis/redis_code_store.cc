// SPDX-License-Identifier: Apache-2.0
#include "redis/redis_code_store.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <future>
#include <mutex>
#include <unordered_set>

#include "core/derived_ids.h"
#include "core/recipient.h"
#include "core/secure_random.h"
#include "redis/scripts.h"
#include "redis/store_support.h"

namespace mfa::redis {
namespace {

// Record flags as the scripts store them (field "f").
constexpr int kIdentifiedFlag = 1;
constexpr int kSessionBoundFlag = 2;
constexpr int kConsumedFlag = 4;
constexpr int kVerifiedFlag = 8;

std::string EncodeMessage(const InboxMessage& m) {
  std::string out;
  AppendField(out, ToString(m.type));
  AppendField(out, m.to);
  AppendField(out, m.code);
  AppendField(out, m.verification_id);
  AppendField(out, Decimal(m.sent_ms));
  // Optional trailing fields, so older nodes still read what they know.
  if (!m.session_id.empty() || !m.template_type.empty()) AppendField(out, m.session_id);
  if (!m.template_type.empty()) AppendField(out, m.template_type);
  return out;
}

// The inverse of EncodeMessage with the sequence number the script put in front.
bool DecodeMessage(std::string_view in, InboxMessage* m) {
  std::string_view seq, type, to, code, id, sent;
  if (!NextField(in, &seq) || !NextField(in, &type) || !NextField(in, &to) ||
      !NextField(in, &code) || !NextField(in, &id) || !NextField(in, &sent)) {
    return false;
  }
  const std::optional<IdentifierType> parsed = ParseIdentifierType(type);
  if (!parsed) return false;
  m->seq = static_cast<uint64_t>(ParseInt(seq));
  m->type = *parsed;
  m->to = std::string(to);
  m->code = std::string(code);
  m->verification_id = std::string(id);
  m->sent_ms = ParseInt(sent);
  std::string_view session;  // absent: sent outside a session (or by an older node)
  if (NextField(in, &session)) m->session_id = std::string(session);
  std::string_view template_type;  // absent: one of the mock's own sends
  if (NextField(in, &template_type)) m->template_type = std::string(template_type);
  return true;
}

// A record from HGETALL's field/value pairs, or nullopt when it is absent or past its retention
// (gone, as after the in-memory sweeper; a session's record has no retention: it lives as long as
// its session).
std::optional<RecordSnapshot> ParseRecord(std::string_view id, const Value& reply, int64_t now_ms,
                                          int64_t retention_ms,
                                          std::string* batch_handle = nullptr) {
  if (reply.type != Value::Type::kArray || reply.elements.empty()) return std::nullopt;
  RecordSnapshot r;
  r.verification_id = std::string(id);
  int64_t flags = 0, consumed_ms = 0;
  bool typed = false;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
    const std::string& field = reply.elements[i].str;
    const std::string& value = reply.elements[i + 1].str;
    if (field == "t") {
      const std::optional<IdentifierType> type = ParseIdentifierType(value);
      typed = type.has_value();
      if (type) r.identifier_type = *type;
    } else if (field == "c") {
      r.code = value;
    } else if (field == "i") {
      r.identifier = value;
    } else if (field == "cr") {
      r.created_ms = ParseInt(value);
    } else if (field == "x") {
      r.expires_ms = ParseInt(value);
    } else if (field == "n") {
      r.try_count = static_cast<uint32_t>(ParseInt(value));
    } else if (field == "f") {
      flags = ParseInt(value);
    } else if (field == "ca") {
      consumed_ms = ParseInt(value);
    } else if (field == "b" && batch_handle != nullptr) {
      *batch_handle = value;
    }
  }
  if (!typed) return std::nullopt;
  r.consumed = (flags & kConsumedFlag) != 0;
  r.verified = (flags & kVerifiedFlag) != 0;
  r.identified = (flags & kIdentifiedFlag) != 0;
  const int64_t settled = r.consumed ? std::min(consumed_ms, r.expires_ms) : r.expires_ms;
  if ((flags & kSessionBoundFlag) == 0 && now_ms > settled + retention_ms) return std::nullopt;
  return r;
}

}  // namespace

struct RedisCodeStore::Scripts {
  Script verify{EmbeddedScript(kVerifyLua, kVerifyLua_size)};
  Script create{EmbeddedScript(kCreateLua, kCreateLua_size)};
  Script send_limit{EmbeddedScript(kSendLimitLua, kSendLimitLua_size)};
  Script inbox_add{EmbeddedScript(kInboxAddLua, kInboxAddLua_size)};
  Script create_many{EmbeddedScript(kCreateManyLua, kCreateManyLua_size)};
  Script batch_add{EmbeddedScript(kBatchAddLua, kBatchAddLua_size)};
};

// One send, from the limit to the inbox. Touched by one thread at a time (each step starts the
// next from its completion).
struct RedisCodeStore::SendFlow {
  SendResult result;
  std::string limit_key;     // empty: no limit taken
  std::string limit_member;  // this send's entry in the limit's sorted set
  int64_t now_ms = 0;
  int flags = kIdentifiedFlag;
  std::string session_id;  // the interaction session sent in, for the inbox
  Done<SendResult> done;
};

struct RedisCodeStore::SeedFlow {
  std::mutex mu;
  std::vector<SeededRecord> records;  // written once before the calls start
  std::vector<uint8_t> identified;
  std::vector<uint8_t> created;    // GUARDED_BY(mu)
  size_t failed_index = SIZE_MAX;  // GUARDED_BY(mu): the first id found taken
  Outcome failure = Outcome::kOk;  // GUARDED_BY(mu): a store failure
  int64_t now_ms = 0;
  Done<SeedResult> done;
};

RedisCodeStore::RedisCodeStore(const ConfigStore& config, const Clock& clock, Router& client,
                               CodeStoreOptions options)
    : config_(config),
      clock_(clock),
      client_(client),
      options_(std::move(options)),
      scripts_(std::make_unique<Scripts>()),
      derived_(std::make_unique<RedisDerivedStore>(
          clock, client,
          DerivedStoreOptions{.prefix = options_.prefix, .retention_ms = options_.retention_ms})) {}

RedisCodeStore::~RedisCodeStore() = default;

std::string RedisCodeStore::RecordKey(std::string_view id) const {
  std::string key;
  key.reserve(options_.prefix.size() + id.size() + 5);
  key.append(options_.prefix).append(":v:{").append(id).append("}");
  return key;
}

std::string RedisCodeStore::SendLimitKey(std::string_view recipient) const {
  return options_.prefix + ":rl:{r:" + std::string(recipient) + "}";
}

std::string RedisCodeStore::InboxKey() const { return options_.prefix + ":{inbox}"; }

std::string RedisCodeStore::BatchesKey() const { return options_.prefix + ":{batches}"; }

bool RedisCodeStore::Ready() const { return client_.connected(); }

std::string RedisCodeStore::Describe() const {
  return "redis " + options_.address + " prefix=" + options_.prefix;
}

void RedisCodeStore::Verify(IdentifierType type, std::string_view verification_id,
                            std::string_view code, Done<Outcome> done) {
  VerifyRecord(type, verification_id, code, /*session_bound=*/false, /*blocked=*/false,
               std::move(done));
}

void RedisCodeStore::VerifyRecord(IdentifierType type, std::string_view verification_id,
                                  std::string_view code, bool session_bound, bool blocked,
                                  Done<Outcome> done) {
  const Config& c = config_.Get().config;
  const bool documented = c.profile == Profile::kDocumented;
  if (documented && !c.connector_enabled(type)) return done(Outcome::kConnectorNotFound);
  // Most ids cannot name a derived record (NewIndividualId's never do): straight to the record.
  if (!DecodeDerivedId(verification_id)) {
    return VerifyStored(type, verification_id, code, session_bound, blocked, documented,
                        c.max_attempts, std::move(done));
  }
  // Maybe a record of a derived batch (its rule read once per node), else a stored one.
  derived_->Resolve(verification_id, [this, type, id = std::string(verification_id),
                                      code = std::string(code), session_bound, blocked, documented,
                                      max_attempts = c.max_attempts,
                                      done = std::move(done)](DerivedTarget target) mutable {
    if (target.failure != Outcome::kOk) return done(target.failure);
    if (target.rule) {
      return derived_->Verify(target, type, code, session_bound, max_attempts, std::move(done));
    }
    VerifyStored(type, id, code, session_bound, blocked, documented, max_attempts, std::move(done));
  });
}

void RedisCodeStore::VerifyStored(IdentifierType type, std::string_view id, std::string_view code,
                                  bool session_bound, bool blocked, bool documented,
                                  uint32_t max_attempts, Done<Outcome> done) {
  client_.CallScript(scripts_->verify, {RecordKey(id)},
                     {std::string(ToString(type)), std::string(code), Decimal(clock_.NowMs()),
                      Decimal(max_attempts), documented ? "1" : "0", Decimal(options_.retention_ms),
                      session_bound ? "1" : "0", blocked ? "1" : "0"},
                     "verify", [done = std::move(done)](CallResult&& r) {
                       const Outcome failure = Failure(r);
                       done(failure != Outcome::kOk ? failure : VerifyOutcome(r.value.str));
                     });
}

void RedisCodeStore::Send(IdentifierType type, Done<SendResult> done) {
  std::string address;
  const Outcome recipient = OpenModeRecipient(config_.Get().config, type, &address);
  if (recipient != Outcome::kOk) {
    SendResult result;
    result.type = type;
    result.outcome = recipient;
    return done(std::move(result));
  }
  LimitedSend(type, std::move(address), /*limited=*/true, /*session_bound=*/false, std::move(done));
}

void RedisCodeStore::SendBound(IdentifierType type, std::string address, std::string session_id,
                               Done<SendResult> done) {
  LimitedSend(type, std::move(address), /*limited=*/true, /*session_bound=*/true, std::move(done),
              std::move(session_id));
}

void RedisCodeStore::AdminSend(IdentifierType type, std::string_view identifier,
                               Done<SendResult> done) {
  LimitedSend(type, std::string(identifier), /*limited=*/false, /*session_bound=*/false,
              std::move(done));
}

void RedisCodeStore::LimitedSend(IdentifierType type, std::string address, bool limited,
                                 bool session_bound, Done<SendResult> done,
                                 std::string session_id) {
  const Config& c = config_.Get().config;
  auto flow = std::make_shared<SendFlow>();
  flow->now_ms = clock_.NowMs();
  flow->session_id = std::move(session_id);
  if (session_bound) flow->flags |= kSessionBoundFlag;
  flow->done = std::move(done);
  SendResult& result = flow->result;
  result.type = type;
  result.code = c.fixed_code ? *c.fixed_code : SecureRandom::NewCode();
  result.expires_ms = flow->now_ms + int64_t{c.code_ttl_seconds} * 1000;
  const std::string recipient = NormalizeRecipient(type, address);
  result.identifier = std::move(address);
  if (!limited) return CreateRecord(std::move(flow), 3);

  // Contract §4: the limit (step 5) before the connector (step 6); only sends that succeed count,
  // so without a connector the limit is only asked.
  const bool connector = c.connector_enabled(type);
  const uint32_t max_sends = c.send_rate_limit.max_sends;
  if (max_sends == 0) {
    if (connector) return CreateRecord(std::move(flow), 3);
    result.outcome = Outcome::kConnectorNotFound;
    return flow->done(std::move(result));
  }
  flow->limit_key = SendLimitKey(recipient);
  flow->limit_member = Decimal(flow->now_ms) + ":" + SecureRandom::NewId();
  client_.CallScript(scripts_->send_limit, {flow->limit_key},
                     {Decimal(flow->now_ms), Decimal(max_sends),
                      Decimal(int64_t{c.send_rate_limit.window_seconds} * 1000), flow->limit_member,
                      connector ? "1" : "0"},
                     "send_limit", [this, flow, connector](CallResult&& r) mutable {
                       Outcome outcome = Failure(r);
                       if (outcome == Outcome::kOk) {
                         const bool allowed = r.value.integer == 1;
                         if (!connector) {
                           outcome = allowed ? Outcome::kConnectorNotFound : Outcome::kRateLimited;
                         } else if (!allowed) {
                           outcome = Outcome::kRateLimited;
                         } else {
                           return CreateRecord(std::move(flow), 3);
                         }
                       }
                       flow->limit_key.clear();  // nothing was counted
                       flow->result.outcome = outcome;
                       flow->done(std::move(flow->result));
                     });
}

// When Redis may drop a new record: after the mock would have swept it, or, for a session's
// record (no retention), after its session would have ended.
int64_t RedisCodeStore::GarbageAfterMs(const Config& c, int flags) const {
  const int64_t swept = int64_t{c.code_ttl_seconds} * 1000 + options_.retention_ms;
  const int64_t session = int64_t{c.session_ttl_seconds} * 1000;
  return ((flags & kSessionBoundFlag) != 0 ? std::max(swept, session) : swept) + kExpirySlackMs;
}

void RedisCodeStore::CreateRecord(std::shared_ptr<SendFlow> flow, int attempts_left) {
  const Config& c = config_.Get().config;
  flow->result.verification_id = NewIndividualId();
  const SendResult& result = flow->result;
  client_.CallScript(
      scripts_->create, {RecordKey(result.verification_id)},
      {std::string(ToString(result.type)), result.code, result.identifier, Decimal(flow->now_ms),
       Decimal(result.expires_ms), Decimal(flow->flags), Decimal(GarbageAfterMs(c, flow->flags))},
      "create", [this, flow, attempts_left](CallResult&& r) mutable {
        Outcome outcome = Failure(r);
        if (outcome == Outcome::kOk && r.value.integer == 1) return AddToInbox(std::move(flow));
        // A random 21-character id already taken: draw another (a few times at most).
        if (outcome == Outcome::kOk && attempts_left > 1) {
          return CreateRecord(std::move(flow), attempts_left - 1);
        }
        if (outcome == Outcome::kOk) outcome = Outcome::kInternal;
        if (!flow->limit_key.empty()) {  // give the limit's slot back, as the memory store does
          client_.Call({"ZREM", flow->limit_key, flow->limit_member}, "send_limit_release",
                       [](CallResult&&) {});
        }
        flow->result.outcome = outcome;
        flow->done(std::move(flow->result));
      });
}

void RedisCodeStore::AddToInbox(std::shared_ptr<SendFlow> flow) {
  InboxMessage message;
  message.type = flow->result.type;
  message.to = flow->result.identifier;
  message.code = flow->result.code;
  message.verification_id = flow->result.verification_id;
  message.sent_ms = flow->now_ms;
  message.session_id = flow->session_id;
  client_.CallScript(
      scripts_->inbox_add, {InboxKey(), InboxKey() + ":seq"},
      {EncodeMessage(message), Decimal(static_cast<int64_t>(options_.inbox_capacity))}, "inbox_add",
      [this, flow](CallResult&& r) {
        // The code verifies, but a send the inbox never shows would be a lost
        // message: say the send failed (the client sends again).
        flow->result.outcome = Failure(r);
        if (flow->result.outcome == Outcome::kOk && inbox_added_) inbox_added_();
        flow->done(std::move(flow->result));
      });
}

void RedisCodeStore::AddExternalMessage(InboxMessage message, Done<StoreAnswer<uint64_t>> done) {
  client_.CallScript(
      scripts_->inbox_add, {InboxKey(), InboxKey() + ":seq"},
      {EncodeMessage(message), Decimal(static_cast<int64_t>(options_.inbox_capacity))}, "inbox_add",
      [this, done = std::move(done)](CallResult&& r) {
        const Outcome outcome = Failure(r);
        if (outcome != Outcome::kOk) return done({outcome, 0});
        if (inbox_added_) inbox_added_();
        done({Outcome::kOk, static_cast<uint64_t>(r.value.integer)});
      });
}

void RedisCodeStore::Seed(std::vector<SeedItem> items, Done<SeedResult> done) {
  const ResolvedConfig& rc = config_.Get();
  const Config& c = rc.config;
  auto flow = std::make_shared<SeedFlow>();
  flow->now_ms = clock_.NowMs();
  flow->done = std::move(done);
  flow->records.reserve(items.size());
  flow->identified.reserve(items.size());
  // A duplicate inside the request fails before anything is written, as in memory.
  std::unordered_set<std::string_view> ids;
  for (SeedItem& item : items) {
    SeededRecord r;
    r.verification_id = item.verification_id ? *item.verification_id : NewIndividualId();
    r.type = item.type;
    r.identifier = item.identifier ? *item.identifier : c.default_address(item.type);
    r.code = item.code ? *item.code : (c.fixed_code ? *c.fixed_code : SecureRandom::NewCode());
    const uint32_t ttl = item.ttl_seconds ? *item.ttl_seconds : c.code_ttl_seconds;
    r.expires_ms = flow->now_ms + int64_t{ttl} * 1000;
    flow->records.push_back(std::move(r));
    flow->identified.push_back(item.identified ? 1 : 0);
  }
  for (size_t i = 0; i < flow->records.size(); ++i) {
    if (!ids.insert(flow->records[i].verification_id).second) {
      SeedResult result;
      result.outcome = Outcome::kInvalidInput;
      result.failed_index = i;
      return flow->done(std::move(result));
    }
  }
  flow->created.assign(flow->records.size(), 0);
  const size_t count = flow->records.size();

  // Undo: delete what this seed created, then answer. All or nothing, as in memory; a reader in
  // between may see some of the records for a moment.
  auto finish = [this, flow] {
    std::vector<size_t> undo;
    SeedResult result;
    {
      std::lock_guard<std::mutex> lock(flow->mu);
      if (flow->failure == Outcome::kOk && flow->failed_index == SIZE_MAX) {
        result.records = std::move(flow->records);
        return flow->done(std::move(result));
      }
      result.outcome = flow->failure != Outcome::kOk ? flow->failure : Outcome::kInvalidInput;
      result.failed_index = flow->failed_index == SIZE_MAX ? 0 : flow->failed_index;
      for (size_t i = 0; i < flow->created.size(); ++i) {
        if (flow->created[i]) undo.push_back(i);
      }
    }
    auto answer = [flow, result]() mutable { flow->done(std::move(result)); };
    auto undo_list = std::make_shared<std::vector<size_t>>(std::move(undo));
    std::make_shared<Windowed>(
        undo_list->size(), options_.seed_window,
        [this, flow, undo_list](size_t i, std::function<void()> complete) {
          client_.Call({"DEL", RecordKey(flow->records[(*undo_list)[i]].verification_id)},
                       "seed_undo", [complete](CallResult&&) { complete(); });
          return true;
        },
        std::move(answer))
        ->Start();
  };
  std::make_shared<Windowed>(
      count, options_.seed_window,
      [this, flow](size_t i, std::function<void()> complete) {
        {
          std::lock_guard<std::mutex> lock(flow->mu);
          // After a failure, the rest is not written (it would only be undone).
          if (flow->failure != Outcome::kOk || flow->failed_index != SIZE_MAX) return false;
        }
        auto create = [this, flow, i, complete] {
          const SeededRecord& r = flow->records[i];
          const int64_t ttl_ms = r.expires_ms - flow->now_ms;
          client_.CallScript(
              scripts_->create, {RecordKey(r.verification_id)},
              {std::string(ToString(r.type)), r.code, r.identifier, Decimal(flow->now_ms),
               Decimal(r.expires_ms), Decimal(flow->identified[i] ? kIdentifiedFlag : 0),
               Decimal(ttl_ms + options_.retention_ms + kExpirySlackMs)},
              "seed", [flow, i, complete](CallResult&& result) {
                {
                  std::lock_guard<std::mutex> lock(flow->mu);
                  const Outcome failure = Failure(result);
                  if (failure != Outcome::kOk) {
                    if (flow->failure == Outcome::kOk) flow->failure = failure;
                  } else if (result.value.integer == 1) {
                    flow->created[i] = 1;
                  } else if (i < flow->failed_index) {
                    flow->failed_index = i;
                  }
                }
                complete();
              });
        };
        const std::string& id = flow->records[i].verification_id;
        if (!DecodeDerivedId(id)) {
          create();
          return true;
        }
        // An id that names a live derived record is taken, as in memory.
        derived_->Resolve(id, [flow, i, complete, create](DerivedTarget target) {
          if (target.failure == Outcome::kOk && !target.rule) return create();
          {
            std::lock_guard<std::mutex> lock(flow->mu);
            if (target.failure != Outcome::kOk) {
              if (flow->failure == Outcome::kOk) flow->failure = target.failure;
            } else if (i < flow->failed_index) {
              flow->failed_index = i;
            }
          }
          complete();
        });
        return true;
      },
      std::move(finish))
      ->Start();
}

// POST /admin/verifications/generate: the batch registered, then its records written in slices,
// a few slices in flight at a time.
struct RedisCodeStore::GenerateFlow {
  std::mutex mu;
  std::string type;
  std::string pattern;
  std::optional<std::string> fixed_code;
  int64_t now_ms = 0;
  int64_t expires_ms = 0;
  int64_t expire_after_ms = 0;
  std::string handle;
  Outcome failure = Outcome::kOk;  // GUARDED_BY(mu)
  GenerateResult result;
  Done<GenerateResult> done;
};

void RedisCodeStore::Generate(const GenerateSpec& spec, Done<GenerateResult> done) {
  const Config& c = config_.Get().config;
  if (spec.derived) {  // a rule in Redis, whatever the count
    return derived_->Generate(DerivedSpecFor(spec, c, clock_.NowMs()), std::move(done));
  }
  auto flow = std::make_shared<GenerateFlow>();
  flow->type = std::string(ToString(spec.type));
  flow->pattern = spec.identifier_pattern ? *spec.identifier_pattern : c.default_address(spec.type);
  flow->fixed_code = spec.code ? spec.code : c.fixed_code;
  const uint32_t ttl = spec.ttl_seconds ? *spec.ttl_seconds : c.code_ttl_seconds;
  flow->now_ms = clock_.NowMs();
  flow->expires_ms = flow->now_ms + int64_t{ttl} * 1000;
  flow->expire_after_ms = int64_t{ttl} * 1000 + options_.retention_ms + kExpirySlackMs;
  flow->result.batch_id = "b_" + SecureRandom::NewId();
  flow->done = std::move(done);
  const size_t count = spec.count;
  client_.CallScript(scripts_->batch_add, {BatchesKey()},
                     {flow->result.batch_id, flow->type, flow->pattern}, "generate",
                     [this, flow, count](CallResult&& r) {
                       flow->result.outcome = Failure(r);
                       if (flow->result.outcome != Outcome::kOk)
                         return flow->done(std::move(flow->result));
                       flow->handle = Decimal(r.value.integer);
                       // On a cluster every record has its own slot: one create each, pipelined
                       // (a window per call of a few thousand in flight), not slices.
                       const size_t slice = client_.cluster() ? 1 : options_.generate_slice;
                       std::make_shared<Windowed>(
                           (count + slice - 1) / slice, slice == 1 ? 2000 : 4,
                           [this, flow, count, slice](size_t i, std::function<void()> complete) {
                             GenerateSlice(flow, i * slice, std::min(slice, count - i * slice),
                                           std::move(complete));
                             return true;
                           },
                           [flow, count] {
                             {
                               std::lock_guard<std::mutex> lock(flow->mu);
                               flow->result.outcome = flow->failure;
                             }
                             if (flow->result.outcome == Outcome::kOk) {
                               flow->result.created = static_cast<uint32_t>(count);
                             }
                             flow->done(std::move(flow->result));
                           })
                           ->Start();
                     });
}

void RedisCodeStore::GenerateOne(std::shared_ptr<GenerateFlow> flow, size_t index,
                                 std::function<void()> complete, int attempts_left) {
  std::string identifier;
  ExpandIdentifierPattern(flow->pattern, static_cast<uint32_t>(index + 1), &identifier);
  client_.CallScript(
      scripts_->create, {RecordKey(NewIndividualId())},
      {flow->type, flow->fixed_code ? *flow->fixed_code : SecureRandom::NewCode(),
       std::move(identifier), Decimal(flow->now_ms), Decimal(flow->expires_ms),
       Decimal(kIdentifiedFlag), Decimal(flow->expire_after_ms), flow->handle},
      "generate",
      [this, flow, index, attempts_left, complete = std::move(complete)](CallResult&& r) mutable {
        Outcome failure = Failure(r);
        // An id already taken (36^21 ids: practically never): another for this record.
        if (failure == Outcome::kOk && r.value.integer != 1) {
          if (attempts_left > 1) {
            return GenerateOne(std::move(flow), index, std::move(complete), attempts_left - 1);
          }
          failure = Outcome::kInternal;
        }
        if (failure != Outcome::kOk) {
          std::lock_guard<std::mutex> lock(flow->mu);
          if (flow->failure == Outcome::kOk) flow->failure = failure;
        }
        complete();
      });
}

void RedisCodeStore::GenerateSlice(std::shared_ptr<GenerateFlow> flow, size_t first, size_t count,
                                   std::function<void()> complete) {
  if (client_.cluster()) return GenerateOne(std::move(flow), first, std::move(complete));
  std::vector<std::string> keys;
  std::vector<std::string> args{flow->type,
                                Decimal(flow->now_ms),
                                Decimal(flow->expires_ms),
                                Decimal(kIdentifiedFlag),
                                Decimal(flow->expire_after_ms),
                                flow->handle};
  keys.reserve(count);
  args.reserve(args.size() + 2 * count);
  for (size_t k = 0; k < count; ++k) {
    keys.push_back(RecordKey(NewIndividualId()));
    args.push_back(flow->fixed_code ? *flow->fixed_code : SecureRandom::NewCode());
    std::string identifier;
    ExpandIdentifierPattern(flow->pattern, static_cast<uint32_t>(first + k + 1), &identifier);
    args.push_back(std::move(identifier));
  }
  client_.CallScript(scripts_->create_many, keys, args, "generate",
                     [this, flow, first, complete = std::move(complete)](CallResult&& r) mutable {
                       const Outcome failure = Failure(r);
                       if (failure != Outcome::kOk) {
                         std::lock_guard<std::mutex> lock(flow->mu);
                         if (flow->failure == Outcome::kOk) flow->failure = failure;
                         return complete();
                       }
                       // An id already taken (36^21 ids: practically never): those sequence numbers
                       // again.
                       if (r.value.elements.empty()) return complete();
                       auto left = std::make_shared<std::atomic<size_t>>(r.value.elements.size());
                       for (const Value& taken : r.value.elements) {
                         GenerateSlice(flow, first + static_cast<size_t>(taken.integer) - 1, 1,
                                       [left, complete] {
                                         if (left->fetch_sub(1) == 1) complete();
                                       });
                       }
                     });
}

void RedisCodeStore::Get(std::string_view verification_id,
                         Done<StoreAnswer<std::optional<RecordSnapshot>>> done) {
  derived_->Resolve(verification_id, [this, id = std::string(verification_id),
                                      done = std::move(done)](DerivedTarget target) mutable {
    if (target.failure != Outcome::kOk) return done({target.failure, std::nullopt});
    if (target.rule) return derived_->Get(target, std::move(id), std::move(done));
    GetStored(id, std::move(done));
  });
}

void RedisCodeStore::GetStored(std::string_view verification_id,
                               Done<StoreAnswer<std::optional<RecordSnapshot>>> done) {
  using Answer = StoreAnswer<std::optional<RecordSnapshot>>;
  client_.Call({"HGETALL", RecordKey(verification_id)}, "get",
               [this, done = std::move(done), id = std::string(verification_id),
                now = clock_.NowMs()](CallResult&& r) {
                 Answer answer;
                 answer.outcome = Failure(r);
                 std::string batch;
                 if (answer.outcome == Outcome::kOk) {
                   answer.value = ParseRecord(id, r.value, now, options_.retention_ms, &batch);
                 }
                 if (!answer.value || batch.empty()) return done(std::move(answer));
                 // A generated record names its batch by handle: read the batch's public id.
                 auto shared = std::make_shared<Answer>(std::move(answer));
                 client_.Call({"HGET", BatchesKey(), "h:" + batch}, "get",
                              [done, shared](CallResult&& read) {
                                shared->outcome = Failure(read);
                                if (shared->outcome == Outcome::kOk) {
                                  shared->value->batch_id = read.value.str;
                                }
                                done(std::move(*shared));
                              });
               });
}

void RedisCodeStore::Erase(std::string_view verification_id, Done<StoreAnswer<bool>> done) {
  derived_->Resolve(verification_id, [this, id = std::string(verification_id),
                                      done = std::move(done)](DerivedTarget target) mutable {
    if (target.failure != Outcome::kOk) return done({target.failure, false});
    if (target.rule) return derived_->Erase(target, std::move(done));
    client_.Call({"DEL", RecordKey(id)}, "delete", [done = std::move(done)](CallResult&& r) {
      StoreAnswer<bool> answer;
      answer.outcome = Failure(r);
      answer.value = answer.outcome == Outcome::kOk && r.value.integer == 1;
      done(answer);
    });
  });
}

// DELETE /admin/verifications: this prefix's records, its derived batches, then its send limits.
void RedisCodeStore::Clear(Done<StoreAnswer<size_t>> done) {
  UnlinkMatching(
      client_, options_.prefix + ":v:*", "clear",
      [this, done = std::move(done)](StoreAnswer<size_t> records) mutable {
        if (records.outcome != Outcome::kOk) return done(records);
        derived_->Clear([this, done = std::move(done), records](StoreAnswer<size_t> derived) {
          if (derived.outcome != Outcome::kOk) return done(derived);
          UnlinkMatching(client_, options_.prefix + ":rl:*", "clear",
                         [done, total = records.value + derived.value](StoreAnswer<size_t> limits) {
                           if (limits.outcome != Outcome::kOk) return done(limits);
                           done({Outcome::kOk, total});
                         });
        });
      });
}

// GET /admin/verifications/export: SCAN this prefix's records, then read each page's records in
// one pipelined burst. Waits on futures: it runs on the export's own thread.
class RedisRecordPager final : public RecordPager {
 public:
  RedisRecordPager(Router& client, std::string pattern, std::string key_prefix,
                   std::string batch_handle, std::string batch_id, const Clock& clock,
                   int64_t retention_ms)
      : client_(client),
        pattern_(std::move(pattern)),
        key_prefix_(std::move(key_prefix)),
        batch_handle_(std::move(batch_handle)),
        batch_id_(std::move(batch_id)),
        clock_(clock),
        retention_ms_(retention_ms),
        masters_(client.Masters()) {}

  bool Next(size_t max_rows, std::vector<RecordSnapshot>* rows) override {
    if (masters_.empty() && failure_ == Outcome::kOk) failure_ = Outcome::kStoreUnavailable;
    while (!done_ && failure_ == Outcome::kOk) {
      CallResult page = Wait({"SCAN", cursor_, "MATCH", pattern_, "COUNT",
                              std::to_string(std::max<size_t>(max_rows, 100))});
      if (Fail(page)) return false;
      if (page.value.type != Value::Type::kArray || page.value.elements.size() != 2) {
        failure_ = Outcome::kInternal;
        return false;
      }
      cursor_ = page.value.elements[0].str;
      // Each master in turn (one for a single server): a cluster's keys are spread over them.
      if (cursor_ == "0" && ++master_ == masters_.size()) done_ = true;
      const std::vector<Value>& keys = page.value.elements[1].elements;
      if (keys.empty()) continue;
      // One burst of HGETALLs for the page, answered together (the client pipelines them).
      std::vector<std::future<CallResult>> reads;
      reads.reserve(keys.size());
      for (const Value& key : keys) {
        auto promise = std::make_shared<std::promise<CallResult>>();
        reads.push_back(promise->get_future());
        client_.Call({"HGETALL", key.str}, "export",
                     [promise](CallResult&& r) { promise->set_value(std::move(r)); });
      }
      const int64_t now = clock_.NowMs();
      for (size_t i = 0; i < keys.size(); ++i) {
        CallResult read = reads[i].get();
        if (Fail(read)) return false;
        const std::string& key = keys[i].str;
        // "<prefix>:v:{<id>}" -> id
        const std::string_view id(key.data() + key_prefix_.size(),
                                  key.size() - key_prefix_.size() - 1);
        std::string handle;
        std::optional<RecordSnapshot> record =
            ParseRecord(id, read.value, now, retention_ms_, &handle);
        if (!record || (!batch_handle_.empty() && handle != batch_handle_)) continue;
        record->batch_id = batch_id_;
        rows->push_back(std::move(*record));
      }
      if (!rows->empty()) return !done_;
    }
    return false;
  }
  Outcome failure() const override { return failure_; }

 private:
  CallResult Wait(const std::vector<std::string>& argv) {
    std::promise<CallResult> promise;
    std::future<CallResult> answer = promise.get_future();
    client_.CallOn(masters_[master_], argv, "export",
                   [&promise](CallResult&& r) { promise.set_value(std::move(r)); });
    return answer.get();
  }
  bool Fail(const CallResult& r) {
    failure_ = Failure(r);
    return failure_ != Outcome::kOk;
  }

  Router& client_;
  const std::string pattern_, key_prefix_, batch_handle_, batch_id_;
  const Clock& clock_;
  const int64_t retention_ms_;
  const std::vector<std::string> masters_;  // as they were when the export started
  size_t master_ = 0;
  std::string cursor_ = "0";
  bool done_ = false;
  Outcome failure_ = Outcome::kOk;
};

// Exports the stored records first, then the live derived batches.
class ChainedPager final : public RecordPager {
 public:
  ChainedPager(std::shared_ptr<RecordPager> first, std::shared_ptr<RecordPager> second)
      : first_(std::move(first)), second_(std::move(second)) {}
  bool Next(size_t max_rows, std::vector<RecordSnapshot>* rows) override {
    if (first_) {
      if (first_->Next(max_rows, rows)) return true;
      if (first_->failure() != Outcome::kOk) {
        failure_ = first_->failure();
        return false;
      }
      first_.reset();
      return true;
    }
    const bool more = second_->Next(max_rows, rows);
    failure_ = second_->failure();
    return more;
  }
  Outcome failure() const override { return failure_; }

 private:
  std::shared_ptr<RecordPager> first_, second_;
  Outcome failure_ = Outcome::kOk;
};

void RedisCodeStore::OpenPager(std::string_view batch_id,
                               Done<StoreAnswer<std::shared_ptr<RecordPager>>> done) {
  auto stored = [this](std::string handle, std::string id) -> std::shared_ptr<RecordPager> {
    return std::make_shared<RedisRecordPager>(client_, options_.prefix + ":v:*",
                                              options_.prefix + ":v:{", std::move(handle),
                                              std::move(id), clock_, options_.retention_ms);
  };
  if (batch_id.empty()) {
    return done({Outcome::kOk,
                 std::make_shared<ChainedPager>(stored("", ""), derived_->NewPager(std::nullopt))});
  }
  client_.Call(
      {"HGET", BatchesKey(), "id:" + std::string(batch_id)}, "export",
      [this, stored, done, id = std::string(batch_id)](CallResult&& r) {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return done({failure, nullptr});
        if (r.value.type == Value::Type::kNil) return done({Outcome::kOk, nullptr});
        std::string handle =
            r.value.type == Value::Type::kInteger ? std::to_string(r.value.integer) : r.value.str;
        // A derived batch has a rule under its serial (= its handle); a stored one has
        // none.
        derived_->RuleOf(
            static_cast<uint64_t>(ParseInt(handle)),
            [this, stored, done, handle, id](StoreAnswer<std::shared_ptr<const SharedRule>> rule) {
              if (rule.outcome != Outcome::kOk) return done({rule.outcome, nullptr});
              if (!rule.value) return done({Outcome::kOk, stored(handle, id)});
              done({Outcome::kOk, derived_->NewPager(std::vector{rule.value})});
            });
      });
}

void RedisCodeStore::CountDerivedRecords(Done<StoreAnswer<uint64_t>> done) {
  derived_->LiveRules(
      [done = std::move(done)](StoreAnswer<std::vector<std::shared_ptr<const SharedRule>>> rules) {
        uint64_t records = 0;
        for (const auto& r : rules.value) {
          records += r->rule.count - std::min<uint64_t>(r->gone, r->rule.count);
        }
        done({rules.outcome, rules.outcome == Outcome::kOk ? records : 0});
      });
}

// GET /admin/inbox: the newest messages, filtered here, then each one's record read for its state.
struct RedisCodeStore::InboxFlow {
  std::mutex mu;
  std::vector<InboxEntry> entries;  // states GUARDED_BY(mu) once the reads start
  Outcome failure = Outcome::kOk;   // GUARDED_BY(mu)
  Done<StoreAnswer<std::vector<InboxEntry>>> done;
};

void RedisCodeStore::ListInbox(const InboxQuery& query,
                               Done<StoreAnswer<std::vector<InboxEntry>>> done) {
  auto flow = std::make_shared<InboxFlow>();
  flow->done = std::move(done);
  const int64_t now = clock_.NowMs();
  const uint32_t max_attempts = config_.Get().config.max_attempts;
  client_.Call(
      {"LRANGE", InboxKey(), "0", Decimal(static_cast<int64_t>(options_.inbox_capacity) - 1)},
      "inbox_list",
      [this, flow, filter = InboxFilter(query), limit = query.limit,
       oldest_first = query.oldest_first, now, max_attempts](CallResult&& r) {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return flow->done({failure, {}});
        // Newest first (the script numbers and pushes in one step, so the list is in cursor
        // order); oldest first: the oldest `limit` matches, walking from the tail.
        const size_t n = r.value.elements.size();
        for (size_t k = 0; k < n; ++k) {
          if (flow->entries.size() >= limit) break;
          const Value& item = r.value.elements[oldest_first ? n - 1 - k : k];
          InboxEntry entry;
          if (!DecodeMessage(item.str, &entry.message) || !filter.Matches(entry.message)) {
            continue;
          }
          flow->entries.push_back(std::move(entry));
        }
        std::make_shared<Windowed>(
            flow->entries.size(), options_.seed_window,
            [this, flow, now, max_attempts](size_t i, std::function<void()> complete) {
              const std::string id = flow->entries[i].message.verification_id;
              if (id.empty()) {  // a connector's message: no record to read
                std::lock_guard<std::mutex> lock(flow->mu);
                flow->entries[i].state = MessageState::kExternal;
                return false;
              }
              client_.Call({"HGETALL", RecordKey(id)}, "inbox_state",
                           [this, flow, i, id, now, max_attempts, complete](CallResult&& read) {
                             {
                               std::lock_guard<std::mutex> lock(flow->mu);
                               const Outcome failed = Failure(read);
                               if (failed != Outcome::kOk) {
                                 flow->failure = failed;
                               } else {
                                 const std::optional<RecordSnapshot> record =
                                     ParseRecord(id, read.value, now, options_.retention_ms);
                                 flow->entries[i].state =
                                     StateOf(record ? &*record : nullptr, now, max_attempts);
                               }
                             }
                             complete();
                           });
              return true;
            },
            [flow] {
              StoreAnswer<std::vector<InboxEntry>> answer;
              {
                std::lock_guard<std::mutex> lock(flow->mu);
                answer.outcome = flow->failure;
                if (answer.outcome == Outcome::kOk) answer.value = std::move(flow->entries);
              }
              flow->done(std::move(answer));
            })
            ->Start();
      });
}

void RedisCodeStore::ClearInbox(const InboxQuery& query, Done<Outcome> done) {
  // The sequence counter stays, so message numbers keep increasing across clears.
  if (query.to.empty() && !query.channel && query.session.empty()) {
    return client_.Call({"DEL", InboxKey()}, "inbox_clear",
                        [done = std::move(done)](CallResult&& r) { done(Failure(r)); });
  }
  // Filtered: read the list, then remove each matching message by its exact bytes (LREM; each
  // message is unique by its cursor). A message pushed meanwhile is not touched.
  InboxQuery any_cursor = query;
  any_cursor.after = 0;
  client_.Call(
      {"LRANGE", InboxKey(), "0", Decimal(static_cast<int64_t>(options_.inbox_capacity) - 1)},
      "inbox_clear",
      [this, filter = InboxFilter(any_cursor), done = std::move(done)](CallResult&& r) {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return done(failure);
        std::vector<std::vector<std::string>> removals;
        for (const Value& item : r.value.elements) {
          InboxMessage message;
          if (DecodeMessage(item.str, &message) && filter.Matches(message)) {
            removals.push_back({"LREM", InboxKey(), "1", item.str});
          }
        }
        if (removals.empty()) return done(Outcome::kOk);
        CallAll(client_, std::move(removals), "inbox_clear",
                [done](StoreAnswer<int64_t> removed) { done(removed.outcome); });
      });
}

void RedisCodeStore::InboxHead(Done<StoreAnswer<uint64_t>> done) {
  client_.Call({"GET", InboxKey() + ":seq"}, "inbox_head",
               [done = std::move(done)](CallResult&& r) {
                 const Outcome failure = Failure(r);
                 if (failure != Outcome::kOk) return done({failure, 0});
                 const int64_t head = r.value.type == Value::Type::kNil ? 0 : ParseInt(r.value.str);
                 done({Outcome::kOk, static_cast<uint64_t>(head < 0 ? 0 : head)});
               });
}

}  // namespace mfa::redis
