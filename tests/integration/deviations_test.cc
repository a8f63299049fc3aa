// SPDX-License-Identifier: Apache-2.0
// Answers that rely on a leniency Logto does not have say so (issue 14, part 4): the
// Mfa-Mock-Deviation header, mfa_mock_deviations_total{kind}, the request journal; and --strict
// switches every leniency off, so a strict mock answers as Logto and never sends the header.

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/sessions_fixture.h"

namespace mfa_test {
namespace {

constexpr std::string_view kHeader = "Mfa-Mock-Deviation";
constexpr std::string_view kAuthorizePath = "/oidc/auth";
constexpr std::string_view kOrigin = "http://localhost:5173";
constexpr std::string_view kSendEmailBody = R"({"identifierType":"email"})";

Headers JsonType() { return {{"Content-Type", "application/json"}}; }
Headers JsonWith(std::string_view cookie) {
  return {{"Content-Type", "application/json"}, {"Cookie", std::string(cookie)}};
}

// The kinds of the answer's Mfa-Mock-Deviation headers, in order.
std::vector<std::string> Kinds(const HttpResponse& r) {
  std::vector<std::string> kinds;
  for (const std::string& v : r.HeaderValues(kHeader)) kinds.push_back(v.substr(0, v.find(';')));
  return kinds;
}

// A POST with no Content-Type header at all (the test client adds one to any body).
HttpResponse PostWithoutContentType(HttpClient& client, std::string_view path,
                                    std::string_view body, std::string_view cookie = {}) {
  std::string request = "POST " + std::string(path) + " HTTP/1.1\r\nHost: localhost\r\n";
  if (!cookie.empty()) request += "Cookie: " + std::string(cookie) + "\r\n";
  request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  return client.SendRaw(request).Parse();
}

// The value of mfa_mock_deviations_total{kind="..."} in /metrics, or -1.
double DeviationCount(MockServer& server, std::string_view kind) {
  HttpResponse r = server.AdminGet("/metrics");
  const std::string series = "mfa_mock_deviations_total{kind=\"" + std::string(kind) + "\"} ";
  const size_t at = r.body.find(series);
  if (at == std::string::npos) return -1;
  return std::stod(r.body.substr(at + series.size()));
}

// The default mock: open sessions, the documented profile, CORS reflecting any origin; the phone
// connector is off so that verify's 501 can be reached.
class LenientMockTest : public MockServerTest {
 public:
  static void SetUpTestSuite() {
    StartSharedServer(
        {"--cors-origin", "reflect", "--connectors", "email", "--journal-size", "50"});
  }
};

TEST_F(LenientMockTest, ASendWithoutACookieSaysLogtoWouldWantASession) {
  HttpResponse r = pub().Post(kSendPath, kSendEmailBody, JsonType());
  ASSERT_TRUE(HasStatus(r, 200)) << r.Describe();
  EXPECT_EQ(Kinds(r), std::vector<std::string>{"open-session"});
  EXPECT_EQ(r.Header(kHeader).value_or(""),
            "open-session; Logto answers 400 session.not_found without the _interaction cookie "
            "of a session started at /oidc/auth");
}

TEST_F(LenientMockTest, CapitalisedTypeAndJsonWithoutContentTypeAreEachNamed) {
  HttpResponse r = PostWithoutContentType(pub(), kSendPath, R"({"identifierType":"Email"})");
  ASSERT_TRUE(HasStatus(r, 200)) << r.Describe();
  EXPECT_EQ(Kinds(r), (std::vector<std::string>{"open-session", "capitalised-identifier-type",
                                                "json-without-json-content-type"}));
  // A JSON type koa-body does not parse is lenient too; Logto's own JSON types are not.
  r = pub().Post(kSendPath, kSendEmailBody, {{"Content-Type", "application/ld+json"}});
  ASSERT_TRUE(HasStatus(r, 200)) << r.Describe();
  EXPECT_EQ(Kinds(r), (std::vector<std::string>{"open-session", "json-without-json-content-type"}));
  for (const char* type : {"application/json; charset=utf-8", "application/vnd.api+json",
                           "application/csp-report"}) {
    r = pub().Post(kSendPath, kSendEmailBody, {{"Content-Type", type}});
    ASSERT_TRUE(HasStatus(r, 200)) << r.Describe();
    EXPECT_EQ(Kinds(r), std::vector<std::string>{"open-session"}) << type;
  }
}

TEST_F(LenientMockTest, VerifysNotImplementedIsNamedButSendsIsLogtos) {
  // Logto answers a send for a connector that is off with the same 501: no deviation there.
  HttpResponse sent = pub().Post(kSendPath, R"({"identifierType":"phone"})", JsonType());
  ASSERT_TRUE(IsErrorCode(sent, 501, "connector.not_found")) << sent.Describe();
  EXPECT_EQ(Kinds(sent), std::vector<std::string>{"open-session"});
  HttpResponse r =
      pub().Post(kVerifyPath, R"({"verificationId":"x","code":"123456","identifierType":"phone"})",
                 JsonType());
  ASSERT_TRUE(IsErrorCode(r, 501, "connector.not_found")) << r.Describe();
  EXPECT_EQ(Kinds(r), (std::vector<std::string>{"open-session", "not-implemented"}));
}

TEST_F(LenientMockTest, ACredentialedCrossOriginAnswerIsNamedAndItsHeaderReadable) {
  HttpResponse r = pub().Post(kSendPath, kSendEmailBody,
                              {{"Content-Type", "application/json"}, {"Origin", kOrigin.data()}});
  ASSERT_TRUE(HasStatus(r, 200)) << r.Describe();
  EXPECT_EQ(r.Header("Access-Control-Allow-Credentials").value_or(""), "true");
  EXPECT_EQ(Kinds(r), (std::vector<std::string>{"open-session", "credentialed-cors"}));
  EXPECT_EQ(r.Header("Access-Control-Expose-Headers").value_or(""), kHeader);
}

TEST_F(LenientMockTest, PutExperienceThatCreatesTheSessionIsNamedOnlyThen) {
  HttpResponse created =
      pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})", JsonType());
  ASSERT_TRUE(HasStatus(created, 204)) << created.Describe();
  EXPECT_EQ(Kinds(created), std::vector<std::string>{"session-from-experience"});
  // The same session again, and a session /oidc/auth started: Logto's own behaviour.
  const std::string cookie = CookiePair(created);
  ASSERT_FALSE(cookie.empty());
  HttpResponse again =
      pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})", JsonWith(cookie));
  ASSERT_TRUE(HasStatus(again, 204)) << again.Describe();
  EXPECT_FALSE(again.HasHeader(kHeader)) << again.Describe();
  HttpResponse authorized = pub().Get(kAuthorizePath);
  ASSERT_TRUE(HasStatus(authorized, 303)) << authorized.Describe();
  EXPECT_FALSE(authorized.HasHeader(kHeader));
  HttpResponse started = pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})",
                                       JsonWith(CookiePair(authorized)));
  ASSERT_TRUE(HasStatus(started, 204)) << started.Describe();
  EXPECT_FALSE(started.HasHeader(kHeader)) << started.Describe();
  // A send inside that session relies on nothing (nobody signed in yet: Logto's 400).
  HttpResponse sent = pub().Post(kSendPath, kSendEmailBody, JsonWith(CookiePair(authorized)));
  ASSERT_TRUE(IsErrorCode(sent, 400, "session.identifier_not_found")) << sent.Describe();
  EXPECT_FALSE(sent.HasHeader(kHeader)) << sent.Describe();
}

