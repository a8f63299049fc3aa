// SPDX-License-Identifier: Apache-2.0
#include "core/interaction_store.h"

namespace mfa {

void MemoryInteractionStore::Check(std::string_view session_id, Done<Outcome> done) {
  done(sessions_.Check(session_id));
}

void MemoryInteractionStore::Send(std::string_view session_id, IdentifierType type,
                                  Done<SendResult> done) {
  done(sessions_.Send(session_id, type));
}

void MemoryInteractionStore::Verify(std::string_view session_id, IdentifierType type,
                                    std::string_view record_id, std::string_view code,
                                    Done<SessionVerifyResult> done) {
  SessionVerifyResult result;
  result.outcome = sessions_.Verify(session_id, type, record_id, code, &result.blocked_ms);
  done(result);
}

void MemoryInteractionStore::StartInteraction(std::string_view session_id, InteractionEvent event,
                                              Done<StoreAnswer<StartedInteraction>> done) {
  auto [id, created] = sessions_.StartInteraction(session_id, event);
  done({Outcome::kOk, StartedInteraction{std::move(id), created}});
}

void MemoryInteractionStore::View(std::string_view session_id,
                                  Done<StoreAnswer<std::optional<SessionView>>> done) {
  std::optional<Session> session = sessions_.sessions().Get(session_id, sessions_.NowMs());
  if (!session) return done({Outcome::kOk, std::nullopt});
  std::vector<InteractionRecordView> records = sessions_.RecordsOf(*session);
  done({Outcome::kOk, SessionView{std::move(*session), std::move(records)}});
}

void MemoryInteractionStore::CreateSession(std::string user_id, bool start_interaction,
                                           InteractionEvent event,
                                           Done<StoreAnswer<Session>> done) {
  if (!user_id.empty() && !sessions_.users().Get(user_id)) {
    return done({Outcome::kIdentifierNotFound, Session{}});
  }
  done({Outcome::kOk, sessions_.CreateSession(std::move(user_id), start_interaction, event)});
}

void MemoryInteractionStore::Identify(std::string_view session_id, std::string_view user_id,
                                      Done<Outcome> done) {
  done(sessions_.Identify(session_id, user_id));
}

void MemoryInteractionStore::ClearSessions(Done<StoreAnswer<size_t>> done) {
  done({Outcome::kOk, sessions_.ClearSessions()});
}

void MemoryInteractionStore::StartAuthorization(std::string redirect_to,
                                                Done<StoreAnswer<Session>> done) {
  done({Outcome::kOk, sessions_.StartAuthorization(std::move(redirect_to))});
}

void MemoryInteractionStore::FindUser(SignInIdentifier type, std::string value,
                                      Done<StoreAnswer<std::optional<User>>> done) {
  done({Outcome::kOk, sessions_.users().Find(type, value)});
}

void MemoryInteractionStore::SetPasswordRecord(std::string_view session_id, PasswordRecord record,
                                               Done<Outcome> done) {
  done(sessions_.SetPasswordRecord(session_id, std::move(record)));
}

void MemoryInteractionStore::SetMfaRecord(std::string_view session_id, MfaFactor factor,
                                          MfaRecord record, Done<Outcome> done) {
  done(sessions_.SetMfaRecord(session_id, factor, std::move(record)));
}

void MemoryInteractionStore::UseTotpStep(std::string user_id, int64_t step,
                                         Done<StoreAnswer<bool>> done) {
  done({Outcome::kOk, sessions_.users().UseTotpStep(user_id, step)});
}

void MemoryInteractionStore::UseBackupCode(std::string user_id, std::string code,
                                           Done<StoreAnswer<bool>> done) {
  done({Outcome::kOk, sessions_.users().UseBackupCode(user_id, code)});
}

void MemoryInteractionStore::EndSession(std::string_view session_id, Done<Outcome> done) {
  done(sessions_.EndSession(session_id));
}

void MemoryInteractionStore::SentinelBlockedFor(std::string key, Done<StoreAnswer<int64_t>> done) {
  done({Outcome::kOk, sessions_.sentinel().BlockedFor(key, sessions_.NowMs()).value_or(0)});
}

void MemoryInteractionStore::SentinelFail(std::string key, Done<StoreAnswer<int64_t>> done) {
  done({Outcome::kOk, sessions_.SentinelFail(key)});
}

void MemoryInteractionStore::AddUser(User user, Done<StoreAnswer<bool>> done) {
  done({Outcome::kOk, sessions_.users().Add(std::move(user))});
}

void MemoryInteractionStore::GetUser(std::string_view id,
                                     Done<StoreAnswer<std::optional<User>>> done) {
  done({Outcome::kOk, sessions_.users().Get(id)});
}

void MemoryInteractionStore::ListUsers(Done<StoreAnswer<std::vector<User>>> done) {
  done({Outcome::kOk, sessions_.users().List()});
}

void MemoryInteractionStore::RemoveUser(std::string_view id, Done<StoreAnswer<bool>> done) {
  done({Outcome::kOk, sessions_.users().Remove(id)});
}

}  // namespace mfa
