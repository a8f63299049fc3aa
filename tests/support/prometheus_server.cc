// SPDX-License-Identifier: Apache-2.0
#include "tests/support/prometheus_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/json_helpers.h"
#include "tests/support/server_process.h"
#include "tests/support/test_values.h"

namespace mfa_test {
namespace {

using Clock = std::chrono::steady_clock;
// Prometheus opens its TSDB and WAL before it is ready; allow for a busy machine.
constexpr auto kReadyDeadline = std::chrono::seconds(90);
constexpr auto kPollEvery = std::chrono::milliseconds(200);

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

}  // namespace

bool PollUntil(Clock::duration deadline, const std::function<bool()>& done) {
  const auto end = Clock::now() + deadline;
  for (;;) {
    if (done()) return true;
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(kPollEvery);
  }
}

std::string PrometheusServer::Start(uint16_t target_port) {
  const std::string binary = ProgramOnPath("prometheus");
  if (binary.empty()) {
    return "prometheus not found on PATH: install the Debian package `prometheus` "
           "(apt-get install --no-install-recommends prometheus)";
  }
  if (dir_.path().empty()) return "cannot create a temporary directory";
  if (!WriteFile(dir_.File("prometheus.yml"), PrometheusConfig(target_port))) {
    return "cannot write " + dir_.File("prometheus.yml");
  }
  for (int attempt = 1; attempt <= 3; ++attempt) {
    const uint16_t port = PickFreePort();
    if (port == 0) return "no free loopback port";
    std::string error;
    if (!Spawn(binary, port, &error)) return error;
    bool exited = false;
    const bool ready = PollUntil(kReadyDeadline, [&] {
      if (!running()) {
        exited = true;
        return true;
      }
      HttpResponse r = HttpClient(port, "127.0.0.1", std::chrono::seconds(2)).Get("/-/ready");
      return r.ok() && r.status == 200;
    });
    if (ready && !exited) return {};
    Stop();
    if (!exited) {
      return "Prometheus did not become ready within " +
             std::to_string(
                 std::chrono::duration_cast<std::chrono::seconds>(kReadyDeadline).count()) +
             " s";
    }
    // It exited (e.g. the port was taken): try again with a fresh port.
  }
  return "Prometheus exited at start-up three times";
}

bool PrometheusServer::Spawn(const std::string& binary, uint16_t port, std::string* error) {
  port_ = port;
  const std::string log_path = dir_.File("prom.log");
  std::vector<std::string> args = {binary, "--config.file=" + dir_.File("prometheus.yml"),
                                   "--storage.tsdb.path=" + dir_.File("tsdb"),
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

bool PrometheusServer::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return r == 0;
}

void PrometheusServer::Stop() {
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

std::string PrometheusServer::LogTail(size_t max_bytes) const {
  std::string log = ReadFile(dir_.File("prom.log")).value_or("<no log>");
  return log.size() > max_bytes ? log.substr(log.size() - max_bytes) : log;
}

QueryAnswer PromQuery(uint16_t port, const std::string& promql) {
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

QueryAnswer PollPromQuery(uint16_t port, const std::string& promql,
                          const std::function<bool(double)>& accept) {
  QueryAnswer last;
  PollUntil(kPromQueryDeadline, [&] {
    last = PromQuery(port, promql);
    return last.value && accept(*last.value);
  });
  return last;
}

}  // namespace mfa_test
