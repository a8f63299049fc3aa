// SPDX-License-Identifier: Apache-2.0
#include "tests/support/redis_cluster.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "tests/support/wait.h"

extern char** environ;

namespace mfa_test {

std::unique_ptr<RedisCluster> RedisCluster::Start(int masters, int replicas) {
  std::unique_ptr<RedisCluster> cluster(new RedisCluster());
  const int count = masters * (1 + replicas);
  std::vector<std::string> create = {"--cluster", "create"};
  for (int i = 0; i < count; ++i) {
    std::unique_ptr<RedisServer> node = RedisServer::StartClusterNode();
    if (!node) return nullptr;
    create.push_back(node->address());
    cluster->nodes_.push_back(std::move(node));
  }
  create.insert(create.end(), {"--cluster-replicas", std::to_string(replicas), "--cluster-yes"});
  std::string output;
  if (cluster->RedisCli(create, &output) != 0) {
    ADD_FAILURE() << "redis-cli --cluster create failed:\n" << output;
    return nullptr;
  }
  if (!WaitFor(
          "the cluster to report cluster_state:ok on every node", [&] { return cluster->Ready(); },
          [&] { return output; }, kStateTimeout, std::chrono::milliseconds(50))) {
    return nullptr;
  }
  return cluster;
}

std::string RedisCluster::url() const {
  std::string out = "redis://";
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i > 0) out += ',';
    out += nodes_[i]->address();
  }
  return out;
}

bool RedisCluster::Ready() {
  for (auto& node : nodes_) {
    if (node->pid() < 0) continue;
    RedisServer::ReplyPtr info = node->Command({"CLUSTER", "INFO"});
    if (!info || info->type != REDIS_REPLY_STRING) return false;
    const std::string text(info->str, info->len);
    if (text.find("cluster_state:ok") == std::string::npos) return false;
    if (text.find("cluster_slots_ok:16384") == std::string::npos) return false;
  }
  return true;
}

std::string RedisCluster::NodeId(size_t i) {
  RedisServer::ReplyPtr id = nodes_[i]->Command({"CLUSTER", "MYID"});
  return id && id->type == REDIS_REPLY_STRING ? std::string(id->str, id->len) : std::string();
}

std::vector<std::string> RedisCluster::MasterIds() {
  std::vector<std::string> ids;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i]->pid() < 0) continue;
    RedisServer::ReplyPtr role = nodes_[i]->Command({"ROLE"});
    if (role && role->type == REDIS_REPLY_ARRAY && role->elements > 0 &&
        std::string(role->element[0]->str, role->element[0]->len) == "master") {
      ids.push_back(NodeId(i));
    }
  }
  return ids;
}

bool RedisCluster::Reshard(const std::string& from, const std::string& to, int slots) {
  std::string output;
  const int status =
      RedisCli({"--cluster", "reshard", nodes_.front()->address(), "--cluster-from", from,
                "--cluster-to", to, "--cluster-slots", std::to_string(slots), "--cluster-yes"},
               &output);
  if (status != 0) ADD_FAILURE() << "redis-cli --cluster reshard failed:\n" << output;
  return status == 0;
}

int RedisCluster::RedisCli(const std::vector<std::string>& args, std::string* output) {
  const std::string log = dir_.File("redis-cli.log");
  std::vector<std::string> all = {"redis-cli"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid == 0) {  // async-signal-safe calls only
    if (dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0) _exit(127);
    execvpe("redis-cli", argv.data(), environ);
    _exit(127);
  }
  if (log_fd >= 0) close(log_fd);
  if (null_fd >= 0) close(null_fd);
  int status = -1;
  if (pid > 0) waitpid(pid, &status, 0);
  std::ifstream in(log);
  std::stringstream text;
  text << in.rdbuf();
  *output = text.str();
  return pid > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace mfa_test
