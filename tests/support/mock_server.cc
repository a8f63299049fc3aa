// SPDX-License-Identifier: Apache-2.0
#include "tests/support/mock_server.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>

#include "tests/support/contract.h"
#include "tests/support/redis_server.h"
#include "tests/support/test_values.h"
#include "tests/support/wait.h"

namespace mfa_test {
namespace {

// The config the spec gives as default, used when the server's own answer is unreadable.
constexpr std::string_view kSpecDefaultConfig =
    R"({"profile":"documented","codeTtlSeconds":600,"maxAttempts":10,)"
    R"("connectors":{"email":true,"phone":true},)"
    R"("sendRateLimit":{"maxSends":10,"windowSeconds":600},"fixedCode":null,)"
    R"("defaultUser":{"email":"user@example.com","phone":"+15555550100","identified":true}})";

// Only the keys issue 2 defines for PATCH /admin/config, taken from `config`.
std::string ResetBodyFrom(const Json& config) {
  // Every key GET /admin/config returns, so nothing a test PATCHes leaks into the next test.
  static const char* const kKeys[] = {"/profile",     "/codeTtlSeconds", "/maxAttempts",
                                      "/connectors",  "/sendRateLimit",  "/fixedCode",
                                      "/defaultUser", "/sessions",       "/sessionTtlSeconds",
                                      "/lockout",     "/faults"};
  std::string body = "{";
  for (const char* key : kKeys) {
    if (!config.Has(key)) continue;
    if (body.size() > 1) body += ",";
    body += Quote(key + 1) + ":" + config.Dump(key);
  }
  return body + "}";
}

}  // namespace

bool MockServer::Start(std::vector<std::string> args, const EnvVars& env, std::string admin_token) {
  error_.clear();
  // MFA_TEST_STORE=redis (ctest's shared-store runs of a suite): every server runs over one
  // redis-server this test process starts, each on a prefix of its own (a deployment of its own),
  // unless the test chose a store itself.
  const char* store = std::getenv("MFA_TEST_STORE");
  const bool shared = store != nullptr && std::string_view(store) == "redis" &&
                      std::find(args.begin(), args.end(), "--store") == args.end();
  if (shared) {
    static const std::unique_ptr<RedisServer> redis = RedisServer::Start();
    static int deployments = 0;
    if (!redis) {
      error_ = "MFA_TEST_STORE=redis: could not start redis-server";
      return false;
    }
    args.push_back("--store");
    args.push_back(redis->url() + "?prefix=d" + std::to_string(++deployments));
  }
  if (!process_.Start(std::move(args), env)) {
    error_ = process_.error();
    return false;
  }
  admin_token_ = std::move(admin_token);
  public_ = NewPublicClient();
  admin_ = NewAdminClient();
  // Over a shared store a node answers once the deployment's settings are applied.
  if (shared && !WaitFor("the node's /readyz",
                         [&] { return NewAdminClient()->Get("/readyz").status == 200; })) {
    error_ = "MFA_TEST_STORE=redis: the node never became ready";
    return false;
  }
  HttpResponse config = admin_->Get("/admin/config");
  Json json(config.body);
  if (config.ok() && config.status == 200 && json.IsObject()) {
    baseline_config_ = config.body;
    reset_body_ = ResetBodyFrom(json);
  } else {
    baseline_config_ = std::string(kSpecDefaultConfig);
    reset_body_ = baseline_config_;
  }
  return true;
}

std::unique_ptr<HttpClient> MockServer::NewPublicClient() const {
  return std::make_unique<HttpClient>(process_.public_port());
}

std::unique_ptr<HttpClient> MockServer::NewAdminClient() const {
  auto client = std::make_unique<HttpClient>(process_.admin_port());
  if (!admin_token_.empty()) {
    client->set_default_headers({{"Authorization", "Bearer " + admin_token_}});
  }
  return client;
}

HttpResponse MockServer::Send(std::string_view type) {
  return public_->Post(kSendPath, R"({"identifierType":)" + Quote(type) + "}");
}

HttpResponse MockServer::Verify(std::string_view verification_id, std::string_view code,
                                std::string_view type) {
  return public_->Post(kVerifyPath, R"({"verificationId":)" + Quote(verification_id) +
                                        R"(,"code":)" + Quote(code) + R"(,"identifierType":)" +
                                        Quote(type) + "}");
}

HttpResponse MockServer::AdvanceClock(int seconds) {
  return AdminPost("/admin/clock/advance", R"({"seconds":)" + std::to_string(seconds) + "}");
}

std::optional<std::string> MockServer::LatestCode(std::string_view to, std::string* why) {
  std::string target = "/admin/inbox/latest?to=" + UrlEncode(to);
  HttpResponse r = AdminGet(target);
  Json json(r.body);
  std::optional<std::string> code = json.String("/code");
  if ((!r.ok() || r.status != 200 || !code) && why != nullptr) {
    *why = "GET " + target + " answered:\n" + r.Describe();
  }
  return (r.ok() && r.status == 200) ? code : std::nullopt;
}

Json MockServer::SeedOne(std::string_view object_json, std::string* why) {
  HttpResponse r = AdminPost("/admin/verifications", object_json);
  Json json(r.body);
  if (!r.ok() || r.status != 201 || !json.IsObject("/verifications/0")) {
    if (why != nullptr)
      *why = "seeding " + std::string(object_json) + " answered:\n" + r.Describe();
    return Json();
  }
  return Json(json.Dump("/verifications/0"));
}

std::string MockServer::Reset() {
  HttpResponse r = AdminDelete("/admin/verifications");
  if (!r.ok() || r.status != 200) return "DELETE /admin/verifications answered:\n" + r.Describe();
  r = AdminDelete("/admin/inbox");
  if (!r.ok() || r.status != 204) return "DELETE /admin/inbox answered:\n" + r.Describe();
  r = AdminDelete("/admin/sessions");
  if (!r.ok() || r.status != 200) return "DELETE /admin/sessions answered:\n" + r.Describe();
  r = AdminDelete("/admin/clock");
  if (!r.ok() || r.status != 200) return "DELETE /admin/clock answered:\n" + r.Describe();
  r = PatchConfig(reset_body_);
  if (!r.ok() || r.status != 200) {
    return "PATCH /admin/config " + reset_body_ + " answered:\n" + r.Describe();
  }
  return {};
}

void MockServerTest::StartSharedServer(std::vector<std::string> args, EnvVars env,
                                       std::string admin_token) {
  args_ = std::move(args);
  env_ = std::move(env);
  admin_token_ = std::move(admin_token);
  shared_ = std::make_unique<MockServer>();
  start_error_.clear();
  if (!shared_->Start(args_, env_, admin_token_)) start_error_ = shared_->error();
}

void MockServerTest::StopSharedServer() {
  if (shared_) shared_->Stop();
  shared_.reset();
}

void MockServerTest::SetUp() {
  ASSERT_TRUE(shared_ != nullptr && start_error_.empty())
      << "the shared mfa-mock did not start: " << start_error_;
  if (!shared_->running()) {
    shared_ = std::make_unique<MockServer>();
    ASSERT_TRUE(shared_->Start(args_, env_, admin_token_))
        << "restarting mfa-mock failed: " << shared_->error();
  }
  std::string error = shared_->Reset();
  ASSERT_TRUE(error.empty()) << "resetting the server before the test failed: " << error;
}

void MockServerTest::TearDown() {
  if (!shared_ || !start_error_.empty()) return;
  if (!shared_->running()) {
    int status = shared_->process().Stop();
    ADD_FAILURE() << "mfa-mock exited during this test with status " << status
                  << "\n--- server stderr (tail) ---\n"
                  << shared_->process().Stderr(4000);
    // SetUp of the next test starts a fresh one.
    return;
  }
  if (HasFailure()) {
    std::cerr << "--- mfa-mock stderr (tail) ---\n"
              << shared_->process().Stderr(2000) << "\n--- end ---\n";
  }
}

}  // namespace mfa_test
