// SPDX-License-Identifier: Apache-2.0
#include "http/request_journal.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mfa {
namespace {

std::vector<std::string> Paths(const std::vector<JournalEntry>& entries) {
  std::vector<std::string> paths;
  for (const JournalEntry& e : entries) paths.push_back(e.path);
  return paths;
}

TEST(FindVerificationIdTest, FindsTheIdMemberWhateverTheSpacing) {
  EXPECT_EQ(FindVerificationId(R"({"verificationId":"abc","code":"1"})"), "abc");
  EXPECT_EQ(FindVerificationId("{ \"verificationId\" :\n \"x1\" }"), "x1");
  EXPECT_EQ(FindVerificationId(R"({"note":"verificationId","verificationId":"z"})"), "z");
}

TEST(FindVerificationIdTest, AnswersEmptyWithoutAStringId) {
  EXPECT_EQ(FindVerificationId(R"({"identifierType":"email"})"), "");
  EXPECT_EQ(FindVerificationId(R"({"verificationId":12})"), "");
  EXPECT_EQ(FindVerificationId(R"({"verificationId":"unterminated)"), "");
  EXPECT_EQ(FindVerificationId(R"({"verificationId":"a\"b"})"), "");
  EXPECT_EQ(FindVerificationId("not json"), "");
}

TEST(RequestJournalTest, RecordsTheSessionAndTheVerificationOfRequestOrAnswer) {
  RequestJournal journal(10, false);
  journal.Record(1, "POST", "/send", 200, 0.001, "", R"({"identifierType":"email"})", "s1",
                 R"({"verificationId":"new-id"})");
  journal.Record(2, "POST", "/verify", 400, 0.001, "x", R"({"verificationId":"v-id","code":"1"})",
                 "", R"({"code":"x"})");
  const std::vector<JournalEntry> entries = journal.List(10, 0);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].verification_id, "v-id");
  EXPECT_EQ(entries[0].session_id, "");
  EXPECT_EQ(entries[1].verification_id, "new-id");
  EXPECT_EQ(entries[1].session_id, "s1");
}

TEST(RequestJournalTest, FiltersBySessionAndByVerificationIds) {
  RequestJournal journal(10, false);
  journal.Record(1, "POST", "/a", 200, 0, "", R"({"verificationId":"id-a"})", "s1");
  journal.Record(2, "POST", "/b", 200, 0, "", R"({"verificationId":"id-b"})", "s2");
  journal.Record(3, "POST", "/c", 200, 0, "", "{}", "s1");
  JournalQuery by_session;
  by_session.session = "s1";
  EXPECT_EQ(Paths(journal.List(by_session)), (std::vector<std::string>{"/c", "/a"}));
  JournalQuery by_ids;
  by_ids.verification_ids.emplace();
  by_ids.verification_ids->insert("id-b");
  EXPECT_EQ(Paths(journal.List(by_ids)), (std::vector<std::string>{"/b"}));
  by_ids.verification_ids->clear();  // a recipient nothing was sent to: nothing
  EXPECT_TRUE(journal.List(by_ids).empty());
}

TEST(RequestJournalTest, EraseRemovesOnlyTheMatchingEntries) {
  RequestJournal journal(10, false);
  journal.Record(1, "POST", "/a", 200, 0, "", "{}", "s1");
  journal.Record(2, "POST", "/b", 200, 0, "", "{}", "s2");
  journal.Record(3, "POST", "/c", 200, 0, "", "{}", "s1");
  JournalQuery by_session;
  by_session.session = "s1";
  EXPECT_EQ(journal.Erase(by_session), 2u);
  EXPECT_EQ(Paths(journal.List(10, 0)), (std::vector<std::string>{"/b"}));
}

}  // namespace
}  // namespace mfa
