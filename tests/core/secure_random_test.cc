// SPDX-License-Identifier: Apache-2.0
#include "core/secure_random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_set>
#include <vector>

namespace mfa {
namespace {

constexpr std::string_view kIdAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr int kDraws = 100'000;

bool IsIdChar(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); }

TEST(SecureRandomTest, NewIdIs21CharsOfTheIdAlphabet) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = SecureRandom::NewId();
    ASSERT_EQ(id.size(), kGeneratedIdLength);
    ASSERT_EQ(id.size(), 21u);
    for (char c : id) ASSERT_TRUE(IsIdChar(c)) << id;
  }
}

TEST(SecureRandomTest, NewCodeIsSixDigits) {
  for (int i = 0; i < 1000; ++i) {
    const std::string code = SecureRandom::NewCode();
    ASSERT_EQ(code.size(), kGeneratedCodeLength);
    ASSERT_EQ(code.size(), 6u);
    for (char c : code) ASSERT_TRUE(c >= '0' && c <= '9') << code;
  }
}

TEST(SecureRandomTest, FillDigitsWritesExactlyNDigits) {
  char buf[40];
  std::fill(std::begin(buf), std::end(buf), '#');
  SecureRandom::FillDigits(buf, 32);
  for (int i = 0; i < 32; ++i) EXPECT_TRUE(buf[i] >= '0' && buf[i] <= '9');
  for (int i = 32; i < 40; ++i) EXPECT_EQ(buf[i], '#');
}

TEST(SecureRandomTest, FillIdWritesExactly21Chars) {
  char buf[30];
  std::fill(std::begin(buf), std::end(buf), '#');
  SecureRandom::FillId(buf);
  for (size_t i = 0; i < kGeneratedIdLength; ++i) EXPECT_TRUE(IsIdChar(buf[i]));
  for (size_t i = kGeneratedIdLength; i < sizeof(buf); ++i) EXPECT_EQ(buf[i], '#');
}

TEST(SecureRandomTest, FillProducesVaryingBytes) {
  std::array<uint8_t, 10000> a{};
  SecureRandom::Fill(a.data(), a.size());
  std::array<int, 256> counts{};
  for (uint8_t b : a) ++counts[b];
  // 10000 uniform bytes: each value ~39 times; all 256 values should appear.
  for (int v = 0; v < 256; ++v) EXPECT_GT(counts[v], 0) << v;
  SecureRandom::Fill(a.data(), 0);  // a zero-length fill is allowed
}

TEST(SecureRandomTest, IdCharactersAreUniformlyDistributed) {
  std::array<int64_t, 256> counts{};
  std::array<int64_t, 256> first_char_counts{};
  for (int i = 0; i < kDraws; ++i) {
    const std::string id = SecureRandom::NewId();
    for (char c : id) ++counts[static_cast<unsigned char>(c)];
    ++first_char_counts[static_cast<unsigned char>(id[0])];
  }
  const double expected = double{kDraws} * kGeneratedIdLength / 36;  // ~58333, sd ~240
  const double expected_first = double{kDraws} / 36;                 // ~2778, sd ~52
  for (char c : kIdAlphabet) {
    const auto n = counts[static_cast<unsigned char>(c)];
    EXPECT_GT(n, expected * 0.95) << "char " << c;
    EXPECT_LT(n, expected * 1.05) << "char " << c;
    const auto f = first_char_counts[static_cast<unsigned char>(c)];
    EXPECT_GT(f, expected_first * 0.8) << "first char " << c;
    EXPECT_LT(f, expected_first * 1.2) << "first char " << c;
  }
}

TEST(SecureRandomTest, CodeDigitsAreUniformlyDistributed) {
  std::array<int64_t, 10> counts{};
  std::array<int64_t, 10> last_digit_counts{};
  for (int i = 0; i < kDraws; ++i) {
    const std::string code = SecureRandom::NewCode();
    for (char c : code) ++counts[c - '0'];
    ++last_digit_counts[code.back() - '0'];
  }
  const double expected = double{kDraws} * kGeneratedCodeLength / 10;  // 60000, sd ~230
  const double expected_last = double{kDraws} / 10;                    // 10000, sd ~95
  for (int d = 0; d < 10; ++d) {
    EXPECT_GT(counts[d], expected * 0.95) << "digit " << d;
    EXPECT_LT(counts[d], expected * 1.05) << "digit " << d;
    EXPECT_GT(last_digit_counts[d], expected_last * 0.9) << "last digit " << d;
    EXPECT_LT(last_digit_counts[d], expected_last * 1.1) << "last digit " << d;
  }
}

TEST(SecureRandomTest, CodesWithLeadingZerosOccur) {
  int leading_zero = 0;
  for (int i = 0; i < 10'000; ++i) leading_zero += SecureRandom::NewCode()[0] == '0';
  EXPECT_GT(leading_zero, 700);  // expected ~1000
}

TEST(SecureRandomTest, NoDuplicateIdsIn100kDraws) {
  std::unordered_set<std::string> ids;
  ids.reserve(kDraws);
  for (int i = 0; i < kDraws; ++i) ASSERT_TRUE(ids.insert(SecureRandom::NewId()).second);
}

TEST(SecureRandomTest, ThreadsDrawIndependentIds) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::vector<std::string>> per_thread(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&per_thread, t] {
      for (int i = 0; i < kPerThread; ++i) per_thread[t].push_back(SecureRandom::NewId());
    });
  }
  for (auto& th : threads) th.join();
  std::unordered_set<std::string> all;
  for (const auto& ids : per_thread) {
    for (const auto& id : ids) EXPECT_TRUE(all.insert(id).second) << id;
  }
  EXPECT_EQ(all.size(), size_t{kThreads} * kPerThread);
}

}  // namespace
}  // namespace mfa
