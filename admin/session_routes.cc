// SPDX-License-Identifier: Apache-2.0
// /admin/users and /admin/sessions: the people who sign in and their interaction sessions.
#include "admin/admin_routes.h"
#include "admin/admin_support.h"

namespace mfa {
namespace {

void SetNoSession(Reply& reply, std::string_view id) {
  SetError(reply, ApiError::kNotFound, "No live session \"" + std::string(id) + "\".");
}

struct Handlers {
  SessionService& sessions;

  void AddUser(const HttpRequest& request, Reply& reply) const {
    User user;
    AdminParseError error;
    if (!ParseUser(request.body, &user, &error)) return SetParseError(reply, error);
    if (!sessions.users().Add(user)) {
      return SetError(reply, ApiError::kUserExists,
                      "A user with id \"" + user.id + "\" already exists.");
    }
    reply.status = 201;
    reply.body = UserToJson(user);
  }

  void ListUsers(const HttpRequest&, Reply& reply) const {
    JsonWriter json(reply.body);
    json.BeginObject().Key("users").BeginArray();
    for (const User& u : sessions.users().List()) json.Raw(UserToJson(u));
    json.EndArray().EndObject();
  }

  void GetUser(const HttpRequest& request, Reply& reply) const {
    const std::string id = request.DecodedId();
    const std::optional<User> user = sessions.users().Get(id);
    if (!user) return SetNotFound(reply, "user", id);
    reply.body = UserToJson(*user);
  }

  void DeleteUser(const HttpRequest& request, Reply& reply) const {
    const std::string id = request.DecodedId();
    if (!sessions.users().Remove(id)) return SetNotFound(reply, "user", id);
    reply.status = 204;
  }

  void CreateSession(const HttpRequest& request, Reply& reply) const {
    std::string user_id;
    InteractionEvent event = InteractionEvent::kSignIn;
    bool start = true;
    AdminParseError error;
    if (!ParseCreateSession(request.body, &user_id, &event, &start, &error)) {
      return SetParseError(reply, error);
    }
    if (!user_id.empty() && !sessions.users().Get(user_id)) {
      return SetNotFound(reply, "user", user_id);
    }
    const Session s = sessions.CreateSession(user_id, start, event);
    reply.status = 201;
    JsonWriter(reply.body)
        .BeginObject()
        .String("sessionId", s.id)
        .String("cookie", "_interaction=" + s.id)
        .EndObject();
  }

  void GetSession(const HttpRequest& request, Reply& reply) const {
    const std::string id = request.DecodedId();
    const std::optional<InteractionView> view = sessions.View(id);
    const auto session = sessions.sessions().Get(id, sessions.NowMs());
    if (!view || !session) return SetNoSession(reply, id);
    JsonWriter json(reply.body);
    json.BeginObject()
        .String("sessionId", id)
        .Bool("interactionStarted", session->interaction_started)
        .String("interactionEvent", ToString(view->event))
        .StringOrNull("userId", view->user_id)
        .String("expiresAt", FormatRfc3339(session->expires_ms))
        .Key("verificationIds")
        .BeginArray();
    for (const InteractionRecordView& r : view->records) json.String(r.id);
    json.EndArray().EndObject();
  }

  void Identify(const HttpRequest& request, Reply& reply) const {
    std::string user_id;
    AdminParseError error;
    if (!ParseIdentify(request.body, &user_id, &error)) return SetParseError(reply, error);
    const std::string id = request.DecodedId();
    switch (sessions.Identify(id, user_id)) {
      case Outcome::kOk:
        JsonWriter(reply.body)
            .BeginObject()
            .String("sessionId", id)
            .String("userId", user_id)
            .EndObject();
        return;
      case Outcome::kIdentifierNotFound:
        return SetNotFound(reply, "user", user_id);
      default:
        return SetNoSession(reply, id);
    }
  }

  void ClearSessions(const HttpRequest&, Reply& reply) const {
    const size_t ended = sessions.ClearSessions();
    JsonWriter(reply.body).BeginObject().Int("deleted", static_cast<int64_t>(ended)).EndObject();
  }
};

}  // namespace

std::vector<Route> SessionRoutes(SessionService& sessions) {
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
