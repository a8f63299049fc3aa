// SPDX-License-Identifier: Apache-2.0
// Logto's interaction sessions, the users they identify, and the sign-in sentinel (lockout).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.h"
#include "core/sign_in.h"
#include "core/types.h"

namespace mfa {

// One of a user's backup codes (Logto's format: 10 of [0-9a-f], compared exactly); one-time.
struct BackupCode {
  std::string code;
  bool used = false;
};

struct User {
  std::string id;
  std::string username;
  std::string primary_email;  // empty = none
  std::string primary_phone;  // empty = none
  std::string password;       // empty = cannot sign in with a password
  // The MFA factors Logto stores with a user (mfaVerifications). A TOTP secret is base32
  // (IsValidTotpSecret); its last used time step stops a code from being used twice.
  std::string totp_secret;               // empty = no TOTP factor
  int64_t totp_last_step = -1;           // -1 = never used
  std::vector<BackupCode> backup_codes;  // empty = no backup-code factor
};

// Thread-safe: `mu_` guards the map. Users are read on the send path of sessions only.
class UserDirectory {
 public:
  // False if the id is taken. `user.id` must be set.
  bool Add(User user);
  std::optional<User> Get(std::string_view id) const;
  // The user Logto's findUserByIdentifier finds (UserMatches), or nullopt.
  std::optional<User> Find(SignInIdentifier type, std::string_view value) const;
  bool Remove(std::string_view id);
  // Records `step` as the user's last used TOTP step when it is later than the last one (Logto
  // refuses a code of the same or an earlier step). False when refused, or no such user or TOTP.
  bool UseTotpStep(std::string_view id, int64_t step);
  // Marks the user's unused backup code `code` used; false when there is none such.
  bool UseBackupCode(std::string_view id, std::string_view code);
  std::vector<User> List() const;
  void Clear();

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, User> users_;  // GUARDED_BY(mu_)
};

enum class InteractionEvent : uint8_t { kSignIn, kRegister, kForgotPassword };
std::string_view ToString(InteractionEvent event);
std::optional<InteractionEvent> ParseInteractionEvent(std::string_view s);

struct Session {
  std::string id;
  int64_t expires_ms = 0;
  bool interaction_started = false;
  InteractionEvent event = InteractionEvent::kSignIn;
  std::string user_id;                           // empty = not identified
  std::string record_ids[kIdentifierTypeCount];  // current MFA code record per type
  PasswordRecord password;                       // POST /verification/password's record
  MfaRecord totp;                                // a verified TOTP record (id empty = none)
  MfaRecord backup_code;                         // a verified backup-code record
  std::string redirect_to;  // submit's redirectTo (from /oidc/auth); "" = config
};

// Thread-safe: `mu_` guards the map. Sessions serve interactive sign-in flows (a handful of
// requests per user), so one mutex is enough; the verify hot path of load tests (open mode)
// never touches it.
class SessionStore {
 public:
  // A fresh session with a secure random id.
  Session Create(int64_t now_ms, int64_t ttl_ms, bool interaction_started, InteractionEvent event,
                 std::string user_id, std::string redirect_to = {});
  // The live session, or nullopt if unknown or expired.
  std::optional<Session> Get(std::string_view id, int64_t now_ms) const;
  // Applies `fn(Session&)` under the lock; false if unknown or expired.
  template <typename Fn>
  bool Update(std::string_view id, int64_t now_ms, Fn&& fn) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(std::string(id));
    if (it == sessions_.end() || it->second.expires_ms <= now_ms) return false;
    fn(it->second);
    return true;
  }
  bool Remove(std::string_view id);
  // Removes and returns the live session; nullopt if unknown or expired.
  std::optional<Session> Take(std::string_view id, int64_t now_ms);
  // Removes the expired sessions (every session); appends their records' ids to *records (if not
  // null), which live as long as their session. Returns the sessions removed.
  size_t Sweep(int64_t now_ms, std::vector<std::string>* records = nullptr);
  size_t size() const;
  size_t Clear(std::vector<std::string>* records = nullptr);

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;  // GUARDED_BY(mu_)
};

// Failed verifications per identifier value in a sliding window; at the threshold the identifier
// is blocked for a while. Thread-safe: `mu_` guards both maps.
class Sentinel {
 public:
  // If blocked now, returns the remaining block in ms.
  std::optional<int64_t> BlockedFor(std::string_view key, int64_t now_ms) const;
  // Records one failure; blocks the key when `threshold` failures fall within `window_ms`.
  // Returns true when this failure blocked it.
  bool RecordFailure(std::string_view key, int64_t now_ms, uint32_t threshold, int64_t window_ms,
                     int64_t block_ms);
  // One failure under `policy`: the block it started in ms, or 0.
  int64_t Fail(std::string_view key, int64_t now_ms, const LockoutPolicy& policy);
  size_t Sweep(int64_t now_ms, int64_t window_ms);
  void Clear();

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::vector<int64_t>> failures_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, int64_t> blocked_until_;          // GUARDED_BY(mu_)
};

}  // namespace mfa
