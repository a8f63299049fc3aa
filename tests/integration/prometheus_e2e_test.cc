// SPDX-License-Identifier: Apache-2.0
// End to end with a real Prometheus (issue 3, part 5): a Prometheus on loopback scrapes the
// mock's admin listener every second; the test drives traffic and reads the values back
// through /api/v1/query, polling with a deadline rather than sleeping a fixed time.
//
// Needs the `prometheus` binary (Debian package `prometheus`): the test fails, not skips,
// without it, because CI installs it.

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/prometheus_server.h"

namespace mfa_test {
namespace {

class PrometheusE2ETest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- prometheus log (tail) ---\n"
                << prometheus_.LogTail() << "\n--- mfa-mock stderr (tail) ---\n"
                << mock_.process().Stderr(2000) << "\n--- end ---\n";
    }
    prometheus_.Stop();  // also done by its destructor, whatever happens
  }

  // Starts Prometheus scraping the mock's admin port and waits for /-/ready.
  void StartPrometheus() {
    const std::string error = prometheus_.Start(mock_.process().admin_port());
    ASSERT_TRUE(error.empty()) << error;
  }

  MockServer mock_;
  PrometheusServer prometheus_;
};

TEST_F(PrometheusE2ETest, PrometheusScrapesTheMockAndReadsBackExactCounts) {
  ASSERT_TRUE(mock_.Start({"--sweep-interval", "3600"})) << mock_.error();
  ASSERT_NO_FATAL_FAILURE(StartPrometheus());
  const uint16_t prom = prometheus_.port();

  // The target is up: at least one scrape happened, before any traffic (so rate() sees the
  // counters rise from 0).
  QueryAnswer up = PollPromQuery(prom, R"(up{job="mfa-mock"})", [](double v) { return v == 1; });
  ASSERT_EQ(up.value, 1) << "up{job=\"mfa-mock\"} never became 1: " << up.raw;
  QueryAnswer before = PromQuery(prom, R"(sum(mfa_mock_verify_attempts_total{job="mfa-mock"}))");
  ASSERT_EQ(before.value, 0) << "the counters exist at 0 before traffic: " << before.raw;

  // Traffic (bounded): 7 successes (4 email, 3 phone), 3 mismatches, 2 unknown ids.
  constexpr int kEmailSuccesses = 4, kPhoneSuccesses = 3, kMismatches = 3, kUnknown = 2;
  std::string items = "[";
  for (int i = 0; i < kEmailSuccesses + kPhoneSuccesses; ++i) {
    if (i > 0) items += ",";
    items += R"({"verificationId":"e2e)" + std::to_string(i) + R"(","identifierType":")" +
             (i < kEmailSuccesses ? "email" : "phone") + R"(","code":"42424)" + std::to_string(i) +
             R"("})";
  }
  items += R"(,{"verificationId":"e2eWrong","identifierType":"email","code":"111111"}])";
  ASSERT_TRUE(HasStatus(mock_.AdminPost("/admin/verifications", items), 201));
  for (int i = 0; i < kEmailSuccesses + kPhoneSuccesses; ++i) {
    ASSERT_TRUE(HasStatus(mock_.Verify("e2e" + std::to_string(i), "42424" + std::to_string(i),
                                       i < kEmailSuccesses ? "email" : "phone"),
                          200));
  }
  for (int i = 0; i < kMismatches; ++i) {
    ASSERT_TRUE(IsErrorCode(mock_.Verify("e2eWrong", "00000" + std::to_string(i), "email"), 400,
                            kCodeMismatch));
  }
  for (int i = 0; i < kUnknown; ++i) {
    ASSERT_TRUE(IsErrorCode(mock_.Verify("e2eUnknown" + std::to_string(i), "123456", "email"), 404,
                            kVerificationNotFound));
  }
  constexpr double kSuccesses = kEmailSuccesses + kPhoneSuccesses;
  constexpr double kAttempts = kSuccesses + kMismatches + kUnknown;
  constexpr double kFailures = kMismatches + kUnknown;

  // Prometheus catches up within a few scrapes.
  QueryAnswer successes =
      PollPromQuery(prom, R"(sum(mfa_mock_verify_attempts_total{outcome="success"}))",
                    [&](double v) { return v == kSuccesses; });
  ASSERT_EQ(successes.value, kSuccesses) << successes.raw;
  // Every attempt, and every request on the route (Prometheus scrapes every second, so
  // possibly a scrape later), has arrived before the ratios are read.
  QueryAnswer attempts = PollPromQuery(prom, R"(sum(mfa_mock_verify_attempts_total))",
                                       [&](double v) { return v == kAttempts; });
  ASSERT_EQ(attempts.value, kAttempts) << attempts.raw;
  QueryAnswer verify_count = PollPromQuery(
      prom,
      R"(sum(mfa_mock_http_request_duration_seconds_count{listener="public",route=")" +
          std::string(kVerifyPath) + R"("}))",
      [&](double v) { return v == kAttempts; });
  EXPECT_EQ(verify_count.value, kAttempts) << verify_count.raw;

  // Per label set, straight from the stored series.
  QueryAnswer phone = PromQuery(
      prom, R"(mfa_mock_verify_attempts_total{identifier_type="phone",outcome="success"})");
  EXPECT_EQ(phone.value, kPhoneSuccesses) << phone.raw;
  QueryAnswer mismatches = PromQuery(
      prom, R"(mfa_mock_verify_failures_total{identifier_type="email",reason="code_mismatch"})");
  EXPECT_EQ(mismatches.value, kMismatches) << mismatches.raw;

  // The dashboard's failure ratio (docs/metrics.md): a number, 5 failures in 12 attempts.
  const std::string ratio_query =
      "sum(rate(mfa_mock_verify_failures_total[1m])) / "
      "sum(rate(mfa_mock_verify_attempts_total[1m]))";
  QueryAnswer ratio = PollPromQuery(prom, ratio_query, [](double v) { return std::isfinite(v); });
  ASSERT_TRUE(ratio.value && std::isfinite(*ratio.value)) << ratio_query << " -> " << ratio.raw;
  EXPECT_NEAR(*ratio.value, kFailures / kAttempts, 1e-3) << ratio.raw;
  // By reason: mismatches are 3 of the 12.
  QueryAnswer by_reason = PromQuery(
      prom, R"(sum by (reason) (rate(mfa_mock_verify_failures_total{reason="code_mismatch"}[1m])))"
            R"( / ignoring (reason) group_left sum(rate(mfa_mock_verify_attempts_total[1m])))");
  ASSERT_TRUE(by_reason.value && std::isfinite(*by_reason.value)) << by_reason.raw;
  EXPECT_NEAR(*by_reason.value, kMismatches / kAttempts, 1e-3) << by_reason.raw;

  // p99 latency of the verify route: a number of seconds within the bucket range.
  const std::string p99_query =
      R"(histogram_quantile(0.99, sum by (le) (rate(mfa_mock_http_request_duration_seconds_bucket{)"
      R"(listener="public",route=")" +
      std::string(kVerifyPath) + R"("}[1m]))))";
  QueryAnswer p99 = PollPromQuery(prom, p99_query, [](double v) { return std::isfinite(v); });
  ASSERT_TRUE(p99.value && std::isfinite(*p99.value)) << p99_query << " -> " << p99.raw;
  EXPECT_GT(*p99.value, 0) << p99.raw;
  EXPECT_LE(*p99.value, 1.0) << p99.raw;

  // Still up, and Prometheus saw no scrape error.
  QueryAnswer still_up = PromQuery(prom, R"(up{job="mfa-mock"})");
  EXPECT_EQ(still_up.value, 1) << still_up.raw;
  HttpResponse targets = HttpClient(prom).Get("/api/v1/targets?state=active");
  ASSERT_TRUE(HasStatus(targets, 200));
  Json t(targets.body);
  ASSERT_EQ(t.Size("/data/activeTargets"), 1u) << targets.body;
  EXPECT_EQ(t.String("/data/activeTargets/0/health"), "up") << targets.body;
  EXPECT_EQ(t.String("/data/activeTargets/0/lastError"), "") << targets.body;
  EXPECT_EQ(t.String("/data/activeTargets/0/labels/job"), "mfa-mock") << targets.body;
}

}  // namespace
}  // namespace mfa_test
