// SPDX-License-Identifier: Apache-2.0
// Runs the real mfa-mock binary as a child process: a long-running server that tests talk to
// over loopback, or a one-shot command whose exit code and output a CLI test checks.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace mfa_test {

// Environment variables for a child: name, value.
using EnvVars = std::vector<std::pair<std::string, std::string>>;

// Path of the server under test: $MFA_MOCK_TEST_BINARY if set (e.g. a sanitizer build), else the
// MFA_MOCK_BINARY compile definition (the build's own mfa-mock).
std::string MockBinaryPath();

// The first executable `name` on $PATH, then in the usual places (/usr/local/bin, /usr/bin,
// /bin, /usr/sbin, /sbin: a test's PATH may leave out sbin), or "".
std::string ProgramOnPath(const std::string& name);

// A server child process. The child gets the test's environment minus every MFA_MOCK_*
// variable (so a developer's shell cannot change what a test sees), plus `env`. Its stdout is
// read through a pipe (drained in the background once it is ready); its stderr goes to a temp
// file that Stderr() returns. The child is killed if the test process dies (PR_SET_PDEATHSIG).
// Not thread-safe except Stdout()/Stderr(), which may be called from any thread.
class ServerProcess {
 public:
  ServerProcess() = default;
  // Stops the child (SIGTERM, then SIGKILL) if it still runs.
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts MockBinaryPath() with `args`, plus `--listen 127.0.0.1:0` and
  // `--admin-listen 127.0.0.1:0` unless `args` already set them, and waits up to
  // `ready_timeout` for the stdout line `mfa-mock ready public=HOST:PORT admin=HOST:PORT ...`.
  // Returns false with error() set (including the child's stderr) if the child exits or stays
  // silent; the child is then stopped. The default bound is generous (a sanitized build on a
  // busy 2-core machine can take seconds to start): it waits for the line, not for a duration.
  // REQUIRES: not running.
  bool Start(std::vector<std::string> args = {}, const EnvVars& env = {},
             std::chrono::milliseconds ready_timeout = std::chrono::seconds(60));

  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status: the exit code, or
  // 128 + signal number if a signal ended it; the same value again on later calls; -1 if it
  // was never started. The default grace outlasts a sanitized shutdown (final snapshot, leak
  // check) on a busy machine; a clean exit returns as soon as it happens.
  int Stop(std::chrono::milliseconds grace = std::chrono::seconds(60));
  // Sends `signal` without waiting.
  bool Signal(int signal) const;
  // Waits up to `timeout` for the child to exit on its own; returns its status (as Stop())
  // or -1 if it is still running.
  int WaitForExit(std::chrono::milliseconds timeout);
  // True while the child has not been seen to exit (checks without blocking).
  bool running();

  pid_t pid() const { return pid_; }
  uint16_t public_port() const { return public_port_; }
  uint16_t admin_port() const { return admin_port_; }
  // The ready line's key=value pairs (public, admin, and any others such as metrics).
  const std::map<std::string, std::string>& ready_fields() const { return ready_fields_; }
  const std::string& ready_line() const { return ready_line_; }
  // Why Start() failed.
  const std::string& error() const { return error_; }

  // Everything the child wrote to stdout so far.
  std::string Stdout() const;
  // Everything the child wrote to stderr so far; at most the last `max_bytes`.
  std::string Stderr(size_t max_bytes = 1 << 20) const;

 private:
  void DrainStdout();
  int Reap(int wait_status);

  pid_t pid_ = -1;
  bool exited_ = false;
  int exit_status_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  uint16_t public_port_ = 0;
  uint16_t admin_port_ = 0;
  std::map<std::string, std::string> ready_fields_;
  std::string ready_line_;
  std::string error_;

  mutable std::mutex stdout_mu_;
  std::string stdout_;  // GUARDED_BY(stdout_mu_)
  std::thread drain_thread_;
};

struct RunResult {
  int exit_code = -1;  // exit code, or 128 + signal; -1 if it could not start
  std::string out;
  std::string err;
  bool timed_out = false;  // killed after the timeout
  std::string Describe() const;
};

// Runs the binary with `args` (environment as for ServerProcess) until it exits, killing it
// after `timeout`. Stdin is /dev/null.
RunResult RunBinary(const std::vector<std::string>& args,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60),
                    const EnvVars& env = {});

// Resident set size of `pid` from /proc/PID/statm, or -1.
int64_t ReadRssBytes(pid_t pid);

}  // namespace mfa_test
