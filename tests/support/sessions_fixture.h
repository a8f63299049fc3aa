// SPDX-License-Identifier: Apache-2.0
// The interaction-session suites' shared server fixture and helpers: the session routes with a
// cookie, users alice (email + phone), bob (email only) and carol (phone only), and the codes the
// inbox holds.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/http_client.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/test_values.h"

namespace mfa_test {

// Contract §2 strings for sessions (not in tests/support/contract.h), typed out from the spec.
constexpr std::string_view kSessionNotFound = "session.not_found";
constexpr std::string_view kSessionNotFoundMessage =
    "Session not found. Please go back and sign in again.";
constexpr std::string_view kInteractionNotFound = "session.interaction_not_found";
constexpr std::string_view kInteractionNotFoundMessage =
    "Interaction session not found. Please go back and start the session again.";
constexpr std::string_view kBlocked = "session.verification_blocked_too_many_attempts";
inline std::string BlockedMessage(std::string_view relative_time) {
  return "Too many attempts in a short time. Please try again " + std::string(relative_time) + ".";
}
constexpr std::string_view kExperiencePath = "/api/experience";
constexpr std::string_view kInteractionPath = "/api/experience/interaction";

constexpr std::string_view kAliceEmail = "alice@example.com";
constexpr std::string_view kAlicePhone = "+15555550101";
constexpr std::string_view kBobEmail = "bob@example.com";
constexpr std::string_view kCarolPhone = "+15555550103";

// A body no guard accepts (for "session checks come before body validation").
constexpr std::string_view kInvalidSendBody = R"({"identifierType":"fax"})";

inline std::string SendBody(std::string_view type) {
  return R"({"identifierType":)" + Quote(type) + "}";
}
inline std::string VerifyBody(std::string_view id, std::string_view code, std::string_view type) {
  return R"({"verificationId":)" + Quote(id) + R"(,"code":)" + Quote(code) +
         R"(,"identifierType":)" + Quote(type) + "}";
}
// A wrong code of the same shape.
inline std::string Wrong(std::string code) {
  for (char& c : code) c = c == '9' ? '0' : static_cast<char>(c + 1);
  return code;
}

// The `_interaction=<id>` pair of a Set-Cookie header, or "".
inline std::string CookiePair(const HttpResponse& r) {
  for (const std::string& v : r.HeaderValues("Set-Cookie")) {
    if (v.rfind("_interaction=", 0) != 0) continue;
    return v.substr(0, v.find(';'));
  }
  return {};
}
inline std::string SessionIdOf(std::string_view cookie) {
  const size_t eq = cookie.find('=');
  return eq == std::string_view::npos ? std::string() : std::string(cookie.substr(eq + 1));
}

// Succeeds if `r` is the session.not_found answer, with Logto's OIDC-style extra fields.
inline ::testing::AssertionResult IsSessionNotFound(const HttpResponse& r) {
  ::testing::AssertionResult e = IsError(r, 400, kSessionNotFound, kSessionNotFoundMessage);
  if (!e) return e;
  Json body(r.body);
  if (body.String("/error") != std::optional<std::string>("invalid_request")) {
    return ::testing::AssertionFailure() << "no \"error\":\"invalid_request\": " << r.body;
  }
  if (body.String("/error_description") !=
      std::optional<std::string>(std::string(kSessionNotFoundMessage))) {
    return ::testing::AssertionFailure() << "no matching error_description: " << r.body;
  }
  return ::testing::AssertionSuccess();
}

// A server shared by the suite, with the session state (sessions, sentinel, users, session
// config) reset before every test and three users: alice (email + phone), bob (email only),
// carol (phone only).
class SessionsFixture : public MockServerTest {
 protected:
  void SetUp() override {
    MockServerTest::SetUp();
    if (HasFatalFailure()) return;
    ResetSessionState();
    if (HasFatalFailure()) return;
    if (manage_users_) {
      AddUser(R"({"id":"alice","username":"alice","primaryEmail":"alice@example.com",)"
              R"("primaryPhone":"+15555550101"})");
      AddUser(R"({"id":"bob","primaryEmail":"bob@example.com"})");
      AddUser(R"({"id":"carol","primaryPhone":"+15555550103"})");
    }
  }

