// SPDX-License-Identifier: Apache-2.0
// /admin/users and /admin/sessions: the people who sign in and their interaction sessions.
#include "admin/admin_routes.h"
#include "admin/admin_support.h"
#include "http/answer_when_done.h"

namespace mfa {
namespace {

void SetNoSession(Reply& reply, std::string_view id) {
  SetError(reply, ApiError::kNotFound, "No live session \"" + std::string(id) + "\".");
}

struct Handlers {
  InteractionStore& sessions;

  void AddUser(const HttpRequest& request, Reply& reply) const {
    User user;
    AdminParseError error;
    if (!ParseUser(request.body, &user, &error)) return SetParseError(reply, error);
    std::string body = UserToJson(user);
    const std::string id = user.id;
    AnswerWhenDone<StoreAnswer<bool>>(
        request, reply,
        [&](Done<StoreAnswer<bool>> done) { sessions.AddUser(std::move(user), std::move(done)); },
        [body = std::move(body), id](Reply& out, const StoreAnswer<bool>& added) {
          if (added.outcome != Outcome::kOk) return SetError(out, added.outcome);
          if (!added.value) {
            return SetError(out, ApiError::kUserExists,
                            "A user with id \"" + id + "\" already exists.");
          }
          out.status = 201;
          out.body = body;
        });
  }

  void ListUsers(const HttpRequest& request, Reply& reply) const {
    using Answer = StoreAnswer<std::vector<User>>;
    AnswerWhenDone<Answer>(
        request, reply, [&](Done<Answer> done) { sessions.ListUsers(std::move(done)); },
        [](Reply& out, const Answer& users) {
          if (users.outcome != Outcome::kOk) return SetError(out, users.outcome);
          JsonWriter json(out.body);
          json.BeginObject().Key("users").BeginArray();
          for (const User& u : users.value) json.Raw(UserToJson(u));
          json.EndArray().EndObject();
        });
  }

  void GetUser(const HttpRequest& request, Reply& reply) const {
    const std::string id = request.DecodedId();
    using Answer = StoreAnswer<std::optional<User>>;
    AnswerWhenDone<Answer>(
        request, reply, [&](Done<Answer> done) { sessions.GetUser(id, std::move(done)); },
        [id](Reply& out, const Answer& user) {
          if (user.outcome != Outcome::kOk) return SetError(out, user.outcome);
          if (!user.value) return SetNotFound(out, "user", id);
          out.body = UserToJson(*user.value);
        });
  }

  void DeleteUser(const HttpRequest& request, Reply& reply) const {
    const std::string id = request.DecodedId();
    AnswerWhenDone<StoreAnswer<bool>>(
        request, reply,
        [&](Done<StoreAnswer<bool>> done) { sessions.RemoveUser(id, std::move(done)); },
        [id](Reply& out, const StoreAnswer<bool>& removed) {
          if (removed.outcome != Outcome::kOk) return SetError(out, removed.outcome);
          if (!removed.value) return SetNotFound(out, "user", id);
          out.status = 204;
        });
  }

  void CreateSession(const HttpRequest& request, Reply& reply) const {
    std::string user_id;
    InteractionEvent event = InteractionEvent::kSignIn;
    bool start = true;
    AdminParseError error;
    if (!ParseCreateSession(request.body, &user_id, &event, &start, &error)) {
      return SetParseError(reply, error);
    }
    AnswerWhenDone<StoreAnswer<Session>>(
        request, reply,
        [&](Done<StoreAnswer<Session>> done) {
          sessions.CreateSession(user_id, start, event, std::move(done));
        },
        [user_id](Reply& out, const StoreAnswer<Session>& created) {
          if (created.outcome == Outcome::kIdentifierNotFound) {
            return SetNotFound(out, "user", user_id);
          }
          if (created.outcome != Outcome::kOk) return SetError(out, created.outcome);
          out.status = 201;
          JsonWriter(out.body)
              .BeginObject()
              .String("sessionId", created.value.id)
              .String("cookie", "_interaction=" + created.value.id)
              .EndObject();
        });
  }

