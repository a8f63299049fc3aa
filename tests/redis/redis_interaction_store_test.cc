// SPDX-License-Identifier: Apache-2.0
// The InteractionStore contract, run against both implementations: in memory (the reference,
// SessionService) and in Redis over a real redis-server. With Redis every scenario runs across
// two stores on two clients (two nodes) over the same prefix: what one writes, the other reads.
#include "redis/redis_interaction_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/memory_code_store.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/redis_server.h"

namespace mfa {
namespace {

// A user with these fields and no MFA factor.
User UserOf(std::string id, std::string username, std::string email, std::string phone,
            std::string password) {
  User user;
  user.id = std::move(id);
  user.username = std::move(username);
  user.primary_email = std::move(email);
  user.primary_phone = std::move(phone);
  user.password = std::move(password);
  return user;
}

constexpr int64_t kStartMs = 1'800'000'000'000;
constexpr int64_t kRetentionMs = 600'000;

template <typename T, typename Start>
T Await(Start&& start) {
  std::promise<T> promise;
  std::future<T> future = promise.get_future();
  start([&promise](T value) { promise.set_value(std::move(value)); });
  return future.get();
}

enum class Backend { kMemory, kRedis, kCluster };

// One node of the backend under test: its stores, over the shared config and clock.
struct Node {
  std::unique_ptr<redis::Router> client;
  std::unique_ptr<CodeStore> codes;
  std::unique_ptr<InteractionStore> sessions;
};

class InteractionStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { Build(Config{}); }

  void Build(Config config) {
    for (Node& node : nodes_) {
      if (node.client) node.client->Stop();
    }
    nodes_.clear();
    config.sessions = SessionMode::kRequired;
    config_ = std::make_unique<ConfigStore>(config);
    store_ = std::make_unique<VerificationStore>();
    inbox_ = std::make_unique<mfa::Inbox>(100);
    limiter_ = std::make_unique<SendRateLimiter>();
    service_ = std::make_unique<MfaService>(*config_, *store_, *inbox_, *limiter_, clock_,
                                            ServiceOptions{100, kRetentionMs});
    session_store_ = std::make_unique<SessionStore>();
    users_ = std::make_unique<UserDirectory>();
    sentinel_ = std::make_unique<Sentinel>();
    session_service_ =
        std::make_unique<SessionService>(*service_, *session_store_, *users_, *sentinel_);
    if (GetParam() == Backend::kMemory) {
      Node node;
      node.codes = std::make_unique<MemoryCodeStore>(*service_);
      node.sessions = std::make_unique<MemoryInteractionStore>(*session_service_);
      nodes_.push_back(std::move(node));
      return;
    }
    std::vector<redis::SeedAddress> seeds;
    if (GetParam() == Backend::kCluster) {
      if (!cluster_) cluster_ = mfa_test::RedisCluster::Start(3);
      ASSERT_NE(cluster_, nullptr);
      for (size_t i = 0; i < cluster_->size(); ++i) {
        seeds.push_back({"127.0.0.1", cluster_->node(i).port()});
      }
    } else {
      if (!redis_) redis_ = mfa_test::RedisServer::Start();
      ASSERT_NE(redis_, nullptr);
      seeds = {{"127.0.0.1", redis_->port()}};
    }
    static int generation = 0;
    const std::string prefix = "i" + std::to_string(++generation);
    for (int i = 0; i < 2; ++i) {
      Node node;
      redis::RouterOptions options;
      options.seeds = seeds;
      options.client.call_timeout = std::chrono::milliseconds(500);
      node.client = std::make_unique<redis::Router>(options);
      ASSERT_TRUE(node.client->Start());
      auto codes = std::make_unique<redis::RedisCodeStore>(
          *config_, clock_, *node.client,
          redis::CodeStoreOptions{.prefix = prefix,
                                  .address = "test",
                                  .inbox_capacity = 100,
                                  .retention_ms = kRetentionMs});
      node.sessions = std::make_unique<redis::RedisInteractionStore>(
          *config_, clock_, *node.client, *codes, redis::InteractionStoreOptions{.prefix = prefix});
      node.codes = std::move(codes);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!node.codes->Ready()) {
        ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "redis-server never answered";
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      nodes_.push_back(std::move(node));
    }
  }

