// SPDX-License-Identifier: Apache-2.0
#include "core/inbox.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <latch>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mfa {
namespace {

InboxMessage Message(IdentifierType type, std::string to, std::string code = "123456") {
  InboxMessage m;
  m.type = type;
  m.to = std::move(to);
  m.code = std::move(code);
  m.verification_id = "id-" + m.code;
  m.sent_ms = 1'700'000'000'000;
  return m;
}

InboxQuery All() {
  InboxQuery q;
  q.limit = 1'000'000;
  return q;
}

std::vector<std::string> Codes(const std::vector<InboxMessage>& messages) {
  std::vector<std::string> codes;
  for (const auto& m : messages) codes.push_back(m.code);
  return codes;
}

TEST(InboxTest, ZeroCapacityThrows) { EXPECT_THROW(Inbox(0), std::invalid_argument); }

TEST(InboxTest, StartsEmpty) {
  Inbox inbox(10);
  EXPECT_EQ(inbox.size(), 0u);
  EXPECT_EQ(inbox.capacity(), 10u);
  EXPECT_TRUE(inbox.List(All()).empty());
}

TEST(InboxTest, ListsNewestFirstWithIncreasingSeq) {
  Inbox inbox(10);
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "1"));
  inbox.Add(Message(IdentifierType::kPhone, "+1", "2"));
  inbox.Add(Message(IdentifierType::kEmail, "b@x.io", "3"));
  const auto list = inbox.List(All());
  EXPECT_EQ(Codes(list), (std::vector<std::string>{"3", "2", "1"}));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_GT(list[0].seq, list[1].seq);
  EXPECT_GT(list[1].seq, list[2].seq);
  EXPECT_EQ(inbox.size(), 3u);
}

TEST(InboxTest, KeepsEveryField) {
  Inbox inbox(4);
  InboxMessage m = Message(IdentifierType::kPhone, "+15555550100", "654321");
  m.verification_id = "abc";
  m.sent_ms = 42;
  inbox.Add(m);
  const auto list = inbox.List(All());
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].type, IdentifierType::kPhone);
  EXPECT_EQ(list[0].to, "+15555550100");
  EXPECT_EQ(list[0].code, "654321");
  EXPECT_EQ(list[0].verification_id, "abc");
  EXPECT_EQ(list[0].sent_ms, 42);
}

TEST(InboxTest, LimitReturnsTheNewestN) {
  Inbox inbox(10);
  for (int i = 1; i <= 6; ++i) {
    inbox.Add(Message(IdentifierType::kEmail, "a@x.io", std::to_string(i)));
  }
  InboxQuery q;
  q.limit = 2;
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"6", "5"}));
  q.limit = 0;
  EXPECT_TRUE(inbox.List(q).empty());
}

TEST(InboxTest, DefaultLimitIs100) {
  Inbox inbox(500);
  for (int i = 0; i < 150; ++i) inbox.Add(Message(IdentifierType::kEmail, "a@x.io"));
  EXPECT_EQ(inbox.List(InboxQuery{}).size(), 100u);
}

TEST(InboxTest, ChannelFilterKeepsOneChannel) {
  Inbox inbox(10);
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "e1"));
  inbox.Add(Message(IdentifierType::kPhone, "+1", "s1"));
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "e2"));
  inbox.Add(Message(IdentifierType::kPhone, "+1", "s2"));
  InboxQuery q = All();
  q.channel = IdentifierType::kPhone;
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"s2", "s1"}));
  q.channel = IdentifierType::kEmail;
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"e2", "e1"}));
}

TEST(InboxTest, LimitCountsOnlyMatchingMessages) {
  Inbox inbox(10);
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "e1"));
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "e2"));
  inbox.Add(Message(IdentifierType::kPhone, "+1", "s1"));
  inbox.Add(Message(IdentifierType::kPhone, "+1", "s2"));
  InboxQuery q;
  q.channel = IdentifierType::kEmail;
  q.limit = 2;
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"e2", "e1"}));
}

TEST(InboxTest, ToFilterComparesEmailsCaseInsensitively) {
  Inbox inbox(10);
  inbox.Add(Message(IdentifierType::kEmail, "User@Example.COM", "1"));
  inbox.Add(Message(IdentifierType::kEmail, "other@example.com", "2"));
  inbox.Add(Message(IdentifierType::kEmail, "user@example.com", "3"));
  InboxQuery q = All();
  q.to = "USER@example.com";
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"3", "1"}));
}

