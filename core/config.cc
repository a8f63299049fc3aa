// SPDX-License-Identifier: Apache-2.0
#include "core/config.h"

namespace mfa {
namespace {

// Unique across every ConfigStore of the process, so a thread's cache never confuses two stores.
std::atomic<uint64_t> next_version{1};

bool AllDigits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

std::string_view ToString(SessionMode mode) {
  switch (mode) {
    case SessionMode::kOff:
      return "off";
    case SessionMode::kOptional:
      return "optional";
    case SessionMode::kRequired:
      return "required";
  }
  return "optional";
}

std::optional<SessionMode> ParseSessionMode(std::string_view s) {
  if (s == "off") return SessionMode::kOff;
  if (s == "optional") return SessionMode::kOptional;
  if (s == "required") return SessionMode::kRequired;
  return std::nullopt;
}

std::string ValidateConfig(const Config& c) {
  if (c.strict && (c.profile != Profile::kLogto || c.sessions != SessionMode::kRequired)) {
    return "profile must be logto and sessions required while the mock is strict (--strict).";
  }
  if (c.code_ttl_seconds < 1 || c.code_ttl_seconds > kMaxTtlSeconds) {
    return "codeTtlSeconds must be between 1 and " + std::to_string(kMaxTtlSeconds) + ".";
  }
  if (c.max_attempts < 1 || c.max_attempts > kMaxAttemptsLimit) {
    return "maxAttempts must be between 1 and " + std::to_string(kMaxAttemptsLimit) + ".";
  }
  if (c.send_rate_limit.max_sends > kMaxSendsLimit) {
    return "sendRateLimit.maxSends must be between 0 and " + std::to_string(kMaxSendsLimit) + ".";
  }
  if (c.send_rate_limit.window_seconds < 1 || c.send_rate_limit.window_seconds > kMaxTtlSeconds) {
    return "sendRateLimit.windowSeconds must be between 1 and " + std::to_string(kMaxTtlSeconds) +
           ".";
  }
  if (c.fixed_code && (!AllDigits(*c.fixed_code) || c.fixed_code->size() > kMaxFixedCodeLength)) {
    return "fixedCode must be null or 1 to 32 decimal digits.";
  }
  if (c.session_ttl_seconds < 1 || c.session_ttl_seconds > kMaxTtlSeconds) {
    return "sessionTtlSeconds must be between 1 and " + std::to_string(kMaxTtlSeconds) + ".";
  }
  if (c.lockout.max_failures > kMaxSendsLimit) {
    return "lockout.maxFailures must be between 0 and " + std::to_string(kMaxSendsLimit) + ".";
  }
  if (c.lockout.window_seconds < 1 || c.lockout.window_seconds > kMaxTtlSeconds ||
      c.lockout.duration_seconds < 1 || c.lockout.duration_seconds > kMaxTtlSeconds) {
    return "lockout.windowSeconds and lockout.durationSeconds must be between 1 and " +
           std::to_string(kMaxTtlSeconds) + ".";
  }
  for (const FaultRule* rule : {&c.faults.send, &c.faults.verify}) {
    // A held answer must reach its client before the public listener's keep-alive (30 s) closes
    // the connection it waits on.
    if (rule->delay_min_ms > rule->delay_max_ms || rule->delay_max_ms > kMaxFaultDelayMs) {
      return "faults: delayMs must satisfy 0 <= min <= max <= 25000.";
    }
    if (!(rule->error_rate >= 0 && rule->error_rate <= 1) ||
        !(rule->reset_rate >= 0 && rule->reset_rate <= 1) ||
        rule->error_rate + rule->reset_rate > 1) {
      return "faults: rates must be between 0 and 1 and add up to at most 1.";
    }
    if (rule->error_status < 400 || rule->error_status > 599) {
      return "faults: error.status must be between 400 and 599.";
    }
  }
  if (c.default_user.email.size() > 254) return "defaultUser.email is longer than 254 characters.";
  if (c.default_user.phone.size() > 64) return "defaultUser.phone is longer than 64 characters.";
  return {};
}

std::shared_ptr<const ResolvedConfig> ConfigStore::Resolve(Config config) {
  auto resolved = std::make_shared<ResolvedConfig>();
  resolved->default_email = SharedTextRef(config.default_user.email);
  resolved->default_phone = SharedTextRef(config.default_user.phone);
  resolved->config = std::move(config);
  return resolved;
}

ConfigStore::ConfigStore(Config initial)
    : current_(Resolve(std::move(initial))), version_(next_version.fetch_add(1)) {}

const ResolvedConfig& ConfigStore::Get() const {
  struct Cache {
    const ConfigStore* owner = nullptr;
    uint64_t version = 0;
    std::shared_ptr<const ResolvedConfig> config;
  };
  thread_local Cache cache;
  const uint64_t version = version_.load(std::memory_order_acquire);
  if (cache.owner != this || cache.version != version) {
    std::lock_guard<std::mutex> lock(mu_);
    cache.config = current_;
    cache.version = version_.load(std::memory_order_relaxed);
    cache.owner = this;
  }
  return *cache.config;
}

std::shared_ptr<const ResolvedConfig> ConfigStore::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

void ConfigStore::Replace(Config config) {
  auto resolved = Resolve(std::move(config));
  std::lock_guard<std::mutex> lock(mu_);
  current_ = std::move(resolved);
  version_.store(next_version.fetch_add(1), std::memory_order_release);
}

Config ConfigStore::Update(const std::function<bool(Config*)>& patch) {
  std::lock_guard<std::mutex> lock(update_mu_);
  Config config = Snapshot()->config;
  if (!patch(&config)) return Snapshot()->config;
  Replace(config);
  return config;
}

}  // namespace mfa