  void TearDown() override {
    for (Node& node : nodes_) {
      if (node.client) node.client->Stop();
    }
  }

  // Node A, and node B (the same store in memory).
  InteractionStore& A() { return *nodes_.front().sessions; }
  InteractionStore& B() { return *nodes_.back().sessions; }
  CodeStore& CodesB() { return *nodes_.back().codes; }

  std::string Start(InteractionStore& s, std::string_view session_id = "") {
    using Answer = StoreAnswer<StartedInteraction>;
    const Answer started = Await<Answer>([&](Done<Answer> done) {
      s.StartInteraction(session_id, InteractionEvent::kSignIn, std::move(done));
    });
    EXPECT_EQ(started.outcome, Outcome::kOk);
    EXPECT_EQ(started.value.created, session_id.empty());
    return started.value.session_id;
  }
  Outcome Check(InteractionStore& s, std::string_view id) {
    return Await<Outcome>([&](Done<Outcome> done) { s.Check(id, std::move(done)); });
  }
  bool AddUser(InteractionStore& s, User user) {
    const auto added = Await<StoreAnswer<bool>>(
        [&](Done<StoreAnswer<bool>> done) { s.AddUser(std::move(user), std::move(done)); });
    EXPECT_EQ(added.outcome, Outcome::kOk);
    return added.value;
  }
  Outcome Identify(InteractionStore& s, std::string_view session, std::string_view user) {
    return Await<Outcome>([&](Done<Outcome> done) { s.Identify(session, user, std::move(done)); });
  }
  SendResult Send(InteractionStore& s, std::string_view session,
                  IdentifierType type = IdentifierType::kEmail) {
    return Await<SendResult>(
        [&](Done<SendResult> done) { s.Send(session, type, std::move(done)); });
  }
  SessionVerifyResult Verify(InteractionStore& s, std::string_view session, std::string_view id,
                             std::string_view code, IdentifierType type = IdentifierType::kEmail) {
    return Await<SessionVerifyResult>([&](Done<SessionVerifyResult> done) {
      s.Verify(session, type, id, code, std::move(done));
    });
  }
  std::optional<SessionView> View(InteractionStore& s, std::string_view id) {
    using Answer = StoreAnswer<std::optional<SessionView>>;
    Answer answer = Await<Answer>([&](Done<Answer> done) { s.View(id, std::move(done)); });
    EXPECT_EQ(answer.outcome, Outcome::kOk);
    return answer.value;
  }
  bool RecordExists(std::string_view id) {
    using Answer = StoreAnswer<std::optional<RecordSnapshot>>;
    Answer answer = Await<Answer>([&](Done<Answer> done) { CodesB().Get(id, std::move(done)); });
    EXPECT_EQ(answer.outcome, Outcome::kOk);
    return answer.value.has_value();
  }

  // A session started on A with its user identified: the usual state before the MFA step.
  std::string IdentifiedSession() {
    AddUser(A(), UserOf("u1", "alice", "alice@example.com", "", ""));
    const std::string session = Start(A());
    EXPECT_EQ(Identify(A(), session, "u1"), Outcome::kOk);
    return session;
  }

