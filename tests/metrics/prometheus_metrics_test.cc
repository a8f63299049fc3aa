// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "metrics/metrics.h"
#include "tests/metrics/exposition.h"

namespace mfa::metrics {
namespace {

using mfa::testing::Exposition;
using mfa::testing::ParseExposition;

constexpr std::array<const char*, 9> kOutcomeLabels = {
    "success",   "code_mismatch",          "expired",        "exceed_max_try",
    "not_found", "verification_not_found", "not_identified", "connector_not_configured",
    "blocked",
};
// The histogram's upper bounds exactly as printed.
constexpr std::array<std::string_view, 18> kLe = {
    "5e-05", "0.0001", "0.00015", "0.0002", "0.00025", "0.0005", "0.00075", "0.001", "0.0025",
    "0.005", "0.01",   "0.025",   "0.05",   "0.1",     "0.25",   "0.5",     "1",     "+Inf"};
constexpr const char* kVerifyRoute = "/api/experience/verification/mfa-verification-code/verify";

std::unique_ptr<Metrics> Make() { return CreatePrometheusMetrics({"1.2.3", "abc123"}); }

// Parses and requires a well-formed page.
Exposition Scrape(Metrics& metrics) {
  const std::string text = metrics.Render();
  Exposition page = ParseExposition(text);
  for (const auto& error : page.errors) ADD_FAILURE() << error << "\n" << text;
  return page;
}

double Attempts(const Exposition& page, const char* type, const char* outcome) {
  return page
      .Value("mfa_mock_verify_attempts_total", {{"identifier_type", type}, {"outcome", outcome}})
      .value_or(-1);
}
double Failures(const Exposition& page, const char* type, const char* reason) {
  return page
      .Value("mfa_mock_verify_failures_total", {{"identifier_type", type}, {"reason", reason}})
      .value_or(-1);
}
double Requests(const Exposition& page, const char* listener, const char* route, const char* method,
                const char* code) {
  return page
      .Value("mfa_mock_http_requests_total",
             {{"listener", listener}, {"route", route}, {"method", method}, {"code", code}})
      .value_or(-1);
}
double Bucket(const Exposition& page, const char* listener, const char* route,
              std::string_view le) {
  return page
      .Value("mfa_mock_http_request_duration_seconds_bucket",
             {{"listener", listener}, {"route", route}, {"le", std::string(le)}})
      .value_or(-1);
}
double HistogramCount(const Exposition& page, const char* listener, const char* route) {
  return page
      .Value("mfa_mock_http_request_duration_seconds_count",
             {{"listener", listener}, {"route", route}})
      .value_or(-1);
}

TEST(PrometheusMetricsTest, KnownLabelSetsExistAtZeroAfterConstruction) {
  auto metrics = Make();
  Exposition page = Scrape(*metrics);
  for (const char* type : {"email", "phone"}) {
    for (const char* outcome : kOutcomeLabels) {
      EXPECT_EQ(Attempts(page, type, outcome), 0) << type << " " << outcome;
      if (std::string(outcome) != "success") {
        EXPECT_EQ(Failures(page, type, outcome), 0) << type << " " << outcome;
      }
    }
  }
  EXPECT_EQ(page.Samples("mfa_mock_verify_attempts_total").size(), 18u);
  EXPECT_EQ(page.Samples("mfa_mock_verify_failures_total").size(), 16u);
  EXPECT_FALSE(page.Value("mfa_mock_verify_failures_total",
                          {{"identifier_type", "email"}, {"reason", "success"}}));
  for (const char* channel : {"email", "sms"}) {
    for (const char* via : {"public", "admin"}) {
      EXPECT_EQ(page.Value("mfa_mock_codes_sent_total", {{"channel", channel}, {"via", via}}), 0)
          << channel << " " << via;
    }
  }
  EXPECT_EQ(page.Samples("mfa_mock_codes_sent_total").size(), 4u);
  for (const char* reason :
       {"rate_limited", "connector_not_configured", "factor_not_enabled", "not_identified"}) {
    EXPECT_EQ(page.Value("mfa_mock_send_rejected_total", {{"reason", reason}}), 0) << reason;
  }
  EXPECT_EQ(page.Samples("mfa_mock_send_rejected_total").size(), 4u);
  for (const char* source : {"admin", "generate", "seed_file"}) {
    EXPECT_EQ(page.Value("mfa_mock_codes_seeded_total", {{"source", source}}), 0) << source;
  }
  EXPECT_EQ(page.Samples("mfa_mock_codes_seeded_total").size(), 3u);
  EXPECT_EQ(page.Value("mfa_mock_build_info", {{"version", "1.2.3"}, {"revision", "abc123"}}), 1);
  // No route registered: no HTTP series, and no empty family either.
  EXPECT_EQ(page.Find("mfa_mock_http_requests_total"), nullptr);
  EXPECT_EQ(page.Find("mfa_mock_http_request_duration_seconds"), nullptr);
  // No scrape sources set: no store or inbox values made up.
  EXPECT_EQ(page.Find("mfa_mock_store_records"), nullptr);
}

TEST(PrometheusMetricsTest, EveryFamilyHasTypeAndOneLineHelp) {
  auto metrics = Make();
  metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
  metrics->SetScrapeSources({[] { return 1.0; }, [] { return 2.0; }, [] { return 3.0; }});
  const std::string text = metrics->Render();
  Exposition page = ParseExposition(text);
  EXPECT_TRUE(page.errors.empty());
  for (const auto& family : page.families) {
    EXPECT_FALSE(family.help.empty()) << family.name;
    EXPECT_FALSE(family.samples.empty()) << family.name;
    if (family.type == "counter") {
      EXPECT_TRUE(family.name.ends_with("_total")) << family.name;
    }
  }
  // HELP and TYPE pairs: one HELP per family, directly before its TYPE.
  size_t help_lines = 0;
  size_t pos = 0;
  while ((pos = text.find("# HELP ", pos)) != std::string::npos) {
    ++help_lines;
    pos += 7;
  }
  EXPECT_EQ(help_lines, page.families.size());
}

TEST(PrometheusMetricsTest, BuildInfoFallsBackToCompiledVersion) {
  auto metrics = CreatePrometheusMetrics({});
  Exposition page = Scrape(*metrics);
  auto samples = page.Samples("mfa_mock_build_info");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_FALSE(samples[0].labels["version"].empty());
  EXPECT_FALSE(samples[0].labels["revision"].empty());
  EXPECT_EQ(samples[0].value, 1);
}

TEST(PrometheusMetricsTest, BuildInfoLabelValuesAreEscaped) {
  auto metrics = CreatePrometheusMetrics({"1.0 \"beta\"\\x", "rev\nline"});
  Exposition page = Scrape(*metrics);
  EXPECT_EQ(page.Value("mfa_mock_build_info",
                       {{"version", "1.0 \"beta\"\\x"}, {"revision", "rev\nline"}}),
            1);
}

TEST(PrometheusMetricsTest, VerifyAttemptsCountExactlyPerLabel) {
  auto metrics = Make();
  for (int i = 0; i < 3; ++i) metrics->VerifyAttempt(IdentifierType::kEmail, Outcome::kOk);
  for (int i = 0; i < 2; ++i)
    metrics->VerifyAttempt(IdentifierType::kEmail, Outcome::kCodeMismatch);
  metrics->VerifyAttempt(IdentifierType::kEmail, Outcome::kCodeExpired);
  metrics->VerifyAttempt(IdentifierType::kPhone, Outcome::kExceedMaxTry);
  metrics->VerifyAttempt(IdentifierType::kPhone, Outcome::kCodeNotFound);
  metrics->VerifyAttempt(IdentifierType::kPhone, Outcome::kVerificationNotFound);
  metrics->VerifyAttempt(IdentifierType::kPhone, Outcome::kIdentifierNotFound);
  metrics->VerifyAttempt(IdentifierType::kPhone, Outcome::kConnectorNotFound);
  metrics->VerifyAttempt(IdentifierType::kPhone, Outcome::kVerificationBlocked);
  metrics->VerifyAttempt(IdentifierType::kPhone, Outcome::kVerificationBlocked);
  Exposition page = Scrape(*metrics);

  EXPECT_EQ(Attempts(page, "email", "success"), 3);
  EXPECT_EQ(Attempts(page, "email", "code_mismatch"), 2);
  EXPECT_EQ(Attempts(page, "email", "expired"), 1);
  EXPECT_EQ(Attempts(page, "email", "exceed_max_try"), 0);
  EXPECT_EQ(Attempts(page, "phone", "success"), 0);
  EXPECT_EQ(Attempts(page, "phone", "exceed_max_try"), 1);
  EXPECT_EQ(Attempts(page, "phone", "not_found"), 1);
  EXPECT_EQ(Attempts(page, "phone", "verification_not_found"), 1);
  EXPECT_EQ(Attempts(page, "phone", "not_identified"), 1);
  EXPECT_EQ(Attempts(page, "phone", "connector_not_configured"), 1);
  EXPECT_EQ(Attempts(page, "phone", "blocked"), 2);

  EXPECT_EQ(Failures(page, "email", "code_mismatch"), 2);
  EXPECT_EQ(Failures(page, "email", "expired"), 1);
  EXPECT_EQ(Failures(page, "phone", "blocked"), 2);
  EXPECT_EQ(Failures(page, "phone", "not_found"), 1);
  double email_failures = 0;
  for (const auto& s : page.Samples("mfa_mock_verify_failures_total")) {
    if (s.labels.at("identifier_type") == "email") email_failures += s.value;
  }
  EXPECT_EQ(email_failures, 3);
  // Outcomes without a label of their own do not appear until they happen.
  EXPECT_FALSE(page.Value("mfa_mock_verify_attempts_total",
                          {{"identifier_type", "email"}, {"outcome", "other"}}));
}

TEST(PrometheusMetricsTest, UnnamedVerifyOutcomesCountAsOther) {
  auto metrics = Make();
  metrics->VerifyAttempt(IdentifierType::kEmail, Outcome::kInternal);
  metrics->VerifyAttempt(IdentifierType::kEmail, Outcome::kStoreFull);
  metrics->VerifyAttempt(IdentifierType::kEmail, static_cast<Outcome>(200));  // out of range
  Exposition page = Scrape(*metrics);
  EXPECT_EQ(Attempts(page, "email", "other"), 2);
  EXPECT_EQ(Failures(page, "email", "other"), 2);
  EXPECT_FALSE(page.Value("mfa_mock_verify_attempts_total",
                          {{"identifier_type", "phone"}, {"outcome", "other"}}));
}

TEST(PrometheusMetricsTest, SendsRejectionsAndSeeds) {
  auto metrics = Make();
  metrics->CodeSent(IdentifierType::kEmail, Via::kPublic);
  metrics->CodeSent(IdentifierType::kEmail, Via::kPublic);
  metrics->CodeSent(IdentifierType::kPhone, Via::kAdmin);
  metrics->SendRejected(Outcome::kRateLimited);
  metrics->SendRejected(Outcome::kRateLimited);
  metrics->SendRejected(Outcome::kConnectorNotFound);
  metrics->SendRejected(Outcome::kFactorNotEnabled);
  metrics->SendRejected(Outcome::kIdentifierNotFound);
  metrics->SendRejected(Outcome::kCodeMismatch);  // not a send rejection: ignored
  metrics->SendRejected(Outcome::kOk);            // ignored
  metrics->CodesSeeded(SeedSource::kAdmin, 1);
  metrics->CodesSeeded(SeedSource::kGenerate, 1000);
  metrics->CodesSeeded(SeedSource::kGenerate, 24);
  metrics->CodesSeeded(SeedSource::kSeedFile, 7);
  Exposition page = Scrape(*metrics);

  EXPECT_EQ(page.Value("mfa_mock_codes_sent_total", {{"channel", "email"}, {"via", "public"}}), 2);
  EXPECT_EQ(page.Value("mfa_mock_codes_sent_total", {{"channel", "email"}, {"via", "admin"}}), 0);
  EXPECT_EQ(page.Value("mfa_mock_codes_sent_total", {{"channel", "sms"}, {"via", "admin"}}), 1);
  EXPECT_EQ(page.Value("mfa_mock_codes_sent_total", {{"channel", "sms"}, {"via", "public"}}), 0);
  EXPECT_EQ(page.Value("mfa_mock_send_rejected_total", {{"reason", "rate_limited"}}), 2);
  EXPECT_EQ(page.Value("mfa_mock_send_rejected_total", {{"reason", "connector_not_configured"}}),
            1);
  EXPECT_EQ(page.Value("mfa_mock_send_rejected_total", {{"reason", "factor_not_enabled"}}), 1);
  EXPECT_EQ(page.Value("mfa_mock_send_rejected_total", {{"reason", "not_identified"}}), 1);
  EXPECT_EQ(page.Samples("mfa_mock_send_rejected_total").size(), 4u);
  EXPECT_EQ(page.Value("mfa_mock_codes_seeded_total", {{"source", "admin"}}), 1);
  EXPECT_EQ(page.Value("mfa_mock_codes_seeded_total", {{"source", "generate"}}), 1024);
  EXPECT_EQ(page.Value("mfa_mock_codes_seeded_total", {{"source", "seed_file"}}), 7);
}

TEST(PrometheusMetricsTest, RegisteredRoutesHaveHistogramsAtZero) {
  auto metrics = Make();
  RouteId verify = metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
  RouteId unmatched = metrics->RegisterRoute(Listener::kPublic, "unmatched");
  RouteId admin = metrics->RegisterRoute(Listener::kAdmin, "/admin/verifications/{id}");
  EXPECT_NE(verify, unmatched);
  EXPECT_NE(verify, admin);
  // Same template twice (e.g. GET and DELETE of one path): same id, one series.
  EXPECT_EQ(metrics->RegisterRoute(Listener::kAdmin, "/admin/verifications/{id}"), admin);
  // Same template on another listener: its own series.
  EXPECT_NE(metrics->RegisterRoute(Listener::kAdmin, "unmatched"), unmatched);

  Exposition page = Scrape(*metrics);
  for (const auto& [listener, route] :
       std::vector<std::pair<const char*, const char*>>{{"public", kVerifyRoute},
                                                        {"public", "unmatched"},
                                                        {"admin", "/admin/verifications/{id}"},
                                                        {"admin", "unmatched"}}) {
    EXPECT_EQ(HistogramCount(page, listener, route), 0) << listener << " " << route;
    for (const auto& le : kLe) EXPECT_EQ(Bucket(page, listener, route, le), 0) << le;
  }
  EXPECT_EQ(page.Samples("mfa_mock_http_request_duration_seconds_count").size(), 4u);
  // Without DeclareRequest() no (method, code) pair is guessed.
  EXPECT_EQ(page.Find("mfa_mock_http_requests_total"), nullptr);
}

TEST(PrometheusMetricsTest, DeclaredRequestsExistAtZero) {
  auto metrics = Make();
  RouteId verify = metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
  RouteId item = metrics->RegisterRoute(Listener::kAdmin, "/admin/verifications/{id}");
  metrics->DeclareRequest(verify, "POST", 200);
  metrics->DeclareRequest(item, "GET", 200);
  metrics->DeclareRequest(item, "DELETE", 204);
  metrics->DeclareRequest(item, "DELETE", 204);  // idempotent
  metrics->DeclareRequest(999, "GET", 200);      // unknown route: ignored
  Exposition page = Scrape(*metrics);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "200"), 0);
  EXPECT_EQ(Requests(page, "admin", "/admin/verifications/{id}", "GET", "200"), 0);
  EXPECT_EQ(Requests(page, "admin", "/admin/verifications/{id}", "DELETE", "204"), 0);
  EXPECT_EQ(page.Samples("mfa_mock_http_requests_total").size(), 3u);

