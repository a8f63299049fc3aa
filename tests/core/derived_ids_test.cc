// SPDX-License-Identifier: Apache-2.0
#include "core/derived_ids.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

namespace mfa {
namespace {

constexpr Uint128 kSpace = Uint128{1} << kDerivedBits;

std::string Encode(Uint128 v) {
  std::string s(21, '\0');
  EncodeId21(v, s.data());
  return s;
}

Uint128 Random108(std::mt19937_64& rng) { return ((Uint128{rng()} << 64) | rng()) & (kSpace - 1); }

// A 128-bit value as a hashable pair for sets.
std::pair<uint64_t, uint64_t> Split(Uint128 v) {
  return {static_cast<uint64_t>(v >> 64), static_cast<uint64_t>(v)};
}

TEST(DerivedIdsTest, EncodingRoundTripsAtTheEdgesAndOnSamples) {
  EXPECT_EQ(Encode(0), "000000000000000000000");
  EXPECT_EQ(Encode(35), "00000000000000000000z");
  EXPECT_EQ(Encode(36), "000000000000000000010");
  std::vector<Uint128> values = {0, 1, 35, 36, kSpace - 1, kSpace / 2, Uint128{1} << 64};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 10000; ++i) values.push_back(Random108(rng));
  for (Uint128 v : values) {
    const std::string id = Encode(v);
    const std::optional<Uint128> back = DecodeDerivedId(id);
    ASSERT_TRUE(back.has_value()) << id;
    EXPECT_TRUE(*back == v) << id;
  }
}

TEST(DerivedIdsTest, DecodeRejectsEverythingOutsideTheDerivedSpace) {
  EXPECT_FALSE(DecodeDerivedId(""));
  EXPECT_FALSE(DecodeDerivedId("00000000000000000000"));    // 20 chars
  EXPECT_FALSE(DecodeDerivedId("0000000000000000000000"));  // 22 chars
  EXPECT_FALSE(DecodeDerivedId("00000000000000000000A"));   // uppercase
  EXPECT_FALSE(DecodeDerivedId("0000000000000000000-0"));
  EXPECT_FALSE(DecodeDerivedId("zzzzzzzzzzzzzzzzzzzzz"));  // 36^21 - 1 >= 2^108
  EXPECT_FALSE(DecodeDerivedId(Encode(kSpace)));           // exactly 2^108
  EXPECT_TRUE(DecodeDerivedId(Encode(kSpace - 1)));
  EXPECT_FALSE(DecodeDerivedId("qa-ok"));
}

TEST(DerivedIdsTest, IndividualIdsLookLikeLogtoIdsAndNeverDecode) {
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) {
    const std::string id = NewIndividualId();
    ASSERT_EQ(id.size(), 21u);
    for (char c : id) ASSERT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) << id;
    EXPECT_FALSE(DecodeDerivedId(id)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 20000u);
}

TEST(DerivedIdsTest, ThePermutationIsBijectiveOnSamples) {
  const IdCipher cipher;
  std::mt19937_64 rng(11);
  std::set<std::pair<uint64_t, uint64_t>> images;
  std::vector<Uint128> plains = {0, 1, kSpace - 1};
  for (int i = 0; i < 30000; ++i) plains.push_back(Random108(rng));
  for (uint64_t n = 1; n <= 30000; ++n) plains.push_back(DerivedPlain(42, n));  // consecutive
  for (Uint128 p : plains) {
    const Uint128 c = cipher.Encrypt(p);
    ASSERT_TRUE(c < kSpace);
    EXPECT_TRUE(cipher.Decrypt(c) == p);
    images.insert(Split(c));
  }
  std::set<std::pair<uint64_t, uint64_t>> distinct_plains;
  for (Uint128 p : plains) distinct_plains.insert(Split(p));
  EXPECT_EQ(images.size(), distinct_plains.size());
  // The inverse direction: any 108-bit value is some record's image.
  for (int i = 0; i < 1000; ++i) {
    const Uint128 c = Random108(rng);
    EXPECT_TRUE(cipher.Encrypt(cipher.Decrypt(c)) == c);
  }
}

