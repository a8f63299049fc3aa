// SPDX-License-Identifier: Apache-2.0
// The test harness's RedisServer: starts, answers, pauses, dies and comes back on its port.
#include "tests/support/redis_server.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <string>

#include "tests/support/wait.h"

namespace mfa_test {
namespace {

std::string ProcessState(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string pid_field, comm, state;
  in >> pid_field >> comm >> state;
  return state;
}

TEST(RedisServerTest, StartsOnAFreePortAndAnswersCommands) {
  auto server = RedisServer::Start();
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  EXPECT_EQ(server->address(), "127.0.0.1:" + std::to_string(server->port()));
  EXPECT_EQ(server->url(), "redis://" + server->address());
  auto set = server->Command({"SET", "k", "v"});
  ASSERT_NE(set, nullptr);
  EXPECT_EQ(set->type, REDIS_REPLY_STATUS);
  auto get = server->Command({"GET", "k"});
  ASSERT_NE(get, nullptr);
  ASSERT_EQ(get->type, REDIS_REPLY_STRING);
  EXPECT_EQ(std::string(get->str, get->len), "v");
  auto save = server->Command({"CONFIG", "GET", "save"});
  ASSERT_NE(save, nullptr);
  ASSERT_EQ(save->type, REDIS_REPLY_ARRAY);
  ASSERT_EQ(save->elements, 2u);
  EXPECT_EQ(std::string(save->element[1]->str, save->element[1]->len), "");
}

TEST(RedisServerTest, TwoServersGetDifferentPorts) {
  auto a = RedisServer::Start();
  auto b = RedisServer::Start();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->port(), b->port());
}

TEST(RedisServerTest, PauseStopsTheProcessAndResumeContinuesIt) {
  auto server = RedisServer::Start();
  ASSERT_NE(server, nullptr);
  server->Pause();
  EXPECT_TRUE(WaitFor(
      "redis-server to be stopped", [&] { return ProcessState(server->pid()) == "T"; },
      [&] { return "state " + ProcessState(server->pid()); }));
  server->Resume();
  auto pong = server->Command({"PING"});
  ASSERT_NE(pong, nullptr);
  EXPECT_EQ(pong->type, REDIS_REPLY_STATUS);
}

TEST(RedisServerTest, RestartAfterKillServesTheSamePortEmpty) {
  auto server = RedisServer::Start();
  ASSERT_NE(server, nullptr);
  const uint16_t port = server->port();
  ASSERT_NE(server->Command({"SET", "k", "v"}), nullptr);
  const pid_t old_pid = server->pid();
  server->Kill();
  EXPECT_EQ(server->pid(), -1);
  EXPECT_NE(kill(old_pid, 0), 0);  // reaped: no such process
  ASSERT_TRUE(server->Restart());
  EXPECT_EQ(server->port(), port);
  auto get = server->Command({"GET", "k"});
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->type, REDIS_REPLY_NIL);
}

TEST(RedisServerTest, StartOnAGivenPort) {
  auto first = RedisServer::Start();
  ASSERT_NE(first, nullptr);
  const uint16_t port = first->port();
  first.reset();
  auto second = RedisServer::Start(port);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->port(), port);
}

}  // namespace
}  // namespace mfa_test
