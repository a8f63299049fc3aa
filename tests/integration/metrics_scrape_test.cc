// SPDX-License-Identifier: Apache-2.0
// GET /metrics on the real binary (issue 3, part 5): exact counter values after a scripted
// sequence of requests, the exposition format's invariants, `promtool check metrics`, and who
// may scrape where (--admin-token, --metrics-public, --metrics-listen, --metrics off).
//
// Every test starts a server of its own so its counters start at zero.
//
// Ordering: the server counts a request in mfa_mock_http_requests_total and the duration
// histogram just before writing its response, so a client holding the answer finds it counted
// (HttpBehaviourTest.AnAnswerIsInTheJournalAndTheMetricsBeforeItArrives). The tests here still
// scrape on the connection whose requests they count, which holds either way.

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/metrics/exposition.h"
#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_files.h"

namespace mfa_test {
namespace {

namespace expo = mfa::testing;
using expo::Exposition;
using expo::LabelSet;

constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kToken[] = "metrics-T0ken";

// The contract's label values, typed out independently of metrics/.
const std::vector<std::string> kIdentifierTypes = {"email", "phone"};
const std::vector<std::string> kVerifyOutcomes = {
    "success",   "code_mismatch",          "expired",        "exceed_max_try",
    "not_found", "verification_not_found", "not_identified", "connector_not_configured",
    "blocked"};
const std::vector<std::string> kSendRejectReasons = {"rate_limited", "connector_not_configured",
                                                     "factor_not_enabled", "not_identified"};
const std::vector<std::string> kSeedSources = {"admin", "generate", "seed_file"};

// ---- small helpers of this file ----

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `command` through /bin/sh, capturing stdout and stderr.
CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string DescribeLabels(const std::string& name, const LabelSet& labels) {
  std::string out = name + "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ",";
    first = false;
    out += k + "=\"" + v + "\"";
  }
  return out + "}";
}

// The series `name{labels}` exists and has exactly `expected`.
::testing::AssertionResult HasValue(const Exposition& page, const std::string& name,
                                    const LabelSet& labels, double expected) {
  std::optional<double> value = page.Value(name, labels);
  if (!value) {
    return ::testing::AssertionFailure() << DescribeLabels(name, labels) << " is missing";
  }
  if (*value != expected) {
    return ::testing::AssertionFailure()
           << DescribeLabels(name, labels) << " = " << *value << ", expected " << expected;
  }
  return ::testing::AssertionSuccess();
}

// Samples of `name` whose labels include every pair of `subset`.
std::vector<expo::Sample> Matching(const Exposition& page, const std::string& name,
                                   const LabelSet& subset) {
  std::vector<expo::Sample> out;
  for (const expo::Sample& s : page.Samples(name)) {
    bool ok = true;
    for (const auto& [k, v] : subset) {
      auto it = s.labels.find(k);
      if (it == s.labels.end() || it->second != v) ok = false;
    }
    if (ok) out.push_back(s);
  }
  return out;
}

std::string Dump(const std::vector<expo::Sample>& samples) {
  std::string out;
  for (const auto& s : samples) {
    out += "  " + DescribeLabels(s.name, s.labels) + " " + std::to_string(s.value) + "\n";
  }
  return out;
}

uint16_t PortOf(const std::string& endpoint) {
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon + 1 == endpoint.size()) return 0;
  unsigned long port = 0;
  for (char c : endpoint.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return 0;
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  return port <= 65535 ? static_cast<uint16_t>(port) : 0;
}

struct Scrape {
  HttpResponse response;
  Exposition page;
};

Scrape ScrapeMetrics(HttpClient& client) {
  Scrape s;
  s.response = client.Get("/metrics");
  s.page = expo::ParseExposition(s.response.body);
  return s;
}

// The exposition invariants the issue names, checked on any page.
void ExpectWellFormed(const Scrape& s) {
  ASSERT_TRUE(HasStatus(s.response, 200));
  EXPECT_EQ(s.response.Header("Content-Type").value_or("<none>"), kMetricsContentType);
  // No line that does not parse, no series printed twice, every family in one block, every
  // histogram with a +Inf bucket equal to _count, buckets cumulative.
  std::string errors;
  for (const std::string& e : s.page.errors) errors += "  " + e + "\n";
  EXPECT_TRUE(s.page.errors.empty()) << "format violations:\n" << errors;

  // The same invariants again, stated directly, so a parser change cannot hide them.
  std::set<std::string> families;
  std::set<std::pair<std::string, LabelSet>> series;
  for (const expo::ParsedFamily& f : s.page.families) {
    EXPECT_TRUE(families.insert(f.name).second) << "family " << f.name << " is not contiguous";
    for (const expo::Sample& sample : f.samples) {
      EXPECT_TRUE(series.emplace(sample.name, sample.labels).second)
          << DescribeLabels(sample.name, sample.labels) << " appears twice";
    }
    if (f.type != "histogram") continue;
    std::map<LabelSet, double> inf, count;
    for (const expo::Sample& sample : f.samples) {
      LabelSet labels = sample.labels;
      if (sample.name == f.name + "_bucket") {
        if (labels["le"] != "+Inf") continue;
        labels.erase("le");
        inf[labels] = sample.value;
      } else if (sample.name == f.name + "_count") {
        count[labels] = sample.value;
      }
    }
    EXPECT_FALSE(count.empty()) << "histogram " << f.name << " has no series";
    for (const auto& [labels, c] : count) {
      auto it = inf.find(labels);
      ASSERT_NE(it, inf.end()) << DescribeLabels(f.name, labels) << " has no le=\"+Inf\"";
      EXPECT_EQ(it->second, c) << DescribeLabels(f.name, labels) << ": +Inf bucket != _count";
    }
    EXPECT_EQ(inf.size(), count.size()) << f.name;
  }
}

// `promtool check metrics` on the page: exit 0 and nothing printed. Fails (does not skip)
// when promtool is missing: CI installs it (Debian package `prometheus`).
void ExpectPromtoolClean(const std::string& page) {
  const std::string promtool = ProgramOnPath("promtool");
  ASSERT_FALSE(promtool.empty())
      << "promtool not found on PATH: install the Debian package `prometheus` "
         "(apt-get install --no-install-recommends prometheus)";
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string file = dir.File("scrape.prom");
  ASSERT_TRUE(WriteFile(file, page));
  CommandResult r = RunShell("'" + promtool + "' check metrics < '" + file + "'");
  EXPECT_EQ(r.exit_code, 0) << "promtool check metrics failed:\n" << r.output;
  EXPECT_EQ(r.output, "") << "promtool check metrics reported findings";
}

// A server of the test's own; fails the test if it does not start.
class MetricsServer {
 public:
  bool Start(std::vector<std::string> args, std::string token = {}) {
    if (!server_.Start(std::move(args), {}, std::move(token))) {
      ADD_FAILURE() << "mfa-mock did not start: " << server_.error();
      return false;
    }
    return true;
  }
  MockServer& operator*() { return server_; }
  MockServer* operator->() { return &server_; }

