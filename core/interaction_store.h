// SPDX-License-Identifier: Apache-2.0
// The seam between the routes of interaction sessions (the _interaction cookie, the admin API's
// users and sessions) and where their state lives: sessions, the users they identify and the
// sign-in sentinel's lockout. Two implementations: in this process (MemoryInteractionStore, over
// SessionService; it answers before the call returns) and in Redis (redis/RedisInteractionStore;
// it answers later), so an _interaction cookie from one node works on every node.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/code_store.h"
#include "core/session_service.h"
#include "core/sessions.h"

namespace mfa {

// A session verify's answer: `blocked_ms` is the remaining block when kVerificationBlocked.
struct SessionVerifyResult {
  Outcome outcome = Outcome::kOk;
  int64_t blocked_ms = 0;
};

// PUT /api/experience's answer: the session the interaction runs in, and whether it is new.
struct StartedInteraction {
  std::string session_id;
  bool created = false;
};

// A live session with the records of its interaction that still exist.
struct SessionView {
  Session session;
  std::vector<InteractionRecordView> records;
};

// Thread-safe (every implementation): any Pistache worker calls it; completions may run on
// another thread, exactly once, and must not block. Strings are copied before a call returns.
// Every Outcome and StoreAnswer may also be kStoreUnavailable or kStoreBusy.
class InteractionStore {
 public:
  virtual ~InteractionStore() = default;

  // Step 1 of send and verify: kOk, kSessionNotFound (unknown or expired) or
  // kInteractionNotFound (no PUT /api/experience yet).
  virtual void Check(std::string_view session_id, Done<Outcome> done) = 0;
  // Send and verify inside a session, step 1 included (as SessionService).
  virtual void Send(std::string_view session_id, IdentifierType type, Done<SendResult> done) = 0;
  virtual void Verify(std::string_view session_id, IdentifierType type, std::string_view record_id,
                      std::string_view code, Done<SessionVerifyResult> done) = 0;
  // PUT /api/experience (see SessionService::StartInteraction).
  virtual void StartInteraction(std::string_view session_id, InteractionEvent event,
                                Done<StoreAnswer<StartedInteraction>> done) = 0;
  // The live session (interaction started or not), or nullopt.
  virtual void View(std::string_view session_id,
                    Done<StoreAnswer<std::optional<SessionView>>> done) = 0;

  // Admin: a session, optionally identified and with an interaction already started. The user
  // must exist: else the answer's outcome is kIdentifierNotFound.
  virtual void CreateSession(std::string user_id, bool start_interaction, InteractionEvent event,
                             Done<StoreAnswer<Session>> done) = 0;
  // Admin: kOk, kSessionNotFound or kIdentifierNotFound (no such user).
  virtual void Identify(std::string_view session_id, std::string_view user_id,
                        Done<Outcome> done) = 0;
  // Admin: ends every session and forgets every lockout; value: the sessions ended.
  virtual void ClearSessions(Done<StoreAnswer<size_t>> done) = 0;