  metrics->HttpRequest(Listener::kPublic, verify, "POST", 200, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "POST", 400, 0.0001);
  page = Scrape(*metrics);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "200"), 1);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "400"), 1);
  EXPECT_EQ(page.Samples("mfa_mock_http_requests_total").size(), 4u);
}

TEST(PrometheusMetricsTest, HttpRequestsCountPerMethodAndCode) {
  auto metrics = Make();
  RouteId verify = metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
  for (int i = 0; i < 3; ++i) metrics->HttpRequest(Listener::kPublic, verify, "POST", 200, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "POST", 400, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "POST", 429, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "POST", 501, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "GET", 405, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "HEAD", 405, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "PUT", 405, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "DELETE", 405, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "PATCH", 405, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "OPTIONS", 204, 0.0001);
  // Unknown or non-canonical methods collapse to OTHER.
  metrics->HttpRequest(Listener::kPublic, verify, "BREW", 405, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "post", 405, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "", 405, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "OTHER", 405, 0.0001);
  // Status codes outside Pistache's list collapse to "other".
  metrics->HttpRequest(Listener::kPublic, verify, "POST", 299, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "POST", -1, 0.0001);
  metrics->HttpRequest(Listener::kPublic, verify, "POST", 1000, 0.0001);
  Exposition page = Scrape(*metrics);

  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "200"), 3);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "400"), 1);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "429"), 1);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "501"), 1);
  for (const char* method : {"GET", "HEAD", "PUT", "DELETE", "PATCH"}) {
    EXPECT_EQ(Requests(page, "public", kVerifyRoute, method, "405"), 1) << method;
  }
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "OPTIONS", "204"), 1);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "OTHER", "405"), 4);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "other"), 3);
  double total = 0;
  for (const auto& s : page.Samples("mfa_mock_http_requests_total")) total += s.value;
  EXPECT_EQ(total, 19);
  EXPECT_EQ(HistogramCount(page, "public", kVerifyRoute), 19);
}