 private:
  MockServer server_;
};

// ---- tests ----

TEST(MetricsScrapeTest, KnownSeriesExistAtZeroFromStartUp) {
  MetricsServer server;
  ASSERT_TRUE(server.Start({}));
  Scrape s = ScrapeMetrics(server->admin());
  ExpectWellFormed(s);
  const Exposition& page = s.page;

  for (const std::string& type : kIdentifierTypes) {
    for (const std::string& outcome : kVerifyOutcomes) {
      EXPECT_TRUE(HasValue(page, "mfa_mock_verify_attempts_total",
                           {{"identifier_type", type}, {"outcome", outcome}}, 0));
      if (outcome == "success") continue;
      EXPECT_TRUE(HasValue(page, "mfa_mock_verify_failures_total",
                           {{"identifier_type", type}, {"reason", outcome}}, 0));
    }
  }
  EXPECT_EQ(page.Samples("mfa_mock_verify_attempts_total").size(), 18u);
  EXPECT_EQ(page.Samples("mfa_mock_verify_failures_total").size(), 16u);
  for (const char* channel : {"email", "sms"}) {
    for (const char* via : {"public", "admin"}) {
      EXPECT_TRUE(
          HasValue(page, "mfa_mock_codes_sent_total", {{"channel", channel}, {"via", via}}, 0));
    }
  }
  for (const std::string& reason : kSendRejectReasons) {
    EXPECT_TRUE(HasValue(page, "mfa_mock_send_rejected_total", {{"reason", reason}}, 0));
  }
  for (const std::string& source : kSeedSources) {
    EXPECT_TRUE(HasValue(page, "mfa_mock_codes_seeded_total", {{"source", source}}, 0));
  }
  const LabelSet verify_route = {{"listener", "public"}, {"route", std::string(kVerifyPath)}};
  LabelSet verify_ok = verify_route;
  verify_ok["method"] = "POST";
  verify_ok["code"] = "200";
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total", verify_ok, 0));
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_request_duration_seconds_count", verify_route, 0));
  LabelSet inf = verify_route;
  inf["le"] = "+Inf";
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_request_duration_seconds_bucket", inf, 0));
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_request_duration_seconds_count",
                       {{"listener", "public"}, {"route", "unmatched"}}, 0));
  EXPECT_TRUE(HasValue(page, "mfa_mock_store_records", {}, 0));
  EXPECT_TRUE(HasValue(page, "mfa_mock_inbox_messages", {}, 0));
  EXPECT_TRUE(HasValue(page, "mfa_mock_store_expired_swept_total", {}, 0));
  ExpectPromtoolClean(s.response.body);
}

