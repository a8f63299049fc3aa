// SPDX-License-Identifier: Apache-2.0
// The dispatcher without sockets: a recording sink stands in for the transport (the real one is
// exercised by the integration suites), the metrics and journal are the real ones.
#include "http/dispatcher.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "http/request_journal.h"
#include "http/timer_queue.h"

namespace mfa {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// What the transport was asked to do, readable from the test thread.
struct SinkLog {
  std::mutex mu;
  std::condition_variable cv;
  int sends = 0;
  int resets = 0;
  Reply last;
  bool last_close = false;
  std::thread::id sent_on;

  int Sends() {
    std::lock_guard<std::mutex> lock(mu);
    return sends;
  }

  // Waits (bounded) for `n` sends; false if they did not come.
  bool WaitForSends(int n, milliseconds bound = milliseconds(10'000)) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, bound, [&] { return sends >= n; });
  }
};

class RecordingSink final : public ReplySink {
 public:
  explicit RecordingSink(std::shared_ptr<SinkLog> log) : log_(std::move(log)) {}
  void Send(Reply& reply, bool close) override {
    std::lock_guard<std::mutex> lock(log_->mu);
    ++log_->sends;
    log_->last = reply;
    log_->last_close = close;
    log_->sent_on = std::this_thread::get_id();
    log_->cv.notify_all();
  }
  void Reset() override {
    std::lock_guard<std::mutex> lock(log_->mu);
    ++log_->resets;
  }
  std::unique_ptr<ReplySink> Detach() override { return std::make_unique<RecordingSink>(log_); }

 private:
  std::shared_ptr<SinkLog> log_;
};

class DispatcherTest : public ::testing::Test {
 protected:
  DispatcherTest() : metrics_(metrics::CreatePrometheusMetrics({"test", "test"})) {}

  // Builds the dispatcher over `routes`; `edit` adjusts the config first.
  void Build(std::vector<Route> routes, const std::function<void(ListenerConfig&)>& edit = {}) {
    ListenerConfig config{.name = "public",
                          .lifecycle = lifecycle_,
                          .timers = &timers_,
                          .journal = &journal_,
                          .clock = &clock_};
    if (edit) edit(config);
    dispatcher_ = std::make_unique<Dispatcher>(std::move(config), std::move(routes), *metrics_);
  }

  // Dispatches one request and returns what the sink saw so far.
  std::shared_ptr<SinkLog> Call(HttpRequest request, bool close = false) {
    auto log = std::make_shared<SinkLog>();
    RecordingSink sink(log);
    dispatcher_->Dispatch(request, sink, close);
    return log;
  }

  // Waits (bounded) until every answer is finished: sent, recorded and out of the in-flight
  // count. An answer completed on another thread reaches the sink before it is recorded.
  bool WaitForIdle() {
    for (auto until = std::chrono::steady_clock::now() + seconds(10);
         std::chrono::steady_clock::now() < until;) {
      if (lifecycle_->InFlight() == 0) return true;
      std::this_thread::sleep_for(milliseconds(1));
    }
    return lifecycle_->InFlight() == 0;
  }

  // The dispatcher must outlive every answer still being finished on another thread.
  void TearDown() override {
    EXPECT_TRUE(WaitForIdle()) << lifecycle_->InFlight() << " answers still in flight";
    timers_.Stop();
  }

  static HttpRequest Request(Method method, std::string_view path, std::string_view body = {}) {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.body = body;
    return request;
  }

