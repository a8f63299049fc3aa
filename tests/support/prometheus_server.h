// SPDX-License-Identifier: Apache-2.0
// A real Prometheus (Debian package `prometheus`) on loopback that scrapes one mfa-mock listener
// every second (job "mfa-mock"), and instant queries against it. Tests that need it fail, not
// skip, without the binary: CI installs it (scripts/install-deps.sh test).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "tests/support/temp_files.h"

namespace mfa_test {

// The child process, its config, TSDB and log in a directory of its own. The destructor stops
// it (SIGTERM, then SIGKILL), and the kernel kills it if the test process dies. Not thread-safe.
class PrometheusServer {
 public:
  PrometheusServer() = default;
  ~PrometheusServer() { Stop(); }
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  // Starts Prometheus scraping 127.0.0.1:`target_port`/metrics every second and waits for
  // /-/ready (on a fresh port again if the one picked was taken meanwhile). Returns an empty
  // string, or why it could not.
  std::string Start(uint16_t target_port);
  void Stop();
  // True while the child has not been seen to exit.
  bool running();

  uint16_t port() const { return port_; }
  // The tail of Prometheus's log, for failure messages.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  bool Spawn(const std::string& binary, uint16_t port, std::string* error);

  TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// Bounds for states that are polled for: generous, for a sanitized build on a busy 2-core
// machine; a healthy run returns as soon as the state is seen.
inline constexpr auto kPromQueryDeadline = std::chrono::seconds(60);

// The value of an instant query whose answer is a one-element vector (or a scalar).
struct QueryAnswer {
  std::optional<double> value;  // nullopt: empty result, error, or not a number
  std::string raw;              // the response, for failure messages
};
QueryAnswer PromQuery(uint16_t port, const std::string& promql);
// Polls `promql` until `accept(value)` holds or kPromQueryDeadline passes; the last answer.
QueryAnswer PollPromQuery(uint16_t port, const std::string& promql,
                          const std::function<bool(double)>& accept);

// Polls `done` every 200 ms until it returns true or `deadline` passes.
bool PollUntil(std::chrono::steady_clock::duration deadline, const std::function<bool()>& done);

}  // namespace mfa_test