  ManualClock clock_{kStartMs};
  std::unique_ptr<ConfigStore> config_;
  std::unique_ptr<VerificationStore> store_;
  std::unique_ptr<mfa::Inbox> inbox_;
  std::unique_ptr<SendRateLimiter> limiter_;
  std::unique_ptr<MfaService> service_;
  std::unique_ptr<SessionStore> session_store_;
  std::unique_ptr<UserDirectory> users_;
  std::unique_ptr<Sentinel> sentinel_;
  std::unique_ptr<SessionService> session_service_;
  static inline std::unique_ptr<mfa_test::RedisServer> redis_;
  static inline std::unique_ptr<mfa_test::RedisCluster> cluster_;
  std::vector<Node> nodes_;
};

TEST_P(InteractionStoreTest, SessionStartedOnOneNodeIsLiveOnTheOther) {
  const std::string session = Start(A());
  EXPECT_EQ(session.size(), 21u);
  EXPECT_EQ(Check(B(), session), Outcome::kOk);
  EXPECT_EQ(Check(B(), "nosuchsession00000000"), Outcome::kSessionNotFound);
  // PUT /api/experience again with the cookie: the same session, not a new one.
  EXPECT_EQ(Start(B(), session), session);
}

TEST_P(InteractionStoreTest, AdminSessionWithoutInteractionAnswersInteractionNotFound) {
  using Answer = StoreAnswer<Session>;
  const Answer created = Await<Answer>([&](Done<Answer> done) {
    A().CreateSession("", /*start_interaction=*/false, InteractionEvent::kSignIn, std::move(done));
  });
  ASSERT_EQ(created.outcome, Outcome::kOk);
  EXPECT_EQ(Check(B(), created.value.id), Outcome::kInteractionNotFound);
  const std::optional<SessionView> view = View(B(), created.value.id);
  ASSERT_TRUE(view);
  EXPECT_FALSE(view->session.interaction_started);
  EXPECT_EQ(view->session.expires_ms, kStartMs + 3'600'000);
}

TEST_P(InteractionStoreTest, CreateSessionForAnUnknownUserIsRefused) {
  using Answer = StoreAnswer<Session>;
  const Answer created = Await<Answer>([&](Done<Answer> done) {
    A().CreateSession("ghost", true, InteractionEvent::kSignIn, std::move(done));
  });
  EXPECT_EQ(created.outcome, Outcome::kIdentifierNotFound);
}

TEST_P(InteractionStoreTest, SendNeedsAnIdentifiedUserWithThatFactor) {
  const std::string session = Start(A());
  EXPECT_EQ(Send(B(), session).outcome, Outcome::kIdentifierNotFound);
  EXPECT_EQ(Identify(B(), session, "u1"), Outcome::kIdentifierNotFound);  // no such user yet
  ASSERT_TRUE(AddUser(A(), UserOf("u1", "alice", "alice@example.com", "", "")));
  EXPECT_EQ(Identify(B(), "nosuchsession00000000", "u1"), Outcome::kSessionNotFound);
  EXPECT_EQ(Identify(B(), session, "u1"), Outcome::kOk);
  EXPECT_EQ(Send(A(), session, IdentifierType::kPhone).outcome, Outcome::kFactorNotEnabled);
  const SendResult sent = Send(A(), session);
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  EXPECT_EQ(sent.identifier, "alice@example.com");
}

TEST_P(InteractionStoreTest, CodeSentThroughOneNodeVerifiesOnTheOtherOnce) {
  const std::string session = IdentifiedSession();
  const SendResult sent = Send(A(), session);
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  const std::string wrong = sent.code == "111111" ? "222222" : "111111";
  EXPECT_EQ(Verify(B(), session, sent.verification_id, wrong).outcome, Outcome::kCodeMismatch);
  EXPECT_EQ(Verify(B(), session, sent.verification_id, sent.code).outcome, Outcome::kOk);
  EXPECT_EQ(Verify(A(), session, sent.verification_id, sent.code).outcome, Outcome::kCodeNotFound);
  const std::optional<SessionView> view = View(B(), session);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->session.user_id, "u1");
  ASSERT_EQ(view->records.size(), 1u);
  EXPECT_EQ(view->records[0].id, sent.verification_id);
  EXPECT_EQ(view->records[0].identifier, "alice@example.com");
  EXPECT_TRUE(view->records[0].verified);
}

TEST_P(InteractionStoreTest, SessionRecordIsNotFoundOutsideItsSessionOrType) {
  const std::string session = IdentifiedSession();
  const std::string other = Start(B());
  const SendResult sent = Send(A(), session);
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  EXPECT_EQ(Verify(B(), other, sent.verification_id, sent.code).outcome,
            Outcome::kVerificationNotFound);
  EXPECT_EQ(Verify(B(), session, sent.verification_id, sent.code, IdentifierType::kPhone).outcome,
            Outcome::kVerificationNotFound);
  // Open mode never verifies a session's record.
  EXPECT_EQ(Await<Outcome>([&](Done<Outcome> done) {
              CodesB().Verify(IdentifierType::kEmail, sent.verification_id, sent.code,
                              std::move(done));
            }),
            Outcome::kVerificationNotFound);
}

