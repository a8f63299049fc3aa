// SPDX-License-Identifier: Apache-2.0
// A real Redis Cluster for tests, from Debian's redis-server and redis-cli: cluster-mode nodes on
// free loopback ports (client and bus), joined with `redis-cli --cluster create`, ready once every
// node reports cluster_state:ok. Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/redis_server.h"
#include "tests/support/temp_files.h"

namespace mfa_test {

class RedisCluster {
 public:
  // `masters` masters with `replicas` replicas each. Returns nullptr (with ADD_FAILURE and the
  // tools' output) if a node does not start or the cluster does not become ready in time.
  static std::unique_ptr<RedisCluster> Start(int masters, int replicas = 0);

  size_t size() const { return nodes_.size(); }
  RedisServer& node(size_t i) { return *nodes_[i]; }
  // "redis://127.0.0.1:P1,127.0.0.1:P2,..." (every node a seed).
  std::string url() const;
  // The node ids of this cluster's masters, and the id of node i.
  std::vector<std::string> MasterIds();
  std::string NodeId(size_t i);
  // Moves `slots` slots from master `from` to master `to` (node ids) with redis-cli --cluster
  // reshard; false (with ADD_FAILURE and its output) if it fails.
  bool Reshard(const std::string& from, const std::string& to, int slots);
  // Every node that answers reports cluster_state:ok and the same slot coverage.
  bool Ready();
  // Runs redis-cli with `args`; its exit status, with its output in *output.
  int RedisCli(const std::vector<std::string>& args, std::string* output);

 private:
  RedisCluster() = default;
  TempDir dir_;
  std::vector<std::unique_ptr<RedisServer>> nodes_;
};

}  // namespace mfa_test