  // The sign-in flow (core/sign_in_flow.h).
  // GET /oidc/auth: a new session whose interaction the sign-in page starts (PUT
  // /api/experience); submit answers `redirect_to` when it is not empty.
  virtual void StartAuthorization(std::string redirect_to, Done<StoreAnswer<Session>> done) = 0;
  // The user Logto's findUserByIdentifier finds (UserMatches), or nullopt.
  virtual void FindUser(SignInIdentifier type, std::string value,
                        Done<StoreAnswer<std::optional<User>>> done) = 0;
  // Sets the interaction's password record (replacing the last): kOk, kSessionNotFound or
  // kInteractionNotFound.
  virtual void SetPasswordRecord(std::string_view session_id, PasswordRecord record,
                                 Done<Outcome> done) = 0;
  // Sets the interaction's verified TOTP (`factor` kTotp) or backup-code (kBackupCode) record,
  // replacing the last of that type: kOk, kSessionNotFound or kInteractionNotFound.
  virtual void SetMfaRecord(std::string_view session_id, MfaFactor factor, MfaRecord record,
                            Done<Outcome> done) = 0;
  // The one-time parts of a user's factors, each atomic on the user (two nodes that race for one
  // step or code: one wins). Value false when refused or the user is gone (UserDirectory).
  virtual void UseTotpStep(std::string user_id, int64_t step, Done<StoreAnswer<bool>> done) = 0;
  virtual void UseBackupCode(std::string user_id, std::string code,
                             Done<StoreAnswer<bool>> done) = 0;
  // Ends a live session (submit): it and its records are gone. kOk or kSessionNotFound.
  virtual void EndSession(std::string_view session_id, Done<Outcome> done) = 0;
  // The sentinel outside the code records (the password step), by key (SignInSentinelKey):
  // the remaining block in ms (0 = not blocked) ...
  virtual void SentinelBlockedFor(std::string key, Done<StoreAnswer<int64_t>> done) = 0;
  // ... and one failure, with the config's lockout policy: the block it started in ms (0 = none).
  virtual void SentinelFail(std::string key, Done<StoreAnswer<int64_t>> done) = 0;

  // Admin: users. AddUser's value is false when the id is taken.
  virtual void AddUser(User user, Done<StoreAnswer<bool>> done) = 0;
  virtual void GetUser(std::string_view id, Done<StoreAnswer<std::optional<User>>> done) = 0;
  virtual void ListUsers(Done<StoreAnswer<std::vector<User>>> done) = 0;
  virtual void RemoveUser(std::string_view id, Done<StoreAnswer<bool>> done) = 0;
};

// Over SessionService in this process: every completion runs before the call returns.
// Thread-safe as SessionService is.
class MemoryInteractionStore final : public InteractionStore {
 public:
  explicit MemoryInteractionStore(SessionService& sessions) : sessions_(sessions) {}

  void Check(std::string_view session_id, Done<Outcome> done) override;
  void Send(std::string_view session_id, IdentifierType type, Done<SendResult> done) override;
  void Verify(std::string_view session_id, IdentifierType type, std::string_view record_id,
              std::string_view code, Done<SessionVerifyResult> done) override;
  void StartInteraction(std::string_view session_id, InteractionEvent event,
                        Done<StoreAnswer<StartedInteraction>> done) override;
  void View(std::string_view session_id,
            Done<StoreAnswer<std::optional<SessionView>>> done) override;
  void CreateSession(std::string user_id, bool start_interaction, InteractionEvent event,
                     Done<StoreAnswer<Session>> done) override;
  void Identify(std::string_view session_id, std::string_view user_id, Done<Outcome> done) override;
  void ClearSessions(Done<StoreAnswer<size_t>> done) override;
  void StartAuthorization(std::string redirect_to, Done<StoreAnswer<Session>> done) override;
  void FindUser(SignInIdentifier type, std::string value,
                Done<StoreAnswer<std::optional<User>>> done) override;
  void SetPasswordRecord(std::string_view session_id, PasswordRecord record,
                         Done<Outcome> done) override;
  void SetMfaRecord(std::string_view session_id, MfaFactor factor, MfaRecord record,
                    Done<Outcome> done) override;
  void UseTotpStep(std::string user_id, int64_t step, Done<StoreAnswer<bool>> done) override;
  void UseBackupCode(std::string user_id, std::string code, Done<StoreAnswer<bool>> done) override;
  void EndSession(std::string_view session_id, Done<Outcome> done) override;
  void SentinelBlockedFor(std::string key, Done<StoreAnswer<int64_t>> done) override;
  void SentinelFail(std::string key, Done<StoreAnswer<int64_t>> done) override;
  void AddUser(User user, Done<StoreAnswer<bool>> done) override;
  void GetUser(std::string_view id, Done<StoreAnswer<std::optional<User>>> done) override;
  void ListUsers(Done<StoreAnswer<std::vector<User>>> done) override;
  void RemoveUser(std::string_view id, Done<StoreAnswer<bool>> done) override;

 private:
  SessionService& sessions_;
};

}  // namespace mfa
