// SPDX-License-Identifier: Apache-2.0
#include "i18n/phrases.h"

#include <gtest/gtest.h>

#include <string>

namespace mfa::i18n {
namespace {

TEST(PhrasesTest, EveryLocaleOfThePackage) {
  EXPECT_EQ(LocaleCount(), 18u);
  EXPECT_EQ(LocaleTag(EnglishLocale()), "en");
  for (std::string_view tag : {"ar", "de", "en", "es", "fa-IR", "fr", "it", "ja", "ko", "pl-PL",
                               "pt-BR", "pt-PT", "ru", "th", "tr-TR", "zh-CN", "zh-HK", "zh-TW"}) {
    ASSERT_TRUE(FindLocale(tag)) << tag;
    EXPECT_EQ(LocaleTag(*FindLocale(tag)), tag);
  }
  EXPECT_FALSE(FindLocale("zh-cn"));
  EXPECT_EQ(FindLocale("cimode"), kCiMode);
}

TEST(PhrasesTest, LooksUpByCode) {
  EXPECT_EQ(Phrase("verification_code.code_mismatch", *FindLocale("ja")), "無効な検証コードです。");
  EXPECT_EQ(Phrase("verification_code.code_mismatch", EnglishLocale()),
            "Invalid verification code.");
  EXPECT_EQ(Phrase("session.mfa.require_mfa_verification", EnglishLocale()),
            "Mfa verification is required to sign in.");
  EXPECT_FALSE(Phrase("verification_code", EnglishLocale()));
  EXPECT_FALSE(Phrase("", EnglishLocale()));
  EXPECT_FALSE(Phrase("zzz", EnglishLocale()));
}

TEST(PhrasesTest, HoldsTheNamespacesMfaMockAnswers) {
  for (std::string_view code :
       {"session.invalid_credentials", "session.identity_conflict", "session.identifier_not_found",
        "session.mfa.require_mfa_verification", "session.mfa.invalid_totp_code",
        "session.mfa.invalid_backup_code", "entity.not_found", "user.suspended",
        "session.captcha_failed", "password.unsupported_encryption_method", "oidc.invalid_grant",
        "request.message_rate_limited", "guard.invalid_input"}) {
    EXPECT_TRUE(Phrase(code, EnglishLocale())) << code;
  }
  EXPECT_GT(PhraseCount(), 150u);
}

TEST(PhrasesTest, MissingInALocaleFallsBackToEnglish) {
  // @logto/phrases 1.31.0 has request.message_rate_limited in English only: i18next's
  // fallbackLng answers the English text in every other locale.
  const std::string_view english = *Phrase("request.message_rate_limited", EnglishLocale());
  EXPECT_EQ(english, "Too many messages sent to this recipient. Please try again later.");
  for (LocaleId l = 0; l < LocaleCount(); ++l) {
    EXPECT_EQ(Phrase("request.message_rate_limited", l), english) << LocaleTag(l);
  }
  EXPECT_EQ(Phrase("session.not_found", 200), Phrase("session.not_found", EnglishLocale()));
}

TEST(PhrasesTest, PinnedPackageVersion) { EXPECT_EQ(PhrasesPackageVersion(), "1.31.0"); }

}  // namespace
}  // namespace mfa::i18n
