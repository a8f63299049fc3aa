// SPDX-License-Identifier: Apache-2.0
// End to end with a real Prometheus (issue 3, part 5): a Prometheus on loopback scrapes the
// mock's admin listener every second; the test drives traffic and reads the values back
// through /api/v1/query, polling with a deadline rather than sleeping a fixed time.
//
// Needs the `prometheus` binary (Debian package `prometheus`): the test fails, not skips,
// without it, because CI installs it.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_values.h"

namespace mfa_test {
namespace {

using Clock = std::chrono::steady_clock;
// Bounds for states that are polled for (a scrape landing, Prometheus ready): generous, for a
// sanitized build on a busy 2-core machine; a healthy run returns as soon as the state is seen.
constexpr auto kQueryDeadline = std::chrono::seconds(60);
// Prometheus opens its TSDB and WAL before it is ready; allow for a busy machine.
constexpr auto kReadyDeadline = std::chrono::seconds(90);
constexpr auto kPollEvery = std::chrono::milliseconds(200);

std::string ProgramOnPath(const std::string& name) {
  const char* path = getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    if (colon == std::string::npos) colon = dirs.size();
    std::string dir = dirs.substr(start, colon - start);
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return {};
}

// A loopback port that was free a moment ago (bind to port 0, read it, close).
uint16_t PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// Polls `done` every kPollEvery until it returns true or `deadline` passes.
bool PollUntil(Clock::duration deadline, const std::function<bool()>& done) {
  const auto end = Clock::now() + deadline;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(kPollEvery);
  }
}

// A Prometheus server child. The destructor always stops it (SIGTERM, then SIGKILL), and the
// kernel kills it if the test process dies (PR_SET_PDEATHSIG).
class PrometheusProcess {
 public:
  PrometheusProcess() = default;
  ~PrometheusProcess() { Stop(); }
  PrometheusProcess(const PrometheusProcess&) = delete;
  PrometheusProcess& operator=(const PrometheusProcess&) = delete;

  // Starts `binary` with the config file, TSDB directory and listen port; its output goes to
  // `log_path`. Returns false with `*error` set if it cannot be started.
  bool Start(const std::string& binary, const std::string& config_file, const std::string& tsdb,
             uint16_t port, const std::string& log_path, std::string* error) {
    port_ = port;
    log_path_ = log_path;
    std::vector<std::string> args = {binary,
                                     "--config.file=" + config_file,
                                     "--storage.tsdb.path=" + tsdb,
                                     "--web.listen-address=127.0.0.1:" + std::to_string(port),
                                     "--log.level=info"};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
      *error = "cannot open " + log_path + " or /dev/null";
      if (log_fd >= 0) close(log_fd);
      if (null_fd >= 0) close(null_fd);
      return false;
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      // Child: async-signal-safe calls only.
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) _exit(127);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(log_fd);
    close(null_fd);
    if (pid < 0) {
      *error = std::string("fork failed: ") + strerror(errno);
      return false;
    }
    pid_ = pid;
    return true;
  }

  // True while the child has not been seen to exit.
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return false;
    }
    return r == 0;
  }

  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const auto end = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < end) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  // The tail of Prometheus's log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const {
    std::string log = ReadFile(log_path_).value_or("<no log>");
    return log.size() > max_bytes ? log.substr(log.size() - max_bytes) : log;
  }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string log_path_;
};

// The value of an instant query whose answer is a one-element vector (or a scalar).
struct QueryAnswer {
  std::optional<double> value;  // nullopt: empty result, error, or not a number
  std::string raw;              // the response, for failure messages
};

QueryAnswer Query(uint16_t port, const std::string& promql) {
  HttpClient client(port);
  HttpResponse r = client.Get("/api/v1/query?query=" + UrlEncode(promql));
  QueryAnswer answer;
  answer.raw = r.ok() ? std::to_string(r.status) + " " + r.body : r.error;
  if (!r.ok() || r.status != 200) return answer;
  Json json(r.body);
  if (json.String("/status") != "success") return answer;
  std::optional<std::string> text;
  if (json.String("/data/resultType") == "scalar") {
    text = json.String("/data/result/1");
  } else if (json.Size("/data/result").value_or(0) >= 1) {
    text = json.String("/data/result/0/value/1");
  }
  if (!text) return answer;
  char* end = nullptr;
  const double v = std::strtod(text->c_str(), &end);
  if (end == text->c_str() || *end != '\0') return answer;
  answer.value = v;
  return answer;
}

