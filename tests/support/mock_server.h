// SPDX-License-Identifier: Apache-2.0
// A running mfa-mock with one kept-alive client per listener, and a gtest fixture that shares
// one such server across a test suite and resets its state before every test.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/http_client.h"
#include "tests/support/json_helpers.h"
#include "tests/support/server_process.h"

namespace mfa_test {

// Not thread-safe (its clients are not); tests that need concurrency make their own clients.
class MockServer {
 public:
  MockServer() = default;
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  // Starts the server (see ServerProcess::Start) and records its config as the baseline that
  // Reset() restores. `admin_token`, if set, is sent as a Bearer token on admin requests.
  bool Start(std::vector<std::string> args = {}, const EnvVars& env = {},
             std::string admin_token = {});
  int Stop() { return process_.Stop(); }
  bool running() { return process_.running(); }
  const std::string& error() const { return error_; }

  ServerProcess& process() { return process_; }
  HttpClient& pub() { return *public_; }
  HttpClient& admin() { return *admin_; }
  // Fresh clients (e.g. one per thread), with the admin token set on the admin one.
  std::unique_ptr<HttpClient> NewPublicClient() const;
  std::unique_ptr<HttpClient> NewAdminClient() const;

  // Public routes. `type` goes in as a JSON string.
  HttpResponse Send(std::string_view type);
  HttpResponse Verify(std::string_view verification_id, std::string_view code,
                      std::string_view type);

  // Admin requests (with the token, if any).
  HttpResponse AdminGet(std::string_view target) { return admin_->Get(target); }
  HttpResponse AdminPost(std::string_view target, std::string_view body) {
    return admin_->Post(target, body);
  }
  HttpResponse AdminPatch(std::string_view target, std::string_view body) {
    return admin_->Patch(target, body);
  }
  HttpResponse AdminDelete(std::string_view target) { return admin_->Delete(target); }
  // PATCH /admin/config with `body`.
  HttpResponse PatchConfig(std::string_view body) { return AdminPatch("/admin/config", body); }
  // POST /admin/clock/advance {"seconds": seconds}.
  HttpResponse AdvanceClock(int seconds);

  // The newest inbox code for `to`, or nullopt (with the reason in `*why`, if given).
  std::optional<std::string> LatestCode(std::string_view to, std::string* why = nullptr);
  // POST /admin/verifications with one object; returns the response's first record or an
  // invalid Json on failure (`*why` says why).
  Json SeedOne(std::string_view object_json, std::string* why = nullptr);

  // DELETE /admin/verifications, DELETE /admin/inbox, PATCH /admin/config back to the
  // baseline. Returns an empty string, or what failed.
  std::string Reset();
  // The baseline config body (as GET /admin/config answered right after start).
  const std::string& baseline_config() const { return baseline_config_; }

 private:
  ServerProcess process_;
  std::unique_ptr<HttpClient> public_;
  std::unique_ptr<HttpClient> admin_;
  std::string admin_token_;
  std::string baseline_config_;
  std::string reset_body_;
  std::string error_;
};

// Base fixture: one server per test suite (SetUpTestSuite), reset before every test. A suite
// that needs other command-line flags defines its own static SetUpTestSuite() calling
// StartSharedServer(args). If the server dies during a test, that test fails with the
// server's stderr and the next test gets a fresh server. On any failure the tail of the
// server's stderr is printed.
class MockServerTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() { StartSharedServer({}); }
  static void TearDownTestSuite() { StopSharedServer(); }

 protected:
  static void StartSharedServer(std::vector<std::string> args, EnvVars env = {},
                                std::string admin_token = {});
  static void StopSharedServer();

  void SetUp() override;
  void TearDown() override;

  static MockServer& server() { return *shared_; }
  static HttpClient& pub() { return shared_->pub(); }
  static HttpClient& admin() { return shared_->admin(); }

 private:
  static inline std::unique_ptr<MockServer> shared_;
  static inline std::string start_error_;
  static inline std::vector<std::string> args_;
  static inline EnvVars env_;
  static inline std::string admin_token_;
};

}  // namespace mfa_test
