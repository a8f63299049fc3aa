// SPDX-License-Identifier: Apache-2.0
#include "core/sign_in.h"

#include <gtest/gtest.h>

#include "core/sessions.h"

namespace mfa {
namespace {

User MakeUser(std::string email, std::string phone) {
  User u;
  u.id = "u";
  u.username = "user";
  u.primary_email = std::move(email);
  u.primary_phone = std::move(phone);
  return u;
}

TEST(MaskTest, EmailKeepsFourCharactersOfNamesLongerThanFour) {
  EXPECT_EQ(MaskEmail("alice@example.com"), "alic****@example.com");
  EXPECT_EQ(MaskEmail("dave.smith@example.com"), "dave****@example.com");
  // Logto: name.length > 4 ? first four : nothing.
  EXPECT_EQ(MaskEmail("dave@example.com"), "****@example.com");
  EXPECT_EQ(MaskEmail("bob@x.io"), "****@x.io");
  // JavaScript's split('@'): the domain is the text up to the next '@'.
  EXPECT_EQ(MaskEmail("a@b@c"), "****@b");
  EXPECT_EQ(MaskEmail("nodomain"), "nodo****@");
  // Characters, not bytes: "élodie" is six characters.
  EXPECT_EQ(MaskEmail("\xC3\xA9lodie@example.com"), "\xC3\xA9lod****@example.com");
}

TEST(MaskTest, PhoneKeepsTheLastFourCharacters) {
  EXPECT_EQ(MaskPhone("+15555550101"), "****0101");
  EXPECT_EQ(MaskPhone("123"), "****123");
}

TEST(AvailableMfaFactorsTest, PhoneComesBeforeEmailAndOnlyWhenEnabledAndPresent) {
  MfaSettings both;
  EXPECT_EQ(AvailableMfaFactors(both, MakeUser("a@b.c", "+1555")),
            (std::vector<MfaFactor>{MfaFactor::kPhoneVerificationCode,
                                    MfaFactor::kEmailVerificationCode}));
  EXPECT_EQ(AvailableMfaFactors(both, MakeUser("a@b.c", "")),
            (std::vector<MfaFactor>{MfaFactor::kEmailVerificationCode}));
  EXPECT_TRUE(AvailableMfaFactors(both, MakeUser("", "")).empty());
  MfaSettings email_only;
  email_only.set(MfaFactor::kPhoneVerificationCode, false);
  EXPECT_EQ(AvailableMfaFactors(email_only, MakeUser("a@b.c", "+1555")),
            (std::vector<MfaFactor>{MfaFactor::kEmailVerificationCode}));
}

MfaSettings AllFactors() {
  MfaSettings all;
  for (MfaFactor f : {MfaFactor::kTotp, MfaFactor::kBackupCode}) all.set(f, true);
  return all;
}

TEST(AvailableMfaFactorsTest, TotpComesFirstAndBackupCodesLastAsLogtoSortsThem) {
  User user = MakeUser("a@b.c", "+1555");
  user.totp_secret = "JBSWY3DPEHPK3PXP";
  user.backup_codes = {{"0123456789", false}};
  EXPECT_EQ(AvailableMfaFactors(AllFactors(), user),
            (std::vector<MfaFactor>{MfaFactor::kTotp, MfaFactor::kPhoneVerificationCode,
                                    MfaFactor::kEmailVerificationCode, MfaFactor::kBackupCode}));
  // Not enabled in the sign-in experience: not listed, whatever the user has.
  EXPECT_EQ(AvailableMfaFactors(MfaSettings{}, user),
            (std::vector<MfaFactor>{MfaFactor::kPhoneVerificationCode,
                                    MfaFactor::kEmailVerificationCode}));
}

TEST(AvailableMfaFactorsTest, BackupCodesAreGoneOnceEveryCodeIsUsed) {
  User user = MakeUser("", "");
  user.totp_secret = "JBSWY3DPEHPK3PXP";
  user.backup_codes = {{"0123456789", true}, {"abcdefabcd", false}};
  EXPECT_EQ(AvailableMfaFactors(AllFactors(), user),
            (std::vector<MfaFactor>{MfaFactor::kTotp, MfaFactor::kBackupCode}));
  user.backup_codes[1].used = true;
  EXPECT_EQ(AvailableMfaFactors(AllFactors(), user), (std::vector<MfaFactor>{MfaFactor::kTotp}));
}

TEST(ConfiguredMfaFactorsTest, LeavesOutBackupCodesInLogtosOrder) {
  EXPECT_EQ(ConfiguredMfaFactors(AllFactors()),
            (std::vector<MfaFactor>{MfaFactor::kTotp, MfaFactor::kPhoneVerificationCode,
                                    MfaFactor::kEmailVerificationCode}));
  MfaSettings backup_only;
  backup_only.factors = 0;
  backup_only.set(MfaFactor::kBackupCode, true);
  EXPECT_TRUE(ConfiguredMfaFactors(backup_only).empty());
}

TEST(BackupCodesTest, TenCodesOfTenHexDigitsAsLogtosValidateBackupCodes) {
  std::vector<std::string> codes(10, "0123456789");
  EXPECT_TRUE(IsValidBackupCodes(codes));
  codes[3] = "ABCDEFabcd";  // either case
  EXPECT_TRUE(IsValidBackupCodes(codes));
  codes[3] = "abcdefabcg";
  EXPECT_FALSE(IsValidBackupCodes(codes));
  codes[3] = "012345678";
  EXPECT_FALSE(IsValidBackupCodes(codes));
  codes.pop_back();
  codes[3] = "0123456789";
  EXPECT_FALSE(IsValidBackupCodes(codes));
  EXPECT_FALSE(IsValidBackupCodes({}));
}

TEST(SignInNamesTest, FactorsPoliciesAndIdentifiersRoundTrip) {
  for (int f = 0; f < kMfaFactorCount; ++f) {
    const auto factor = static_cast<MfaFactor>(f);
    EXPECT_EQ(ParseMfaFactor(ToString(factor)), factor);
  }
  EXPECT_EQ(ToString(MfaFactor::kEmailVerificationCode), "EmailVerificationCode");
  EXPECT_EQ(ParseMfaPolicy("Mandatory"), MfaPolicy::kMandatory);
  EXPECT_EQ(ParseMfaPolicy("NoPrompt"), MfaPolicy::kNoPrompt);
  EXPECT_FALSE(ParseMfaPolicy("UserControlled"));
  EXPECT_EQ(ParseSignInIdentifier("phone"), SignInIdentifier::kPhone);
  EXPECT_FALSE(ParseSignInIdentifier("Email"));
}

}  // namespace
}  // namespace mfa