TEST_P(InteractionStoreTest, NewSendReplacesTheOlderRecordOfItsType) {
  const std::string session = IdentifiedSession();
  const SendResult first = Send(A(), session);
  const SendResult second = Send(B(), session);
  ASSERT_EQ(first.outcome, Outcome::kOk);
  ASSERT_EQ(second.outcome, Outcome::kOk);
  EXPECT_FALSE(RecordExists(first.verification_id));
  EXPECT_EQ(Verify(A(), session, first.verification_id, first.code).outcome,
            Outcome::kVerificationNotFound);
  EXPECT_EQ(Verify(A(), session, second.verification_id, second.code).outcome, Outcome::kOk);
}

TEST_P(InteractionStoreTest, NewInteractionDropsIdentificationAndRecords) {
  const std::string session = IdentifiedSession();
  const SendResult sent = Send(A(), session);
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  EXPECT_EQ(Start(B(), session), session);
  EXPECT_FALSE(RecordExists(sent.verification_id));
  const std::optional<SessionView> view = View(A(), session);
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->session.user_id.empty());
  EXPECT_TRUE(view->records.empty());
  EXPECT_EQ(Send(A(), session).outcome, Outcome::kIdentifierNotFound);
}

TEST_P(InteractionStoreTest, SessionExpiresByTheMocksClock) {
  const std::string session = Start(A());
  clock_.AdvanceMs(3'600'000 - 1);
  EXPECT_EQ(Check(B(), session), Outcome::kOk);
  clock_.AdvanceMs(1);
  EXPECT_EQ(Check(B(), session), Outcome::kSessionNotFound);
  EXPECT_FALSE(View(B(), session));
  // An expired session's id is a new session's cookie no more: PUT makes a new one.
  using Answer = StoreAnswer<StartedInteraction>;
  const Answer started = Await<Answer>([&](Done<Answer> done) {
    A().StartInteraction(session, InteractionEvent::kSignIn, std::move(done));
  });
  EXPECT_TRUE(started.value.created);
  EXPECT_NE(started.value.session_id, session);
}

