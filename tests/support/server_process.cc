// SPDX-License-Identifier: Apache-2.0
#include "tests/support/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/support/temp_files.h"

extern char** environ;

namespace mfa_test {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

bool HasFlag(const std::vector<std::string>& args, std::string_view flag) {
  for (const std::string& a : args) {
    if (a == flag) return true;
    if (a.size() > flag.size() && a.compare(0, flag.size(), flag) == 0 && a[flag.size()] == '=') {
      return true;
    }
  }
  return false;
}

// The child's environment: ours minus MFA_MOCK_*, plus `extra` (which wins).
std::vector<std::string> ChildEnvironment(const EnvVars& extra) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (entry.substr(0, 9) == "MFA_MOCK_") continue;
    bool replaced = false;
    for (const auto& [name, value] : extra) {
      replaced |= entry.size() > name.size() && entry.substr(0, name.size()) == name &&
                  entry[name.size()] == '=';
    }
    if (!replaced) env.emplace_back(entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// In the child after fork: only async-signal-safe calls. Never returns.
[[noreturn]] void ExecChild(pid_t parent, int stdin_fd, int stdout_fd, int stderr_fd,
                            char* const* argv, char* const* envp) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  // Undo any signal mask and dispositions the test process set.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  if (dup2(stdin_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) _exit(127);
  close_range(3, ~0U, 0);
  execve(argv[0], argv, envp);
  static const char kMsg[] = "exec of the mfa-mock binary failed\n";
  ssize_t ignored = write(2, kMsg, sizeof(kMsg) - 1);
  (void)ignored;
  _exit(127);
}

int StatusFromWait(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

// Parses "mfa-mock ready public=127.0.0.1:1234 admin=127.0.0.1:5678 metrics=..." into fields.
std::map<std::string, std::string> ParseReadyFields(std::string_view line) {
  std::map<std::string, std::string> fields;
  std::istringstream in{std::string(line)};
  std::string token;
  while (in >> token) {
    size_t eq = token.find('=');
    if (eq != std::string::npos && eq > 0) fields[token.substr(0, eq)] = token.substr(eq + 1);
  }
  return fields;
}

// The port after the last ':' of "HOST:PORT" or "[V6]:PORT"; 0 if there is none.
uint16_t PortOf(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return 0;
  std::string digits = address.substr(colon + 1);
  if (digits.empty() || digits.size() > 5) return 0;
  unsigned long port = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    port = port * 10 + static_cast<unsigned long>(c - '0');
  }
  return port <= 65535 ? static_cast<uint16_t>(port) : 0;
}

}  // namespace

