// SPDX-License-Identifier: Apache-2.0
#include "core/compact_text.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>

#include "core/record.h"

namespace mfa {
namespace {

TEST(InlineTextTest, DefaultIsEmptyAndInline) {
  InlineText<24> text;
  EXPECT_TRUE(text.IsInline());
  EXPECT_EQ(text.view(), "");
}

TEST(InlineTextTest, StoresUpToNMinusOneCharsInline) {
  const std::string s(23, 'x');
  InlineText<24> text;
  text.Assign(s);
  EXPECT_TRUE(text.IsInline());
  EXPECT_EQ(text.view(), s);
}

TEST(InlineTextTest, StoresNCharsOrMoreOnTheHeap) {
  for (size_t len : {24u, 25u, 100u, 1000u}) {
    std::string s;
    for (size_t i = 0; i < len; ++i) s.push_back(static_cast<char>('a' + i % 26));
    InlineText<24> text;
    text.Assign(s);
    EXPECT_FALSE(text.IsInline()) << len;
    EXPECT_EQ(text.view(), s) << len;
  }
}

TEST(InlineTextTest, SmallSizeBoundaryIsSevenInlineEightHeap) {
  InlineText<8> seven;
  seven.Assign("1234567");
  EXPECT_TRUE(seven.IsInline());
  EXPECT_EQ(seven.view(), "1234567");
  InlineText<8> eight;
  eight.Assign("12345678");
  EXPECT_FALSE(eight.IsInline());
  EXPECT_EQ(eight.view(), "12345678");
}

TEST(InlineTextTest, KeepsEmbeddedNulBytes) {
  const std::string s("a\0b\0c", 5);
  InlineText<8> inline_text;
  inline_text.Assign(s);
  EXPECT_EQ(inline_text.view(), s);
  const std::string long_s = s + s + s + s + s;
  InlineText<8> heap_text;
  heap_text.Assign(long_s);
  EXPECT_EQ(heap_text.view(), long_s);
}

TEST(InlineTextTest, AssignSwitchesBetweenInlineAndHeap) {
  InlineText<24> text;
  text.Assign("short");
  const std::string long_s(50, 'L');
  text.Assign(long_s);
  EXPECT_FALSE(text.IsInline());
  EXPECT_EQ(text.view(), long_s);
  const std::string longer(80, 'M');
  text.Assign(longer);
  EXPECT_EQ(text.view(), longer);
  text.Assign("tiny");
  EXPECT_TRUE(text.IsInline());
  EXPECT_EQ(text.view(), "tiny");
  text.Assign("");
  EXPECT_TRUE(text.IsInline());
  EXPECT_EQ(text.view(), "");
}

// std::string_view{} has a null data(); the store erases records with Assign({}). Passing that
// null pointer to memcpy is undefined even for zero bytes (UBSan aborts the sanitizer build).
TEST(InlineTextTest, AssignOfADefaultStringViewEmptiesTheText) {
  InlineText<24> text;
  text.Assign(std::string(30, 'h'));
  text.Assign(std::string_view());
  EXPECT_TRUE(text.IsInline());
  EXPECT_EQ(text.view(), "");
  InlineText<8> small;
  small.Assign("abc");
  small.Assign(std::string_view());
  EXPECT_EQ(small.view(), "");
}

TEST(InlineTextTest, MoveConstructionTransfersTheTextAndEmptiesTheSource) {
  const std::string long_s(40, 'q');
  InlineText<24> source;
  source.Assign(long_s);
  InlineText<24> moved(std::move(source));
  EXPECT_EQ(moved.view(), long_s);
  EXPECT_TRUE(source.IsInline());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(source.view(), "");

  InlineText<24> short_source;
  short_source.Assign("abc");
  InlineText<24> short_moved(std::move(short_source));
  EXPECT_EQ(short_moved.view(), "abc");
  EXPECT_EQ(short_source.view(), "");  // NOLINT(bugprone-use-after-move)
}

TEST(InlineTextTest, MoveAssignmentReplacesTheTarget) {
  const std::string a(30, 'a');
  const std::string b(31, 'b');
  InlineText<24> target;
  target.Assign(a);
  InlineText<24> source;
  source.Assign(b);
  target = std::move(source);
  EXPECT_EQ(target.view(), b);
  EXPECT_EQ(source.view(), "");  // NOLINT(bugprone-use-after-move)

  InlineText<24> inline_source;
  inline_source.Assign("xyz");
  target = std::move(inline_source);
  EXPECT_TRUE(target.IsInline());
  EXPECT_EQ(target.view(), "xyz");
}

TEST(InlineTextTest, SizeIsExactlyN) {
  EXPECT_EQ(sizeof(InlineText<8>), 8u);
  EXPECT_EQ(sizeof(InlineText<24>), 24u);
  EXPECT_EQ(sizeof(InlineText<128>), 128u);
}

TEST(InlineTextTest, LargestInlineLengthForN128RoundTrips) {
  const std::string s(127, 'z');
  InlineText<128> text;
  text.Assign(s);
  EXPECT_TRUE(text.IsInline());
  EXPECT_EQ(text.view(), s);
}

// Builds an InlineText<N> in storage whose bytes are all `fill`, through the converting
// constructor, and exits 0 if it holds `s` afterwards. Run in a death-test child: if the
// constructor reads its uninitialized bytes (and frees them as a heap pointer), the child dies.
template <size_t N>
[[noreturn]] void ConstructOverGarbageAndExit(unsigned char fill, std::string_view s) {
  alignas(8) unsigned char storage[sizeof(InlineText<N>)];
  std::memset(storage, fill, sizeof(storage));
  asm volatile("" : : "r"(storage) : "memory");  // keep the fill: it models a dirty stack
  auto* text = new (storage) InlineText<N>(s);
  const bool ok = text->view() == s;
  text->~InlineText<N>();
  std::_Exit(ok ? 0 : 1);
}

TEST(InlineTextDeathTest, ConvertingConstructorDoesNotReadUninitializedBytes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // 0x10: low bit clear, so the garbage looks like a heap pointer to the constructor.
  EXPECT_EXIT(ConstructOverGarbageAndExit<24>(0x10, "abc"), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(ConstructOverGarbageAndExit<24>(0x10, std::string(40, 'h')),
              ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(ConstructOverGarbageAndExit<8>(0x10, "1234567"), ::testing::ExitedWithCode(0), "");
}

TEST(SharedTextRefTest, DefaultIsNullAndEmpty) {
  SharedTextRef ref;
  EXPECT_FALSE(ref);
  EXPECT_EQ(ref.view(), "");
  EXPECT_EQ(ref.get(), nullptr);
}

TEST(SharedTextRefTest, HoldsTheText) {
  SharedTextRef ref("user@example.com");
  EXPECT_TRUE(ref);
  EXPECT_EQ(ref.view(), "user@example.com");
}

TEST(SharedTextRefTest, EmptyStringIsANonNullEmptyText) {
  SharedTextRef ref("");
  EXPECT_TRUE(ref);
  EXPECT_EQ(ref.view(), "");
}

TEST(SharedTextRefTest, CopiesShareOneTextThatOutlivesTheOriginal) {
  SharedTextRef copy;
  {
    SharedTextRef original("shared");
    copy = original;
    EXPECT_EQ(copy.get(), original.get());
  }
  EXPECT_EQ(copy.view(), "shared");
}

TEST(SharedTextRefTest, MoveLeavesTheSourceNull) {
  SharedTextRef source("moved");
  SharedText* raw = source.get();
  SharedTextRef target(std::move(source));
  EXPECT_EQ(target.get(), raw);
  EXPECT_FALSE(source);  // NOLINT(bugprone-use-after-move)
}

TEST(SharedTextRefTest, ReleaseHandsOverOwnership) {
  SharedTextRef ref("released");
  SharedText* raw = ref.release();
  EXPECT_FALSE(ref);
  ASSERT_NE(raw, nullptr);
  EXPECT_EQ(raw->view(), "released");
  raw->Unref();
}

TEST(IdentifierRefTest, DefaultIsSharedFormWithEmptyView) {
  IdentifierRef ref;
  EXPECT_FALSE(ref.IsGenerated());
  EXPECT_EQ(ref.SharedView(), "");
}

TEST(IdentifierRefTest, SharedFormExposesTheTextAndKeepsItAlive) {
  IdentifierRef ref;
  {
    SharedTextRef text("+15555550100");
    ref = IdentifierRef::Shared(text);
  }
  EXPECT_FALSE(ref.IsGenerated());
  EXPECT_EQ(ref.SharedView(), "+15555550100");
}

TEST(IdentifierRefTest, GeneratedFormRoundTripsBatchAndSeq) {
  IdentifierRef ref = IdentifierRef::Generated(7, 12345);
  EXPECT_TRUE(ref.IsGenerated());
  EXPECT_EQ(ref.batch(), 7u);
  EXPECT_EQ(ref.seq(), 12345u);
  EXPECT_EQ(ref.SharedView(), "");

  IdentifierRef big = IdentifierRef::Generated(0xffffffffu, 0x7fffffffu);
  EXPECT_TRUE(big.IsGenerated());
  EXPECT_EQ(big.batch(), 0xffffffffu);
  EXPECT_EQ(big.seq(), 0x7fffffffu);
}

TEST(IdentifierRefTest, MoveLeavesTheSourceEmpty) {
  IdentifierRef source = IdentifierRef::Shared(SharedTextRef("a@b.c"));
  IdentifierRef target(std::move(source));
  EXPECT_EQ(target.SharedView(), "a@b.c");
  EXPECT_EQ(source.SharedView(), "");  // NOLINT(bugprone-use-after-move)
  EXPECT_FALSE(source.IsGenerated());  // NOLINT(bugprone-use-after-move)

  IdentifierRef assigned = IdentifierRef::Generated(1, 1);
  assigned = std::move(target);
  EXPECT_FALSE(assigned.IsGenerated());
  EXPECT_EQ(assigned.SharedView(), "a@b.c");
}

TEST(IdentifierRefTest, IsEightBytes) {
  EXPECT_EQ(sizeof(IdentifierRef), 8u);
  EXPECT_EQ(sizeof(SharedTextRef), 8u);
}

}  // namespace
}  // namespace mfa
