// SPDX-License-Identifier: Apache-2.0
// The experience flow of real Logto inside interaction sessions: start an interaction, identify
// a user, send and verify MFA codes bound to the session, with the sentinel's lockout.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/mfa_service.h"
#include "core/sessions.h"

namespace mfa {

struct InteractionRecordView {
  std::string id;
  IdentifierType type;
  std::string identifier;
  bool verified;
};

struct InteractionView {
  InteractionEvent event;
  std::string user_id;  // empty = not identified
  std::vector<InteractionRecordView> records;
};

// Thread-safe (all state is in the thread-safe parts it is given). Session state and the
// record store are updated in separate steps; a session's own requests are sequential in
// practice (one browser tab), and a race between two of them resolves as "last send wins".
class SessionService {
 public:
  SessionService(MfaService& mfa, SessionStore& sessions, UserDirectory& users, Sentinel& sentinel)
      : mfa_(mfa), sessions_(sessions), users_(users), sentinel_(sentinel) {}

  // Step 1 of send and verify: kOk, kSessionNotFound (unknown or expired) or
  // kInteractionNotFound (no PUT /api/experience yet).
  Outcome Check(std::string_view session_id) const;
  SendResult Send(std::string_view session_id, IdentifierType type);
  Outcome Verify(std::string_view session_id, IdentifierType type, std::string_view record_id,
                 std::string_view code, int64_t* blocked_ms);

  // PUT /api/experience: creates a session when `session_id` is empty or unknown; otherwise
  // starts a new interaction in it (its records are deleted and identification is cleared).
  // Returns the session id and whether it is new.
  std::pair<std::string, bool> StartInteraction(std::string_view session_id,
                                                InteractionEvent event);
  std::optional<InteractionView> View(std::string_view session_id) const;
  // The records of `session`'s interaction that still exist.
  std::vector<InteractionRecordView> RecordsOf(const Session& session) const;

  // Admin: a session, optionally identified and with an interaction already started.
  Session CreateSession(std::string user_id, bool start_interaction, InteractionEvent event);
  // Admin: marks the session's user. kSessionNotFound, kIdentifierNotFound (no such user), kOk.
  Outcome Identify(std::string_view session_id, std::string_view user_id);

  // The sign-in flow's steps (see InteractionStore).
  Session StartAuthorization(std::string redirect_to);
  Outcome SetPasswordRecord(std::string_view session_id, PasswordRecord record);
  // `factor`: kTotp or kBackupCode.
  Outcome SetMfaRecord(std::string_view session_id, MfaFactor factor, MfaRecord record);
  Outcome EndSession(std::string_view session_id);
  // One failure of `key` under the config's lockout policy: the block it started in ms, or 0.
  int64_t SentinelFail(std::string_view key);

  size_t Sweep();
  // Admin: ends every session and forgets every lockout. Returns the sessions ended.
  size_t ClearSessions();
  int64_t NowMs() const { return mfa_.clock().NowMs(); }
  SessionStore& sessions() { return sessions_; }
  UserDirectory& users() { return users_; }
  Sentinel& sentinel() { return sentinel_; }

 private:
  int64_t TtlMs() const;

  MfaService& mfa_;
  SessionStore& sessions_;
  UserDirectory& users_;
  Sentinel& sentinel_;
};

}  // namespace mfa
