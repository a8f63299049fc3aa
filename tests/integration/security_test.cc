// SPDX-License-Identifier: Apache-2.0
// Security defaults against the real binary (issue 5, part 5): the admin API is unreachable from
// the public listener; --admin-token guards every admin route and /metrics; a non-loopback admin
// listener needs a token or a loud --admin-insecure; codes never reach the logs at the default
// level; error bodies never carry exception text.

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/http_client.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_files.h"
#include "tests/support/wait.h"

namespace mfa_test {
namespace {

using std::chrono::seconds;

constexpr char kToken[] = "sec-T0ken_for_tests";

struct Call {
  std::string method;
  std::string target;
  std::string body;
};

// Every route the admin listener registers, read from the route groups' sources themselves
// (admin/*_routes.cc) so a route added later is covered without editing this test. {id} becomes
// "x".
std::vector<Call> AdminRoutesFromSource() {
  std::string source;
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(MFA_MOCK_SOURCE_DIR) + "/admin")) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 10 || name.substr(name.size() - 10) != "_routes.cc") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    source += text.str();
  }
  std::vector<Call> calls;
  std::set<std::string> seen;
  const std::regex route(
      R"re(\.method = Method::k(Get|Post|Put|Patch|Delete),\s*\.path = "(/[^"]*)")re");
  for (auto it = std::sregex_iterator(source.begin(), source.end(), route);
       it != std::sregex_iterator(); ++it) {
    std::string method = (*it)[1];
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string path = (*it)[2];
    for (size_t at; (at = path.find("{id}")) != std::string::npos;) path.replace(at, 4, "x");
    if (!seen.insert(method + " " + path).second) continue;
    const bool has_body = method == "POST" || method == "PATCH" || method == "PUT";
    calls.push_back({method, path, has_body ? "{}" : ""});
  }
  return calls;
}

bool IsOpenAdminPath(const std::string& path) {
  return path == "/" || path == "/ui" || path == "/healthz" || path == "/readyz" ||
         path == "/openapi.json";
}

// Text that would betray a C++ exception or a crash reaching the wire.
::testing::AssertionResult NoInternals(std::string_view body) {
  static const char* const kLeaks[] = {
      "basic_string", "std::",        "what()",           "stoul",     "stol",      "stoi",
      "length_error", "out_of_range", "invalid_argument", "bad_alloc", "terminate", "exception",
      "Segmentation", "vector::",     "Assertion",        "pistache",  "Pistache",  ".cc:"};
  for (const char* leak : kLeaks) {
    if (body.find(leak) != std::string_view::npos) {
      return ::testing::AssertionFailure() << "body leaks '" << leak << "': " << body;
    }
  }
  return ::testing::AssertionSuccess();
}

// True if `needle` occurs in `hay` as a whole token (not inside a longer run of [0-9A-Za-z]).
bool ContainsToken(std::string_view hay, std::string_view needle) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
  for (size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1)) {
    const bool left = at == 0 || !word(hay[at - 1]);
    const bool right = at + needle.size() == hay.size() || !word(hay[at + needle.size()]);
    if (left && right) return true;
  }
  return false;
}

TEST(SecurityRoutesTest, TheRouteListReadFromTheSourceIsComplete) {
  const std::vector<Call> calls = AdminRoutesFromSource();
  std::set<std::string> names;
  for (const Call& c : calls) names.insert(c.method + " " + c.target);
  for (const char* expected :
       {"GET /admin/verifications/export", "POST /admin/verifications/generate",
        "DELETE /admin/verifications", "GET /admin/verifications/x", "POST /admin/send",
        "PATCH /admin/config", "POST /admin/clock/advance", "GET /admin/inbox/latest",
        "DELETE /admin/clock", "GET /admin/requests", "POST /admin/sessions/x/identify",
        "GET /healthz", "GET /"}) {
    EXPECT_EQ(names.count(expected), 1u) << expected << " not found in admin/*_routes.cc";
  }
  EXPECT_GE(calls.size(), 30u);
}

// ===== The public listener never serves admin routes ==========================================