TEST(PrometheusMetricsTest, UnknownRouteOrWrongListenerCountsAsUnmatched) {
  auto metrics = Make();
  RouteId verify = metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
  metrics->RegisterRoute(Listener::kPublic, "unmatched");
  metrics->RegisterRoute(Listener::kAdmin, "unmatched");
  metrics->HttpRequest(Listener::kPublic, 4242, "GET", 404, 0.0001);
  metrics->HttpRequest(Listener::kPublic, 0xFFFF, "GET", 404, 0.0001);
  metrics->HttpRequest(Listener::kAdmin, verify, "POST", 404, 0.0001);  // verify is public
  // No "unmatched" on the metrics listener: dropped, no crash.
  metrics->HttpRequest(Listener::kMetrics, 4242, "GET", 404, 0.0001);
  Exposition page = Scrape(*metrics);
  EXPECT_EQ(Requests(page, "public", "unmatched", "GET", "404"), 2);
  EXPECT_EQ(Requests(page, "admin", "unmatched", "POST", "404"), 1);
  EXPECT_EQ(HistogramCount(page, "public", kVerifyRoute), 0);
  EXPECT_EQ(page.Samples("mfa_mock_http_requests_total").size(), 2u);
}

TEST(PrometheusMetricsTest, HistogramBoundsAreInclusive) {
  const std::vector<double> bounds = {0.00005, 0.0001, 0.00015, 0.0002, 0.00025, 0.0005,
                                      0.00075, 0.001,  0.0025,  0.005,  0.01,    0.025,
                                      0.05,    0.1,    0.25,    0.5,    1.0};
  ASSERT_EQ(bounds.size() + 1, kLe.size());
  for (size_t i = 0; i < bounds.size(); ++i) {
    SCOPED_TRACE(kLe[i]);
    // Exactly on a bound: counted in that bucket, not in the one below.
    auto metrics = Make();
    RouteId route = metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
    metrics->HttpRequest(Listener::kPublic, route, "POST", 200, bounds[i]);
    Exposition page = Scrape(*metrics);
    for (size_t j = 0; j < kLe.size(); ++j) {
      EXPECT_EQ(Bucket(page, "public", kVerifyRoute, kLe[j]), j >= i ? 1 : 0) << kLe[j];
    }
    // Just above a bound: the next bucket.
    auto above = Make();
    route = above->RegisterRoute(Listener::kPublic, kVerifyRoute);
    above->HttpRequest(Listener::kPublic, route, "POST", 200, std::nextafter(bounds[i], 2.0));
    page = Scrape(*above);
    for (size_t j = 0; j < kLe.size(); ++j) {
      EXPECT_EQ(Bucket(page, "public", kVerifyRoute, kLe[j]), j > i ? 1 : 0) << kLe[j];
    }
  }
}

