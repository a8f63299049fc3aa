// SPDX-License-Identifier: Apache-2.0
#include "redis/redis_interaction_store.h"

#include <algorithm>
#include <utility>

#include "core/recipient.h"
#include "core/secure_random.h"
#include "redis/scripts.h"
#include "redis/store_support.h"

namespace mfa::redis {
namespace {

int TypeIndex(IdentifierType type) { return static_cast<int>(type); }

std::string EncodeUser(const User& u) {
  std::string out;
  AppendField(out, u.id);
  AppendField(out, u.username);
  AppendField(out, u.primary_email);
  AppendField(out, u.primary_phone);
  AppendField(out, u.password);
  // The MFA fields, which user_mfa_use.lua reads and rewrites too.
  AppendField(out, u.totp_secret);
  AppendField(out, u.totp_last_step < 0 ? std::string() : Decimal(u.totp_last_step));
  for (const BackupCode& c : u.backup_codes) AppendField(out, (c.used ? "u" : "n") + c.code);
  return out;
}

std::optional<User> DecodeUser(std::string_view in) {
  std::string_view id, username, email, phone, password;
  if (!NextField(in, &id) || !NextField(in, &username) || !NextField(in, &email) ||
      !NextField(in, &phone) || !NextField(in, &password)) {
    return std::nullopt;
  }
  User user;
  user.id = std::string(id);
  user.username = std::string(username);
  user.primary_email = std::string(email);
  user.primary_phone = std::string(phone);
  user.password = std::string(password);
  // A user written before the MFA fields existed has none.
  std::string_view secret, last_step, code;
  if (!NextField(in, &secret) || !NextField(in, &last_step)) return user;
  user.totp_secret = std::string(secret);
  user.totp_last_step = last_step.empty() ? -1 : ParseInt(last_step);
  while (NextField(in, &code)) {
    if (code.empty()) continue;
    user.backup_codes.push_back({std::string(code.substr(1)), code[0] == 'u'});
  }
  return user;
}

std::string EncodeMfaRecord(const MfaRecord& r) {
  std::string out;
  AppendField(out, r.id);
  AppendField(out, r.code);
  return out;
}

MfaRecord DecodeMfaRecord(std::string_view in) {
  std::string_view id, code;
  if (!NextField(in, &id) || !NextField(in, &code)) return {};
  return MfaRecord{std::string(id), std::string(code)};
}

std::string EncodePassword(const PasswordRecord& r) {
  std::string out;
  AppendField(out, r.id);
  AppendField(out, ToString(r.identifier_type));
  AppendField(out, r.identifier);
  AppendField(out, r.verified ? "1" : "0");
  return out;
}

PasswordRecord DecodePassword(std::string_view in) {
  std::string_view id, type, identifier, verified;
  PasswordRecord r;
  if (!NextField(in, &id) || !NextField(in, &type) || !NextField(in, &identifier) ||
      !NextField(in, &verified)) {
    return r;  // unreadable: as if there were none
  }
  const std::optional<SignInIdentifier> parsed = ParseSignInIdentifier(type);
  if (!parsed) return r;
  r.id = std::string(id);
  r.identifier_type = *parsed;
  r.identifier = std::string(identifier);
  r.verified = verified == "1";
  return r;
}

bool IsCodeFailure(Outcome o) {
  return o == Outcome::kCodeNotFound || o == Outcome::kCodeExpired || o == Outcome::kExceedMaxTry ||
         o == Outcome::kCodeMismatch;
}

}  // namespace

struct RedisInteractionStore::Scripts {
  Script create{EmbeddedScript(kSessionCreateLua, kSessionCreateLua_size)};
  Script start{EmbeddedScript(kSessionStartLua, kSessionStartLua_size)};
  Script record{EmbeddedScript(kSessionRecordLua, kSessionRecordLua_size)};
  Script identify{EmbeddedScript(kSessionIdentifyLua, kSessionIdentifyLua_size)};
  Script sentinel_fail{EmbeddedScript(kSentinelFailLua, kSentinelFailLua_size)};
  Script password{EmbeddedScript(kSessionPasswordLua, kSessionPasswordLua_size)};
  Script end{EmbeddedScript(kSessionEndLua, kSessionEndLua_size)};
  Script mfa_use{EmbeddedScript(kUserMfaUseLua, kUserMfaUseLua_size)};
};

// A session as its hash holds it, with the sentinel key of each type's record.
struct RedisInteractionStore::LiveSession {
  Session session;
  std::string sentinel_keys[kIdentifierTypeCount];
};

RedisInteractionStore::RedisInteractionStore(const ConfigStore& config, const Clock& clock,
                                             Router& client, RedisCodeStore& codes,
                                             InteractionStoreOptions options)
    : config_(config),
      clock_(clock),
      client_(client),
      codes_(codes),
      options_(std::move(options)),
      scripts_(std::make_unique<Scripts>()) {}

RedisInteractionStore::~RedisInteractionStore() = default;

std::string RedisInteractionStore::SessionKey(std::string_view id) const {
  return options_.prefix + ":s:{" + std::string(id) + "}";
}

std::string RedisInteractionStore::SentinelKey(std::string_view recipient) const {
  return options_.prefix + ":lk:{l:" + std::string(recipient) + "}";
}

std::string RedisInteractionStore::UsersKey() const { return options_.prefix + ":{users}"; }

int64_t RedisInteractionStore::TtlMs() const {
  return int64_t{config_.Get().config.session_ttl_seconds} * 1000;
}

void RedisInteractionStore::ReadSession(
    std::string_view session_id, std::function<void(Outcome, std::optional<LiveSession>)> then) {
  client_.Call(
      {"HGETALL", SessionKey(session_id)}, "session_get",
      [then = std::move(then), id = std::string(session_id), now = clock_.NowMs()](CallResult&& r) {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return then(failure, std::nullopt);
        if (r.value.type != Value::Type::kArray || r.value.elements.empty()) {
          return then(Outcome::kOk, std::nullopt);
        }
        LiveSession live;
        Session& s = live.session;
        s.id = id;
        const std::vector<Value>& e = r.value.elements;
        for (size_t i = 0; i + 1 < e.size(); i += 2) {
          const std::string& field = e[i].str;
          const std::string& value = e[i + 1].str;
          if (field == "x") {
            s.expires_ms = ParseInt(value);
          } else if (field == "st") {
            s.interaction_started = value == "1";
          } else if (field == "ev") {
            s.event = ParseInteractionEvent(value).value_or(InteractionEvent::kSignIn);
          } else if (field == "u") {
            s.user_id = value;
          } else if (field == "pw") {
            s.password = DecodePassword(value);
          } else if (field == "mt") {
            s.totp = DecodeMfaRecord(value);
          } else if (field == "mb") {
            s.backup_code = DecodeMfaRecord(value);
          } else if (field == "rt") {
            s.redirect_to = value;
          } else if (field.size() == 2 && (field[1] == '0' || field[1] == '1')) {
            const int type = field[1] - '0';
            if (field[0] == 'r') s.record_ids[type] = value;
            if (field[0] == 'k') live.sentinel_keys[type] = value;
          }
        }
        if (s.expires_ms <= now) return then(Outcome::kOk, std::nullopt);
        then(Outcome::kOk, std::move(live));
      });
}

void RedisInteractionStore::Check(std::string_view session_id, Done<Outcome> done) {
  ReadSession(
      session_id, [done = std::move(done)](Outcome failure, std::optional<LiveSession> live) {
        if (failure != Outcome::kOk) return done(failure);
        if (!live) return done(Outcome::kSessionNotFound);
        done(live->session.interaction_started ? Outcome::kOk : Outcome::kInteractionNotFound);
      });
}

void RedisInteractionStore::Send(std::string_view session_id, IdentifierType type,
                                 Done<SendResult> done) {
  auto fail = [type](Outcome outcome) {
    SendResult result;
    result.type = type;
    result.outcome = outcome;
    return result;
  };
  ReadSession(session_id, [this, type, fail, done = std::move(done), id = std::string(session_id)](
                              Outcome failure, std::optional<LiveSession> live) mutable {
    if (failure != Outcome::kOk) return done(fail(failure));
    if (!live) return done(fail(Outcome::kSessionNotFound));
    if (!live->session.interaction_started) return done(fail(Outcome::kInteractionNotFound));
    if (live->session.user_id.empty()) return done(fail(Outcome::kIdentifierNotFound));
    GetUser(live->session.user_id, [this, type, fail, done = std::move(done), id = std::move(id)](
                                       StoreAnswer<std::optional<User>> user) mutable {
      if (user.outcome != Outcome::kOk) return done(fail(user.outcome));
      // Identified, then deleted: Logto's findUserById answers entity.not_found.
      if (!user.value) return done(fail(Outcome::kUserNotFound));
      std::string address =
          type == IdentifierType::kEmail ? user.value->primary_email : user.value->primary_phone;
      if (address.empty()) return done(fail(Outcome::kFactorNotEnabled));
      const std::string sentinel_key = SentinelKey(NormalizeRecipient(type, address));
      std::string inbox_session = id;  // copied before the completion below takes `id`
      codes_.SendBound(
          type, std::move(address), std::move(inbox_session),
          [this, type, fail, sentinel_key, done = std::move(done),
           id = std::move(id)](SendResult sent) mutable {
            if (sent.outcome != Outcome::kOk) return done(std::move(sent));
            // A new send of a type replaces the session's older record of that type. (The
            // arguments are built first: the completion below takes `sent` by move.)
            std::vector<std::string> args{Decimal(clock_.NowMs()), std::to_string(TypeIndex(type)),
                                          sent.verification_id, sentinel_key};
            client_.CallScript(
                scripts_->record, {SessionKey(id)}, std::move(args), "session_record",
                [this, fail, done = std::move(done),
                 sent = std::move(sent)](CallResult&& r) mutable {
                  const Outcome failure = Failure(r);
                  // The session expired (or the store failed) while the code was being created: the
                  // record has nowhere to live.
                  if (failure != Outcome::kOk || r.value.is_nil()) {
                    const Outcome answer =
                        failure != Outcome::kOk ? failure : Outcome::kSessionNotFound;
                    return EraseRecords({sent.verification_id},
                                        [done = std::move(done), answer, fail](Outcome) mutable {
                                          done(fail(answer));
                                        });
                  }
                  if (r.value.str.empty()) return done(std::move(sent));
                  EraseRecords({r.value.str}, [done = std::move(done), sent = std::move(sent),
                                               fail](Outcome erased) mutable {
                    if (erased != Outcome::kOk) return done(fail(erased));
                    done(std::move(sent));
                  });
                });
          });
    });
  });
}

void RedisInteractionStore::Verify(std::string_view session_id, IdentifierType type,
                                   std::string_view record_id, std::string_view code,
                                   Done<SessionVerifyResult> done) {
  ReadSession(session_id, [this, type, done = std::move(done), record_id = std::string(record_id),
                           code = std::string(code)](Outcome failure,
                                                     std::optional<LiveSession> live) mutable {
    if (failure != Outcome::kOk) return done({failure, 0});
    if (!live) return done({Outcome::kSessionNotFound, 0});
    if (!live->session.interaction_started) return done({Outcome::kInteractionNotFound, 0});
    const Config& c = config_.Get().config;
    if (c.profile == Profile::kDocumented && !c.connector_enabled(type)) {
      return done({Outcome::kConnectorNotFound, 0});
    }
    // Logto looks the record up by type and id in this interaction only.
    if (live->session.record_ids[TypeIndex(type)] != record_id) {
      return done({Outcome::kVerificationNotFound, 0});
    }
    std::string sentinel_key = live->sentinel_keys[TypeIndex(type)];
    if (c.lockout.max_failures == 0 || sentinel_key.empty()) {
      return VerifyUnderSentinel(std::move(record_id), type, std::move(code), "", 0,
                                 std::move(done));
    }
    // The sentinel lives in another slot than the record: read first, then verify (as Logto
    // does, not atomically; two nodes may both let one failure past the threshold).
    std::string read_key = sentinel_key;  // copied before the completion below takes it
    ReadBlock(std::move(read_key),
              [this, type, done = std::move(done), record_id = std::move(record_id),
               code = std::move(code),
               sentinel_key = std::move(sentinel_key)](StoreAnswer<int64_t> blocked) mutable {
                if (blocked.outcome != Outcome::kOk) return done({blocked.outcome, 0});
                VerifyUnderSentinel(std::move(record_id), type, std::move(code),
                                    std::move(sentinel_key), blocked.value, std::move(done));
              });
  });
}

void RedisInteractionStore::ReadBlock(std::string redis_key, Done<StoreAnswer<int64_t>> done) {
  client_.Call({"HGET", std::move(redis_key), "b"}, "sentinel_get",
               [done = std::move(done), now = clock_.NowMs()](CallResult&& r) {
                 const Outcome failure = Failure(r);
                 if (failure != Outcome::kOk) return done({failure, 0});
                 const int64_t until = r.value.is_nil() ? 0 : ParseInt(r.value.str);
                 done({Outcome::kOk, until > now ? until - now : 0});
               });
}

void RedisInteractionStore::CountFailure(std::string redis_key, Done<StoreAnswer<int64_t>> done) {
  const LockoutPolicy& lockout = config_.Get().config.lockout;
  const int64_t block_ms = int64_t{lockout.duration_seconds} * 1000;
  client_.CallScript(scripts_->sentinel_fail, {std::move(redis_key)},
                     {Decimal(clock_.NowMs()), Decimal(lockout.max_failures),
                      Decimal(int64_t{lockout.window_seconds} * 1000), Decimal(block_ms)},
                     "sentinel_fail", [block_ms, done = std::move(done)](CallResult&& r) {
                       const Outcome failure = Failure(r);
                       if (failure != Outcome::kOk) return done({failure, 0});
                       // The script answers 0 failures left in the window when this one blocked.
                       done({Outcome::kOk, r.value.integer == 0 ? block_ms : 0});
                     });
}

void RedisInteractionStore::VerifyUnderSentinel(std::string record_id, IdentifierType type,
                                                std::string code, std::string sentinel_key,
                                                int64_t blocked_ms,
                                                Done<SessionVerifyResult> done) {
  // Logto's withSentinel: the verify runs even while blocked (verify.lua then uses a right code
  // up without marking the record verified); blocked before, or blocked by this very failure,
  // answers blocked.
  codes_.VerifyRecord(
      type, record_id, code, /*session_bound=*/true, blocked_ms > 0,
      [this, blocked_ms, sentinel_key = std::move(sentinel_key),
       done = std::move(done)](Outcome outcome) mutable {
        // A failure while blocked is not counted (Logto records it with the decision "blocked",
        // which its count leaves out).
        const bool counted = !sentinel_key.empty() && IsCodeFailure(outcome) && blocked_ms == 0;
        if (!counted) {
          const bool blocked =
              blocked_ms > 0 && (outcome == Outcome::kOk || IsCodeFailure(outcome));
          return done(
              {blocked ? Outcome::kVerificationBlocked : outcome, blocked ? blocked_ms : 0});
        }
        CountFailure(std::move(sentinel_key),
                     [outcome, done = std::move(done)](StoreAnswer<int64_t> started) {
                       // A failure the sentinel did not count would be lost in silence: say so
                       // instead.
                       if (started.outcome != Outcome::kOk) return done({started.outcome, 0});
                       if (started.value > 0)
                         return done({Outcome::kVerificationBlocked, started.value});
                       done({outcome, 0});
                     });
      });
}

void RedisInteractionStore::EraseRecords(std::vector<std::string> ids,
                                         std::function<void(Outcome)> then) {
  // One DEL per record: on a cluster each record has its own slot.
  std::vector<std::vector<std::string>> commands;
  for (const std::string& id : ids) {
    if (!id.empty()) commands.push_back({"DEL", codes_.RecordKey(id)});
  }
  CallAll(client_, std::move(commands), "delete",
          [then = std::move(then)](StoreAnswer<int64_t> deleted) { then(deleted.outcome); });
}

void RedisInteractionStore::StartInteraction(std::string_view session_id, InteractionEvent event,
                                             Done<StoreAnswer<StartedInteraction>> done) {
  auto create = [this, event](Done<StoreAnswer<StartedInteraction>> done) {
    NewSession("", /*start_interaction=*/true, event, "", 3,
               [done = std::move(done)](StoreAnswer<Session> created) {
                 done({created.outcome, StartedInteraction{created.value.id, true}});
               });
  };
  if (session_id.empty()) return create(std::move(done));
  const int64_t now = clock_.NowMs();
  client_.CallScript(
      scripts_->start, {SessionKey(session_id)},
      {Decimal(now), Decimal(now + TtlMs()), std::string(ToString(event)),
       Decimal(TtlMs() + kExpirySlackMs)},
      "session_start",
      [this, create, done = std::move(done), id = std::string(session_id)](CallResult&& r) mutable {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return done({failure, {}});
        // Unknown or expired: a new session, as on a first visit.
        if (r.value.type != Value::Type::kArray) return create(std::move(done));
        std::vector<std::string> wiped;
        for (Value& old : r.value.elements) wiped.push_back(std::move(old.str));
        EraseRecords(std::move(wiped),
                     [done = std::move(done), id = std::move(id)](Outcome erased) mutable {
                       done({erased, StartedInteraction{std::move(id), false}});
                     });
      });
}

void RedisInteractionStore::NewSession(std::string user_id, bool start_interaction,
                                       InteractionEvent event, std::string redirect_to,
                                       int attempts_left, Done<StoreAnswer<Session>> done) {
  Session s;
  s.id = SecureRandom::NewId();
  s.expires_ms = clock_.NowMs() + TtlMs();
  s.interaction_started = start_interaction;
  s.event = event;
  s.user_id = std::move(user_id);
  s.redirect_to = std::move(redirect_to);
  const std::string key = SessionKey(s.id);
  std::vector<std::string> args{Decimal(s.expires_ms),
                                start_interaction ? "1" : "0",
                                std::string(ToString(event)),
                                s.user_id,
                                Decimal(TtlMs() + kExpirySlackMs),
                                s.redirect_to};
  client_.CallScript(
      scripts_->create, {key}, std::move(args), "session_create",
      [this, s = std::move(s), attempts_left, done = std::move(done)](CallResult&& r) mutable {
        Outcome outcome = Failure(r);
        if (outcome == Outcome::kOk && r.value.integer == 1) {
          return done({Outcome::kOk, std::move(s)});
        }
        // A random 21-character id already taken: draw another.
        if (outcome == Outcome::kOk && attempts_left > 1) {
          return NewSession(std::move(s.user_id), s.interaction_started, s.event,
                            std::move(s.redirect_to), attempts_left - 1, std::move(done));
        }
        if (outcome == Outcome::kOk) outcome = Outcome::kInternal;
        done({outcome, {}});
      });
}

// One View: the session, then its records one by one (at most one per type).
struct RedisInteractionStore::ViewFlow {
  SessionView view;
  Done<StoreAnswer<std::optional<SessionView>>> done;
};

void RedisInteractionStore::View(std::string_view session_id,
                                 Done<StoreAnswer<std::optional<SessionView>>> done) {
  ReadSession(session_id, [this, done = std::move(done)](Outcome failure,
                                                         std::optional<LiveSession> live) mutable {
    if (failure != Outcome::kOk) return done({failure, std::nullopt});
    if (!live) return done({Outcome::kOk, std::nullopt});
    auto flow = std::make_shared<ViewFlow>();
    flow->view.session = std::move(live->session);
    flow->done = std::move(done);
    ReadViewRecord(std::move(flow), 0);
  });
}

void RedisInteractionStore::ReadViewRecord(std::shared_ptr<ViewFlow> flow, int type) {
  const Session& s = flow->view.session;
  while (type < kIdentifierTypeCount && s.record_ids[type].empty()) ++type;
  if (type == kIdentifierTypeCount) return flow->done({Outcome::kOk, std::move(flow->view)});
  codes_.Get(s.record_ids[type], [this, flow,
                                  type](StoreAnswer<std::optional<RecordSnapshot>> record) mutable {
    if (record.outcome != Outcome::kOk) return flow->done({record.outcome, {}});
    if (record.value) {
      flow->view.records.push_back({record.value->verification_id, record.value->identifier_type,
                                    record.value->identifier, record.value->verified});
    }
    ReadViewRecord(std::move(flow), type + 1);
  });
}

void RedisInteractionStore::CreateSession(std::string user_id, bool start_interaction,
                                          InteractionEvent event, Done<StoreAnswer<Session>> done) {
  if (user_id.empty()) {
    return NewSession(std::move(user_id), start_interaction, event, "", 3, std::move(done));
  }
  client_.Call(
      {"HEXISTS", UsersKey(), user_id}, "user_get",
      [this, user_id, start_interaction, event, done = std::move(done)](CallResult&& r) mutable {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return done({failure, {}});
        if (r.value.integer != 1) return done({Outcome::kIdentifierNotFound, {}});
        NewSession(std::move(user_id), start_interaction, event, "", 3, std::move(done));
      });
}

void RedisInteractionStore::Identify(std::string_view session_id, std::string_view user_id,
                                     Done<Outcome> done) {
  client_.Call({"HEXISTS", UsersKey(), std::string(user_id)}, "user_get",
               [this, done = std::move(done), session_id = std::string(session_id),
                user_id = std::string(user_id)](CallResult&& r) mutable {
                 const Outcome failure = Failure(r);
                 if (failure != Outcome::kOk) return done(failure);
                 if (r.value.integer != 1) return done(Outcome::kIdentifierNotFound);
                 client_.CallScript(
                     scripts_->identify, {SessionKey(session_id)},
                     {Decimal(clock_.NowMs()), user_id}, "session_identify",
                     [done = std::move(done)](CallResult&& set) {
                       const Outcome failed = Failure(set);
                       if (failed != Outcome::kOk) return done(failed);
                       done(set.value.integer == 1 ? Outcome::kOk : Outcome::kSessionNotFound);
                     });
               });
}

void RedisInteractionStore::ClearSessions(Done<StoreAnswer<size_t>> done) {
  UnlinkMatching(client_, options_.prefix + ":s:*", "sessions_clear",
                 [this, done = std::move(done)](StoreAnswer<size_t> sessions) mutable {
                   if (sessions.outcome != Outcome::kOk) return done(sessions);
                   UnlinkMatching(client_, options_.prefix + ":lk:*", "sessions_clear",
                                  [done = std::move(done), sessions](StoreAnswer<size_t> locks) {
                                    if (locks.outcome != Outcome::kOk) return done(locks);
                                    done(sessions);
                                  });
                 });
}

void RedisInteractionStore::StartAuthorization(std::string redirect_to,
                                               Done<StoreAnswer<Session>> done) {
  NewSession("", /*start_interaction=*/false, InteractionEvent::kSignIn, std::move(redirect_to), 3,
             std::move(done));
}

void RedisInteractionStore::FindUser(SignInIdentifier type, std::string value,
                                     Done<StoreAnswer<std::optional<User>>> done) {
  // Users are few (a test's or a demo's): a scan of the one hash is what Logto's index is here.
  ListUsers([type, value = std::move(value),
             done = std::move(done)](StoreAnswer<std::vector<User>> users) mutable {
    StoreAnswer<std::optional<User>> found{users.outcome, std::nullopt};
    for (User& user : users.value) {
      if (UserMatches(user, type, value)) {
        found.value = std::move(user);
        break;
      }
    }
    done(std::move(found));
  });
}

void RedisInteractionStore::SetPasswordRecord(std::string_view session_id, PasswordRecord record,
                                              Done<Outcome> done) {
  client_.CallScript(
      scripts_->password, {SessionKey(session_id)},
      {Decimal(clock_.NowMs()), EncodePassword(record), "pw"}, "session_password",
      [done = std::move(done)](CallResult&& r) {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return done(failure);
        if (r.value.integer == 1) return done(Outcome::kOk);
        done(r.value.integer == 2 ? Outcome::kInteractionNotFound : Outcome::kSessionNotFound);
      });
}

void RedisInteractionStore::SetMfaRecord(std::string_view session_id, MfaFactor factor,
                                         MfaRecord record, Done<Outcome> done) {
  client_.CallScript(
      scripts_->password, {SessionKey(session_id)},
      {Decimal(clock_.NowMs()), EncodeMfaRecord(record), factor == MfaFactor::kTotp ? "mt" : "mb"},
      "session_mfa_record", [done = std::move(done)](CallResult&& r) {
        const Outcome failure = Failure(r);
        if (failure != Outcome::kOk) return done(failure);
        if (r.value.integer == 1) return done(Outcome::kOk);
        done(r.value.integer == 2 ? Outcome::kInteractionNotFound : Outcome::kSessionNotFound);
      });
}

void RedisInteractionStore::UseTotpStep(std::string user_id, int64_t step,
                                        Done<StoreAnswer<bool>> done) {
  client_.CallScript(scripts_->mfa_use, {UsersKey()}, {std::move(user_id), "t", Decimal(step)},
                     "user_mfa_use", [done = std::move(done)](CallResult&& r) {
                       const Outcome failure = Failure(r);
                       done({failure, failure == Outcome::kOk && r.value.integer == 1});
                     });
}

void RedisInteractionStore::UseBackupCode(std::string user_id, std::string code,
                                          Done<StoreAnswer<bool>> done) {
  client_.CallScript(scripts_->mfa_use, {UsersKey()}, {std::move(user_id), "b", std::move(code)},
                     "user_mfa_use", [done = std::move(done)](CallResult&& r) {
                       const Outcome failure = Failure(r);
                       done({failure, failure == Outcome::kOk && r.value.integer == 1});
                     });
}

void RedisInteractionStore::EndSession(std::string_view session_id, Done<Outcome> done) {
  client_.CallScript(scripts_->end, {SessionKey(session_id)}, {Decimal(clock_.NowMs())},
                     "session_end", [this, done = std::move(done)](CallResult&& r) mutable {
                       const Outcome failure = Failure(r);
                       if (failure != Outcome::kOk) return done(failure);
                       if (r.value.type != Value::Type::kArray) {
                         return done(Outcome::kSessionNotFound);
                       }
                       std::vector<std::string> records;
                       for (Value& id : r.value.elements) records.push_back(std::move(id.str));
                       EraseRecords(std::move(records), std::move(done));
                     });
}

void RedisInteractionStore::SentinelBlockedFor(std::string key, Done<StoreAnswer<int64_t>> done) {
  ReadBlock(SentinelKey(key), std::move(done));
}

void RedisInteractionStore::SentinelFail(std::string key, Done<StoreAnswer<int64_t>> done) {
  CountFailure(SentinelKey(key), std::move(done));
}

void RedisInteractionStore::AddUser(User user, Done<StoreAnswer<bool>> done) {
  client_.Call({"HSETNX", UsersKey(), user.id, EncodeUser(user)}, "user_add",
               [done = std::move(done)](CallResult&& r) {
                 const Outcome failure = Failure(r);
                 done({failure, failure == Outcome::kOk && r.value.integer == 1});
               });
}

void RedisInteractionStore::PutUser(const User& user, Done<Outcome> done) {
  client_.Call({"HSET", UsersKey(), user.id, EncodeUser(user)}, "user_add",
               [done = std::move(done)](CallResult&& r) { done(Failure(r)); });
}

void RedisInteractionStore::GetUser(std::string_view id,
                                    Done<StoreAnswer<std::optional<User>>> done) {
  client_.Call({"HGET", UsersKey(), std::string(id)}, "user_get",
               [done = std::move(done)](CallResult&& r) {
                 StoreAnswer<std::optional<User>> answer;
                 answer.outcome = Failure(r);
                 if (answer.outcome == Outcome::kOk && !r.value.is_nil()) {
                   answer.value = DecodeUser(r.value.str);
                   if (!answer.value) answer.outcome = Outcome::kInternal;
                 }
                 done(std::move(answer));
               });
}

void RedisInteractionStore::ListUsers(Done<StoreAnswer<std::vector<User>>> done) {
  client_.Call({"HVALS", UsersKey()}, "user_list", [done = std::move(done)](CallResult&& r) {
    StoreAnswer<std::vector<User>> answer;
    answer.outcome = Failure(r);
    if (answer.outcome == Outcome::kOk) {
      for (const Value& v : r.value.elements) {
        std::optional<User> user = DecodeUser(v.str);
        if (!user) {
          answer.outcome = Outcome::kInternal;
          break;
        }
        answer.value.push_back(std::move(*user));
      }
      // By id, as the in-memory directory lists them.
      std::sort(answer.value.begin(), answer.value.end(),
                [](const User& a, const User& b) { return a.id < b.id; });
    }
    done(std::move(answer));
  });
}

void RedisInteractionStore::RemoveUser(std::string_view id, Done<StoreAnswer<bool>> done) {
  client_.Call({"HDEL", UsersKey(), std::string(id)}, "user_delete",
               [done = std::move(done)](CallResult&& r) {
                 const Outcome failure = Failure(r);
                 done({failure, failure == Outcome::kOk && r.value.integer == 1});
               });
}

}  // namespace mfa::redis