TEST(SecurityPublicListenerTest, NoAdminRouteAnswersOnThePublicListener) {
  MockServer server;
  ASSERT_TRUE(server.Start({})) << server.error();
  ASSERT_TRUE(
      HasStatus(server.AdminPost(
                    "/admin/verifications",
                    R"([{"verificationId":"keep-me","identifierType":"email","code":"123456"}])"),
                201));
  HttpClient pub(server.process().public_port());
  std::vector<Call> calls = AdminRoutesFromSource();
  calls.push_back({"GET", "/metrics", ""});
  for (const Call& c : calls) {
    HttpResponse r = pub.Request(c.method, c.target, c.body);
    EXPECT_TRUE(IsErrorCode(r, 404, kRouteNotFound)) << c.method << " " << c.target;
    EXPECT_EQ(r.body.find("keep-me"), std::string::npos);
  }
  // Spellings that a lax router might map onto an admin route.
  for (const char* target :
       {"/admin/stats/", "//admin/stats", "/ADMIN/stats", "/Admin/Stats", "/admin%2Fstats",
        "/%61dmin/stats", "/api/../admin/stats", "/admin/./stats", "/./admin/stats",
        "/api/experience/../../admin/stats", "/admin/verifications/keep-me",
        "/admin/verifications/export?x=/admin", "http://127.0.0.1/admin/stats", "/admin;/stats",
        "/admin/stats%00", "/admin/stats?"}) {
    HttpResponse r = pub.Get(target);
    EXPECT_TRUE(r.ok()) << target;
    EXPECT_NE(r.status, 200) << target << " reached something: " << r.body;
    EXPECT_EQ(r.body.find("records"), std::string::npos) << target << ": " << r.body;
    EXPECT_EQ(r.body.find("keep-me\",\"identifierType"), std::string::npos) << target;
  }
  // An absolute-form request line naming the admin port, and a Host header naming it.
  const std::string admin_host = "127.0.0.1:" + std::to_string(server.process().admin_port());
  HttpResponse r = pub.SendRaw("GET http://" + admin_host +
                               "/admin/stats HTTP/1.1\r\nHost: " + admin_host + "\r\n\r\n")
                       .Parse();
  EXPECT_NE(r.status, 200) << r.Describe();
  r = pub.Get("/admin/stats", {{"Host", admin_host}});
  EXPECT_TRUE(IsErrorCode(r, 404, kRouteNotFound));
  r = pub.Delete("/admin/verifications", {{"X-Forwarded-Host", admin_host}});
  EXPECT_TRUE(IsErrorCode(r, 404, kRouteNotFound));
  // Nothing changed on the admin side.
  EXPECT_EQ(Json(server.AdminGet("/admin/verifications/keep-me").body).String("/code"), "123456");
  EXPECT_EQ(Json(server.AdminGet("/admin/config").body).Int("/maxAttempts"), kDefaultMaxAttempts);
  EXPECT_EQ(Json(server.AdminGet("/admin/clock").body).Int("/offsetSeconds"), 0);
  EXPECT_EQ(server.Stop(), 0);
}

// ===== --admin-token =========================================================================