TEST(DerivedIdsTest, BatchesNeverShareAnId) {
  const IdCipher cipher;
  std::unordered_set<std::string> ids;
  for (uint64_t serial : {uint64_t{1}, uint64_t{2}, ~uint64_t{0}}) {
    for (uint64_t n = 1; n <= 20000; ++n) {
      ASSERT_TRUE(ids.insert(Encode(cipher.Encrypt(DerivedPlain(serial, n)))).second)
          << serial << " " << n;
    }
  }
  EXPECT_EQ(ids.size(), 60000u);
}

TEST(DerivedIdsTest, ConsecutiveRecordsGetUnrelatedIds) {
  const IdCipher cipher;
  // Neighbours share no long prefix: the order of a batch cannot be read from its ids.
  size_t shared_prefix_chars = 0;
  std::string previous = Encode(cipher.Encrypt(DerivedPlain(9, 1)));
  for (uint64_t n = 2; n <= 2000; ++n) {
    const std::string id = Encode(cipher.Encrypt(DerivedPlain(9, n)));
    size_t k = 0;
    while (k < 21 && id[k] == previous[k]) ++k;
    shared_prefix_chars += k;
    previous = id;
  }
  EXPECT_LT(shared_prefix_chars, 2000u);  // ~0.1 char per pair by chance
}

TEST(DerivedIdsTest, KeysGiveDifferentPermutationsAndAKeyRestoresItsOwn) {
  const IdCipher a, b;
  const IdCipher a_again(a.key());
  int same = 0;
  for (uint64_t n = 1; n <= 1000; ++n) {
    const Uint128 p = DerivedPlain(5, n);
    same += a.Encrypt(p) == b.Encrypt(p);
    EXPECT_TRUE(a_again.Encrypt(p) == a.Encrypt(p));
    char ca[6], cb[6];
    a.Code(p, ca);
    a_again.Code(p, cb);
    EXPECT_EQ(std::string(ca, 6), std::string(cb, 6));
  }
  EXPECT_EQ(same, 0);
}

TEST(DerivedIdsTest, ManyAtOnceEqualsOneByOne) {
  const IdCipher cipher;
  std::vector<Uint128> plains;
  for (uint64_t n = 1; n <= 700; ++n) plains.push_back(DerivedPlain(77, n));  // > one chunk
  std::vector<Uint128> many(plains.size());
  cipher.EncryptMany(plains.data(), many.data(), plains.size());
  std::string codes(plains.size() * 6, '\0');
  cipher.CodeMany(plains.data(), codes.data(), plains.size());
  for (size_t i = 0; i < plains.size(); ++i) {
    EXPECT_TRUE(many[i] == cipher.Encrypt(plains[i]));
    char one[6];
    cipher.Code(plains[i], one);
    EXPECT_EQ(codes.substr(6 * i, 6), std::string(one, 6));
  }
}

TEST(DerivedIdsTest, CodesAreSixDigitsWithLeadingZerosAndSpreadEvenly) {
  const IdCipher cipher;
  std::set<std::string> distinct;
  int leading_zero = 0;
  int digit_counts[10] = {};
  constexpr int kCodes = 20000;
  for (uint64_t n = 1; n <= kCodes; ++n) {
    char code[6];
    cipher.Code(DerivedPlain(3, n), code);
    const std::string s(code, 6);
    for (char c : s) {
      ASSERT_TRUE(c >= '0' && c <= '9') << s;
      ++digit_counts[c - '0'];
    }
    leading_zero += s[0] == '0';
    distinct.insert(s);
  }
  EXPECT_GT(leading_zero, kCodes / 10 - 400);  // ~10% start with 0
  EXPECT_LT(leading_zero, kCodes / 10 + 400);
  EXPECT_GT(distinct.size(), 19700u);  // birthday collisions in 10^6: ~200
  for (int count : digit_counts) EXPECT_NEAR(count, kCodes * 6 / 10, 700);
}

}  // namespace
}  // namespace mfa