TEST(PrometheusMetricsTest, HistogramEdgeValuesAndSum) {
  auto metrics = Make();
  RouteId route = metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
  metrics->HttpRequest(Listener::kPublic, route, "POST", 200, 0);
  metrics->HttpRequest(Listener::kPublic, route, "POST", 200, -1);   // clock went back
  metrics->HttpRequest(Listener::kPublic, route, "POST", 200, NAN);  // garbage
  metrics->HttpRequest(Listener::kPublic, route, "POST", 200, 0.00003);
  metrics->HttpRequest(Listener::kPublic, route, "POST", 200, 0.0003);
  metrics->HttpRequest(Listener::kPublic, route, "POST", 200, 2.5);  // over 1 s: +Inf only
  Exposition page = Scrape(*metrics);
  EXPECT_EQ(Bucket(page, "public", kVerifyRoute, "5e-05"), 4);
  EXPECT_EQ(Bucket(page, "public", kVerifyRoute, "0.00025"), 4);
  EXPECT_EQ(Bucket(page, "public", kVerifyRoute, "0.0005"), 5);
  EXPECT_EQ(Bucket(page, "public", kVerifyRoute, "1"), 5);
  EXPECT_EQ(Bucket(page, "public", kVerifyRoute, "+Inf"), 6);
  EXPECT_EQ(HistogramCount(page, "public", kVerifyRoute), 6);
  auto sum = page.Value("mfa_mock_http_request_duration_seconds_sum",
                        {{"listener", "public"}, {"route", kVerifyRoute}});
  ASSERT_TRUE(sum);
  EXPECT_NEAR(*sum, 2.50033, 1e-9);
}