// The issue's scripted sequence; every counter the sequence touches is checked to the request.
TEST(MetricsScrapeTest, ScriptedSequenceGivesExactCountersPerLabelSet) {
  MetricsServer server;
  // 2 sends per recipient per window, so the third email send is refused; no sweep during the
  // test (the gauges must not move under us).
  ASSERT_TRUE(server.Start({"--send-limit", "2/600", "--sweep-interval", "3600"}));
  MockServer& m = *server;

  // Seed 5 records with known ids and codes in one request, then 1 more: 6 seeded by admin.
  HttpResponse seeded = m.AdminPost(
      "/admin/verifications",
      R"([{"verificationId":"okEmailA","identifierType":"email","code":"100001"},)"
      R"({"verificationId":"okEmailB","identifierType":"email","code":"100002"},)"
      R"({"verificationId":"okPhoneC","identifierType":"phone","code":"100003"},)"
      R"({"verificationId":"mismatchD","identifierType":"email","code":"200001"},)"
      R"({"verificationId":"expiresE","identifierType":"email","code":"300001","ttlSeconds":1}])");
  ASSERT_TRUE(HasStatus(seeded, 201)) << seeded.Describe();
  ASSERT_EQ(Json(seeded.body).Size("/verifications"), 5u) << seeded.body;
  HttpResponse one = m.AdminPost("/admin/verifications",
                                 R"({"verificationId":"unusedF","identifierType":"phone"})");
  ASSERT_TRUE(HasStatus(one, 201)) << one.Describe();

  // 3 successes (2 email, 1 phone).
  ASSERT_TRUE(HasStatus(m.Verify("okEmailA", "100001", "email"), 200));
  ASSERT_TRUE(HasStatus(m.Verify("okEmailB", "100002", "email"), 200));
  ASSERT_TRUE(HasStatus(m.Verify("okPhoneC", "100003", "phone"), 200));
  // 2 code mismatches.
  ASSERT_TRUE(IsErrorCode(m.Verify("mismatchD", "999999", "email"), 400, kCodeMismatch));
  ASSERT_TRUE(IsErrorCode(m.Verify("mismatchD", "888888", "email"), 400, kCodeMismatch));
  // 1 expired: the record lives 1 s; the mock's clock jumps 5 s.
  ASSERT_TRUE(HasStatus(m.AdvanceClock(5), 200));
  ASSERT_TRUE(IsErrorCode(m.Verify("expiresE", "300001", "email"), 400, kCodeExpired));
  // 1 unknown id.
  ASSERT_TRUE(
      IsErrorCode(m.Verify("doesnotexist000000000", "123456", "email"), 404, kVerificationNotFound));
  // 1 body that fails validation: a 400 on the route, but not a verify attempt.
  ASSERT_TRUE(IsErrorCode(m.pub().Post(kVerifyPath, R"({"verificationId":"okEmailA"})"), 400,
                          kInvalidInput));

  // Public sends: 2 email (the limit), 1 phone, then an email over the limit.
  ASSERT_TRUE(HasStatus(m.Send("email"), 200));
  ASSERT_TRUE(HasStatus(m.Send("email"), 200));
  ASSERT_TRUE(HasStatus(m.Send("phone"), 200));
  ASSERT_TRUE(IsErrorCode(m.Send("email"), 429, kRateLimited));
  // Admin sends: 1 email, 1 phone (not rate limited).
  ASSERT_TRUE(HasStatus(
      m.AdminPost("/admin/send", R"({"identifierType":"email","identifier":"ops@example.com"})"),
      201));
  ASSERT_TRUE(HasStatus(
      m.AdminPost("/admin/send", R"({"identifierType":"phone","identifier":"+15550009999"})"),
      201));
  // Generate 50.
  HttpResponse generated =
      m.AdminPost("/admin/verifications/generate", R"({"count":50,"identifierType":"email"})");
  ASSERT_TRUE(HasStatus(generated, 201)) << generated.Describe();
  ASSERT_EQ(Json(generated.body).Int("/created"), 50);
  // A route with an id: counted under its template.
  ASSERT_TRUE(HasStatus(m.AdminGet("/admin/verifications/okEmailA"), 200));
  // Unknown paths: 2 GET + 1 POST on public, 1 GET on admin.
  ASSERT_TRUE(HasStatus(m.pub().Get("/no/such/path"), 404));
  ASSERT_TRUE(HasStatus(m.pub().Get("/another/unknown?x=1"), 404));
  ASSERT_TRUE(HasStatus(m.pub().Post("/api/experience/nothing-here", "{}"), 404));
  ASSERT_TRUE(HasStatus(m.AdminGet("/admin/no-such-route"), 404));
  // A fence on the public connection: once it answers, every request above is counted. Its
  // own route (the interaction route) is left out of the checks below.
  const std::string fence_route = "/api/experience/interaction";
  ASSERT_TRUE(m.pub().Get(fence_route).ok());

  // Cross-check of the gauges against the admin API.
  Json stats(m.AdminGet("/admin/stats").body);
  EXPECT_EQ(stats.Int("/records"), 61) << stats.Dump();
  EXPECT_EQ(stats.Int("/inboxMessages"), 5) << stats.Dump();

  // Scraped on the admin connection every admin request above used.
  Scrape s = ScrapeMetrics(m.admin());
  ExpectWellFormed(s);
  const Exposition& page = s.page;

  // -- verify attempts and failures: all 18 + 16 series, exactly.
  std::map<std::pair<std::string, std::string>, double> attempts = {
      {{"email", "success"}, 2},
      {{"phone", "success"}, 1},
      {{"email", "code_mismatch"}, 2},
      {{"email", "expired"}, 1},
      {{"email", "verification_not_found"}, 1},
  };
  for (const std::string& type : kIdentifierTypes) {
    for (const std::string& outcome : kVerifyOutcomes) {
      const double want = attempts.count({type, outcome}) ? attempts[{type, outcome}] : 0;
      EXPECT_TRUE(HasValue(page, "mfa_mock_verify_attempts_total",
                           {{"identifier_type", type}, {"outcome", outcome}}, want));
      if (outcome == "success") continue;
      EXPECT_TRUE(HasValue(page, "mfa_mock_verify_failures_total",
                           {{"identifier_type", type}, {"reason", outcome}}, want));
    }
  }
  EXPECT_EQ(page.Samples("mfa_mock_verify_attempts_total").size(), 18u)
      << Dump(page.Samples("mfa_mock_verify_attempts_total"));
  EXPECT_EQ(page.Samples("mfa_mock_verify_failures_total").size(), 16u)
      << Dump(page.Samples("mfa_mock_verify_failures_total"));

  // -- sends.
  EXPECT_TRUE(HasValue(page, "mfa_mock_codes_sent_total", {{"channel", "email"}, {"via", "public"}}, 2));
  EXPECT_TRUE(HasValue(page, "mfa_mock_codes_sent_total", {{"channel", "sms"}, {"via", "public"}}, 1));
  EXPECT_TRUE(HasValue(page, "mfa_mock_codes_sent_total", {{"channel", "email"}, {"via", "admin"}}, 1));
  EXPECT_TRUE(HasValue(page, "mfa_mock_codes_sent_total", {{"channel", "sms"}, {"via", "admin"}}, 1));
  EXPECT_EQ(page.Samples("mfa_mock_codes_sent_total").size(), 4u);
  for (const std::string& reason : kSendRejectReasons) {
    EXPECT_TRUE(HasValue(page, "mfa_mock_send_rejected_total", {{"reason", reason}},
                         reason == "rate_limited" ? 1 : 0));
  }
  EXPECT_EQ(page.Samples("mfa_mock_send_rejected_total").size(), 4u);

  // -- seeding.
  EXPECT_TRUE(HasValue(page, "mfa_mock_codes_seeded_total", {{"source", "admin"}}, 6));
  EXPECT_TRUE(HasValue(page, "mfa_mock_codes_seeded_total", {{"source", "generate"}}, 50));
  EXPECT_TRUE(HasValue(page, "mfa_mock_codes_seeded_total", {{"source", "seed_file"}}, 0));

  // -- HTTP requests on the verify route: 200 x3, 400 x4 (2 mismatch, 1 expired, 1 invalid
  // body), 404 x1; no other series for the route.
  const std::string verify(kVerifyPath);
  const std::string send(kSendPath);
  auto req = [](std::string listener, std::string route, std::string method, std::string code) {
    return LabelSet{{"listener", std::move(listener)},
                    {"route", std::move(route)},
                    {"method", std::move(method)},
                    {"code", std::move(code)}};
  };
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total", req("public", verify, "POST", "200"), 3));
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total", req("public", verify, "POST", "400"), 4));
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total", req("public", verify, "POST", "404"), 1));
  auto verify_series =
      Matching(page, "mfa_mock_http_requests_total", {{"listener", "public"}, {"route", verify}});
  EXPECT_EQ(verify_series.size(), 3u) << Dump(verify_series);
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_request_duration_seconds_count",
                       {{"listener", "public"}, {"route", verify}}, 8));
  // The send route: 200 x3, 429 x1.
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total", req("public", send, "POST", "200"), 3));
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total", req("public", send, "POST", "429"), 1));
  // Admin routes, by template.
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total",
                       req("admin", "/admin/verifications", "POST", "201"), 2));
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total",
                       req("admin", "/admin/verifications/generate", "POST", "201"), 1));
  EXPECT_TRUE(
      HasValue(page, "mfa_mock_http_requests_total", req("admin", "/admin/send", "POST", "201"), 2));
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total",
                       req("admin", "/admin/clock/advance", "POST", "200"), 1));
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total",
                       req("admin", "/admin/verifications/{id}", "GET", "200"), 1));
  // Unknown paths collapse to route="unmatched".
  EXPECT_TRUE(
      HasValue(page, "mfa_mock_http_requests_total", req("public", "unmatched", "GET", "404"), 2));
  EXPECT_TRUE(
      HasValue(page, "mfa_mock_http_requests_total", req("public", "unmatched", "POST", "404"), 1));
  EXPECT_TRUE(
      HasValue(page, "mfa_mock_http_requests_total", req("admin", "unmatched", "GET", "404"), 1));
  EXPECT_TRUE(HasValue(page, "mfa_mock_http_request_duration_seconds_count",
                       {{"listener", "public"}, {"route", "unmatched"}}, 3));

  // Per (listener, route): the requests counter summed over method and code equals the
  // histogram's _count (both recorded once per request).
  std::map<std::pair<std::string, std::string>, double> by_route;
  for (const expo::Sample& sample : page.Samples("mfa_mock_http_requests_total")) {
    by_route[{sample.labels.at("listener"), sample.labels.at("route")}] += sample.value;
  }
  for (const expo::Sample& c : page.Samples("mfa_mock_http_request_duration_seconds_count")) {
    const auto key = std::make_pair(c.labels.at("listener"), c.labels.at("route"));
    if (key.second == fence_route) continue;
    EXPECT_EQ(by_route[key], c.value)
        << "requests_total and duration _count disagree for " << key.first << " " << key.second;
  }
  // Bounded labels: no id, code, email or phone, and no raw path, in any label value.
  for (const expo::ParsedFamily& f : page.families) {
    for (const expo::Sample& sample : f.samples) {
      for (const auto& [k, v] : sample.labels) {
        for (const char* secret :
             {"okEmailA", "mismatchD", "doesnotexist", "100001", "user@example.com",
              "ops@example.com", "+1555", "no/such", "another", "nothing-here", "no-such-route"}) {
          EXPECT_EQ(v.find(secret), std::string::npos)
              << DescribeLabels(sample.name, sample.labels) << " carries " << secret;
        }
      }
    }
  }

  // -- gauges: 6 seeded + 3 public sends + 2 admin sends + 50 generated; 5 messages.
  EXPECT_TRUE(HasValue(page, "mfa_mock_store_records", {}, 61));
  EXPECT_TRUE(HasValue(page, "mfa_mock_inbox_messages", {}, 5));
  EXPECT_TRUE(HasValue(page, "mfa_mock_store_expired_swept_total", {}, 0));

  // -- build info and process metrics.
  auto build = page.Samples("mfa_mock_build_info");
  ASSERT_EQ(build.size(), 1u);
  EXPECT_EQ(build[0].value, 1);
  EXPECT_TRUE(build[0].labels.count("version") && build[0].labels.count("revision"));
  auto rss = page.Value("process_resident_memory_bytes");
  ASSERT_TRUE(rss);
  EXPECT_GT(*rss, 1 << 20);
  auto fds = page.Value("process_open_fds");
  ASSERT_TRUE(fds);
  EXPECT_GT(*fds, 2);
  auto started = page.Value("process_start_time_seconds");
  ASSERT_TRUE(started);
  EXPECT_NEAR(*started, static_cast<double>(std::time(nullptr)), 600);
  ASSERT_TRUE(page.Value("process_cpu_seconds_total"));

  // -- scraping counts the scrape itself (after rendering), nothing else moves.
  Scrape again = ScrapeMetrics(m.admin());
  ExpectWellFormed(again);
  EXPECT_TRUE(HasValue(again.page, "mfa_mock_http_requests_total",
                       req("admin", "/metrics", "GET", "200"), 1));
  EXPECT_TRUE(HasValue(again.page, "mfa_mock_verify_attempts_total",
                       {{"identifier_type", "email"}, {"outcome", "success"}}, 2));

  ExpectPromtoolClean(s.response.body);
  ExpectPromtoolClean(again.response.body);
  if (HasFailure()) {
    std::cerr << "--- scrape ---\n" << s.response.body << "--- mfa-mock stderr ---\n"
              << m.process().Stderr(4000) << "\n";
  }
}

