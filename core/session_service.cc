// SPDX-License-Identifier: Apache-2.0
#include "core/session_service.h"

namespace mfa {

int64_t SessionService::TtlMs() const {
  return int64_t{mfa_.config().Get().config.session_ttl_seconds} * 1000;
}

Outcome SessionService::Check(std::string_view session_id) const {
  auto session = sessions_.Get(session_id, mfa_.clock().NowMs());
  if (!session) return Outcome::kSessionNotFound;
  if (!session->interaction_started) return Outcome::kInteractionNotFound;
  return Outcome::kOk;
}

SendResult SessionService::Send(std::string_view session_id, IdentifierType type) {
  SendResult result;
  result.type = type;
  auto session = sessions_.Get(session_id, mfa_.clock().NowMs());
  if (!session) {
    result.outcome = Outcome::kSessionNotFound;
    return result;
  }
  if (!session->interaction_started) {
    result.outcome = Outcome::kInteractionNotFound;
    return result;
  }
  if (session->user_id.empty()) {
    result.outcome = Outcome::kIdentifierNotFound;
    return result;
  }
  std::optional<User> user = users_.Get(session->user_id);
  if (!user) {
    // Identified, then deleted: Logto's findUserById answers entity.not_found.
    result.outcome = Outcome::kUserNotFound;
    return result;
  }
  const std::string& address =
      type == IdentifierType::kEmail ? user->primary_email : user->primary_phone;
  if (address.empty()) {
    result.outcome = Outcome::kFactorNotEnabled;
    return result;
  }
  result = mfa_.SendTo(type, address, /*session_bound=*/true, session_id);
  if (result.outcome != Outcome::kOk) return result;
  // A new send of a type replaces the session's older record of that type.
  std::string replaced;
  const bool live = sessions_.Update(session_id, mfa_.clock().NowMs(), [&](Session& s) {
    replaced = std::move(s.record_ids[static_cast<int>(type)]);
    s.record_ids[static_cast<int>(type)] = result.verification_id;
  });
  if (!replaced.empty()) mfa_.store().Erase(replaced);
  if (!live) {
    // The session expired while the code was being created: the record has nowhere to live.
    mfa_.store().Erase(result.verification_id);
    SendResult gone;
    gone.type = type;
    gone.outcome = Outcome::kSessionNotFound;
    return gone;
  }
  return result;
}

Outcome SessionService::Verify(std::string_view session_id, IdentifierType type,
                               std::string_view record_id, std::string_view code,
                               int64_t* blocked_ms) {
  auto session = sessions_.Get(session_id, mfa_.clock().NowMs());
  if (!session) return Outcome::kSessionNotFound;
  if (!session->interaction_started) return Outcome::kInteractionNotFound;
  const Config& c = mfa_.config().Get().config;
  if (c.profile == Profile::kDocumented && !c.connector_enabled(type)) {
    return Outcome::kConnectorNotFound;
  }
  // Logto looks the record up by type and id in this interaction only.
  if (session->record_ids[static_cast<int>(type)] != record_id) {
    return Outcome::kVerificationNotFound;
  }
  VerifyScope scope;
  scope.session = true;
  scope.sentinel = &sentinel_;
  scope.blocked_ms = blocked_ms;
  return mfa_.Verify(type, record_id, code, scope);
}

std::pair<std::string, bool> SessionService::StartInteraction(std::string_view session_id,
                                                              InteractionEvent event) {
  const int64_t now = mfa_.clock().NowMs();
  std::vector<std::string> wiped;
  if (!session_id.empty() && sessions_.Update(session_id, now, [&](Session& s) {
        s.interaction_started = true;
        s.event = event;
        s.user_id.clear();
        s.password = PasswordRecord{};
        s.totp = MfaRecord{};
        s.backup_code = MfaRecord{};
        for (std::string& id : s.record_ids) {
          if (!id.empty()) wiped.push_back(std::move(id));
          id.clear();
        }
        s.expires_ms = now + TtlMs();
      })) {
    for (const std::string& id : wiped) mfa_.store().Erase(id);
    return {std::string(session_id), false};
  }
  Session created = sessions_.Create(now, TtlMs(), /*interaction_started=*/true, event, "");
  return {created.id, true};
}

std::optional<InteractionView> SessionService::View(std::string_view session_id) const {
  auto session = sessions_.Get(session_id, mfa_.clock().NowMs());
  if (!session) return std::nullopt;
  return InteractionView{session->event, session->user_id, RecordsOf(*session)};
}

std::vector<InteractionRecordView> SessionService::RecordsOf(const Session& session) const {
  std::vector<InteractionRecordView> records;
  for (const std::string& id : session.record_ids) {
    if (id.empty()) continue;
    auto record = mfa_.store().Get(id);
    if (!record) continue;
    records.push_back(
        {record->verification_id, record->identifier_type, record->identifier, record->verified});
  }
  return records;
}

Session SessionService::CreateSession(std::string user_id, bool start_interaction,
                                      InteractionEvent event) {
  return sessions_.Create(mfa_.clock().NowMs(), TtlMs(), start_interaction, event,
                          std::move(user_id));
}

Outcome SessionService::Identify(std::string_view session_id, std::string_view user_id) {
  if (!users_.Get(user_id)) return Outcome::kIdentifierNotFound;
  const bool found = sessions_.Update(session_id, mfa_.clock().NowMs(),
                                      [&](Session& s) { s.user_id = std::string(user_id); });
  return found ? Outcome::kOk : Outcome::kSessionNotFound;
}

Session SessionService::StartAuthorization(std::string redirect_to) {
  return sessions_.Create(mfa_.clock().NowMs(), TtlMs(), /*interaction_started=*/false,
                          InteractionEvent::kSignIn, "", std::move(redirect_to));
}

Outcome SessionService::SetPasswordRecord(std::string_view session_id, PasswordRecord record) {
  bool started = false;
  const bool live = sessions_.Update(session_id, mfa_.clock().NowMs(), [&](Session& s) {
    started = s.interaction_started;
    if (started) s.password = std::move(record);
  });
  if (!live) return Outcome::kSessionNotFound;
  return started ? Outcome::kOk : Outcome::kInteractionNotFound;
}

Outcome SessionService::SetMfaRecord(std::string_view session_id, MfaFactor factor,
                                     MfaRecord record) {
  bool started = false;
  const bool live = sessions_.Update(session_id, mfa_.clock().NowMs(), [&](Session& s) {
    started = s.interaction_started;
    if (started) (factor == MfaFactor::kTotp ? s.totp : s.backup_code) = std::move(record);
  });
  if (!live) return Outcome::kSessionNotFound;
  return started ? Outcome::kOk : Outcome::kInteractionNotFound;
}

Outcome SessionService::EndSession(std::string_view session_id) {
  std::optional<Session> ended = sessions_.Take(session_id, mfa_.clock().NowMs());
  if (!ended) return Outcome::kSessionNotFound;
  for (const std::string& id : ended->record_ids) {
    if (!id.empty()) mfa_.store().Erase(id);
  }
  return Outcome::kOk;
}

int64_t SessionService::SentinelFail(std::string_view key) {
  return sentinel_.Fail(key, mfa_.clock().NowMs(), mfa_.config().Get().config.lockout);
}

size_t SessionService::Sweep() {
  const int64_t now = mfa_.clock().NowMs();
  sentinel_.Sweep(now, int64_t{mfa_.config().Get().config.lockout.window_seconds} * 1000);
  std::vector<std::string> records;
  const size_t ended = sessions_.Sweep(now, &records);
  for (const std::string& id : records) mfa_.store().Erase(id);
  return ended;
}

size_t SessionService::ClearSessions() {
  std::vector<std::string> records;
  const size_t ended = sessions_.Clear(&records);
  for (const std::string& id : records) mfa_.store().Erase(id);
  sentinel_.Clear();
  return ended;
}

}  // namespace mfa