TEST(SecurityTokenTest, EveryAdminRouteAndMetricsAnswer401WithoutTheToken) {
  MockServer server;
  ASSERT_TRUE(
      server.Start({"--admin-token", kToken, "--metrics-listen", "127.0.0.1:0"}, {}, kToken))
      << server.error();
  ASSERT_TRUE(
      HasStatus(server.AdminPost(
                    "/admin/verifications",
                    R"([{"verificationId":"guarded","identifierType":"email","code":"424242"}])"),
                201));
  HttpClient bare(server.process().admin_port());
  const std::vector<std::pair<std::string, std::string>> wrong_headers = {
      {"", ""},
      {"Authorization", "Bearer wrong"},
      {"Authorization", std::string("bearer ") + kToken},
      {"Authorization", std::string("Bearer ") + kToken + "x"},
      {"Authorization", std::string("Bearer ") + std::string(kToken).substr(1)},
      {"Authorization", std::string("Bearer  ") + kToken},
      {"Authorization", std::string("Basic ") + kToken},
      {"Authorization", kToken},
      {"Authorization", "Bearer "},
      {"X-Admin-Token", kToken},
  };
  int checked = 0;
  std::vector<Call> calls = AdminRoutesFromSource();
  calls.push_back({"GET", "/metrics", ""});
  calls.push_back({"GET", "/admin/no-such-route", ""});
  calls.push_back({"POST", "/admin/stats", "{}"});  // wrong method on a real route
  for (const Call& c : calls) {
    if (IsOpenAdminPath(c.target)) continue;
    for (const auto& [name, value] : wrong_headers) {
      Headers headers;
      if (!name.empty()) headers.push_back({name, value});
      HttpResponse r = bare.Request(c.method, c.target, c.body, headers);
      EXPECT_TRUE(IsError(r, 401, kAdminUnauthorized,
                          "Missing or invalid admin token: send Authorization: Bearer <token>."))
          << c.method << " " << c.target << " with "
          << (name.empty() ? "no header" : name + ": " + value);
      ++checked;
    }
    // With the token, the route is reached (whatever it then answers, it is not a 401).
    HttpResponse ok = server.admin().Request(c.method, c.target, c.body);
    EXPECT_TRUE(ok.ok()) << c.target;
    EXPECT_NE(ok.status, 401) << c.method << " " << c.target << " refuses the right token";
    if (c.method == "DELETE" && c.target == "/admin/verifications") {
      // The authorized DELETE above cleared the store: put the record back for later checks.
      server.AdminPost(
          "/admin/verifications",
          R"([{"verificationId":"guarded","identifierType":"email","code":"424242"}])");
    }
  }
  // The open paths stay open; the separate metrics listener needs the token too.
  for (const char* open : {"/healthz", "/readyz", "/openapi.json", "/", "/ui"}) {
    EXPECT_TRUE(HasStatus(bare.Get(open), 200)) << open;
  }
  HttpClient metrics(
      static_cast<uint16_t>(std::stoi(server.process().ready_fields().at("metrics").substr(
          server.process().ready_fields().at("metrics").rfind(':') + 1))));
  EXPECT_TRUE(IsErrorCode(metrics.Get("/metrics"), 401, kAdminUnauthorized));
  EXPECT_TRUE(HasStatus(
      metrics.Get("/metrics", {{"Authorization", std::string("Bearer ") + kToken}}), 200));
  // 401s changed nothing: the record is still there, unverified.
  Json rec(server.AdminGet("/admin/verifications/guarded").body);
  EXPECT_EQ(rec.String("/code"), "424242");
  std::cout << "[ token    ] " << checked << " unauthorized requests over " << calls.size()
            << " admin routes answered 401\n";
  EXPECT_EQ(server.Stop(), 0);
}

TEST(SecurityTokenTest, MetricsPublicOpensOnlyMetrics) {
  MockServer server;
  ASSERT_TRUE(server.Start(
      {"--admin-token", kToken, "--metrics-public", "--metrics-listen", "127.0.0.1:0"}, {}, kToken))
      << server.error();
  HttpClient bare(server.process().admin_port());
  EXPECT_TRUE(HasStatus(bare.Get("/metrics"), 200));
  EXPECT_TRUE(IsErrorCode(bare.Get("/admin/stats"), 401, kAdminUnauthorized));
  EXPECT_TRUE(IsErrorCode(bare.Get("/admin/inbox"), 401, kAdminUnauthorized));
  const std::string m = server.process().ready_fields().at("metrics");
  HttpClient metrics(static_cast<uint16_t>(std::stoi(m.substr(m.rfind(':') + 1))));
  EXPECT_TRUE(HasStatus(metrics.Get("/metrics"), 200));
  EXPECT_EQ(server.Stop(), 0);
}

// ===== Non-loopback admin listener ============================================================