std::string ProgramOnPath(const std::string& name) {
  const char* path = getenv("PATH");
  std::string dirs = path != nullptr ? path : "";
  dirs += ":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  std::istringstream list(dirs);
  std::string dir;
  while (std::getline(list, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string MockBinaryPath() {
  const char* override_path = getenv("MFA_MOCK_TEST_BINARY");
  return (override_path != nullptr && *override_path != '\0') ? override_path : MFA_MOCK_BINARY;
}

ServerProcess::~ServerProcess() {
  Stop();
  if (!stderr_path_.empty()) unlink(stderr_path_.c_str());
}

bool ServerProcess::Start(std::vector<std::string> args, const EnvVars& env,
                          std::chrono::milliseconds ready_timeout) {
  error_.clear();
  if (pid_ > 0 && !exited_) {
    error_ = "already running";
    return false;
  }
  if (drain_thread_.joinable()) drain_thread_.join();
  {
    std::lock_guard<std::mutex> lock(stdout_mu_);
    stdout_.clear();
  }
  ready_fields_.clear();
  ready_line_.clear();
  public_port_ = admin_port_ = 0;
  exited_ = false;
  exit_status_ = -1;

  if (!HasFlag(args, "--listen")) {
    args.push_back("--listen");
    args.push_back("127.0.0.1:0");
  }
  if (!HasFlag(args, "--admin-listen")) {
    args.push_back("--admin-listen");
    args.push_back("127.0.0.1:0");
  }
  std::vector<std::string> argv_strings;
  argv_strings.push_back(MockBinaryPath());
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = ChildEnvironment(env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);

  if (stderr_path_.empty()) stderr_path_ = MakeTempFile("mfa-mock-stderr");
  int stderr_fd = open(stderr_path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  int stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int pipe_fds[2];
  if (stderr_fd < 0 || stdin_fd < 0 || pipe2(pipe_fds, O_CLOEXEC) != 0) {
    error_ = std::string("cannot set up the child's stdio: ") + std::strerror(errno);
    if (stderr_fd >= 0) close(stderr_fd);
    if (stdin_fd >= 0) close(stdin_fd);
    return false;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(parent, stdin_fd, pipe_fds[1], stderr_fd, argv.data(), envp.data());
  close(stderr_fd);
  close(stdin_fd);
  close(pipe_fds[1]);
  if (pid < 0) {
    close(pipe_fds[0]);
    error_ = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  pid_ = pid;
  stdout_fd_ = pipe_fds[0];

  // Read stdout until the ready line, EOF or the deadline.
  const Clock::time_point deadline = Clock::now() + ready_timeout;
  std::string seen;
  bool eof = false;
  while (true) {
    size_t start = 0;
    size_t nl;
    while ((nl = seen.find('\n', start)) != std::string::npos) {
      std::string_view line(seen.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.substr(0, 15) == "mfa-mock ready ") {
        ready_line_ = std::string(line);
        break;
      }
      start = nl + 1;
    }
    if (!ready_line_.empty() || eof) break;
    int wait_ms = RemainingMs(deadline);
    pollfd p{stdout_fd_, POLLIN, 0};
    int r = poll(&p, 1, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;  // timeout
    char buf[4096];
    ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n > 0) {
      seen.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      eof = true;
    }
  }
  {
    std::lock_guard<std::mutex> lock(stdout_mu_);
    stdout_ = seen;
  }
  if (ready_line_.empty()) {
    error_ = eof ? "mfa-mock closed stdout before printing its ready line"
                 : "mfa-mock printed no ready line within " +
                       std::to_string(ready_timeout.count()) + " ms";
    int status = Stop(std::chrono::seconds(10));
    error_ += " (exit status " + std::to_string(status) + ")\n--- stdout ---\n" + seen +
              "\n--- stderr ---\n" + Stderr(8000);
    return false;
  }
  ready_fields_ = ParseReadyFields(ready_line_);
  public_port_ = PortOf(ready_fields_["public"]);
  admin_port_ = PortOf(ready_fields_["admin"]);
  drain_thread_ = std::thread([this] { DrainStdout(); });
  if (public_port_ == 0 || admin_port_ == 0) {
    error_ = "cannot read both ports from the ready line: '" + ready_line_ + "'";
    Stop(std::chrono::seconds(10));
    return false;
  }
  return true;
}

void ServerProcess::DrainStdout() {
  char buf[4096];
  while (true) {
    ssize_t n = read(stdout_fd_, buf, sizeof(buf));
    if (n > 0) {
      std::lock_guard<std::mutex> lock(stdout_mu_);
      if (stdout_.size() < (4u << 20)) stdout_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
}

int ServerProcess::Reap(int wait_status) {
  exited_ = true;
  exit_status_ = StatusFromWait(wait_status);
  return exit_status_;
}

bool ServerProcess::running() {
  if (pid_ <= 0 || exited_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    Reap(status);
    return false;
  }
  return r == 0;
}

bool ServerProcess::Signal(int signal) const {
  if (pid_ <= 0 || exited_) return false;
  return kill(pid_, signal) == 0;
}

int ServerProcess::WaitForExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  if (exited_) return exit_status_;
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) return Reap(status);
    if (r < 0 && errno != EINTR) {  // not our child any more (should not happen)
      exited_ = true;
      return exit_status_;
    }
    if (Clock::now() >= deadline) return -1;
    usleep(2000);
  }
}

int ServerProcess::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  if (!exited_) {
    Signal(SIGTERM);
    if (WaitForExit(grace) == -1 && !exited_) {
      kill(pid_, SIGKILL);
      int status = 0;
      while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      Reap(status);
    }
  }
  if (drain_thread_.joinable()) drain_thread_.join();
  if (stdout_fd_ >= 0) {
    close(stdout_fd_);
    stdout_fd_ = -1;
  }
  return exit_status_;
}

std::string ServerProcess::Stdout() const {
  std::lock_guard<std::mutex> lock(stdout_mu_);
  return stdout_;
}

std::string ServerProcess::Stderr(size_t max_bytes) const {
  if (stderr_path_.empty()) return {};
  std::optional<std::string> content = ReadFile(stderr_path_);
  if (!content) return {};
  if (content->size() > max_bytes) {
    return "..." + content->substr(content->size() - max_bytes);
  }
  return *content;
}

std::string RunResult::Describe() const {
  std::string s = "exit code " + std::to_string(exit_code);
  if (timed_out) s += " (killed after the timeout)";
  s += "\n--- stdout ---\n" + out.substr(0, 4000) + "\n--- stderr ---\n" + err.substr(0, 4000);
  return s;
}

RunResult RunBinary(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                    const EnvVars& env) {
  RunResult result;
  std::vector<std::string> argv_strings;
  argv_strings.push_back(MockBinaryPath());
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = ChildEnvironment(env);
  std::vector<char*> argv = CStrings(argv_strings);
  std::vector<char*> envp = CStrings(env_strings);

  int out_pipe[2];
  int err_pipe[2];
  int stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (stdin_fd < 0 || pipe2(out_pipe, O_CLOEXEC) != 0) return result;
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    close(stdin_fd);
    return result;
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) ExecChild(parent, stdin_fd, out_pipe[1], err_pipe[1], argv.data(), envp.data());
  close(stdin_fd);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (pid < 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return result;
  }

  const Clock::time_point deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_count = 2;
  while (open_count > 0) {
    int wait_ms = RemainingMs(deadline);
    if (wait_ms == 0) {
      result.timed_out = true;
      break;
    }
    int r = poll(fds, 2, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  for (pollfd& p : fds) {
    if (p.fd >= 0) close(p.fd);
  }
  int status = 0;
  if (result.timed_out) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.exit_code = StatusFromWait(status);
    return result;
  }
  // Both pipes closed: the child is exiting; give it the rest of the timeout.
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return result;
    if (RemainingMs(deadline) == 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    usleep(1000);
  }
  result.exit_code = StatusFromWait(status);
  return result;
}

int64_t ReadRssBytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  if (!(in >> size_pages >> resident_pages)) return -1;
  return resident_pages * sysconf(_SC_PAGESIZE);
}

}  // namespace mfa_test