TEST(InboxTest, ToFilterComparesPhonesByDigits) {
  Inbox inbox(10);
  inbox.Add(Message(IdentifierType::kPhone, "+1 (555) 555-0100", "1"));
  inbox.Add(Message(IdentifierType::kPhone, "+15555550199", "2"));
  inbox.Add(Message(IdentifierType::kPhone, "15555550100", "3"));
  InboxQuery q = All();
  q.to = "+1-555-555-0100";
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"3", "1"}));
}

TEST(InboxTest, EmailQueryDoesNotMatchPhoneMessages) {
  Inbox inbox(10);
  inbox.Add(Message(IdentifierType::kPhone, "+15555550100", "sms"));
  inbox.Add(Message(IdentifierType::kEmail, "user@example.com", "mail"));
  InboxQuery q = All();
  q.to = "user@example.com";
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"mail"}));
}

TEST(InboxTest, ToAndChannelFiltersCombine) {
  Inbox inbox(10);
  inbox.Add(Message(IdentifierType::kEmail, "1555", "mail"));
  inbox.Add(Message(IdentifierType::kPhone, "+1555", "sms"));
  InboxQuery q = All();
  q.to = "1555";
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"sms", "mail"}));
  q.channel = IdentifierType::kPhone;
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"sms"}));
}

TEST(InboxTest, FullInboxDropsTheOldest) {
  Inbox inbox(3);
  for (int i = 1; i <= 5; ++i) {
    inbox.Add(Message(IdentifierType::kEmail, "a@x.io", std::to_string(i)));
  }
  EXPECT_EQ(inbox.size(), 3u);
  EXPECT_EQ(Codes(inbox.List(All())), (std::vector<std::string>{"5", "4", "3"}));
}

TEST(InboxTest, CapacityOfOneKeepsOnlyTheNewest) {
  Inbox inbox(1);
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "1"));
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "2"));
  EXPECT_EQ(inbox.size(), 1u);
  EXPECT_EQ(Codes(inbox.List(All())), (std::vector<std::string>{"2"}));
}

TEST(InboxTest, ClearHidesEverythingAndLaterMessagesAppear) {
  Inbox inbox(10);
  for (int i = 0; i < 4; ++i) inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "old"));
  inbox.Clear();
  EXPECT_EQ(inbox.size(), 0u);
  EXPECT_TRUE(inbox.List(All()).empty());
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "new"));
  EXPECT_EQ(inbox.size(), 1u);
  EXPECT_EQ(Codes(inbox.List(All())), (std::vector<std::string>{"new"}));
}

TEST(InboxTest, ConcurrentAddsWithinCapacityLoseNoSeq) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 500;
  constexpr size_t kTotal = size_t{kThreads} * kPerThread;
  Inbox inbox(kTotal);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        inbox.Add(Message(t % 2 ? IdentifierType::kPhone : IdentifierType::kEmail,
                          "t" + std::to_string(t), std::to_string(t * kPerThread + i)));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(inbox.size(), kTotal);
  const auto list = inbox.List(All());
  ASSERT_EQ(list.size(), kTotal);
  std::set<uint64_t> seqs;
  std::set<std::string> codes;
  for (size_t i = 0; i < list.size(); ++i) {
    seqs.insert(list[i].seq);
    codes.insert(list[i].code);
    if (i > 0) {
      EXPECT_GT(list[i - 1].seq, list[i].seq);
    }
  }
  EXPECT_EQ(seqs.size(), kTotal);
  EXPECT_EQ(*seqs.begin(), 1u);
  EXPECT_EQ(*seqs.rbegin(), kTotal);
  EXPECT_EQ(codes.size(), kTotal);  // every message, intact
}

TEST(InboxTest, ConcurrentAddsBeyondCapacityKeepExactlyTheNewest) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 1000;
  constexpr size_t kCapacity = 100;
  Inbox inbox(kCapacity);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) inbox.Add(Message(IdentifierType::kEmail, "a@x.io"));
    });
  }
  for (auto& th : threads) th.join();
  const auto list = inbox.List(All());
  ASSERT_EQ(list.size(), kCapacity);
  const uint64_t newest = uint64_t{kThreads} * kPerThread;
  for (size_t i = 0; i < list.size(); ++i) EXPECT_EQ(list[i].seq, newest - i);
}

}  // namespace
}  // namespace mfa