TEST_P(InteractionStoreTest, LockoutCountsFailuresOnEveryNode) {
  Config config;
  config.lockout.max_failures = 3;
  config.lockout.window_seconds = 60;
  config.lockout.duration_seconds = 120;
  Build(config);
  const std::string session = IdentifiedSession();
  const SendResult sent = Send(A(), session);
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  const std::string wrong = sent.code == "111111" ? "222222" : "111111";
  EXPECT_EQ(Verify(A(), session, sent.verification_id, wrong).outcome, Outcome::kCodeMismatch);
  EXPECT_EQ(Verify(B(), session, sent.verification_id, wrong).outcome, Outcome::kCodeMismatch);
  clock_.AdvanceMs(1000);
  // The failure that reaches the threshold is answered blocked (Logto's withSentinel).
  const SessionVerifyResult third = Verify(A(), session, sent.verification_id, wrong);
  EXPECT_EQ(third.outcome, Outcome::kVerificationBlocked);
  EXPECT_EQ(third.blocked_ms, 120'000);
  clock_.AdvanceMs(1000);
  // Blocked, even with the right code, for the rest of the block; the code is used up all the
  // same, and the record does not become verified.
  const SessionVerifyResult blocked = Verify(B(), session, sent.verification_id, sent.code);
  EXPECT_EQ(blocked.outcome, Outcome::kVerificationBlocked);
  EXPECT_EQ(blocked.blocked_ms, 119'000);
  std::optional<SessionView> view = View(A(), session);
  ASSERT_TRUE(view);
  ASSERT_EQ(view->records.size(), 1u);
  EXPECT_FALSE(view->records[0].verified);
  clock_.AdvanceMs(119'000);
  EXPECT_EQ(Verify(A(), session, sent.verification_id, sent.code).outcome, Outcome::kCodeNotFound);
  const SendResult fresh = Send(B(), session);
  EXPECT_EQ(Verify(A(), session, fresh.verification_id, fresh.code).outcome, Outcome::kOk);
}

TEST_P(InteractionStoreTest, FailuresOutsideTheWindowDoNotLock) {
  Config config;
  config.lockout.max_failures = 2;
  config.lockout.window_seconds = 10;
  Build(config);
  const std::string session = IdentifiedSession();
  const SendResult sent = Send(A(), session);
  const std::string wrong = sent.code == "111111" ? "222222" : "111111";
  EXPECT_EQ(Verify(A(), session, sent.verification_id, wrong).outcome, Outcome::kCodeMismatch);
  clock_.AdvanceMs(10'000);
  EXPECT_EQ(Verify(B(), session, sent.verification_id, wrong).outcome, Outcome::kCodeMismatch);
  EXPECT_EQ(Verify(A(), session, sent.verification_id, sent.code).outcome, Outcome::kOk);
}

// ---- the sign-in flow's steps (core/sign_in_flow.h) over every backend

TEST_P(InteractionStoreTest, AuthorizationSessionKeepsItsRedirectAndWaitsForAnInteraction) {
  using Answer = StoreAnswer<Session>;
  const Answer created = Await<Answer>(
      [&](Done<Answer> done) { A().StartAuthorization("http://app.test/cb", std::move(done)); });
  ASSERT_EQ(created.outcome, Outcome::kOk);
  EXPECT_EQ(Check(B(), created.value.id), Outcome::kInteractionNotFound);
  std::optional<SessionView> view = View(B(), created.value.id);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->session.redirect_to, "http://app.test/cb");
  EXPECT_EQ(Start(B(), created.value.id), created.value.id);
  view = View(A(), created.value.id);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->session.redirect_to, "http://app.test/cb");  // a new interaction keeps it
}

TEST_P(InteractionStoreTest, PasswordRecordIsSharedAndDroppedByANewInteraction) {
  const std::string session = Start(A());
  PasswordRecord record;
  record.id = "pwrecord0000000000000";
  record.identifier_type = SignInIdentifier::kEmail;
  record.identifier = "Alice@Example.com";
  record.verified = true;
  auto set = [&](InteractionStore& s, std::string_view id) {
    return Await<Outcome>(
        [&](Done<Outcome> done) { s.SetPasswordRecord(id, record, std::move(done)); });
  };
  EXPECT_EQ(set(A(), session), Outcome::kOk);
  std::optional<SessionView> view = View(B(), session);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->session.password.id, record.id);
  EXPECT_EQ(view->session.password.identifier_type, SignInIdentifier::kEmail);
  EXPECT_EQ(view->session.password.identifier, "Alice@Example.com");
  EXPECT_TRUE(view->session.password.verified);
  EXPECT_EQ(Start(B(), session), session);
  view = View(A(), session);
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->session.password.id.empty());
  EXPECT_EQ(set(B(), "nosuchsession00000000"), Outcome::kSessionNotFound);
  using Answer = StoreAnswer<Session>;
  const Answer unstarted =
      Await<Answer>([&](Done<Answer> done) { A().StartAuthorization("", std::move(done)); });
  EXPECT_EQ(set(B(), unstarted.value.id), Outcome::kInteractionNotFound);
}

TEST_P(InteractionStoreTest, EndingASessionDeletesItAndItsRecords) {
  const std::string session = IdentifiedSession();
  const SendResult sent = Send(A(), session);
  ASSERT_EQ(sent.outcome, Outcome::kOk);
  auto end = [&](InteractionStore& s) {
    return Await<Outcome>([&](Done<Outcome> done) { s.EndSession(session, std::move(done)); });
  };
  EXPECT_EQ(end(B()), Outcome::kOk);
  EXPECT_EQ(Check(A(), session), Outcome::kSessionNotFound);
  EXPECT_FALSE(RecordExists(sent.verification_id));
  EXPECT_EQ(end(A()), Outcome::kSessionNotFound);
}

TEST_P(InteractionStoreTest, FindUserMatchesAsLogtosFindUserByIdentifier) {
  AddUser(A(), UserOf("u1", "alice", "Alice@Example.com", "+1 (555) 555-0101", "pw"));
  AddUser(A(), UserOf("u2", "bob", "bob@example.com", "", "pw"));
  auto find = [&](SignInIdentifier type, std::string value) {
    using Answer = StoreAnswer<std::optional<User>>;
    const Answer found = Await<Answer>(
        [&](Done<Answer> done) { B().FindUser(type, std::move(value), std::move(done)); });
    EXPECT_EQ(found.outcome, Outcome::kOk);
    return found.value ? found.value->id : std::string("none");
  };
  EXPECT_EQ(find(SignInIdentifier::kUsername, "alice"), "u1");
  EXPECT_EQ(find(SignInIdentifier::kUsername, "Alice"), "none");
  EXPECT_EQ(find(SignInIdentifier::kEmail, "alice@EXAMPLE.com"), "u1");
  EXPECT_EQ(find(SignInIdentifier::kPhone, "+15555550101"), "u1");
  EXPECT_EQ(find(SignInIdentifier::kEmail, "bob@example.com"), "u2");
  EXPECT_EQ(find(SignInIdentifier::kPhone, "+15555550102"), "none");
}

