// SPDX-License-Identifier: Apache-2.0
// Logto's ETag (the npm `etag` package over JSON.stringify(body)) and koa's `fresh` check. The
// expected values were printed by etag 1.8.1 and fresh 0.5.2 under node.

#include "http/etag.h"

#include <gtest/gtest.h>

namespace mfa {
namespace {

TEST(EtagTest, IsTheNpmPackagesStrongTagOfTheBody) {
  EXPECT_EQ(EtagOf(""), "\"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk\"");
  EXPECT_EQ(EtagOf(R"({"a":1})"), "\"7-n4nHQM60bXQYySSnisV5QdXpZSA\"");
  // The length is in bytes, not characters.
  EXPECT_EQ(EtagOf("h\xc3\xa9llo"), "\"6-NbXqRcXkH3i0apN8x01B3+qSCJA\"");
}

TEST(EtagTest, FreshWhenIfNoneMatchListsTheTagWeakOrStrong) {
  const std::string tag = "\"7-abc\"";
  EXPECT_TRUE(IsFresh("\"7-abc\"", "", tag));
  EXPECT_TRUE(IsFresh("W/\"7-abc\"", "", tag));
  EXPECT_TRUE(IsFresh("\"x\", \"7-abc\"", "", tag));
  EXPECT_TRUE(IsFresh("*", "", tag));
  EXPECT_FALSE(IsFresh("\"7-abd\"", "", tag));
  EXPECT_FALSE(IsFresh("", "", tag));
}

TEST(EtagTest, NoCacheIsNeverFresh) {
  EXPECT_FALSE(IsFresh("\"7-abc\"", "max-age=0, no-cache", "\"7-abc\""));
  EXPECT_FALSE(IsFresh("*", "no-cache", "\"7-abc\""));
  EXPECT_TRUE(IsFresh("\"7-abc\"", "no-cache-ish, max-age=0", "\"7-abc\""));
}

}  // namespace
}  // namespace mfa
