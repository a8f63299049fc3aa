// SPDX-License-Identifier: Apache-2.0
#include "core/recipient.h"

#include <gtest/gtest.h>

namespace mfa {
namespace {

TEST(NormalizeRecipientTest, LowercasesAsciiEmailLetters) {
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kEmail, "User.Name+Tag@Example.COM"),
            "user.name+tag@example.com");
}

TEST(NormalizeRecipientTest, KeepsEmailNonLettersAndWhitespace) {
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kEmail, " A_1-2@x.y "), " a_1-2@x.y ");
}

TEST(NormalizeRecipientTest, LeavesNonAsciiEmailBytesUnchanged) {
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kEmail, "\xC3\x89T\xC3\xA9@x.io"),
            "\xC3\x89t\xC3\xA9@x.io");
}

TEST(NormalizeRecipientTest, ReducesPhonesToDigits) {
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kPhone, "+1 (555) 555-0100"), "15555550100");
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kPhone, "+15555550100"), "15555550100");
}

TEST(NormalizeRecipientTest, PhoneWithoutDigitsIsEmpty) {
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kPhone, "user@example.com"), "");
}

TEST(NormalizeRecipientTest, EmptyInputGivesEmptyKey) {
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kEmail, ""), "");
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kPhone, ""), "");
}

TEST(NormalizeRecipientTest, DifferentlyWrittenSameAddressesShareAKey) {
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kEmail, "USER@EXAMPLE.COM"),
            NormalizeRecipient(IdentifierType::kEmail, "user@example.com"));
  EXPECT_EQ(NormalizeRecipient(IdentifierType::kPhone, "+44 20 7946 0958"),
            NormalizeRecipient(IdentifierType::kPhone, "442079460958"));
  EXPECT_NE(NormalizeRecipient(IdentifierType::kPhone, "+44 20 7946 0958"),
            NormalizeRecipient(IdentifierType::kPhone, "+44 20 7946 0959"));
}

}  // namespace
}  // namespace mfa