  std::shared_ptr<Lifecycle> lifecycle_ = std::make_shared<Lifecycle>();
  TimerQueue timers_;
  RequestJournal journal_{100, /*show_codes=*/true};
  ManualClock clock_{1'700'000'000'000};
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<Dispatcher> dispatcher_;
};

// True if `exposition` has a sample of `name` with every label of `labels` and that value.
::testing::AssertionResult HasSample(const std::string& exposition, std::string_view name,
                                     std::initializer_list<std::string_view> labels,
                                     std::string_view value) {
  size_t start = 0;
  while (start < exposition.size()) {
    size_t end = exposition.find('\n', start);
    if (end == std::string::npos) end = exposition.size();
    const std::string_view line(exposition.data() + start, end - start);
    start = end + 1;
    if (line.substr(0, name.size() + 1) != std::string(name) + "{") continue;
    bool all = true;
    for (std::string_view label : labels) all = all && line.find(label) != std::string_view::npos;
    if (all && line.substr(line.rfind(' ') + 1) == value) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "no " << name << " sample with value " << value << " in:\n"
         << exposition;
}

Route Echo(std::string_view path) {
  return {.method = Method::kPost,
          .path = path,
          .handler = [](const HttpRequest& request, Reply& reply) {
            reply.body = std::string(request.body);
          }};
}

// What the journal and the metrics held at the moment the answer was handed to the transport.
class InspectingSink final : public ReplySink {
 public:
  InspectingSink(const RequestJournal& journal, metrics::Metrics& metrics)
      : journal_(journal), metrics_(metrics) {}
  void Send(Reply&, bool) override {
    journaled_at_send = journal_.size();
    exposition_at_send = metrics_.Render();
  }
  void Reset() override {}
  std::unique_ptr<ReplySink> Detach() override { return nullptr; }

  size_t journaled_at_send = 0;
  std::string exposition_at_send;

 private:
  const RequestJournal& journal_;
  metrics::Metrics& metrics_;
};

TEST_F(DispatcherTest, AnAnswerIsJournaledAndCountedBeforeItIsSent) {
  // A client that has its answer and then reads /admin/requests or /metrics must find it.
  Build({Echo("/echo")});
  HttpRequest request = Request(Method::kPost, "/echo", "{}");
  InspectingSink sink(journal_, *metrics_);
  dispatcher_->Dispatch(request, sink, false);
  EXPECT_EQ(sink.journaled_at_send, 1u);
  EXPECT_TRUE(HasSample(
      sink.exposition_at_send, "mfa_mock_http_requests_total",
      {"listener=\"public\"", "route=\"/echo\"", "method=\"POST\"", "code=\"200\""}, "1"));
}

TEST_F(DispatcherTest, AnswersARouteThroughItsHandlerAndRecordsIt) {
  Build({Echo("/echo")});
  auto log = Call(Request(Method::kPost, "/echo", "{\"a\":1}"));
  ASSERT_EQ(log->Sends(), 1);
  EXPECT_EQ(log->last.status, 200);
  EXPECT_EQ(log->last.body, "{\"a\":1}");
  EXPECT_FALSE(log->last_close);
  EXPECT_EQ(lifecycle_->InFlight(), 0);
  const auto entries = journal_.List(10, 0);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].path, "/echo");
  EXPECT_EQ(entries[0].status, 200);
  EXPECT_TRUE(HasSample(
      metrics_->Render(), "mfa_mock_http_requests_total",
      {"listener=\"public\"", "route=\"/echo\"", "method=\"POST\"", "code=\"200\""}, "1"));
}

TEST_F(DispatcherTest, UnknownPathIs404AndKnownPathWithOtherMethodIs405WithAllow) {
  Build({Echo("/echo")});
  auto missing = Call(Request(Method::kGet, "/nope"));
  EXPECT_EQ(missing->last.status, 404);
  EXPECT_EQ(missing->last.error_code, "route.not_found");
  EXPECT_EQ(missing->last.body,
            R"({"code":"route.not_found","message":"No route matches GET /nope."})");
  auto wrong = Call(Request(Method::kGet, "/echo"));
  EXPECT_EQ(wrong->last.status, 405);
  ASSERT_EQ(wrong->last.headers.size(), 1u);
  EXPECT_EQ(wrong->last.headers[0].name, "Allow");
  EXPECT_EQ(wrong->last.headers[0].value, "POST");
  EXPECT_EQ(journal_.List(10, 0)[0].error_code, "route.method_not_allowed");
}

TEST_F(DispatcherTest, AThrowingHandlerAnswers500WithoutItsText) {
  Build({{.method = Method::kGet, .path = "/boom", .handler = [](const HttpRequest&, Reply&) {
            throw std::runtime_error("secret internals");
          }}});
  auto log = Call(Request(Method::kGet, "/boom"));
  EXPECT_EQ(log->last.status, 500);
  EXPECT_EQ(log->last.body, R"({"code":"unexpected","message":"Internal server error."})");
  EXPECT_EQ(lifecycle_->InFlight(), 0);
}

TEST_F(DispatcherTest, OversizedBodyIs413BeforeTheHandlerRuns) {
  bool ran = false;
  Build({{.method = Method::kPost,
          .path = "/x",
          .handler = [&ran](const HttpRequest&, Reply&) { ran = true; }}},
        [](ListenerConfig& c) { c.max_body_bytes = 4; });
  auto log = Call(Request(Method::kPost, "/x", "12345"));
  EXPECT_EQ(log->last.status, 413);
  EXPECT_EQ(log->last.error_code, "request.body_too_large");
  EXPECT_FALSE(ran);
}

TEST_F(DispatcherTest, AdminPathsNeedTheTokenKnownOrNotOpenRoutesDoNot) {
  Build({{.method = Method::kGet,
          .path = "/admin/stats",
          .handler = [](const HttpRequest&, Reply& r) { r.body = "{}"; }},
         {.method = Method::kGet,
          .path = "/healthz",
          .handler = [](const HttpRequest&, Reply& r) { r.body = "{}"; },
          .access = Access::kOpen}},
        [](ListenerConfig& c) {
          c.admin_token = "t0k";
          c.not_found = ApiError::kAdminRouteNotFound;
        });
  EXPECT_EQ(Call(Request(Method::kGet, "/admin/stats"))->last.status, 401);
  EXPECT_EQ(Call(Request(Method::kGet, "/admin/unknown"))->last.status, 401);
  EXPECT_EQ(Call(Request(Method::kGet, "/unknown"))->last.status, 404);
  EXPECT_EQ(Call(Request(Method::kGet, "/healthz"))->last.status, 200);
  HttpRequest wrong = Request(Method::kGet, "/admin/stats");
  wrong.authorization = "Bearer t0K";
  EXPECT_EQ(Call(wrong)->last.status, 401);
  HttpRequest right = Request(Method::kGet, "/admin/stats");
  right.authorization = "Bearer t0k";
  EXPECT_EQ(Call(right)->last.status, 200);
}

TEST_F(DispatcherTest, DrainingRefusesWith503AndClose) {
  Build({Echo("/echo")});
  lifecycle_->StartDraining();
  auto log = Call(Request(Method::kPost, "/echo", "{}"));
  EXPECT_EQ(log->last.status, 503);
  EXPECT_EQ(log->last.error_code, "request.shutting_down");
  EXPECT_TRUE(log->last_close);
}

TEST_F(DispatcherTest, ClientCloseRequestIsPassedToTheSink) {
  Build({Echo("/echo")});
  EXPECT_TRUE(Call(Request(Method::kPost, "/echo", "{}"), /*close=*/true)->last_close);
}

TEST_F(DispatcherTest, CorsHeadersGoOnEveryAnswerAndAPreflightIsAnsweredForAnyPath) {
  Build({Echo("/echo")}, [](ListenerConfig& c) { c.cors.mode = CorsPolicy::Mode::kReflect; });
  HttpRequest request = Request(Method::kGet, "/nope");
  request.origin = "http://app.test";
  auto log = Call(request);
  EXPECT_EQ(log->last.status, 404);
  ASSERT_GE(log->last.headers.size(), 3u);
  EXPECT_EQ(log->last.headers[0].name, "Vary");
  EXPECT_EQ(log->last.headers[1].value, "http://app.test");

  HttpRequest preflight = Request(Method::kOptions, "/anything");
  preflight.origin = "http://app.test";
  preflight.access_control_request_method = "POST";
  auto answered = Call(preflight);
  EXPECT_EQ(answered->last.status, 204);
  EXPECT_EQ(journal_.size(), 1u);  // the preflight is not journaled, the 404 was
}

TEST_F(DispatcherTest, AnInjectedResetSendsNothingAndCountsStatusZero) {
  FaultRule rule;
  rule.reset_rate = 1.0;
  Build({{.method = Method::kPost,
          .path = "/v",
          .handler = [](const HttpRequest&, Reply&) { FAIL() << "the handler must not run"; },
          .fault = FaultKey::kVerify}},
        [rule](ListenerConfig& c) {
          c.faults = [rule](FaultKey key) -> std::optional<FaultRule> {
            if (key == FaultKey::kVerify) return rule;
            return std::nullopt;
          };
        });
  auto log = Call(Request(Method::kPost, "/v", "{}"));
  EXPECT_EQ(log->Sends(), 0);
  EXPECT_EQ(log->resets, 1);
  EXPECT_EQ(journal_.List(1, 0)[0].status, 0);
  EXPECT_EQ(lifecycle_->InFlight(), 0);
}

TEST_F(DispatcherTest, AnInjectedDelayHoldsTheAnswerOffTheCallingThread) {
  FaultRule rule;
  rule.delay_min_ms = rule.delay_max_ms = 150;
  Build({{.method = Method::kPost,
          .path = "/v",
          .handler = [](const HttpRequest&, Reply& r) { r.body = "{\"ok\":true}"; },
          .fault = FaultKey::kVerify}},
        [rule](ListenerConfig& c) {
          c.faults = [rule](FaultKey) -> std::optional<FaultRule> { return rule; };
        });
  const auto start = std::chrono::steady_clock::now();
  auto log = Call(Request(Method::kPost, "/v", "{}"));
  EXPECT_EQ(log->Sends(), 0) << "sent before the delay";
  EXPECT_EQ(lifecycle_->InFlight(), 1);
  ASSERT_TRUE(log->WaitForSends(1));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(150));
  EXPECT_EQ(log->last.body, "{\"ok\":true}");
  EXPECT_NE(log->sent_on, std::this_thread::get_id());
  ASSERT_TRUE(WaitForIdle());
  EXPECT_GE(journal_.List(1, 0)[0].duration_seconds, 0.150);
}

