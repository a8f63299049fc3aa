// SPDX-License-Identifier: Apache-2.0
// Interaction sessions, users and the sign-in sentinel in Redis, shared by every node pointed at
// the same Redis and prefix. A session is one hash (its interaction, user and current record of
// each type); users are one hash of all users; the sentinel is one hash per identifier. Each
// step that must be atomic is one script on one key; a send or verify inside a session is a few
// such steps in a row (session, sentinel, record), as Logto's own are.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/config.h"
#include "core/interaction_store.h"
#include "redis/redis_code_store.h"
#include "redis/router.h"

namespace mfa::redis {

struct InteractionStoreOptions {
  std::string prefix = "mfa";  // every key starts with "<prefix>:"
};

// Thread-safe: calls come from any thread; their completions run on the client's I/O thread.
// Holds no state beyond its options and scripts. `config`, `clock`, `client` and `codes` must
// outlive it; the client must be stopped before it is destroyed.
class RedisInteractionStore final : public InteractionStore {
 public:
  RedisInteractionStore(const ConfigStore& config, const Clock& clock, Router& client,
                        RedisCodeStore& codes, InteractionStoreOptions options);
  ~RedisInteractionStore() override;

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

  // --users FILE at start-up: every node loads the same file, so a user already there is
  // replaced, not refused.
  void PutUser(const User& user, Done<Outcome> done);

  // Key names, for tests that look inside Redis.
  std::string SessionKey(std::string_view session_id) const;
  std::string SentinelKey(std::string_view normalized_recipient) const;
  std::string UsersKey() const;

 private:
  struct Scripts;
  struct LiveSession;
  struct ViewFlow;

  // The session's hash read now: nullopt value when unknown or expired by the mock's clock.
  void ReadSession(std::string_view session_id,
                   std::function<void(Outcome, std::optional<LiveSession>)> then);
  void NewSession(std::string user_id, bool start_interaction, InteractionEvent event,
                  std::string redirect_to, int attempts_left, Done<StoreAnswer<Session>> done);
  void ReadViewRecord(std::shared_ptr<ViewFlow> flow, int type);
  void EraseRecords(std::vector<std::string> ids, std::function<void(Outcome)> then);
  // The verify of a session record with the sentinel around it (`sentinel_key` empty: none).
  void VerifyUnderSentinel(std::string record_id, IdentifierType type, std::string code,
                           std::string sentinel_key, int64_t blocked_ms,
                           Done<SessionVerifyResult> done);
  // The sentinel hash at `redis_key`: its remaining block in ms (0 = none), and one failure
  // under the config's lockout policy (value: the block it started in ms, 0 = none).
  void ReadBlock(std::string redis_key, Done<StoreAnswer<int64_t>> done);
  void CountFailure(std::string redis_key, Done<StoreAnswer<int64_t>> done);
  int64_t TtlMs() const;

  const ConfigStore& config_;
  const Clock& clock_;
  Router& client_;
  RedisCodeStore& codes_;
  const InteractionStoreOptions options_;
  std::unique_ptr<Scripts> scripts_;
};

}  // namespace mfa::redis