TEST_F(LenientMockTest, EveryKindIsCountedFromTheFirstScrapeAndJournaled) {
  for (std::string_view kind :
       {"open-session", "capitalised-identifier-type", "not-implemented", "credentialed-cors",
        "json-without-json-content-type", "session-from-experience"}) {
    EXPECT_GE(DeviationCount(server(), kind), 0) << kind;
  }
  const double before = DeviationCount(server(), "capitalised-identifier-type");
  ASSERT_TRUE(HasStatus(pub().Post(kSendPath, R"({"identifierType":"Email"})", JsonType()), 200));
  EXPECT_EQ(DeviationCount(server(), "capitalised-identifier-type"), before + 1);

  ASSERT_TRUE(HasStatus(pub().Get(kAuthorizePath), 303));  // no deviation
  HttpResponse listed = server().AdminGet("/admin/requests?deviations=1");
  ASSERT_TRUE(HasStatus(listed, 200)) << listed.Describe();
  Json j(listed.body);
  EXPECT_EQ(j.String("/requests/0/path"), std::string(kSendPath)) << listed.body;
  EXPECT_EQ(j.String("/requests/0/deviations/0"), "open-session") << listed.body;
  EXPECT_EQ(j.String("/requests/0/deviations/1"), "capitalised-identifier-type") << listed.body;
  HttpResponse all = server().AdminGet("/admin/requests?limit=1");
  EXPECT_EQ(Json(all.body).String("/requests/0/path"), std::string(kAuthorizePath)) << all.body;
  EXPECT_TRUE(Json(all.body).IsArray("/requests/0/deviations")) << all.body;
  EXPECT_TRUE(IsErrorCode(server().AdminGet("/admin/requests?deviations=yes"), 400,
                          "admin.invalid_request"));
}

// --strict: Logto's rules everywhere, and the same requests either answered as Logto answers
// them or refused as Logto refuses them; never a Mfa-Mock-Deviation header.
class StrictMockTest : public MockServerTest {
 public:
  static void SetUpTestSuite() {
    StartSharedServer({"--strict", "--cors-origin", "reflect", "--connectors", "email"});
  }
};

