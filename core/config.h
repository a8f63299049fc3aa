// SPDX-License-Identifier: Apache-2.0
// Run-time policy: everything PATCH /admin/config can change.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/compact_text.h"
#include "core/sign_in.h"
#include "core/types.h"

namespace mfa {

struct DefaultUser {
  std::string email = "user@example.com";  // empty = the user has no email
  std::string phone = "+15555550100";      // empty = the user has no phone
  bool identified = true;
};

struct SendRateLimit {
  uint32_t max_sends = 10;  // 0 = off
  uint32_t window_seconds = 600;
};

// How public requests relate to Logto's interaction sessions (the _interaction cookie).
enum class SessionMode : uint8_t { kOff, kOptional, kRequired };
std::string_view ToString(SessionMode mode);
std::optional<SessionMode> ParseSessionMode(std::string_view s);

// Logto's sentinel: failed verifications per identifier within a window block it for a while.
struct LockoutPolicy {
  uint32_t max_failures = 100;  // 0 = off
  uint32_t window_seconds = 3600;
  uint32_t duration_seconds = 3600;
};

// Deliberate misbehaviour of one public route, for testing clients (off when all zero).
struct FaultRule {
  uint32_t delay_min_ms = 0;  // each answer waits uniform [min, max] ms (deferred, not slept)
  uint32_t delay_max_ms = 0;
  double error_rate = 0;  // probability of answering the error below instead
  int error_status = 500;
  std::string error_code = "unexpected";
  std::string error_message = "Injected fault.";
  double reset_rate = 0;  // probability of resetting the connection without an answer
  bool active() const { return delay_max_ms > 0 || error_rate > 0 || reset_rate > 0; }
};

struct Faults {
  FaultRule send;
  FaultRule verify;
  bool any() const { return send.active() || verify.active(); }
};

// The longest injected delay: a held answer must be sent before the public listener's keep-alive
// timeout (30 s) closes its connection.
inline constexpr uint32_t kMaxFaultDelayMs = 25'000;

struct Config {
  Profile profile = Profile::kDocumented;
  uint32_t code_ttl_seconds = 600;
  uint32_t max_attempts = 10;
  bool email_connector = true;
  bool phone_connector = true;
  SendRateLimit send_rate_limit;
  std::optional<std::string> fixed_code;  // digits; nullopt = random codes
  DefaultUser default_user;
  SessionMode sessions = SessionMode::kOptional;
  uint32_t session_ttl_seconds = 3600;
  LockoutPolicy lockout;
  Faults faults;
  // The sign-in flow around the MFA step.
  MfaSettings mfa;
  std::string sign_in_url = "/sign-in";  // GET /oidc/auth redirects here
  std::string sign_in_redirect = "/";    // submit's redirectTo without /oidc/auth's redirect_uri
  // --strict: every leniency Logto does not have is off (core/deviation.h). Requires the logto
  // profile and required sessions; the body parser reads JSON only with a JSON Content-Type, and
  // PUT /api/experience no longer creates sessions.
  bool strict = false;

  bool connector_enabled(IdentifierType type) const {
    return type == IdentifierType::kEmail ? email_connector : phone_connector;
  }
  const std::string& default_address(IdentifierType type) const {
    return type == IdentifierType::kEmail ? default_user.email : default_user.phone;
  }
};

inline constexpr uint32_t kMaxTtlSeconds = 10u * 365 * 24 * 3600;  // ten years
inline constexpr uint32_t kMaxAttemptsLimit = 1000;
inline constexpr uint32_t kMaxSendsLimit = 100000;
inline constexpr size_t kMaxFixedCodeLength = 32;

// Empty if `config` is valid; otherwise one sentence naming the first bad field.
std::string ValidateConfig(const Config& config);

// A config plus the shared address texts records point at.
struct ResolvedConfig {
  Config config;
  SharedTextRef default_email;
  SharedTextRef default_phone;
  const SharedTextRef& default_address_text(IdentifierType type) const {
    return type == IdentifierType::kEmail ? default_email : default_phone;
  }
};

// Thread-safe holder of the current config. Readers on the request path do not lock: each thread
// caches the snapshot and re-reads it (under `mu_`) only when the atomic version has moved.
// `mu_` guards `current_`.
class ConfigStore {
 public:
  explicit ConfigStore(Config initial);
  ConfigStore(const ConfigStore&) = delete;
  ConfigStore& operator=(const ConfigStore&) = delete;

  // The current snapshot. The reference stays valid until this thread's next Get().
  const ResolvedConfig& Get() const;
  // An owning snapshot, for callers that hold it across calls.
  std::shared_ptr<const ResolvedConfig> Snapshot() const;
  // REQUIRES: ValidateConfig(config) is empty. Visible to every Get() that starts after return.
  void Replace(Config config);
  // Read-modify-write, serialised with every other Update so concurrent patches do not lose
  // each other: `patch` edits a copy of the current config and returns false to leave it
  // unchanged (it must validate what it accepts). Returns the config in force afterwards.
  Config Update(const std::function<bool(Config*)>& patch);

 private:
  static std::shared_ptr<const ResolvedConfig> Resolve(Config config);

  std::mutex update_mu_;  // serialises Update (held while `patch` runs, outside mu_)
  mutable std::mutex mu_;
  std::shared_ptr<const ResolvedConfig> current_;  // GUARDED_BY(mu_)
  std::atomic<uint64_t> version_;
};

}  // namespace mfa
