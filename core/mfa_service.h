// SPDX-License-Identifier: Apache-2.0
// The MFA verification-code domain: Logto's send and verify check order, plus the admin
// operations that seed, inspect and reset state.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/inbox.h"
#include "core/outcome.h"
#include "core/send_rate_limiter.h"
#include "core/verification_store.h"

namespace mfa {

struct ServiceOptions {
  size_t inbox_capacity = 1000;
  // Expired or consumed records stay answerable (expired / not_found) this long before the
  // sweeper removes them; after that their id answers 404.
  int64_t retention_ms = 600'000;
};

struct SendResult {
  Outcome outcome = Outcome::kInternal;
  std::string verification_id;
  std::string code;
  std::string identifier;
  IdentifierType type = IdentifierType::kEmail;
  int64_t expires_ms = 0;
};

// One record to seed through the admin API or a seed file; absent fields take the policy default.
struct SeedItem {
  std::optional<std::string> verification_id;
  IdentifierType type = IdentifierType::kEmail;
  std::optional<std::string> identifier;
  std::optional<std::string> code;
  std::optional<uint32_t> ttl_seconds;
  bool identified = true;
};

struct SeededRecord {
  std::string verification_id;
  IdentifierType type;
  std::string identifier;
  std::string code;
  int64_t expires_ms;
};

struct SeedResult {
  Outcome outcome = Outcome::kOk;  // kOk, kInvalidInput (duplicate id) or kStoreFull
  size_t failed_index = 0;
  std::vector<SeededRecord> records;
};

struct GenerateSpec {
  uint32_t count = 0;
  // A derived batch (rule + state words, core/derived_batch.h), or one stored record per code.
  bool derived = true;
  IdentifierType type = IdentifierType::kEmail;
  std::optional<std::string> identifier_pattern;  // "{n}" = sequence number from 1
  std::optional<uint32_t> ttl_seconds;
  std::optional<std::string> code;
};

struct GenerateResult {
  Outcome outcome = Outcome::kOk;  // kOk or kStoreFull
  uint32_t created = 0;
  std::string batch_id;
};

// The rule of a derived batch for `spec` made now: a fresh batch id, and the configured defaults
// for what the spec leaves out (identifier pattern, TTL, code). Every store builds it this way.
DerivedSpec DerivedSpecFor(const GenerateSpec& spec, const Config& config, int64_t now_ms);

class Sentinel;

// Contract §4 steps 3-4 in open mode: the configured default user must be identified and have an
// address for `type`. kOk (with *address set), kIdentifierNotFound or kFactorNotEnabled.
Outcome OpenModeRecipient(const Config& config, IdentifierType type, std::string* address);

// What became of a sent code: pending, verified, expired, locked (no tries left) or gone
// (deleted, swept, or replaced by a newer send in its session); external: a message a real Logto
// posted to an HTTP connector route, whose code mfa-mock does not hold.
enum class MessageState : uint8_t { kPending, kVerified, kExpired, kLocked, kGone, kExternal };
std::string_view ToString(MessageState state);
// The state of a record read now; nullptr = no such record.
MessageState StateOf(const RecordSnapshot* record, int64_t now_ms, uint32_t max_attempts);

// Extra rules for a verify made inside an interaction session.
struct VerifyScope {
  bool session = false;           // the record must be session-bound (and open mode: must not be)
  Sentinel* sentinel = nullptr;   // lockout: fed with failures; blocked answers after the checks
  int64_t* blocked_ms = nullptr;  // out: remaining block when kVerificationBlocked
};

// Called after every successful send (public or admin), outside any store lock.
using SentHook = std::function<void(const InboxMessage&)>;

// Thread-safe: all state lives in the thread-safe parts it is given. The sweeper thread, when
// started, is owned here and joined by StopSweeper() or the destructor.
class MfaService {
 public:
  MfaService(ConfigStore& config, VerificationStore& store, Inbox& inbox, SendRateLimiter& limiter,
             const Clock& clock, ServiceOptions options = {});
  ~MfaService();
  MfaService(const MfaService&) = delete;
  MfaService& operator=(const MfaService&) = delete;

  // Public send in open mode: the configured default user. Contract §4, steps 3-7.
  SendResult Send(IdentifierType type);
  // Public verify in open mode. Contract §3, steps 3-9, plus the documented profile's checks.
  Outcome Verify(IdentifierType type, std::string_view verification_id, std::string_view code);
  Outcome Verify(IdentifierType type, std::string_view verification_id, std::string_view code,
                 const VerifyScope& scope);
  // Contract §4 steps 5-7 for a known recipient: rate limit, connector, new record, inbox.
  // `session_id`: the interaction session it is sent in, kept with the inbox message.
  SendResult SendTo(IdentifierType type, std::string_view address, bool session_bound,
                    std::string_view session_id = {});

  // Admin: a send to any recipient; no identification, factor, limit or connector checks.
  SendResult AdminSend(IdentifierType type, std::string_view identifier);
  // Admin: all-or-nothing insert. A duplicate id answers kInvalidInput with its index.
  SeedResult Seed(std::vector<SeedItem> items);
  GenerateResult Generate(const GenerateSpec& spec);

  void set_sent_hook(SentHook hook) { sent_hook_ = std::move(hook); }
  // Extra work for each sweep pass (e.g. expiring sessions). Set before StartSweeper().
  void set_sweep_hook(std::function<void()> hook) { sweep_hook_ = std::move(hook); }

  // One sweep pass now. Returns the records removed.
  size_t SweepOnce();
  void StartSweeper(std::chrono::milliseconds interval);
  void StopSweeper();

  // Resets the send limiter's memory (with DELETE /admin/verifications).
  void ResetLimits() { limiter_.Clear(); }
  // Deletes every record and the send limiter's memory. Returns the records deleted.
  size_t ClearVerifications();
  // What became of a sent code, read from the store now.
  MessageState StateOf(const InboxMessage& message) const;
  // Records a message no send of this service made (a real Logto's HTTP connector): adds it to
  // the inbox and tells the sent hook. Returns its cursor.
  uint64_t RecordExternalMessage(InboxMessage message);

  ConfigStore& config() { return config_; }
  VerificationStore& store() { return store_; }
  Inbox& inbox() { return inbox_; }
  const Clock& clock() const { return clock_; }

 private:
  SendResult LimitedSend(const ResolvedConfig& rc, IdentifierType type, IdentifierRef identifier,
                         std::string_view address, bool session_bound,
                         std::string_view session_id = {});
  SendResult CreateAndRecord(const ResolvedConfig& rc, IdentifierType type,
                             IdentifierRef identifier, std::string_view address, int64_t now_ms,
                             bool session_bound = false, std::string_view session_id = {});

  ConfigStore& config_;
  VerificationStore& store_;
  Inbox& inbox_;
  SendRateLimiter& limiter_;
  const Clock& clock_;
  ServiceOptions options_;
  SentHook sent_hook_;
  std::function<void()> sweep_hook_;

  std::mutex sweeper_mu_;
  std::condition_variable sweeper_cv_;
  bool sweeper_stop_ = false;  // GUARDED_BY(sweeper_mu_)
  std::thread sweeper_;
};

}  // namespace mfa