TEST(MetricsScrapeTest, AdminTokenGuardsMetricsUnlessMetricsPublic) {
  {
    MetricsServer server;
    ASSERT_TRUE(server.Start({"--admin-token", kToken}, kToken));
    HttpClient bare(server->process().admin_port());
    HttpResponse denied = bare.Get("/metrics");
    EXPECT_TRUE(IsErrorCode(denied, 401, kAdminUnauthorized));
    EXPECT_EQ(denied.body.find("mfa_mock_"), std::string::npos) << denied.body;
    EXPECT_TRUE(IsErrorCode(bare.Get("/metrics", {{"Authorization", "Bearer wrong"}}), 401,
                            kAdminUnauthorized));
    HttpResponse allowed = bare.Get("/metrics", {{"Authorization", std::string("Bearer ") + kToken}});
    ASSERT_TRUE(HasStatus(allowed, 200));
    EXPECT_EQ(allowed.Header("Content-Type").value_or("<none>"), kMetricsContentType);
    Exposition page = expo::ParseExposition(allowed.body);
    EXPECT_TRUE(page.errors.empty());
    // The refused scrapes were counted (the route is known; the answer was 401).
    EXPECT_TRUE(HasValue(page, "mfa_mock_http_requests_total",
                         {{"listener", "admin"}, {"route", "/metrics"}, {"method", "GET"},
                          {"code", "401"}},
                         2));
  }
  {
    MetricsServer server;
    ASSERT_TRUE(server.Start({"--admin-token", kToken, "--metrics-public"}, kToken));
    HttpClient bare(server->process().admin_port());
    Scrape s = ScrapeMetrics(bare);
    ExpectWellFormed(s);
    EXPECT_TRUE(s.page.Find("mfa_mock_verify_attempts_total") != nullptr);
    // --metrics-public opens /metrics only: the admin API still wants the token.
    EXPECT_TRUE(IsErrorCode(bare.Get("/admin/stats"), 401, kAdminUnauthorized));
  }
}