TEST(PrometheusMetricsTest, BucketBoundsPrintExactly) {
  auto metrics = Make();
  metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
  Exposition page = Scrape(*metrics);
  std::vector<std::string> printed;
  for (const auto& s : page.Samples("mfa_mock_http_request_duration_seconds_bucket")) {
    printed.push_back(s.labels.at("le"));
  }
  EXPECT_EQ(printed, std::vector<std::string>(kLe.begin(), kLe.end()));
}

TEST(PrometheusMetricsTest, ScrapeSourcesAreReadAtRenderTime) {
  auto metrics = Make();
  double records = 5;
  metrics->SetScrapeSources(
      {[&records] { return records; }, [] { return 7.0; }, [] { return 11.0; }});
  Exposition page = Scrape(*metrics);
  EXPECT_EQ(page.Value("mfa_mock_store_records"), 5);
  EXPECT_EQ(page.Value("mfa_mock_inbox_messages"), 7);
  EXPECT_EQ(page.Value("mfa_mock_store_expired_swept_total"), 11);
  EXPECT_EQ(page.Find("mfa_mock_store_records")->type, "gauge");
  EXPECT_EQ(page.Find("mfa_mock_inbox_messages")->type, "gauge");
  EXPECT_EQ(page.Find("mfa_mock_store_expired_swept_total")->type, "counter");
  records = 6;
  page = Scrape(*metrics);
  EXPECT_EQ(page.Value("mfa_mock_store_records"), 6);
}