  void ResetSessionState() {
    Json baseline(server().baseline_config());
    std::string patch = "{";
    for (const char* key : {"/sessions", "/sessionTtlSeconds", "/lockout"}) {
      if (!baseline.Has(key)) continue;
      if (patch.size() > 1) patch += ",";
      patch += Quote(key + 1) + ":" + baseline.Dump(key);
    }
    patch += "}";
    ASSERT_TRUE(HasStatus(server().PatchConfig(patch), 200)) << patch;
    ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/sessions"), 200));
    if (!manage_users_) return;
    HttpResponse users = server().AdminGet("/admin/users");
    ASSERT_TRUE(HasStatus(users, 200));
    Json list(users.body);
    for (size_t i = 0; i < list.Size("/users").value_or(0); ++i) {
      const std::string id = list.String("/users/" + std::to_string(i) + "/id").value_or("");
      ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/users/" + UrlEncode(id)), 204)) << id;
    }
  }

  void AddUser(std::string_view json) {
    ASSERT_TRUE(HasStatus(server().AdminPost("/admin/users", json), 201)) << json;
  }

  void UseProfile(std::string_view profile) {
    ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"profile":)" + Quote(profile) + "}"), 200));
  }

  // --- public routes, with an optional cookie ("_interaction=<id>")
  static Headers WithCookie(std::string_view cookie) {
    if (cookie.empty()) return {};
    return {{"Cookie", std::string(cookie)}};
  }
  HttpResponse PutExperience(std::string_view cookie, std::string_view event = "SignIn") {
    return pub().Request("PUT", kExperiencePath, R"({"interactionEvent":)" + Quote(event) + "}",
                         WithCookie(cookie));
  }
  HttpResponse SendIn(std::string_view cookie, std::string_view type) {
    return pub().Post(kSendPath, SendBody(type), WithCookie(cookie));
  }
  HttpResponse VerifyIn(std::string_view cookie, std::string_view id, std::string_view code,
                        std::string_view type) {
    return pub().Post(kVerifyPath, VerifyBody(id, code, type), WithCookie(cookie));
  }
  HttpResponse Interaction(std::string_view cookie) {
    return pub().Get(kInteractionPath, WithCookie(cookie));
  }

  // PUT /api/experience without a cookie; returns the new cookie pair.
  std::string StartSession(std::string_view event = "SignIn") {
    HttpResponse r = PutExperience("", event);
    EXPECT_TRUE(HasStatus(r, 204));
    std::string cookie = CookiePair(r);
    EXPECT_FALSE(cookie.empty()) << r.Describe();
    return cookie;
  }
  HttpResponse Identify(std::string_view cookie, std::string_view user_id) {
    return server().AdminPost("/admin/sessions/" + SessionIdOf(cookie) + "/identify",
                              R"({"userId":)" + Quote(user_id) + "}");
  }
  // A started session identified as `user_id`; returns its cookie pair.
  std::string StartAs(std::string_view user_id) {
    std::string cookie = StartSession();
    EXPECT_TRUE(HasStatus(Identify(cookie, user_id), 200));
    return cookie;
  }

  // The verificationId of a 200 answer, or "" (with a test failure).
  static std::string IdOf(const HttpResponse& r) {
    EXPECT_TRUE(HasStatus(r, 200));
    std::optional<std::string> id = Json(r.body).String("/verificationId");
    EXPECT_TRUE(id && IsVerificationId(*id)) << r.Describe();
    return id.value_or("");
  }
  // The code the inbox holds for `id` (searched among the newest messages).
  std::string CodeOf(std::string_view id) {
    HttpResponse r = server().AdminGet("/admin/inbox?limit=1000");
    Json inbox(r.body);
    for (size_t i = 0; i < inbox.Size("/messages").value_or(0); ++i) {
      const std::string at = "/messages/" + std::to_string(i);
      if (inbox.String(at + "/verificationId") == std::optional<std::string>(std::string(id))) {
        return inbox.String(at + "/code").value_or("");
      }
    }
    ADD_FAILURE() << "no inbox message for " << id << ":\n" << r.Describe();
    return {};
  }

  bool manage_users_ = true;
};

}  // namespace mfa_test
