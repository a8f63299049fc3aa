// SPDX-License-Identifier: Apache-2.0
#include "core/sessions.h"

#include <algorithm>

#include "core/recipient.h"
#include "core/secure_random.h"

namespace mfa {

bool UserDirectory::Add(User user) {
  std::lock_guard<std::mutex> lock(mu_);
  return users_.emplace(user.id, user).second;
}

std::optional<User> UserDirectory::Get(std::string_view id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = users_.find(std::string(id));
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

std::optional<User> UserDirectory::Find(SignInIdentifier type, std::string_view value) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [id, user] : users_) {
    if (UserMatches(user, type, value)) return user;
  }
  return std::nullopt;
}

bool UserDirectory::Remove(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  return users_.erase(std::string(id)) > 0;
}

bool UserDirectory::UseTotpStep(std::string_view id, int64_t step) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = users_.find(std::string(id));
  if (it == users_.end() || it->second.totp_secret.empty()) return false;
  if (step <= it->second.totp_last_step) return false;
  it->second.totp_last_step = step;
  return true;
}

bool UserDirectory::UseBackupCode(std::string_view id, std::string_view code) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = users_.find(std::string(id));
  if (it == users_.end()) return false;
  for (BackupCode& c : it->second.backup_codes) {
    if (!c.used && c.code == code) {
      c.used = true;
      return true;
    }
  }
  return false;
}

std::vector<User> UserDirectory::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<User> out;
  for (const auto& [id, user] : users_) out.push_back(user);
  std::sort(out.begin(), out.end(), [](const User& a, const User& b) { return a.id < b.id; });
  return out;
}

void UserDirectory::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  users_.clear();
}

std::string_view ToString(InteractionEvent event) {
  switch (event) {
    case InteractionEvent::kSignIn:
      return "SignIn";
    case InteractionEvent::kRegister:
      return "Register";
    case InteractionEvent::kForgotPassword:
      return "ForgotPassword";
  }
  return "SignIn";
}

std::optional<InteractionEvent> ParseInteractionEvent(std::string_view s) {
  if (s == "SignIn") return InteractionEvent::kSignIn;
  if (s == "Register") return InteractionEvent::kRegister;
  if (s == "ForgotPassword") return InteractionEvent::kForgotPassword;
  return std::nullopt;
}

Session SessionStore::Create(int64_t now_ms, int64_t ttl_ms, bool interaction_started,
                             InteractionEvent event, std::string user_id, std::string redirect_to) {
  Session s;
  s.redirect_to = std::move(redirect_to);
  s.expires_ms = now_ms + ttl_ms;
  s.interaction_started = interaction_started;
  s.event = event;
  s.user_id = std::move(user_id);
  std::lock_guard<std::mutex> lock(mu_);
  do {
    s.id = SecureRandom::NewId();
  } while (sessions_.count(s.id) != 0);
  sessions_.emplace(s.id, s);
  return s;
}

std::optional<Session> SessionStore::Get(std::string_view id, int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end() || it->second.expires_ms <= now_ms) return std::nullopt;
  return it->second;
}

std::optional<Session> SessionStore::Take(std::string_view id, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end() || it->second.expires_ms <= now_ms) return std::nullopt;
  Session taken = std::move(it->second);
  sessions_.erase(it);
  return taken;
}

bool SessionStore::Remove(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.erase(std::string(id)) > 0;
}

namespace {

void CollectRecords(const Session& s, std::vector<std::string>* records) {
  if (records == nullptr) return;
  for (const std::string& id : s.record_ids) {
    if (!id.empty()) records->push_back(id);
  }
}

}  // namespace

size_t SessionStore::Sweep(int64_t now_ms, std::vector<std::string>* records) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t removed = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (it->second.expires_ms <= now_ms) {
      CollectRecords(it->second, records);
      it = sessions_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

size_t SessionStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

size_t SessionStore::Clear(std::vector<std::string>* records) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t ended = sessions_.size();
  for (const auto& [id, session] : sessions_) CollectRecords(session, records);
  sessions_.clear();
  return ended;
}

std::optional<int64_t> Sentinel::BlockedFor(std::string_view key, int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = blocked_until_.find(std::string(key));
  if (it == blocked_until_.end() || it->second <= now_ms) return std::nullopt;
  return it->second - now_ms;
}

bool Sentinel::RecordFailure(std::string_view key, int64_t now_ms, uint32_t threshold,
                             int64_t window_ms, int64_t block_ms) {
  if (threshold == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<int64_t>& times = failures_[std::string(key)];
  times.erase(times.begin(), std::upper_bound(times.begin(), times.end(), now_ms - window_ms));
  times.push_back(now_ms);
  if (times.size() >= threshold) {
    blocked_until_[std::string(key)] = now_ms + block_ms;
    times.clear();
    return true;
  }
  return false;
}

int64_t Sentinel::Fail(std::string_view key, int64_t now_ms, const LockoutPolicy& policy) {
  const int64_t block_ms = int64_t{policy.duration_seconds} * 1000;
  const bool blocked = RecordFailure(key, now_ms, policy.max_failures,
                                     int64_t{policy.window_seconds} * 1000, block_ms);
  return blocked ? block_ms : 0;
}

size_t Sentinel::Sweep(int64_t now_ms, int64_t window_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t removed = 0;
  for (auto it = failures_.begin(); it != failures_.end();) {
    if (it->second.empty() || it->second.back() <= now_ms - window_ms) {
      it = failures_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  for (auto it = blocked_until_.begin(); it != blocked_until_.end();) {
    it = it->second <= now_ms ? blocked_until_.erase(it) : std::next(it);
  }
  return removed;
}

void Sentinel::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.clear();
  blocked_until_.clear();
}

}  // namespace mfa