TEST(PrometheusMetricsTest, MissingOrThrowingSourceIsLeftOut) {
  auto metrics = Make();
  ScrapeSources sources;
  sources.store_records = [] { return 1.0; };
  sources.inbox_messages = []() -> double { throw std::runtime_error("inbox gone"); };
  metrics->SetScrapeSources(sources);
  Exposition page = Scrape(*metrics);
  EXPECT_EQ(page.Value("mfa_mock_store_records"), 1);
  EXPECT_EQ(page.Find("mfa_mock_inbox_messages"), nullptr);
  EXPECT_EQ(page.Find("mfa_mock_store_expired_swept_total"), nullptr);
}

TEST(PrometheusMetricsTest, ProcessMetricsArePresentAndPlausible) {
  auto metrics = Make();
  Exposition page = Scrape(*metrics);
  auto cpu = page.Value("process_cpu_seconds_total");
  auto rss = page.Value("process_resident_memory_bytes");
  auto fds = page.Value("process_open_fds");
  auto max_fds = page.Value("process_max_fds");
  auto start = page.Value("process_start_time_seconds");
  ASSERT_TRUE(cpu && rss && fds && start);
  EXPECT_GE(*cpu, 0);
  EXPECT_LT(*cpu, 24 * 3600);
  EXPECT_GT(*rss, 1 << 20);  // a C++ test binary is more than 1 MiB resident
  EXPECT_LT(*rss, 64.0 * (1 << 30));
  EXPECT_GE(*fds, 3);  // stdin, stdout, stderr
  if (max_fds) {
    EXPECT_GE(*max_fds, *fds);
  }
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(*start, now + 1);
  EXPECT_GT(*start, now - 24 * 3600);  // started within the last day
  EXPECT_EQ(page.Find("process_cpu_seconds_total")->type, "counter");
  EXPECT_EQ(page.Find("process_resident_memory_bytes")->type, "gauge");

  // Opening a file shows up at the next render.
  FILE* file = std::fopen("/proc/self/stat", "r");
  ASSERT_NE(file, nullptr);
  auto more = Scrape(*metrics).Value("process_open_fds");
  std::fclose(file);
  ASSERT_TRUE(more);
  EXPECT_EQ(*more, *fds + 1);
}