TEST(MetricsScrapeTest, MetricsListenServesMetricsOnItsOwnPort) {
  MetricsServer server;
  ASSERT_TRUE(server.Start({"--metrics-listen", "127.0.0.1:0"}));
  const auto& fields = server->process().ready_fields();
  auto it = fields.find("metrics");
  ASSERT_NE(it, fields.end()) << "ready line has no metrics=: " << server->process().ready_line();
  EXPECT_EQ(it->second.rfind("127.0.0.1:", 0), 0u) << server->process().ready_line();
  const uint16_t port = PortOf(it->second);
  ASSERT_NE(port, 0);
  EXPECT_NE(port, server->process().admin_port());
  EXPECT_NE(port, server->process().public_port());

  ASSERT_TRUE(HasStatus(server->Verify("doesnotexist000000000", "123456", "email"), 404));
  HttpClient metrics(port);
  Scrape s = ScrapeMetrics(metrics);
  ExpectWellFormed(s);
  EXPECT_TRUE(HasValue(s.page, "mfa_mock_verify_attempts_total",
                       {{"identifier_type", "email"}, {"outcome", "verification_not_found"}}, 1));
  ExpectPromtoolClean(s.response.body);
  // Only /metrics lives there: the admin API does not, and unknown paths are "unmatched".
  EXPECT_TRUE(HasStatus(metrics.Get("/admin/stats"), 404));
  EXPECT_TRUE(HasStatus(metrics.Get("/whatever"), 404));
  // Those three requests are counted under listener="metrics" (scraped on the same
  // connection, so they are all recorded by now).
  Scrape second = ScrapeMetrics(metrics);
  ExpectWellFormed(second);
  EXPECT_TRUE(HasValue(second.page, "mfa_mock_http_requests_total",
                       {{"listener", "metrics"}, {"route", "/metrics"}, {"method", "GET"},
                        {"code", "200"}},
                       1));
  EXPECT_TRUE(HasValue(second.page, "mfa_mock_http_requests_total",
                       {{"listener", "metrics"}, {"route", "unmatched"}, {"method", "GET"},
                        {"code", "404"}},
                       2));
  // The admin listener still serves /metrics as well.
  Scrape on_admin = ScrapeMetrics(server->admin());
  ExpectWellFormed(on_admin);
  EXPECT_TRUE(HasValue(on_admin.page, "mfa_mock_verify_attempts_total",
                       {{"identifier_type", "email"}, {"outcome", "verification_not_found"}}, 1));
}