TEST(SecurityBindTest, NonLoopbackAdminListenerWithoutATokenExitsTwo) {
  for (const char* where : {"0.0.0.0:0", "[::]:0"}) {
    RunResult run = RunBinary({"--listen", "127.0.0.1:0", "--admin-listen", where}, seconds(60));
    EXPECT_EQ(run.exit_code, 2) << where << ": " << run.Describe();
    std::vector<std::string> lines;
    for (const std::string& l : SplitLines(run.err)) {
      if (!l.empty()) lines.push_back(l);
    }
    ASSERT_EQ(lines.size(), 1u) << run.err;
    EXPECT_EQ(lines[0].rfind("mfa-mock: --admin-listen ", 0), 0u) << lines[0];
    EXPECT_NE(lines[0].find("is not loopback"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("--admin-token"), std::string::npos) << lines[0];
    EXPECT_NE(lines[0].find("--admin-insecure"), std::string::npos) << lines[0];
    EXPECT_EQ(run.out.find("ready"), std::string::npos);
  }
  // The same from the environment.
  RunResult env =
      RunBinary({"--listen", "127.0.0.1:0"}, seconds(60), {{"MFA_MOCK_ADMIN_LISTEN", "0.0.0.0:0"}});
  EXPECT_EQ(env.exit_code, 2) << env.Describe();
  EXPECT_NE(env.err.find("is not loopback"), std::string::npos) << env.err;
}

TEST(SecurityBindTest, NonLoopbackAdminListenerWithATokenStartsQuietly) {
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--admin-listen", "0.0.0.0:0", "--admin-token", kToken}))
      << server.error();
  EXPECT_EQ(server.Stderr().find("WITHOUT a token"), std::string::npos) << server.Stderr();
  HttpClient admin(server.admin_port());
  EXPECT_TRUE(IsErrorCode(admin.Get("/admin/stats"), 401, kAdminUnauthorized));
  EXPECT_EQ(server.Stop(), 0);
}

TEST(SecurityBindTest, AdminInsecureStartsWithALoudWarning) {
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--admin-listen", "0.0.0.0:0", "--admin-insecure"})) << server.error();
  const std::string err = server.Stderr();
  EXPECT_NE(err.find("warn"), std::string::npos) << err;
  EXPECT_NE(err.find("WITHOUT a token"), std::string::npos) << err;
  EXPECT_NE(err.find("0.0.0.0"), std::string::npos) << err;
  // The warning comes first, before the listeners are up.
  EXPECT_LT(err.find("WITHOUT a token"), err.find("profile=")) << err;
  HttpClient admin(server.admin_port());
  EXPECT_TRUE(HasStatus(admin.Get("/admin/stats"), 200));
  EXPECT_EQ(server.Stop(), 0);
  // From the environment too.
  ServerProcess env;
  ASSERT_TRUE(env.Start({"--admin-listen", "0.0.0.0:0"}, {{"MFA_MOCK_ADMIN_INSECURE", "true"}}))
      << env.error();
  EXPECT_NE(env.Stderr().find("WITHOUT a token"), std::string::npos) << env.Stderr();
  EXPECT_EQ(env.Stop(), 0);
}

TEST(SecurityBindTest, LoopbackAdminListenersNeedNoToken) {
  for (const char* where : {"127.0.0.1:0", "localhost:0", "127.0.0.2:0"}) {
    ServerProcess server;
    ASSERT_TRUE(server.Start({"--admin-listen", where})) << where << ": " << server.error();
    EXPECT_EQ(server.Stderr().find("WITHOUT a token"), std::string::npos) << where;
    EXPECT_EQ(server.Stop(), 0) << where;
  }
}

// docs/configuration.md documents [IPv6]:PORT for the listeners; ::1 is loopback, so no token is
// needed. (Today every IPv6 address fails at bind time with "cannot start the listeners: Invalid
// port": Pistache's Address(host, port) is given the bare IPv6 literal.)
TEST(SecurityBindTest, Ipv6LoopbackAdminListenerNeedsNoToken) {
  ServerProcess server;
  ASSERT_TRUE(server.Start({"--admin-listen", "[::1]:0"})) << server.error();
  EXPECT_EQ(server.Stderr().find("WITHOUT a token"), std::string::npos);
  HttpClient admin(server.admin_port(), "::1");
  EXPECT_TRUE(HasStatus(admin.Get("/admin/stats"), 200));
  EXPECT_EQ(server.Stop(), 0);
}

// ===== Codes never in the logs ================================================================

TEST(SecurityLogTest, CodesNeverAppearInStderrAtTheDefaultLogLevel) {
  TempDir dir;
  MockServer server;
  // Default log level and access log; a snapshot and a seed file to exercise those log lines.
  const std::string seed_file = dir.File("seed.csv");
  ASSERT_TRUE(WriteFile(seed_file,
                        "verificationId,code,identifierType,identifier\n"
                        "seeded-file,SEEDFILE-code-71x,email,user@example.com\n"));
  ASSERT_TRUE(server.Start({"--send-limit", "0", "--seed", seed_file, "--snapshot",
                            dir.File("store.snap"), "--snapshot-interval", "1"}))
      << server.error();
  std::set<std::string> codes = {"SEEDFILE-code-71x"};
  auto pub = server.NewPublicClient();
  auto admin = server.NewAdminClient();
  // Public sends: read the codes back from the inbox.
  for (int i = 0; i < 10; ++i) {
    HttpResponse r = pub->Post(
        kSendPath, i % 2 ? R"({"identifierType":"phone"})" : R"({"identifierType":"email"})");
    ASSERT_TRUE(HasStatus(r, 200));
  }
  // Admin seeding with chosen codes, admin sends, a generated batch with a fixed code.
  ASSERT_TRUE(HasStatus(
      admin->Post("/admin/verifications",
                  R"([{"verificationId":"log-a","identifierType":"email","code":"SEED-code-q81z"},)"
                  R"({"verificationId":"log-b","identifierType":"phone","code":"604213"}])"),
      201));
  codes.insert("SEED-code-q81z");
  codes.insert("604213");
  ASSERT_TRUE(HasStatus(
      admin->Post("/admin/send", R"({"identifierType":"email","identifier":"x@y.z"})"), 201));
  ASSERT_TRUE(
      HasStatus(admin->Post("/admin/verifications/generate",
                            R"({"count":5,"identifierType":"email","code":"GEN-code-m3k9"})"),
                201));
  codes.insert("GEN-code-m3k9");
  Json inbox(admin->Get("/admin/inbox?limit=1000").body);
  for (size_t i = 0; i < inbox.Size("/messages").value_or(0); ++i) {
    const std::string base = "/messages/" + std::to_string(i);
    auto code = inbox.String(base + "/code");
    ASSERT_TRUE(code);
    codes.insert(*code);
    // Verify half of them right and all of them wrong once.
    const std::string type =
        inbox.String(base + "/channel").value_or("email") == "sms" ? "phone" : "email";
    const std::string id = inbox.String(base + "/verificationId").value_or("");
    pub->Post(kVerifyPath, R"({"verificationId":)" + Quote(id) +
                               R"(,"code":"WRONG-attempt-zz7","identifierType":)" + Quote(type) +
                               "}");
    if (i % 2 == 0) {
      pub->Post(kVerifyPath, R"({"verificationId":)" + Quote(id) + R"(,"code":)" + Quote(*code) +
                                 R"(,"identifierType":)" + Quote(type) + "}");
    }
  }
  codes.insert("WRONG-attempt-zz7");
  pub->Post(kVerifyPath,
            R"({"verificationId":"log-a","code":"SEED-code-q81z","identifierType":"email"})");
  // Malformed bodies that carry a code.
  pub->Post(kVerifyPath, R"({"verificationId":"log-b","code":"MALFORMED-code-p0q",)");
  codes.insert("MALFORMED-code-p0q");
  admin->Get("/admin/verifications/export");
  admin->Get("/admin/verifications/log-b");
  // A periodic snapshot (every second) logs too: wait for one that began after the requests.
  auto saved_lines = [&] {
    const std::string err = server.process().Stderr(16 << 20);
    size_t n = 0;
    for (size_t at = err.find("saved "); at != std::string::npos; at = err.find("saved ", at + 1)) {
      ++n;
    }
    return n;
  };
  const size_t saved_before = saved_lines();
  ASSERT_TRUE(WaitFor(
      "two more periodic snapshot log lines ('saved ...')",
      [&] { return saved_lines() >= saved_before + 2; },
      [&] { return server.process().Stderr(2000); }));
  ASSERT_EQ(server.Stop(), 0);
  const std::string err = server.process().Stderr(16 << 20);
  const std::string out = server.process().Stdout();
  ASSERT_GT(codes.size(), 10u);
  int found = 0;
  for (const std::string& code : codes) {
    if (ContainsToken(err, code)) {
      ADD_FAILURE() << "code " << code << " appears in stderr";
      ++found;
    }
    EXPECT_FALSE(ContainsToken(out, code)) << "code " << code << " appears in stdout";
  }
  std::cout << "[ logs     ] " << codes.size() << " codes checked against "
            << SplitLines(err).size() << " stderr lines: " << found << " found\n";
  // The log did record the activity (so the check above looked at something).
  EXPECT_NE(err.find("route=\"/api/experience/verification/mfa-verification-code/verify\""),
            std::string::npos);
}

// ===== No exception text on the wire ==========================================================

TEST(SecurityErrorBodyTest, ErrorBodiesNeverCarryExceptionText) {
  MockServer server;
  ASSERT_TRUE(server.Start({"--send-limit", "0"})) << server.error();
  HttpClient pub(server.process().public_port());
  HttpClient admin(server.process().admin_port());
  const std::string verify = std::string(kVerifyPath);
  const std::string send = std::string(kSendPath);
  // Raw requests on both listeners.
  const std::vector<std::pair<bool, std::string>> raw = {
      {true, "POST " + send + " HTTP/1.1\r\nContent-Length: -5\r\n\r\n"},
      {true, "POST " + send + " HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"},
      {true, "POST " + send + " HTTP/1.1\r\nContent-Length: abc\r\n\r\n"},
      {true, "POST " + send + " HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"},
      {true,
       "POST " + send + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n"},
      {true, "POST " + send + " HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n"},
      {true, "GET / HTTP/9.9\r\n\r\n"},
      {true, "POST " + send + " HTTP/1.1\r\nContent-Type: \xff\r\nContent-Length: 2\r\n\r\n{}"},
      {true,
       "POST " + send +
           " HTTP/1.1\r\nContent-Type: application/json; charset\r\nContent-Length: 2\r\n\r\n{}"},
      {true, "POST " + send + " HTTP/1.1\r\nCookie: ;;;==;\r\nContent-Length: 2\r\n\r\n{}"},
      {true, "POST " + send +
                 " HTTP/1.1\r\nCookie: _interaction=\r\nContent-Length: "
                 "26\r\n\r\n{\"identifierType\":\"email\"}"},
      {true, "POST " + send + " HTTP/1.1\r\nCookie: _interaction=" + std::string(4000, 'z') +
                 "\r\nContent-Length: 26\r\n\r\n{\"identifierType\":\"email\"}"},
      {true, "POST " + verify + " HTTP/1.1\r\nContent-Length: 2\r\nConnection: \xff\xfe\r\n\r\n{}"},
      {true, "POST " + verify + " HTTP/1.1\r\nHost: \r\nContent-Length: 2\r\n\r\n{}"},
      {true, "POST " + verify + "?a=%ZZ&&&=&b HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"},
      {false, "GET /admin/inbox?limit=99999999999999999999 HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/inbox?limit=-5 HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/inbox?limit= HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/inbox?limit=1e3 HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/inbox?channel=fax HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/inbox?to=%ZZ%&limit=1 HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/inbox/latest?to=%00 HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/verifications/export?format=xml HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/verifications/export?batch=%ZZ HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/verifications/%00 HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/verifications/%25%25%25 HTTP/1.1\r\n\r\n"},
      {false, "DELETE /admin/verifications/" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/users/nobody HTTP/1.1\r\n\r\n"},
      {false, "GET /admin/sessions/nope HTTP/1.1\r\n\r\n"},
      {false, "POST /admin/sessions/nope/identify HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"},
      {false, "GET /admin/requests?limit=abc HTTP/1.1\r\n\r\n"},
      {false, "POST /admin/clock/advance HTTP/1.1\r\nContent-Length: 13\r\n\r\n{\"seconds\":1}"},
      {false, "DELETE /admin/clock HTTP/1.1\r\n\r\n"},
      {false,
       "PATCH /admin/config HTTP/1.1\r\nContent-Length: "
       "43\r\n\r\n{\"faults\":{\"verify\":{\"delayMs\":{\"min\":5}}}}"},
      {false,
       "PATCH /admin/config HTTP/1.1\r\nContent-Length: "
       "35\r\n\r\n{\"faults\":{\"send\":{\"resetRate\":2}}}"},
      {false, "POST /admin/users HTTP/1.1\r\nContent-Length: 9\r\n\r\n[{\"id\":1}]"},
      {false, "GET /admin/stats HTTP/1.1\r\nAuthorization: Bearer " + std::string(20000, 'x') +
                  "\r\n\r\n"},
  };
  int checked = 0;
  for (const auto& [is_public, bytes] : raw) {
    HttpClient& client = is_public ? pub : admin;
    RawExchange ex = client.SendRaw(bytes, true, std::chrono::milliseconds(3000));
    HttpResponse r = ex.Parse();
    const std::string shown = bytes.substr(0, 90);
    ASSERT_TRUE(r.ok()) << "no answer to: " << shown << "\n" << r.Describe();
    EXPECT_TRUE(NoInternals(r.body)) << shown;
    if (r.status >= 400) {
      Json json(r.body);
      EXPECT_TRUE(json.valid() && json.String("/code") && json.String("/message")) << shown << "\n"
                                                                                   << r.Describe();
      EXPECT_NE(r.status, 500) << shown << "\n" << r.Describe();
    }
    ++checked;
  }
  std::cout << "[ errors   ] " << checked << " hostile requests, no exception text in any answer\n";
  // Still healthy.
  HttpResponse sent = server.Send("email");
  ASSERT_TRUE(HasStatus(sent, 200));
  EXPECT_EQ(server.process().Stderr().find("unhandled"), std::string::npos)
      << server.process().Stderr();
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace mfa_test