// Four threads record concurrently while another keeps rendering: totals are exact and no
// counter ever goes down between renders.
TEST(PrometheusMetricsTest, ConcurrentRecordingIsExact) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  auto metrics = Make();
  RouteId route = metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
  std::atomic<bool> done{false};
  std::atomic<int> renders{0};
  std::thread scraper([&] {
    double last_count = 0;
    double last_attempts = 0;
    while (!done.load()) {
      Exposition page = ParseExposition(metrics->Render());
      EXPECT_TRUE(page.errors.empty());
      double count = HistogramCount(page, "public", kVerifyRoute);
      double attempts = Attempts(page, "email", "success");
      EXPECT_GE(count, last_count);
      EXPECT_GE(attempts, last_attempts);
      last_count = count;
      last_attempts = attempts;
      renders.fetch_add(1);
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, route, t] {
      for (int i = 0; i < kPerThread; ++i) {
        metrics->VerifyAttempt(IdentifierType::kEmail, Outcome::kOk);
        metrics->VerifyAttempt(t % 2 ? IdentifierType::kPhone : IdentifierType::kEmail,
                               Outcome::kCodeMismatch);
        metrics->CodeSent(IdentifierType::kPhone, Via::kPublic);
        metrics->CodesSeeded(SeedSource::kGenerate, 2);
        metrics->HttpRequest(Listener::kPublic, route, "POST", i % 2 ? 200 : 400,
                             i % 3 == 0 ? 0.00005 : 0.002);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done.store(true);
  scraper.join();
  EXPECT_GT(renders.load(), 0);

  Exposition page = Scrape(*metrics);
  constexpr double kTotal = kThreads * kPerThread;
  EXPECT_EQ(Attempts(page, "email", "success"), kTotal);
  EXPECT_EQ(Attempts(page, "email", "code_mismatch"), kTotal / 2);
  EXPECT_EQ(Attempts(page, "phone", "code_mismatch"), kTotal / 2);
  EXPECT_EQ(Failures(page, "phone", "code_mismatch"), kTotal / 2);
  EXPECT_EQ(page.Value("mfa_mock_codes_sent_total", {{"channel", "sms"}, {"via", "public"}}),
            kTotal);
  EXPECT_EQ(page.Value("mfa_mock_codes_seeded_total", {{"source", "generate"}}), 2 * kTotal);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "200"), kTotal / 2);
  EXPECT_EQ(Requests(page, "public", kVerifyRoute, "POST", "400"), kTotal / 2);
  EXPECT_EQ(HistogramCount(page, "public", kVerifyRoute), kTotal);
  // i % 3 == 0 for 33334 of every 100000 values of i.
  EXPECT_EQ(Bucket(page, "public", kVerifyRoute, "5e-05"), kThreads * 33334);
  EXPECT_EQ(Bucket(page, "public", kVerifyRoute, "0.0025"), kTotal);
}

TEST(PrometheusMetricsTest, RegistrationWhileRecordingIsSafe) {
  auto metrics = Make();
  RouteId first = metrics->RegisterRoute(Listener::kPublic, "/first");
  std::atomic<bool> done{false};
  std::thread recorder([&] {
    while (!done.load()) metrics->HttpRequest(Listener::kPublic, first, "GET", 200, 0.001);
  });
  for (int i = 0; i < 100; ++i) {
    metrics->RegisterRoute(Listener::kAdmin, "/route/" + std::to_string(i));
  }
  done.store(true);
  recorder.join();
  Exposition page = Scrape(*metrics);
  EXPECT_EQ(page.Samples("mfa_mock_http_request_duration_seconds_count").size(), 101u);
}

TEST(PrometheusMetricsTest, RouteTableIsBounded) {
  auto metrics = Make();
  RouteId unmatched = metrics->RegisterRoute(Listener::kPublic, "unmatched");
  RouteId last = 0;
  for (int i = 0; i < 300; ++i) {
    last = metrics->RegisterRoute(Listener::kPublic, "/r/" + std::to_string(i));
  }
  // Past the capacity the id counts under "unmatched".
  metrics->HttpRequest(Listener::kPublic, last, "GET", 200, 0.001);
  Exposition page = Scrape(*metrics);
  EXPECT_EQ(page.Samples("mfa_mock_http_request_duration_seconds_count").size(), 256u);
  EXPECT_EQ(HistogramCount(page, "public", "unmatched"), 1);
  EXPECT_NE(last, unmatched);
}

std::optional<std::string> FindPromtool() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    std::string path = std::string(dir) + "/promtool";
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return std::nullopt;
}