TEST_F(DispatcherTest, AHandlerCanCompleteItsAnswerLaterFromAnotherThread) {
  std::thread worker;
  Build({{.method = Method::kPost,
          .path = "/later",
          .handler = [&worker](const HttpRequest& request, Reply&) {
            PendingAnswer answer = request.Defer();
            worker = std::thread([answer = std::move(answer)]() mutable {
              Reply reply;
              reply.status = 201;
              reply.body = "{\"late\":true}";
              answer.Complete(std::move(reply));
            });
          }}});
  std::string path = "/later";  // the transport's buffer: overwritten before the answer
  auto log = Call(Request(Method::kPost, path, "{}"));
  path.assign("/xxxxx");
  ASSERT_TRUE(log->WaitForSends(1));
  worker.join();
  EXPECT_EQ(log->last.status, 201);
  EXPECT_EQ(log->last.body, "{\"late\":true}");
  ASSERT_TRUE(WaitForIdle());
  EXPECT_EQ(journal_.List(1, 0)[0].path, "/later");
}

TEST_F(DispatcherTest, AnAnswerNotCompletedInTimeGets503AndALateCompletionIsIgnored) {
  PendingAnswer kept;
  Build({{.method = Method::kGet,
          .path = "/slow",
          .handler = [&kept](const HttpRequest& request, Reply&) { kept = request.Defer(); }}},
        [](ListenerConfig& c) { c.answer_deadline = milliseconds(50); });
  auto log = Call(Request(Method::kGet, "/slow"));
  ASSERT_TRUE(log->WaitForSends(1));
  EXPECT_EQ(log->last.status, 503);
  EXPECT_EQ(log->last.error_code, "request.deadline_exceeded");
  ASSERT_TRUE(WaitForIdle());
  Reply late;
  kept.Complete(std::move(late));
  EXPECT_EQ(log->Sends(), 1);
  EXPECT_EQ(lifecycle_->InFlight(), 0);
}