TEST(MetricsScrapeTest, MetricsListenRequiresTheAdminTokenUnlessMetricsPublic) {
  {
    MetricsServer server;
    ASSERT_TRUE(server.Start({"--metrics-listen", "127.0.0.1:0", "--admin-token", kToken}, kToken));
    const uint16_t port = PortOf(server->process().ready_fields().count("metrics")
                                     ? server->process().ready_fields().at("metrics")
                                     : "");
    ASSERT_NE(port, 0) << server->process().ready_line();
    HttpClient metrics(port);
    EXPECT_TRUE(IsErrorCode(metrics.Get("/metrics"), 401, kAdminUnauthorized));
    HttpResponse ok = metrics.Get("/metrics", {{"Authorization", std::string("Bearer ") + kToken}});
    EXPECT_TRUE(HasStatus(ok, 200));
    EXPECT_EQ(ok.Header("Content-Type").value_or("<none>"), kMetricsContentType);
  }
  {
    MetricsServer server;
    ASSERT_TRUE(server.Start(
        {"--metrics-listen", "127.0.0.1:0", "--admin-token", kToken, "--metrics-public"}, kToken));
    const uint16_t port = PortOf(server->process().ready_fields().count("metrics")
                                     ? server->process().ready_fields().at("metrics")
                                     : "");
    ASSERT_NE(port, 0) << server->process().ready_line();
    HttpClient metrics(port);
    Scrape s = ScrapeMetrics(metrics);
    ExpectWellFormed(s);
  }
}

TEST(MetricsScrapeTest, MetricsOffServesAPageWithoutSeries) {
  MetricsServer server;
  ASSERT_TRUE(server.Start({"--metrics", "off"}));
  ASSERT_TRUE(HasStatus(server->Verify("doesnotexist000000000", "123456", "email"), 404));
  HttpResponse r = server->admin().Get("/metrics");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(r.Header("Content-Type").value_or("<none>"), kMetricsContentType);
  Exposition page = expo::ParseExposition(r.body);
  EXPECT_TRUE(page.errors.empty());
  EXPECT_TRUE(page.Samples("mfa_mock_verify_attempts_total").empty()) << r.body;
  EXPECT_TRUE(page.Samples("mfa_mock_http_requests_total").empty()) << r.body;
}

}  // namespace
}  // namespace mfa_test