namespace mfa {
namespace {

InboxMessage InSession(std::string to, std::string code, std::string session) {
  InboxMessage m = Message(IdentifierType::kEmail, std::move(to), std::move(code));
  m.session_id = std::move(session);
  return m;
}

TEST(InboxCursorTest, AddReturnsIncreasingCursorsThatListsReportAndClearsNeverReuse) {
  Inbox inbox(10);
  EXPECT_EQ(inbox.newest_cursor(), 0u);
  const uint64_t first = inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "111111"));
  const uint64_t second = inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "222222"));
  EXPECT_LT(first, second);
  EXPECT_EQ(inbox.newest_cursor(), second);
  const std::vector<InboxMessage> listed = inbox.List(All());
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].seq, second);
  EXPECT_EQ(listed[1].seq, first);
  inbox.Clear();
  EXPECT_GT(inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "333333")), second);
}

TEST(InboxCursorTest, AfterKeepsOnlyNewerMessages) {
  Inbox inbox(10);
  const uint64_t first = inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "111111"));
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "222222"));
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "333333"));
  InboxQuery q = All();
  q.after = first;
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"333333", "222222"}));
  q.after = inbox.newest_cursor();
  EXPECT_TRUE(inbox.List(q).empty());
}

TEST(InboxCursorTest, OldestFirstGivesTheOldestAfterTheCursorInOrder) {
  Inbox inbox(10);
  for (const char* code : {"111111", "222222", "333333", "444444"}) {
    inbox.Add(Message(IdentifierType::kEmail, "a@x.io", code));
  }
  InboxQuery q;
  q.oldest_first = true;
  q.limit = 2;
  q.after = 1;
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"222222", "333333"}));
}

TEST(InboxSessionTest, SessionFilterShowsOnlyThatSessionsMessages) {
  Inbox inbox(10);
  inbox.Add(InSession("a@x.io", "111111", "s1"));
  inbox.Add(InSession("a@x.io", "222222", "s2"));
  inbox.Add(Message(IdentifierType::kEmail, "a@x.io", "333333"));
  InboxQuery q = All();
  q.session = "s1";
  EXPECT_EQ(Codes(inbox.List(q)), (std::vector<std::string>{"111111"}));
  q.session = "nope";
  EXPECT_TRUE(inbox.List(q).empty());
}

TEST(InboxEraseTest, EraseRemovesOnlyMatchingMessages) {
  Inbox inbox(10);
  inbox.Add(InSession("a@x.io", "111111", "s1"));
  inbox.Add(InSession("b@x.io", "222222", "s2"));
  inbox.Add(Message(IdentifierType::kEmail, "A@X.io", "333333"));
  InboxQuery by_session;
  by_session.session = "s2";
  EXPECT_EQ(inbox.Erase(by_session), 1u);
  EXPECT_EQ(Codes(inbox.List(All())), (std::vector<std::string>{"333333", "111111"}));
  InboxQuery by_recipient;
  by_recipient.to = "a@x.io";
  EXPECT_EQ(inbox.Erase(by_recipient), 2u);
  EXPECT_TRUE(inbox.List(All()).empty());
  // An erased slot is reused by later messages as usual.
  inbox.Add(Message(IdentifierType::kEmail, "c@x.io", "444444"));
  EXPECT_EQ(Codes(inbox.List(All())), (std::vector<std::string>{"444444"}));
}

// A reader that follows the cursor oldest first, while several threads add, sees every message
// exactly once and in cursor order: it never moves past a message still being written.
TEST(InboxCursorTest, FollowingTheCursorWhileThreadsAddSeesEveryMessageOnceInOrder) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  Inbox inbox(kThreads * kPerThread);
  std::latch start(kThreads + 1);
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < kPerThread; ++i) {
        inbox.Add(Message(IdentifierType::kEmail, "w" + std::to_string(t) + "@x.io"));
      }
    });
  }
  start.arrive_and_wait();
  std::vector<uint64_t> seen;
  InboxQuery q;
  q.oldest_first = true;
  q.limit = 64;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (seen.size() < size_t{kThreads * kPerThread} &&
         std::chrono::steady_clock::now() < deadline) {
    for (const InboxMessage& m : inbox.List(q)) {
      seen.push_back(m.seq);
      q.after = m.seq;
    }
  }
  for (std::thread& w : writers) w.join();
  ASSERT_EQ(seen.size(), size_t{kThreads * kPerThread});
  for (size_t i = 0; i < seen.size(); ++i) ASSERT_EQ(seen[i], i + 1) << "at " << i;
}

}  // namespace
}  // namespace mfa