// Polls `promql` until `accept(value)` holds; returns the last answer.
QueryAnswer PollQuery(uint16_t port, const std::string& promql,
                      const std::function<bool(double)>& accept) {
  QueryAnswer last;
  PollUntil(kQueryDeadline, [&] {
    last = Query(port, promql);
    return last.value && accept(*last.value);
  });
  return last;
}

std::string PrometheusConfig(uint16_t target_port) {
  return "global:\n"
         "  scrape_interval: 1s\n"
         "  scrape_timeout: 1s\n"
         "  evaluation_interval: 1s\n"
         "scrape_configs:\n"
         "  - job_name: mfa-mock\n"
         "    scrape_interval: 1s\n"
         "    scrape_timeout: 1s\n"
         "    metrics_path: /metrics\n"
         "    static_configs:\n"
         "      - targets: ['127.0.0.1:" +
         std::to_string(target_port) + "']\n";
}

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

  // Starts Prometheus scraping the mock's admin port and waits for /-/ready. Retries with
  // another port if the one picked was taken in between.
  void StartPrometheus() {
    const std::string binary = ProgramOnPath("prometheus");
    ASSERT_FALSE(binary.empty())
        << "prometheus not found on PATH: install the Debian package `prometheus` "
           "(apt-get install --no-install-recommends prometheus)";
    ASSERT_FALSE(dir_.path().empty());
    const std::string config = dir_.File("prometheus.yml");
    ASSERT_TRUE(WriteFile(config, PrometheusConfig(mock_.process().admin_port())));
    for (int attempt = 1; attempt <= 3; ++attempt) {
      const uint16_t port = PickFreePort();
      ASSERT_NE(port, 0);
      std::string error;
      ASSERT_TRUE(prometheus_.Start(binary, config, dir_.File("tsdb"), port, dir_.File("prom.log"),
                                    &error))
          << error;
      bool exited = false;
      const bool ready = PollUntil(kReadyDeadline, [&] {
        if (!prometheus_.running()) {
          exited = true;
          return true;
        }
        HttpResponse r = HttpClient(port, "127.0.0.1", std::chrono::seconds(2)).Get("/-/ready");
        return r.ok() && r.status == 200;
      });
      if (ready && !exited) return;
      prometheus_.Stop();
      ASSERT_TRUE(exited) << "Prometheus did not become ready within "
                          << std::chrono::duration_cast<std::chrono::seconds>(kReadyDeadline).count()
                          << " s";
      // It exited (e.g. the port was taken): try again with a fresh port.
    }
    FAIL() << "Prometheus exited at start-up three times";
  }

  MockServer mock_;
  TempDir dir_;
  PrometheusProcess prometheus_;
};