TEST_F(DispatcherTest, ADroppedPendingAnswerAnswers500) {
  Build({{.method = Method::kGet,
          .path = "/dropped",
          .handler = [](const HttpRequest& request, Reply&) {
            PendingAnswer lost = request.Defer();
          }}});
  auto log = Call(Request(Method::kGet, "/dropped"));
  ASSERT_TRUE(log->WaitForSends(1));
  EXPECT_EQ(log->last.status, 500);
  EXPECT_EQ(lifecycle_->InFlight(), 0);
}

TEST_F(DispatcherTest, AnswersHeldAtShutdownAreDroppedAndReleaseTheInFlightCount) {
  FaultRule rule;
  rule.delay_min_ms = rule.delay_max_ms = 60'000;
  Build({{.method = Method::kPost,
          .path = "/v",
          .handler = [](const HttpRequest&, Reply&) {},
          .fault = FaultKey::kSend}},
        [rule](ListenerConfig& c) {
          c.faults = [rule](FaultKey) -> std::optional<FaultRule> { return rule; };
        });
  auto log = Call(Request(Method::kPost, "/v", "{}"));
  EXPECT_EQ(lifecycle_->InFlight(), 1);
  timers_.Stop();
  EXPECT_EQ(log->Sends(), 0);
  EXPECT_EQ(lifecycle_->InFlight(), 0);
}

TEST(ConstantTimeEqualsTest, ComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace mfa
