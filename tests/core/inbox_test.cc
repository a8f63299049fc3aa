// SPDX-License-Identifier: Apache-2.0
#include "core/inbox.h"

#include <gtest/gtest.h>

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