TEST_F(StrictMockTest, ASendWithoutACookieIsLogtos400) {
  HttpResponse r = pub().Post(kSendPath, kSendEmailBody, JsonType());
  EXPECT_TRUE(
      IsError(r, 400, "session.not_found", "Session not found. Please go back and sign in again."))
      << r.Describe();
  EXPECT_FALSE(r.HasHeader(kHeader));
}

TEST_F(StrictMockTest, OnlyOidcAuthStartsASession) {
  HttpResponse none =
      pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})", JsonType());
  EXPECT_TRUE(IsErrorCode(none, 400, "session.not_found")) << none.Describe();
  HttpResponse unknown = pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})",
                                       JsonWith("_interaction=not-a-session"));
  EXPECT_TRUE(IsErrorCode(unknown, 400, "session.not_found")) << unknown.Describe();
  EXPECT_TRUE(CookiePair(unknown).empty());

  HttpResponse authorized = pub().Get(kAuthorizePath);
  ASSERT_TRUE(HasStatus(authorized, 303)) << authorized.Describe();
  const std::string cookie = CookiePair(authorized);
  HttpResponse started =
      pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})", JsonWith(cookie));
  ASSERT_TRUE(HasStatus(started, 204)) << started.Describe();
  HttpResponse sent = pub().Post(kSendPath, kSendEmailBody, JsonWith(cookie));
  ASSERT_TRUE(IsErrorCode(sent, 400, "session.identifier_not_found")) << sent.Describe();
  for (const HttpResponse* r : {&none, &unknown, &authorized, &started, &sent}) {
    EXPECT_FALSE(r->HasHeader(kHeader)) << r->Describe();
  }
}

TEST_F(StrictMockTest, BodiesAreReadAsKoaBodyReadsThem) {
  HttpResponse authorized = pub().Get(kAuthorizePath);
  const std::string cookie = CookiePair(authorized);
  ASSERT_TRUE(HasStatus(
      pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})", JsonWith(cookie)),
      204));
  // No Content-Type, or a +json type koa-body does not know: the guard sees {}.
  for (bool with_type : {false, true}) {
    HttpResponse r = with_type
                         ? pub().Post(kSendPath, kSendEmailBody,
                                      {{"Cookie", cookie}, {"Content-Type", "application/ld+json"}})
                         : PostWithoutContentType(pub(), kSendPath, kSendEmailBody, cookie);
    ASSERT_TRUE(IsErrorCode(r, 400, "guard.invalid_input")) << r.Describe();
    Json j(r.body);
    EXPECT_EQ(j.String("/data/issues/0/received"), "undefined") << r.body;
    EXPECT_EQ(j.String("/data/issues/0/path/0"), "identifierType") << r.body;
    EXPECT_FALSE(r.HasHeader(kHeader));
  }
  // "Email" is not Logto's.
  HttpResponse capitalised =
      pub().Post(kSendPath, R"({"identifierType":"Email"})", JsonWith(cookie));
  ASSERT_TRUE(IsErrorCode(capitalised, 400, "guard.invalid_input")) << capitalised.Describe();
  EXPECT_EQ(Json(capitalised.body).String("/data/issues/0/code"), "invalid_enum_value");
}

TEST_F(StrictMockTest, CorsAllowsTheOriginWithoutCredentials) {
  HttpResponse r = pub().Get(kAuthorizePath, {{"Origin", kOrigin.data()}});
  ASSERT_TRUE(HasStatus(r, 303)) << r.Describe();
  EXPECT_EQ(r.Header("Access-Control-Allow-Origin").value_or(""), kOrigin);
  EXPECT_FALSE(r.HasHeader("Access-Control-Allow-Credentials")) << r.Describe();
  EXPECT_FALSE(r.HasHeader(kHeader));
}

TEST_F(StrictMockTest, TheConfigCannotBeLoosenedWhileStrict) {
  for (const char* body : {R"({"profile":"documented"})", R"({"sessions":"optional"})"}) {
    HttpResponse r = server().PatchConfig(body);
    EXPECT_TRUE(HasStatus(r, 400)) << body << r.Describe();
    EXPECT_NE(r.body.find("--strict"), std::string::npos) << r.body;
  }
  for (std::string_view kind : {"open-session", "credentialed-cors", "session-from-experience"}) {
    EXPECT_EQ(DeviationCount(server(), kind), 0) << kind;
  }
}

TEST(StrictMockCliTest, StrictRefusesAnExplicitLenientProfileOrSessionMode) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--strict", "--profile", "documented"},
        std::vector<std::string>{"--strict", "--sessions", "optional"}}) {
    MockServer server;
    EXPECT_FALSE(server.Start(args)) << args[1];
    EXPECT_NE(server.error().find("--strict needs"), std::string::npos) << server.error();
  }
}

}  // namespace
}  // namespace mfa_test