  void GetSession(const HttpRequest& request, Reply& reply) const {
    const std::string id = request.DecodedId();
    using Answer = StoreAnswer<std::optional<SessionView>>;
    AnswerWhenDone<Answer>(
        request, reply, [&](Done<Answer> done) { sessions.View(id, std::move(done)); },
        [id](Reply& out, const Answer& view) {
          if (view.outcome != Outcome::kOk) return SetError(out, view.outcome);
          if (!view.value) return SetNoSession(out, id);
          const Session& s = view.value->session;
          JsonWriter json(out.body);
          json.BeginObject()
              .String("sessionId", id)
              .Bool("interactionStarted", s.interaction_started)
              .String("interactionEvent", ToString(s.event))
              .StringOrNull("userId", s.user_id)
              .String("expiresAt", FormatRfc3339(s.expires_ms))
              .Key("verificationIds")
              .BeginArray();
          for (const InteractionRecordView& r : view.value->records) json.String(r.id);
          json.EndArray().EndObject();
        });
  }

  void Identify(const HttpRequest& request, Reply& reply) const {
    std::string user_id;
    AdminParseError error;
    if (!ParseIdentify(request.body, &user_id, &error)) return SetParseError(reply, error);
    const std::string id = request.DecodedId();
    AnswerWhenDone<Outcome>(
        request, reply,
        [&](Done<Outcome> done) { sessions.Identify(id, user_id, std::move(done)); },
        [id, user_id](Reply& out, Outcome outcome) {
          switch (outcome) {
            case Outcome::kOk:
              JsonWriter(out.body)
                  .BeginObject()
                  .String("sessionId", id)
                  .String("userId", user_id)
                  .EndObject();
              return;
            case Outcome::kIdentifierNotFound:
              return SetNotFound(out, "user", user_id);
            case Outcome::kSessionNotFound:
              return SetNoSession(out, id);
            default:
              return SetError(out, outcome);
          }
        });
  }

  void ClearSessions(const HttpRequest& request, Reply& reply) const {
    AnswerWhenDone<StoreAnswer<size_t>>(
        request, reply,
        [&](Done<StoreAnswer<size_t>> done) { sessions.ClearSessions(std::move(done)); },
        [](Reply& out, const StoreAnswer<size_t>& ended) {
          if (ended.outcome != Outcome::kOk) return SetError(out, ended.outcome);
          JsonWriter(out.body)
              .BeginObject()
              .Int("deleted", static_cast<int64_t>(ended.value))
              .EndObject();
        });
  }
};

}  // namespace

std::vector<Route> SessionRoutes(InteractionStore& sessions) {
  const Handlers h{sessions};
  return {
      {.method = Method::kPost,
       .path = "/admin/users",
       .handler = Bind(h, &Handlers::AddUser),
       .success_status = 201},
      {.method = Method::kGet, .path = "/admin/users", .handler = Bind(h, &Handlers::ListUsers)},
      {.method = Method::kGet, .path = "/admin/users/{id}", .handler = Bind(h, &Handlers::GetUser)},
      {.method = Method::kDelete,
       .path = "/admin/users/{id}",
       .handler = Bind(h, &Handlers::DeleteUser),
       .success_status = 204},
      {.method = Method::kPost,
       .path = "/admin/sessions",
       .handler = Bind(h, &Handlers::CreateSession),
       .success_status = 201},
      {.method = Method::kGet,
       .path = "/admin/sessions/{id}",
       .handler = Bind(h, &Handlers::GetSession)},
      {.method = Method::kPost,
       .path = "/admin/sessions/{id}/identify",
       .handler = Bind(h, &Handlers::Identify)},
      {.method = Method::kDelete,
       .path = "/admin/sessions",
       .handler = Bind(h, &Handlers::ClearSessions)},
  };
}

}  // namespace mfa
