// SPDX-License-Identifier: Apache-2.0
// A real redis-server for tests: Debian's package, started as a child process on a loopback port
// in its own temp dir, without persistence. Tests pause, kill and restart it to simulate outages,
// and inspect or prepare Redis directly through Command().
#pragma once

#include <hiredis/hiredis.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/temp_files.h"

namespace mfa_test {

// A redis-server from Debian's package, started on a loopback port in a temp dir (no persistence:
// --save '' --appendonly no), stopped by PID. Its stdout and stderr go to a log file in the temp
// dir, whose tail failure messages include. The child is killed if the thread that started it
// exits (PR_SET_PDEATHSIG), so a crashed test leaves no server behind. Not thread-safe.
class RedisServer {
 public:
  // port 0 = pick a free loopback port (retried with another port a few times if redis-server
  // cannot bind it). Returns nullptr and ADD_FAILUREs (with redis-server's output) when
  // redis-server is missing or does not answer PING within a generous bound (kStateTimeout).
  static std::unique_ptr<RedisServer> Start(uint16_t port = 0);
  // A node for a Redis Cluster (RedisCluster joins them): cluster mode on, its cluster bus on a
  // second free port, its nodes.conf in its temp dir (kept across Restart()).
  static std::unique_ptr<RedisServer> StartClusterNode();
  // SIGKILL + waitpid if alive (also when paused); removes the temp dir.
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const;        // "127.0.0.1:PORT"
  std::string url() const;            // "redis://127.0.0.1:PORT"
  pid_t pid() const { return pid_; }  // -1 after Kill() until Restart()

  void Pause();   // SIGSTOP: connections stay open, nothing is answered
  void Resume();  // SIGCONT
  void Kill();    // SIGKILL + waitpid; a no-op when not running
  // After Kill(): a new redis-server on the same port (empty: no persistence); waits until it
  // answers PING. False (and ADD_FAILURE with its output) if it does not.
  bool Restart();

  // One command over hiredis's synchronous API on a cached connection (reopened when broken;
  // the command is tried once more on a fresh connection if the cached one failed). Blocks up to
  // 30 s (a paused server makes it wait that long, then fail). Never nullptr unless the server is
  // unreachable (then ADD_FAILURE). A Redis error reply is a REDIS_REPLY_ERROR reply, not null.
  using ReplyPtr = std::unique_ptr<redisReply, void (*)(void*)>;  // freeReplyObject
  ReplyPtr Command(const std::vector<std::string>& argv);

  // The last `max_bytes` of redis-server's output.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  RedisServer() = default;
  // Starts redis-server on port_ and waits for PING. On failure returns false with `why` set and
  // the child reaped; `bind_failed` tells whether the port was taken.
  bool Launch(std::string* why, bool* bind_failed);
  void DropConnection();

  static std::unique_ptr<RedisServer> Launched(bool cluster_node, uint16_t port);

  TempDir dir_;
  bool cluster_node_ = false;
  uint16_t bus_port_ = 0;
  std::string binary_;
  std::string log_path_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  redisContext* conn_ = nullptr;  // cached connection for Command(); null when closed
};

}  // namespace mfa_test
