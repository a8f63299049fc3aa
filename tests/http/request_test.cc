// SPDX-License-Identifier: Apache-2.0
#include "http/request.h"

#include <gtest/gtest.h>

#include "http/reply.h"

namespace mfa {
namespace {

TEST(HttpRequestTest, FirstCookieAndQueryOfANameWin) {
  HttpRequest request;
  request.cookies = {{"_interaction", "s1"}, {"other", "x"}};
  request.query = {{"to", "a%40b.c"}, {"to", "second"}, {"limit", "5"}};
  EXPECT_EQ(request.Cookie("_interaction"), "s1");
  EXPECT_EQ(request.Cookie("missing"), "");
  EXPECT_EQ(request.Query("to"), "a@b.c");
  EXPECT_EQ(request.Query("limit"), "5");
  EXPECT_FALSE(request.Query("absent").has_value());
}

TEST(HttpRequestTest, DecodesTheIdSegment) {
  HttpRequest request;
  request.id = "qa%2Dok";
  EXPECT_EQ(request.DecodedId(), "qa-ok");
}

TEST(PercentDecodeTest, KeepsMalformedEscapes) {
  EXPECT_EQ(PercentDecode("a%20b"), "a b");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("100%"), "100%");
}

TEST(HttpRequestTest, DeferOutsideAHandlerGivesNoAnswer) {
  HttpRequest request;
  EXPECT_FALSE(request.Defer().valid());
}

TEST(MethodNameTest, NamesEveryMethod) {
  EXPECT_EQ(MethodName(Method::kGet), "GET");
  EXPECT_EQ(MethodName(Method::kPatch), "PATCH");
  EXPECT_EQ(MethodName(Method::kOther), "OTHER");
}

}  // namespace
}  // namespace mfa
