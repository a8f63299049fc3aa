// SPDX-License-Identifier: Apache-2.0
#include "tests/support/shared_backend.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace mfa_test {

void SharedBackend::Start(std::string_view prefix, const std::vector<std::string>& options) {
  const char* backend = std::getenv("MFA_TEST_SHARED_BACKEND");
  if (backend != nullptr && std::string_view(backend) == "cluster") {
    cluster = RedisCluster::Start(3);
    if (cluster) url = cluster->url();
  } else {
    redis = RedisServer::Start();
    if (redis) url = redis->url();
  }
  if (url.empty()) return;
  a = StartNode(prefix, options);
  b = StartNode(prefix, options);
}

void SharedBackend::Stop() {
  a.reset();
  b.reset();
  redis.reset();
  cluster.reset();
  url.clear();
}

std::unique_ptr<MockServer> SharedBackend::StartNode(std::string_view prefix,
                                                     std::vector<std::string> options) const {
  auto node = std::make_unique<MockServer>();
  std::vector<std::string> args = {"--store", url + "?prefix=" + std::string(prefix)};
  args.insert(args.end(), options.begin(), options.end());
  if (!node->Start(std::move(args))) {
    ADD_FAILURE() << node->error();
    return nullptr;
  }
  return node;
}

}  // namespace mfa_test