TEST_P(InteractionStoreTest, SentinelFailBlocksAtTheThresholdOnEveryNode) {
  Config config;
  config.lockout.max_failures = 3;
  config.lockout.window_seconds = 60;
  config.lockout.duration_seconds = 120;
  Build(config);
  auto fail = [&](InteractionStore& s) {
    const auto r = Await<StoreAnswer<int64_t>>(
        [&](Done<StoreAnswer<int64_t>> done) { s.SentinelFail("username:dave", std::move(done)); });
    EXPECT_EQ(r.outcome, Outcome::kOk);
    return r.value;
  };
  auto blocked = [&](InteractionStore& s, std::string key) {
    const auto r = Await<StoreAnswer<int64_t>>([&](Done<StoreAnswer<int64_t>> done) {
      s.SentinelBlockedFor(std::move(key), std::move(done));
    });
    EXPECT_EQ(r.outcome, Outcome::kOk);
    return r.value;
  };
  EXPECT_EQ(fail(A()), 0);
  EXPECT_EQ(fail(B()), 0);
  EXPECT_EQ(blocked(A(), "username:dave"), 0);
  EXPECT_EQ(fail(A()), 120'000);  // the third failure blocks
  clock_.AdvanceMs(20'000);
  EXPECT_EQ(blocked(B(), "username:dave"), 100'000);
  EXPECT_EQ(blocked(B(), "username:erin"), 0);
  clock_.AdvanceMs(100'000);
  EXPECT_EQ(blocked(A(), "username:dave"), 0);
}

TEST_P(InteractionStoreTest, ClearingSessionsEndsThemAndForgetsLockouts) {
  Config config;
  config.lockout.max_failures = 1;
  Build(config);
  const std::string session = IdentifiedSession();
  const SendResult sent = Send(A(), session);
  const std::string wrong = sent.code == "111111" ? "222222" : "111111";
  EXPECT_EQ(Verify(A(), session, sent.verification_id, wrong).outcome,
            Outcome::kVerificationBlocked);  // the first failure reaches the threshold of 1
  Start(B());
  const auto cleared = Await<StoreAnswer<size_t>>(
      [&](Done<StoreAnswer<size_t>> done) { B().ClearSessions(std::move(done)); });
  ASSERT_EQ(cleared.outcome, Outcome::kOk);
  EXPECT_EQ(cleared.value, 2u);
  EXPECT_EQ(Check(A(), session), Outcome::kSessionNotFound);
  // The lockout is forgotten: a new session of the same user verifies.
  const std::string again = Start(A());
  ASSERT_EQ(Identify(A(), again, "u1"), Outcome::kOk);
  const SendResult resent = Send(B(), again);
  EXPECT_EQ(Verify(A(), again, resent.verification_id, resent.code).outcome, Outcome::kOk);
}

TEST_P(InteractionStoreTest, UsersAreSharedListedByIdAndRemoved) {
  EXPECT_TRUE(AddUser(A(), UserOf("u2", "bob", "", "+15550100", "pw:with:colons")));
  EXPECT_TRUE(AddUser(B(), UserOf("u1", "alice", "alice@example.com", "", "")));
  EXPECT_FALSE(AddUser(B(), UserOf("u2", "other", "", "", "")));
  const auto listed = Await<StoreAnswer<std::vector<User>>>(
      [&](Done<StoreAnswer<std::vector<User>>> done) { A().ListUsers(std::move(done)); });
  ASSERT_EQ(listed.outcome, Outcome::kOk);
  ASSERT_EQ(listed.value.size(), 2u);
  EXPECT_EQ(listed.value[0].id, "u1");
  EXPECT_EQ(listed.value[1].username, "bob");
  EXPECT_EQ(listed.value[1].primary_phone, "+15550100");
  EXPECT_EQ(listed.value[1].password, "pw:with:colons");
  const auto got = Await<StoreAnswer<std::optional<User>>>(
      [&](Done<StoreAnswer<std::optional<User>>> done) { B().GetUser("u2", std::move(done)); });
  ASSERT_TRUE(got.value);
  EXPECT_EQ(got.value->username, "bob");
  const auto removed = Await<StoreAnswer<bool>>(
      [&](Done<StoreAnswer<bool>> done) { A().RemoveUser("u2", std::move(done)); });
  EXPECT_TRUE(removed.value);
  const auto again = Await<StoreAnswer<bool>>(
      [&](Done<StoreAnswer<bool>> done) { B().RemoveUser("u2", std::move(done)); });
  EXPECT_FALSE(again.value);
}

TEST_P(InteractionStoreTest, ConcurrentCorrectVerifiesOnBothNodesSucceedOnce) {
  Config config;
  config.send_rate_limit.max_sends = 0;
  Build(config);
  const std::string session = IdentifiedSession();
  for (int round = 0; round < 20; ++round) {
    const SendResult sent = Send(A(), session);
    ASSERT_EQ(sent.outcome, Outcome::kOk);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        InteractionStore& node = t % 2 == 0 ? A() : B();
        if (Verify(node, session, sent.verification_id, sent.code).outcome == Outcome::kOk) ++ok;
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
  }
}

// A user with a TOTP secret and two of their backup codes (the store takes any codes; the
// admin API checks Logto's format).
User MfaUser() {
  User user;
  user.id = "u1";
  user.username = "alice";
  user.totp_secret = "JBSWY3DPEHPK3PXP";
  user.backup_codes = {{"0123456789", false}, {"abcdefabcd", false}};
  return user;
}

TEST_P(InteractionStoreTest, MfaFactorsOfAUserAreStoredAndReadBackOnEveryNode) {
  User user = MfaUser();
  user.backup_codes[1].used = true;
  ASSERT_TRUE(AddUser(A(), user));
  const auto got = Await<StoreAnswer<std::optional<User>>>(
      [&](Done<StoreAnswer<std::optional<User>>> done) { B().GetUser("u1", std::move(done)); });
  ASSERT_EQ(got.outcome, Outcome::kOk);
  ASSERT_TRUE(got.value);
  EXPECT_EQ(got.value->totp_secret, "JBSWY3DPEHPK3PXP");
  EXPECT_EQ(got.value->totp_last_step, -1);
  ASSERT_EQ(got.value->backup_codes.size(), 2u);
  EXPECT_EQ(got.value->backup_codes[0].code, "0123456789");
  EXPECT_FALSE(got.value->backup_codes[0].used);
  EXPECT_TRUE(got.value->backup_codes[1].used);
}

TEST_P(InteractionStoreTest, TotpStepIsUsedOnceAndOnlyLaterStepsFollow) {
  ASSERT_TRUE(AddUser(A(), MfaUser()));
  auto use = [&](InteractionStore& s, std::string user, int64_t step) {
    const auto r = Await<StoreAnswer<bool>>([&](Done<StoreAnswer<bool>> done) {
      s.UseTotpStep(std::move(user), step, std::move(done));
    });
    EXPECT_EQ(r.outcome, Outcome::kOk);
    return r.value;
  };
  EXPECT_TRUE(use(A(), "u1", 1000));
  EXPECT_FALSE(use(B(), "u1", 1000));  // the same step again, on the other node
  EXPECT_FALSE(use(B(), "u1", 999));   // an earlier one
  EXPECT_TRUE(use(B(), "u1", 1001));
  EXPECT_FALSE(use(A(), "ghost", 2000));
  const auto got = Await<StoreAnswer<std::optional<User>>>(
      [&](Done<StoreAnswer<std::optional<User>>> done) { A().GetUser("u1", std::move(done)); });
  ASSERT_TRUE(got.value);
  EXPECT_EQ(got.value->totp_last_step, 1001);
  EXPECT_EQ(got.value->backup_codes.size(), 2u);  // the rest of the user is kept
  // A user without TOTP has no step to use.
  User plain;
  plain.id = "u2";
  ASSERT_TRUE(AddUser(A(), plain));
  EXPECT_FALSE(use(B(), "u2", 3000));
}

TEST_P(InteractionStoreTest, BackupCodeIsUsedOnceExactlyAsWritten) {
  ASSERT_TRUE(AddUser(A(), MfaUser()));
  auto use = [&](InteractionStore& s, std::string code) {
    const auto r = Await<StoreAnswer<bool>>([&](Done<StoreAnswer<bool>> done) {
      s.UseBackupCode("u1", std::move(code), std::move(done));
    });
    EXPECT_EQ(r.outcome, Outcome::kOk);
    return r.value;
  };
  EXPECT_FALSE(use(A(), "ABCDEFABCD"));  // Logto compares exactly
  EXPECT_TRUE(use(A(), "abcdefabcd"));
  EXPECT_FALSE(use(B(), "abcdefabcd"));
  EXPECT_FALSE(use(B(), "n0123456789"));  // not a way into the stored encoding
  EXPECT_TRUE(use(B(), "0123456789"));
  const auto got = Await<StoreAnswer<std::optional<User>>>(
      [&](Done<StoreAnswer<std::optional<User>>> done) { A().GetUser("u1", std::move(done)); });
  ASSERT_TRUE(got.value);
  EXPECT_TRUE(got.value->backup_codes[0].used);
  EXPECT_TRUE(got.value->backup_codes[1].used);
  EXPECT_EQ(got.value->totp_secret, "JBSWY3DPEHPK3PXP");
}

TEST_P(InteractionStoreTest, ConcurrentUsesOfOneBackupCodeOnBothNodesSucceedOnce) {
  for (int round = 0; round < 10; ++round) {
    User user = MfaUser();
    user.id = "r" + std::to_string(round);
    ASSERT_TRUE(AddUser(A(), user));
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        InteractionStore& node = t % 2 == 0 ? A() : B();
        const auto r = Await<StoreAnswer<bool>>([&](Done<StoreAnswer<bool>> done) {
          node.UseBackupCode(user.id, "0123456789", std::move(done));
        });
        if (r.outcome == Outcome::kOk && r.value) ++ok;
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(ok.load(), 1) << "round " << round;
  }
}

TEST_P(InteractionStoreTest, MfaRecordsAreSetPerTypeAndDroppedByANewInteraction) {
  const std::string session = IdentifiedSession();
  auto set = [&](InteractionStore& s, std::string_view id, MfaFactor factor, MfaRecord record) {
    return Await<Outcome>([&](Done<Outcome> done) {
      s.SetMfaRecord(id, factor, std::move(record), std::move(done));
    });
  };
  EXPECT_EQ(set(A(), session, MfaFactor::kTotp, {"t1", ""}), Outcome::kOk);
  EXPECT_EQ(set(B(), session, MfaFactor::kBackupCode, {"b1", "0123456789"}), Outcome::kOk);
  EXPECT_EQ(set(B(), session, MfaFactor::kTotp, {"t2", ""}), Outcome::kOk);  // replaces t1
  std::optional<SessionView> view = View(A(), session);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->session.totp.id, "t2");
  EXPECT_EQ(view->session.backup_code.id, "b1");
  EXPECT_EQ(view->session.backup_code.code, "0123456789");
  EXPECT_EQ(set(A(), "nosuchsession00000000", MfaFactor::kTotp, {"t3", ""}),
            Outcome::kSessionNotFound);
  using Answer = StoreAnswer<Session>;
  const Answer bare = Await<Answer>([&](Done<Answer> done) {
    A().CreateSession("", /*start_interaction=*/false, InteractionEvent::kSignIn, std::move(done));
  });
  EXPECT_EQ(set(B(), bare.value.id, MfaFactor::kTotp, {"t4", ""}), Outcome::kInteractionNotFound);
  // PUT /api/experience again: a new interaction without the old records.
  EXPECT_EQ(Start(B(), session), session);
  view = View(A(), session);
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->session.totp.id.empty());
  EXPECT_TRUE(view->session.backup_code.id.empty());
}

INSTANTIATE_TEST_SUITE_P(Stores, InteractionStoreTest,
                         ::testing::Values(Backend::kMemory, Backend::kRedis, Backend::kCluster),
                         [](const auto& info) {
                           return info.param == Backend::kMemory  ? "Memory"
                                  : info.param == Backend::kRedis ? "Redis"
                                                                  : "Cluster";
                         });

}  // namespace
}  // namespace mfa
