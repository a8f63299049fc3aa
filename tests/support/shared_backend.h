// SPDX-License-Identifier: Apache-2.0
// The shared store that the two-node tests run over: one redis-server, or a Redis Cluster of
// three masters when MFA_TEST_SHARED_BACKEND=cluster (the ctest label shared_cluster).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/mock_server.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace mfa_test {

// Not thread-safe: a suite's set-up and tear-down use it.
struct SharedBackend {
  std::unique_ptr<RedisServer> redis;     // one redis-server, or
  std::unique_ptr<RedisCluster> cluster;  // three masters
  std::string url;                        // --store's URL of either; empty until started
  std::unique_ptr<MockServer> a, b;       // two nodes over it; null if one did not start

  // Starts what the environment asks for, then nodes a and b (StartNode with `prefix` and
  // `options`); leaves `url` empty (after ADD_FAILURE) if the store cannot start.
  void Start(std::string_view prefix, const std::vector<std::string>& options);
  // Stops the nodes, then the store.
  void Stop();
  // A mfa-mock node with --store URL?prefix=PREFIX and `options`; null (after ADD_FAILURE) if
  // it does not start.
  std::unique_ptr<MockServer> StartNode(std::string_view prefix,
                                        std::vector<std::string> options) const;
};

// The fixture of a two-node suite. `Suite` (the fixture deriving from it) gives every suite a
// backend of its own; the suite's SetUpTestSuite calls backend_.Start with its prefix and options.
template <typename Suite>
class SharedBackendTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { backend_.Stop(); }

  static inline SharedBackend backend_;
  static inline std::unique_ptr<RedisServer>& redis_ = backend_.redis;
  static inline std::unique_ptr<RedisCluster>& cluster_ = backend_.cluster;
  static inline std::string& url_ = backend_.url;
  static inline std::unique_ptr<MockServer>& a_ = backend_.a;
  static inline std::unique_ptr<MockServer>& b_ = backend_.b;
};

}  // namespace mfa_test
