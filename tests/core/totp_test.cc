// SPDX-License-Identifier: Apache-2.0
#include "core/totp.h"

#include <gtest/gtest.h>

namespace mfa {
namespace {

// RFC 6238 appendix B, SHA-1, with the RFC's 8 digits and its 20-byte ASCII key.
TEST(TotpTest, MatchesTheRfc6238TestVectors) {
  const std::string key = "12345678901234567890";
  struct Vector {
    int64_t seconds;
    const char* code;
  };
  for (const Vector& v : {Vector{59, "94287082"}, Vector{1111111109, "07081804"},
                          Vector{1111111111, "14050471"}, Vector{1234567890, "89005924"},
                          Vector{2000000000, "69279037"}, Vector{20000000000, "65353130"}}) {
    EXPECT_EQ(HotpCode(key, static_cast<uint64_t>(v.seconds / 30), 8), v.code) << v.seconds;
  }
}

// RFC 4226 appendix D: HOTP values for counters 0-9 with the same key.
TEST(TotpTest, MatchesTheRfc4226TestVectors) {
  const std::string key = "12345678901234567890";
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (uint64_t counter = 0; counter < 10; ++counter) {
    EXPECT_EQ(HotpCode(key, counter), expected[counter]) << counter;
  }
}

TEST(TotpTest, Base32DecodesRfc4648Vectors) {
  EXPECT_EQ(DecodeBase32("MZXW6YTBOI======"), "foobar");
  EXPECT_EQ(DecodeBase32("MZXW6YTBOI"), "foobar");
  EXPECT_EQ(DecodeBase32("mzxw6ytboi"), "foobar");
  EXPECT_EQ(DecodeBase32("MY======"), "f");
  EXPECT_EQ(DecodeBase32(""), "");
  EXPECT_FALSE(DecodeBase32("MZXW1YTB"));  // '1' is not base32
  // The RFC key in base32, as an authenticator app would be given it.
  EXPECT_EQ(DecodeBase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), "12345678901234567890");
}

TEST(TotpTest, SecretsAreValidatedAsLogtoDoes) {
  EXPECT_TRUE(IsValidTotpSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));     // 32
  EXPECT_TRUE(IsValidTotpSecret("JBSWY3DPEHPK3PXP"));                     // 16
  EXPECT_FALSE(IsValidTotpSecret("JBSWY3DPEHPK3PX"));                     // 15
  EXPECT_FALSE(IsValidTotpSecret("jbswy3dpehpk3pxp"));                    // lower case
  EXPECT_FALSE(IsValidTotpSecret("JBSWY3DPEHPK3PX1"));                    // '1'
  EXPECT_TRUE(IsValidTotpSecret("JBSWY3DPEHPK3PXPMZ======"));             // padded, 2 chars
  EXPECT_FALSE(IsValidTotpSecret("JBSWY3DPEHPK3PXPMZX====="));            // 3 chars: not base32
  EXPECT_FALSE(IsValidTotpSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE"));  // 34
}

TEST(TotpTest, ACodeMatchesItsStepAndOneStepEitherWay) {
  const std::string key = "12345678901234567890";
  const int64_t now_ms = 1'111'111'111'000;
  const int64_t step = now_ms / kTotpStepMs;
  EXPECT_EQ(TotpMatchingStep(key, HotpCode(key, step), now_ms), step);
  EXPECT_EQ(TotpMatchingStep(key, HotpCode(key, step - 1), now_ms), step - 1);
  EXPECT_EQ(TotpMatchingStep(key, HotpCode(key, step + 1), now_ms), step + 1);
  EXPECT_FALSE(TotpMatchingStep(key, HotpCode(key, step - 2), now_ms));
  EXPECT_FALSE(TotpMatchingStep(key, HotpCode(key, step + 2), now_ms));
  EXPECT_FALSE(TotpMatchingStep(key, "12345", now_ms));
  EXPECT_FALSE(TotpMatchingStep(key, HotpCode(key, step) + "0", now_ms));
}

}  // namespace
}  // namespace mfa
