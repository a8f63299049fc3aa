// SPDX-License-Identifier: Apache-2.0
#include "core/mfa_service.h"

#include "core/derived_ids.h"
#include "core/recipient.h"
#include "core/secure_random.h"
#include "core/sessions.h"

namespace mfa {

MfaService::MfaService(ConfigStore& config, VerificationStore& store, Inbox& inbox,
                       SendRateLimiter& limiter, const Clock& clock, ServiceOptions options)
    : config_(config),
      store_(store),
      inbox_(inbox),
      limiter_(limiter),
      clock_(clock),
      options_(options) {}

MfaService::~MfaService() { StopSweeper(); }

DerivedSpec DerivedSpecFor(const GenerateSpec& spec, const Config& config, int64_t now_ms) {
  DerivedSpec derived;
  derived.id = "b_" + SecureRandom::NewId();
  derived.type = spec.type;
  derived.pattern =
      spec.identifier_pattern ? *spec.identifier_pattern : config.default_address(spec.type);
  derived.count = spec.count;
  derived.created_ms = now_ms;
  derived.ttl_seconds = spec.ttl_seconds ? *spec.ttl_seconds : config.code_ttl_seconds;
  derived.fixed_code = spec.code ? *spec.code : (config.fixed_code ? *config.fixed_code : "");
  return derived;
}

Outcome OpenModeRecipient(const Config& config, IdentifierType type, std::string* address) {
  if (!config.default_user.identified) return Outcome::kIdentifierNotFound;
  const std::string& configured = config.default_address(type);
  if (configured.empty()) return Outcome::kFactorNotEnabled;
  *address = configured;
  return Outcome::kOk;
}

SendResult MfaService::Send(IdentifierType type) {
  const ResolvedConfig& rc = config_.Get();
  const Config& c = rc.config;
  SendResult result;
  result.type = type;
  std::string address;
  result.outcome = OpenModeRecipient(c, type, &address);
  if (result.outcome != Outcome::kOk) return result;
  return LimitedSend(rc, type, IdentifierRef::Shared(rc.default_address_text(type)), address,
                     /*session_bound=*/false);
}

SendResult MfaService::SendTo(IdentifierType type, std::string_view address, bool session_bound,
                              std::string_view session_id) {
  const ResolvedConfig& rc = config_.Get();
  return LimitedSend(rc, type, IdentifierRef::Shared(SharedTextRef(address)), address,
                     session_bound, session_id);
}

SendResult MfaService::LimitedSend(const ResolvedConfig& rc, IdentifierType type,
                                   IdentifierRef identifier, std::string_view address,
                                   bool session_bound, std::string_view session_id) {
  const Config& c = rc.config;
  SendResult result;
  result.type = type;
  const int64_t now = clock_.NowMs();
  const uint32_t max_sends = c.send_rate_limit.max_sends;
  const int64_t window_ms = int64_t{c.send_rate_limit.window_seconds} * 1000;
  const std::string key = NormalizeRecipient(type, address);
  // Rate limit (step 5) comes before the connector check (step 6), and only successful sends
  // count, so the connector check must not consume a slot.
  if (!c.connector_enabled(type)) {
    result.outcome = limiter_.WouldAllow(key, now, max_sends, window_ms)
                         ? Outcome::kConnectorNotFound
                         : Outcome::kRateLimited;
    return result;
  }
  if (!limiter_.TryAcquire(key, now, max_sends, window_ms)) {
    result.outcome = Outcome::kRateLimited;
    return result;
  }
  result =
      CreateAndRecord(rc, type, std::move(identifier), address, now, session_bound, session_id);
  if (result.outcome != Outcome::kOk && max_sends != 0) limiter_.Release(key, now);
  return result;
}

SendResult MfaService::AdminSend(IdentifierType type, std::string_view identifier) {
  const ResolvedConfig& rc = config_.Get();
  return CreateAndRecord(rc, type, IdentifierRef::Shared(SharedTextRef(identifier)), identifier,
                         clock_.NowMs());
}

SendResult MfaService::CreateAndRecord(const ResolvedConfig& rc, IdentifierType type,
                                       IdentifierRef identifier, std::string_view address,
                                       int64_t now_ms, bool session_bound,
                                       std::string_view session_id) {
  const Config& c = rc.config;
  SendResult result;
  result.type = type;
  result.code = c.fixed_code ? *c.fixed_code : SecureRandom::NewCode();
  result.identifier = std::string(address);
  result.expires_ms = now_ms + int64_t{c.code_ttl_seconds} * 1000;
  NewRecord record;
  record.code = result.code;
  record.type = type;
  record.identifier = std::move(identifier);
  record.created_ms = now_ms;
  record.ttl_seconds = c.code_ttl_seconds;
  record.identified = true;
  record.session_bound = session_bound;
  for (;;) {
    record.id = NewIndividualId();
    const std::string id = record.id;
    const InsertStatus status = store_.Insert(record);
    if (status == InsertStatus::kFull) {
      result.outcome = Outcome::kStoreFull;
      return result;
    }
    if (status == InsertStatus::kInserted) {
      result.verification_id = id;
      break;
    }
    // kExists: a random 21-char id collided; Insert left `record` intact, draw again.
  }
  InboxMessage message;
  message.type = type;
  message.to = result.identifier;
  message.code = result.code;
  message.verification_id = result.verification_id;
  message.sent_ms = now_ms;
  message.session_id.assign(session_id);
  message.seq = inbox_.Add(message);
  if (sent_hook_) sent_hook_(message);
  result.outcome = Outcome::kOk;
  return result;
}

Outcome MfaService::Verify(IdentifierType type, std::string_view verification_id,
                           std::string_view code) {
  return Verify(type, verification_id, code, VerifyScope{});
}

Outcome MfaService::Verify(IdentifierType type, std::string_view verification_id,
                           std::string_view code, const VerifyScope& scope) {
  const Config& c = config_.Get().config;
  const bool documented = c.profile == Profile::kDocumented;
  if (documented && !c.connector_enabled(type)) return Outcome::kConnectorNotFound;
  const int64_t now = clock_.NowMs();
  Outcome outcome = Outcome::kVerificationNotFound;
  // A generated record: the same checks over its batch's rule and its state word. It is never
  // session-bound, and always identified.
  const bool derived = store_.WithDerived(verification_id, [&](DerivedSlot& slot) {
    DerivedBatch& batch = slot.batch;
    if (batch.rule().type != type || scope.session) return;
    uint32_t w = slot.word.load(std::memory_order_relaxed);
    for (;;) {
      if (DerivedState::Gone(w)) return;  // deleted or swept meanwhile
      if (code.empty() || DerivedState::Consumed(w)) {
        outcome = Outcome::kCodeNotFound;
        return;
      }
      if (now > batch.expires_ms()) {
        outcome = Outcome::kCodeExpired;
        return;
      }
      if (DerivedState::Tries(w) >= c.max_attempts) {
        outcome = Outcome::kExceedMaxTry;
        return;
      }
      const bool match = slot.CodeMatches(code);
      const uint32_t next = match ? batch.ConsumedWord(w, now) : DerivedState::WithFailedTry(w);
      // Another verify of the same id changed the word meanwhile: decide again on the new one.
      if (!slot.word.compare_exchange_weak(w, next)) continue;
      if (match) batch.NoteConsumed(batch.ConsumedMs(next));
      outcome = match ? Outcome::kOk : Outcome::kCodeMismatch;
      return;
    }
  });
  if (derived) return outcome;
  store_.WithRecord(verification_id, [&](Record& r) {
    if (r.type() != type) return;                    // another type's record is "not found"
    if (r.session_bound() != scope.session) return;  // another session's (or open mode's)
    if (!r.identified()) {
      outcome = documented ? Outcome::kIdentifierNotFound : Outcome::kVerificationNotFound;
      return;
    }
    // Logto's withSentinel: the verification runs even while the identifier is blocked (a right
    // code is used up, a wrong one counts a try and a failure), then the sentinel decides: blocked
    // before, or blocked by this very failure, answers blocked.
    std::string sentinel_key;
    int64_t blocked_ms = 0;
    if (scope.sentinel != nullptr && c.lockout.max_failures != 0) {
      sentinel_key = NormalizeRecipient(type, r.identifier.SharedView());
      blocked_ms = scope.sentinel->BlockedFor(sentinel_key, now).value_or(0);
    }
    auto answer_blocked = [&] {
      outcome = Outcome::kVerificationBlocked;
      if (scope.blocked_ms != nullptr) *scope.blocked_ms = blocked_ms;
    };
    // A failure while blocked is not counted (Logto records it with the decision "blocked", which
    // its count leaves out).
    auto fail = [&](Outcome o) {
      outcome = o;
      if (sentinel_key.empty()) return;
      if (blocked_ms > 0) return answer_blocked();
      blocked_ms = scope.sentinel->Fail(sentinel_key, now, c.lockout);
      if (blocked_ms > 0) answer_blocked();
    };
    if (code.empty() || r.consumed()) return fail(Outcome::kCodeNotFound);
    if (now > r.expires_ms()) return fail(Outcome::kCodeExpired);
    if (r.try_count >= c.max_attempts) return fail(Outcome::kExceedMaxTry);
    if (code != r.code.view()) {
      if (r.try_count < UINT16_MAX) ++r.try_count;
      return fail(Outcome::kCodeMismatch);
    }
    // While blocked the code is used up, but the interaction never learns it was verified.
    r.flags |= blocked_ms > 0 ? Record::kConsumed : Record::kConsumed | Record::kVerified;
    // Rounded up so the retention after consumption is never cut short.
    const int64_t age_s = (now - r.created_ms + 999) / 1000;
    r.consumed_after_seconds =
        static_cast<uint32_t>(age_s < 0 ? 0 : (age_s > UINT32_MAX ? UINT32_MAX : age_s));
    if (blocked_ms > 0) return answer_blocked();
    outcome = Outcome::kOk;
  });
  return outcome;
}

SeedResult MfaService::Seed(std::vector<SeedItem> items) {
  const ResolvedConfig& rc = config_.Get();
  const Config& c = rc.config;
  const int64_t now = clock_.NowMs();
  SeedResult result;
  std::vector<NewRecord> records;
  records.reserve(items.size());
  result.records.reserve(items.size());
  for (SeedItem& item : items) {
    NewRecord r;
    r.id = item.verification_id ? *item.verification_id : NewIndividualId();
    r.code = item.code ? *item.code : (c.fixed_code ? *c.fixed_code : SecureRandom::NewCode());
    r.type = item.type;
    if (item.identifier) {
      r.identifier = IdentifierRef::Shared(SharedTextRef(*item.identifier));
    } else {
      r.identifier = IdentifierRef::Shared(rc.default_address_text(item.type));
    }
    r.created_ms = now;
    r.ttl_seconds = item.ttl_seconds ? *item.ttl_seconds : c.code_ttl_seconds;
    r.identified = item.identified;
    result.records.push_back(SeededRecord{
        r.id, r.type, item.identifier ? *item.identifier : c.default_address(item.type), r.code,
        now + int64_t{r.ttl_seconds} * 1000});
    records.push_back(std::move(r));
  }
  const BulkInsertResult inserted = store_.InsertAll(records);
  if (inserted.status != InsertStatus::kInserted) {
    result.outcome =
        inserted.status == InsertStatus::kFull ? Outcome::kStoreFull : Outcome::kInvalidInput;
    result.failed_index = inserted.failed_index;
    result.records.clear();
  }
  return result;
}

GenerateResult MfaService::Generate(const GenerateSpec& spec) {
  const ResolvedConfig& rc = config_.Get();
  const Config& c = rc.config;
  GenerateResult result;
  if (spec.derived) {
    DerivedSpec derived = DerivedSpecFor(spec, c, clock_.NowMs());
    result.batch_id = derived.id;
    if (store_.GenerateDerived(std::move(derived)) == 0) {
      result.outcome = Outcome::kStoreFull;
      return result;
    }
    result.created = spec.count;
    return result;
  }
  Batch batch;
  batch.id = "b_" + SecureRandom::NewId();
  batch.type = spec.type;
  batch.pattern = spec.identifier_pattern ? *spec.identifier_pattern : c.default_address(spec.type);
  result.batch_id = batch.id;
  const uint32_t handle = store_.RegisterBatch(std::move(batch));
  const std::string fixed = spec.code ? *spec.code : (c.fixed_code ? *c.fixed_code : "");
  const uint32_t ttl = spec.ttl_seconds ? *spec.ttl_seconds : c.code_ttl_seconds;
  if (!store_.Generate(handle, spec.count, fixed, clock_.NowMs(), ttl, /*identified=*/true)) {
    result.outcome = Outcome::kStoreFull;
    return result;
  }
  result.created = spec.count;
  return result;
}

size_t MfaService::SweepOnce() {
  const int64_t now = clock_.NowMs();
  const size_t removed = store_.Sweep(now, options_.retention_ms);
  const Config& c = config_.Get().config;
  limiter_.Sweep(now, int64_t{c.send_rate_limit.window_seconds} * 1000);
  if (sweep_hook_) sweep_hook_();
  return removed;
}

void MfaService::StartSweeper(std::chrono::milliseconds interval) {
  StopSweeper();
  {
    std::lock_guard<std::mutex> lock(sweeper_mu_);
    sweeper_stop_ = false;
  }
  sweeper_ = std::thread([this, interval] {
    std::unique_lock<std::mutex> lock(sweeper_mu_);
    while (!sweeper_cv_.wait_for(lock, interval, [this] { return sweeper_stop_; })) {
      lock.unlock();
      SweepOnce();
      lock.lock();
    }
  });
}

void MfaService::StopSweeper() {
  {
    std::lock_guard<std::mutex> lock(sweeper_mu_);
    sweeper_stop_ = true;
  }
  sweeper_cv_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

size_t MfaService::ClearVerifications() {
  const size_t deleted = store_.Clear();
  limiter_.Clear();
  return deleted;
}

MessageState StateOf(const RecordSnapshot* record, int64_t now_ms, uint32_t max_attempts) {
  if (record == nullptr) return MessageState::kGone;
  if (record->verified) return MessageState::kVerified;
  if (now_ms > record->expires_ms) return MessageState::kExpired;
  if (record->try_count >= max_attempts) return MessageState::kLocked;
  return MessageState::kPending;
}

MessageState MfaService::StateOf(const InboxMessage& message) const {
  if (message.verification_id.empty()) return MessageState::kExternal;
  const std::optional<RecordSnapshot> record = store_.Get(message.verification_id);
  return mfa::StateOf(record ? &*record : nullptr, clock_.NowMs(),
                      config_.Get().config.max_attempts);
}

uint64_t MfaService::RecordExternalMessage(InboxMessage message) {
  message.seq = inbox_.Add(message);
  if (sent_hook_) sent_hook_(message);
  return message.seq;
}

std::string_view ToString(MessageState state) {
  switch (state) {
    case MessageState::kPending:
      return "pending";
    case MessageState::kVerified:
      return "verified";
    case MessageState::kExpired:
      return "expired";
    case MessageState::kLocked:
      return "locked";
    case MessageState::kExternal:
      return "external";
    case MessageState::kGone:
      break;
  }
  return "gone";
}

}  // namespace mfa
