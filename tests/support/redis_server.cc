// SPDX-License-Identifier: Apache-2.0
#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "tests/support/server_process.h"
#include "tests/support/wait.h"

extern char** environ;

namespace mfa_test {
namespace {

constexpr int kPortAttempts = 5;

// A loopback port that was free a moment ago (bound to port 0, read back, closed), or 0.
uint16_t PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// True if a fresh connection to 127.0.0.1:port gets +PONG within about a second.
bool AnswersPing(uint16_t port) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeval{1, 0});
  if (c == nullptr) return false;
  bool ok = false;
  if (c->err == 0 && redisSetTimeout(c, timeval{1, 0}) == REDIS_OK) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = reply != nullptr && reply->type == REDIS_REPLY_STATUS &&
         std::string_view(reply->str, reply->len) == "PONG";
    if (reply != nullptr) freeReplyObject(reply);
  }
  redisFree(c);
  return ok;
}

off_t FileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

}  // namespace

std::unique_ptr<RedisServer> RedisServer::Start(uint16_t port) { return Launched(false, port); }

std::unique_ptr<RedisServer> RedisServer::StartClusterNode() { return Launched(true, 0); }

std::unique_ptr<RedisServer> RedisServer::Launched(bool cluster_node, uint16_t port) {
  std::unique_ptr<RedisServer> server(new RedisServer());
  server->cluster_node_ = cluster_node;
  if (server->dir_.path().empty()) {
    ADD_FAILURE() << "RedisServer: cannot create a temp dir";
    return nullptr;
  }
  server->binary_ = ProgramOnPath("redis-server");
  if (server->binary_.empty()) {
    ADD_FAILURE() << "RedisServer: no redis-server on PATH (Debian package redis-server; "
                     "scripts/install-deps.sh test)";
    return nullptr;
  }
  server->log_path_ = server->dir_.File("redis.log");
  std::string why;
  const int attempts = port == 0 ? kPortAttempts : 1;
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    server->port_ = port != 0 ? port : PickFreePort();
    if (cluster_node) {
      do {
        server->bus_port_ = PickFreePort();
      } while (server->bus_port_ == server->port_);
    }
    if (server->port_ == 0 || (cluster_node && server->bus_port_ == 0)) {
      why = std::string("cannot pick a free loopback port: ") + std::strerror(errno);
      continue;
    }
    bool bind_failed = false;
    if (server->Launch(&why, &bind_failed)) return server;
    if (!bind_failed) break;  // retrying with another port only helps a taken port
  }
  ADD_FAILURE() << "RedisServer: " << why;
  return nullptr;
}

RedisServer::~RedisServer() {
  DropConnection();
  Kill();
}

std::string RedisServer::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::string RedisServer::url() const { return "redis://" + address(); }

bool RedisServer::Launch(std::string* why, bool* bind_failed) {
  *bind_failed = false;
  const off_t log_start = FileSize(log_path_);
  std::vector<std::string> args = {
      binary_,  "--port", std::to_string(port_), "--bind",    "127.0.0.1",
      "--save", "",       "--appendonly",        "no",        "--daemonize",
      "no",     "--dir",  dir_.path(),           "--logfile", ""};
  if (cluster_node_) {
    // A replica may take over whatever the age of its data, and syncs at once: the tests kill
    // masters seconds after the cluster formed, when the defaults make a replica refuse.
    for (const std::string& a : {std::string("--cluster-enabled"), std::string("yes"),
                                 std::string("--cluster-config-file"), std::string("nodes.conf"),
                                 std::string("--cluster-node-timeout"), std::string("2000"),
                                 std::string("--cluster-replica-validity-factor"), std::string("0"),
                                 std::string("--repl-diskless-sync-delay"), std::string("0"),
                                 std::string("--cluster-port"), std::to_string(bus_port_)}) {
      args.push_back(a);
    }
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    *why = std::string("cannot open redis-server's log or /dev/null: ") + std::strerror(errno);
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return false;
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {  // the child: async-signal-safe calls only
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) _exit(127);
    close_range(3, ~0U, 0);
    execve(argv[0], argv.data(), environ);
    static const char kMsg[] = "exec of redis-server failed\n";
    ssize_t ignored = write(2, kMsg, sizeof(kMsg) - 1);
    (void)ignored;
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  if (pid < 0) {
    *why = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  pid_ = pid;

  bool exited = false;
  int status = 0;
  ::testing::AssertionResult up = WaitFor(
      "redis-server on " + address() + " to answer PING",
      [&] {
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
          exited = true;
          return true;
        }
        return AnswersPing(port_);
      },
      [&] { return "its output:\n" + LogTail(); }, kStateTimeout, std::chrono::milliseconds(20));
  if (up && !exited) return true;

  if (exited) {
    pid_ = -1;
    std::string log = LogTail(1 << 20);
    const size_t new_part = static_cast<size_t>(FileSize(log_path_) - log_start);
    if (new_part < log.size()) log = log.substr(log.size() - new_part);
    *bind_failed = log.find("Address already in use") != std::string::npos;
    *why = "redis-server on port " + std::to_string(port_) + " exited (wait status " +
           std::to_string(status) + ") before answering PING; its output:\n" + LogTail();
  } else {
    *why = up.message();
    Kill();
  }
  return false;
}

void RedisServer::Pause() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void RedisServer::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

void RedisServer::Kill() {
  DropConnection();
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

bool RedisServer::Restart() {
  Kill();
  std::string why;
  bool bind_failed = false;
  if (Launch(&why, &bind_failed)) return true;
  ADD_FAILURE() << "RedisServer::Restart: " << why;
  return false;
}

void RedisServer::DropConnection() {
  if (conn_ != nullptr) redisFree(conn_);
  conn_ = nullptr;
}

RedisServer::ReplyPtr RedisServer::Command(const std::vector<std::string>& argv) {
  std::vector<const char*> args;
  std::vector<size_t> lengths;
  for (const std::string& a : argv) {
    args.push_back(a.data());
    lengths.push_back(a.size());
  }
  std::string error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (conn_ == nullptr) {
      conn_ = redisConnectWithTimeout("127.0.0.1", port_, timeval{5, 0});
      if (conn_ == nullptr || conn_->err != 0 || redisSetTimeout(conn_, timeval{30, 0}) != 0) {
        error = conn_ != nullptr ? conn_->errstr : "out of memory";
        DropConnection();
        continue;
      }
    }
    void* reply =
        redisCommandArgv(conn_, static_cast<int>(args.size()), args.data(), lengths.data());
    if (reply != nullptr) return ReplyPtr(static_cast<redisReply*>(reply), freeReplyObject);
    error = conn_->errstr;
    DropConnection();
  }
  ADD_FAILURE() << "RedisServer::Command on " << address() << " (" << (argv.empty() ? "" : argv[0])
                << "): " << error << "; redis-server's output:\n"
                << LogTail();
  return ReplyPtr(nullptr, freeReplyObject);
}

std::string RedisServer::LogTail(size_t max_bytes) const {
  std::optional<std::string> content = ReadFile(log_path_);
  if (!content) return "(no log)";
  if (content->size() > max_bytes) return "..." + content->substr(content->size() - max_bytes);
  return *content;
}

}  // namespace mfa_test