// Runs `promtool check metrics` on `text`; returns its exit status and combined output.
std::pair<int, std::string> PromtoolCheckMetrics(const std::string& promtool,
                                                 const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto input = dir / ("mfa_metrics_" + std::to_string(getpid()) + ".prom");
  std::ofstream(input) << text;
  const std::string command = promtool + " check metrics < " + input.string() + " 2>&1";
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output.append(buffer, n);
  int status = pclose(pipe);
  std::filesystem::remove(input);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(PrometheusMetricsTest, PromtoolCheckMetricsFindsNothing) {
  auto promtool = FindPromtool();
  if (!promtool) GTEST_SKIP() << "promtool not installed (Debian package `prometheus`)";
  auto metrics = Make();
  RouteId verify = metrics->RegisterRoute(Listener::kPublic, kVerifyRoute);
  metrics->RegisterRoute(Listener::kPublic, "unmatched");
  metrics->RegisterRoute(Listener::kMetrics, "/metrics");
  metrics->DeclareRequest(verify, "POST", 200);
  metrics->SetScrapeSources({[] { return 3.0; }, [] { return 4.0; }, [] { return 5.0; }});
  metrics->VerifyAttempt(IdentifierType::kEmail, Outcome::kOk);
  metrics->VerifyAttempt(IdentifierType::kEmail, Outcome::kInternal);
  metrics->CodeSent(IdentifierType::kEmail, Via::kAdmin);
  metrics->HttpRequest(Listener::kPublic, verify, "POST", 200, 0.0002);
  metrics->HttpRequest(Listener::kPublic, verify, "BREW", 299, 0.2);
  const std::string text = metrics->Render();
  auto [status, output] = PromtoolCheckMetrics(*promtool, text);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "") << text;
}

TEST(NoopMetricsTest, RendersNothingAndAcceptsEverything) {
  auto metrics = CreateNoopMetrics();
  RouteId route = metrics->RegisterRoute(Listener::kPublic, "/x");
  metrics->DeclareRequest(route, "GET", 200);
  metrics->VerifyAttempt(IdentifierType::kEmail, Outcome::kOk);
  metrics->HttpRequest(Listener::kPublic, route, "GET", 200, 0.001);
  EXPECT_EQ(metrics->Render(), "");
}

}  // namespace
}  // namespace mfa::metrics

namespace mfa::metrics {
namespace {

TEST(PrometheusMetricsStoreTest, SharedStoreCallsAreCountedByOperationAndErrorKind) {
  auto metrics = CreatePrometheusMetrics({"1.2.3", "abc123"});
  EXPECT_EQ(metrics->Render().find("mfa_mock_store_call_duration_seconds"), std::string::npos)
      << "no store families without a shared store";
  ScrapeSources sources;
  sources.shared_store_in_flight = [] { return 3.0; };
  sources.shared_store_up = [] { return 1.0; };
  metrics->SetScrapeSources(std::move(sources));
  metrics->StoreCall("verify", "", 0.0004);
  metrics->StoreCall("verify", "", 0.0009);
  metrics->StoreCall("verify", "timeout", 1.2);
  metrics->StoreCall("create", "overloaded", 0.0);
  metrics->StoreCall("not-an-operation", "", 0.001);
  metrics->StoreReconnected();
  const std::string text = metrics->Render();
  Exposition page = ParseExposition(text);
  for (const auto& error : page.errors) ADD_FAILURE() << error << "\n" << text;
  EXPECT_EQ(page.Value("mfa_mock_store_call_duration_seconds_count", {{"operation", "verify"}}), 3);
  EXPECT_EQ(page.Value("mfa_mock_store_call_duration_seconds_bucket",
                       {{"operation", "verify"}, {"le", "0.001"}}),
            2);
  EXPECT_EQ(
      page.Value("mfa_mock_store_errors_total", {{"operation", "verify"}, {"kind", "timeout"}}), 1);
  EXPECT_EQ(
      page.Value("mfa_mock_store_errors_total", {{"operation", "create"}, {"kind", "overloaded"}}),
      1);
  EXPECT_EQ(page.Value("mfa_mock_store_call_duration_seconds_count", {{"operation", "other"}}), 1);
  EXPECT_EQ(page.Value("mfa_mock_store_reconnects_total", {}), 1);
  EXPECT_EQ(page.Value("mfa_mock_store_in_flight", {}), 3);
  EXPECT_EQ(page.Value("mfa_mock_store_up", {}), 1);
}

}  // namespace
}  // namespace mfa::metrics