TEST_F(PrometheusE2ETest, PrometheusScrapesTheMockAndReadsBackExactCounts) {
  ASSERT_TRUE(mock_.Start({"--sweep-interval", "3600"})) << mock_.error();
  ASSERT_NO_FATAL_FAILURE(StartPrometheus());
  const uint16_t prom = prometheus_.port();

  // The target is up: at least one scrape happened, before any traffic (so rate() sees the
  // counters rise from 0).
  QueryAnswer up = PollQuery(prom, R"(up{job="mfa-mock"})", [](double v) { return v == 1; });
  ASSERT_EQ(up.value, 1) << "up{job=\"mfa-mock\"} never became 1: " << up.raw;
  QueryAnswer before =
      Query(prom, R"(sum(mfa_mock_verify_attempts_total{job="mfa-mock"}))");
  ASSERT_EQ(before.value, 0) << "the counters exist at 0 before traffic: " << before.raw;

  // Traffic (bounded): 7 successes (4 email, 3 phone), 3 mismatches, 2 unknown ids.
  constexpr int kEmailSuccesses = 4, kPhoneSuccesses = 3, kMismatches = 3, kUnknown = 2;
  std::string items = "[";
  for (int i = 0; i < kEmailSuccesses + kPhoneSuccesses; ++i) {
    if (i > 0) items += ",";
    items += R"({"verificationId":"e2e)" + std::to_string(i) + R"(","identifierType":")" +
             (i < kEmailSuccesses ? "email" : "phone") + R"(","code":"42424)" +
             std::to_string(i) + R"("})";
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
    ASSERT_TRUE(IsErrorCode(mock_.Verify("e2eUnknown" + std::to_string(i), "123456", "email"),
                            404, kVerificationNotFound));
  }
  constexpr double kSuccesses = kEmailSuccesses + kPhoneSuccesses;
  constexpr double kAttempts = kSuccesses + kMismatches + kUnknown;
  constexpr double kFailures = kMismatches + kUnknown;

  // Prometheus catches up within a few scrapes.
  QueryAnswer successes =
      PollQuery(prom, R"(sum(mfa_mock_verify_attempts_total{outcome="success"}))",
                [&](double v) { return v == kSuccesses; });
  ASSERT_EQ(successes.value, kSuccesses) << successes.raw;
  // Every attempt, and every request on the route (counted just after its response is
  // written, so possibly a scrape later), has arrived before the ratios are read.
  QueryAnswer attempts = PollQuery(prom, R"(sum(mfa_mock_verify_attempts_total))",
                                   [&](double v) { return v == kAttempts; });
  ASSERT_EQ(attempts.value, kAttempts) << attempts.raw;
  QueryAnswer verify_count = PollQuery(
      prom,
      R"(sum(mfa_mock_http_request_duration_seconds_count{listener="public",route=")" +
          std::string(kVerifyPath) + R"("}))",
      [&](double v) { return v == kAttempts; });
  EXPECT_EQ(verify_count.value, kAttempts) << verify_count.raw;

  // Per label set, straight from the stored series.
  QueryAnswer phone = Query(
      prom, R"(mfa_mock_verify_attempts_total{identifier_type="phone",outcome="success"})");
  EXPECT_EQ(phone.value, kPhoneSuccesses) << phone.raw;
  QueryAnswer mismatches = Query(
      prom, R"(mfa_mock_verify_failures_total{identifier_type="email",reason="code_mismatch"})");
  EXPECT_EQ(mismatches.value, kMismatches) << mismatches.raw;

  // The dashboard's failure ratio (docs/metrics.md): a number, 5 failures in 12 attempts.
  const std::string ratio_query =
      "sum(rate(mfa_mock_verify_failures_total[1m])) / "
      "sum(rate(mfa_mock_verify_attempts_total[1m]))";
  QueryAnswer ratio = PollQuery(prom, ratio_query, [](double v) { return std::isfinite(v); });
  ASSERT_TRUE(ratio.value && std::isfinite(*ratio.value)) << ratio_query << " -> " << ratio.raw;
  EXPECT_NEAR(*ratio.value, kFailures / kAttempts, 1e-3) << ratio.raw;
  // By reason: mismatches are 3 of the 12.
  QueryAnswer by_reason = Query(
      prom,
      R"(sum by (reason) (rate(mfa_mock_verify_failures_total{reason="code_mismatch"}[1m])))"
      R"( / ignoring (reason) group_left sum(rate(mfa_mock_verify_attempts_total[1m])))");
  ASSERT_TRUE(by_reason.value && std::isfinite(*by_reason.value)) << by_reason.raw;
  EXPECT_NEAR(*by_reason.value, kMismatches / kAttempts, 1e-3) << by_reason.raw;

  // p99 latency of the verify route: a number of seconds within the bucket range.
  const std::string p99_query =
      R"(histogram_quantile(0.99, sum by (le) (rate(mfa_mock_http_request_duration_seconds_bucket{)"
      R"(listener="public",route=")" +
      std::string(kVerifyPath) + R"("}[1m]))))";
  QueryAnswer p99 = PollQuery(prom, p99_query, [](double v) { return std::isfinite(v); });
  ASSERT_TRUE(p99.value && std::isfinite(*p99.value)) << p99_query << " -> " << p99.raw;
  EXPECT_GT(*p99.value, 0) << p99.raw;
  EXPECT_LE(*p99.value, 1.0) << p99.raw;

  // Still up, and Prometheus saw no scrape error.
  QueryAnswer still_up = Query(prom, R"(up{job="mfa-mock"})");
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
