// SPDX-License-Identifier: Apache-2.0
#include "http/cors.h"

#include <gtest/gtest.h>

namespace mfa {
namespace {

HttpRequest FromOrigin(std::string_view origin, Method method = Method::kPost) {
  HttpRequest request;
  request.method = method;
  request.path = "/x";
  request.origin = origin;
  return request;
}

std::string HeaderOf(const CorsDecision& d, std::string_view name) {
  for (const ReplyHeader& h : d.headers) {
    if (h.name == name) return h.value;
  }
  return "<absent>";
}

TEST(CorsTest, OffOrNoOriginAddsNothing) {
  CorsPolicy reflect{.mode = CorsPolicy::Mode::kReflect};
  EXPECT_TRUE(DecideCors(CorsPolicy{}, FromOrigin("http://a.test")).headers.empty());
  EXPECT_TRUE(DecideCors(reflect, FromOrigin("")).headers.empty());
}

TEST(CorsTest, ReflectEchoesTheOriginWithCredentialsAndVary) {
  const CorsDecision d =
      DecideCors(CorsPolicy{.mode = CorsPolicy::Mode::kReflect}, FromOrigin("http://a.test"));
  EXPECT_FALSE(d.preflight);
  EXPECT_EQ(HeaderOf(d, "Vary"), "Origin");
  EXPECT_EQ(HeaderOf(d, "Access-Control-Allow-Origin"), "http://a.test");
  EXPECT_EQ(HeaderOf(d, "Access-Control-Allow-Credentials"), "true");
}

TEST(CorsTest, ReflectNeverEchoesAValueWithControlBytes) {
  const CorsDecision d = DecideCors(CorsPolicy{.mode = CorsPolicy::Mode::kReflect},
                                    FromOrigin("http://a.test\nX-Injected: 1"));
  EXPECT_EQ(HeaderOf(d, "Access-Control-Allow-Origin"), "<absent>");
  EXPECT_EQ(HeaderOf(d, "Vary"), "Origin");
}

TEST(CorsTest, AnyAnswersStarWithoutCredentials) {
  const CorsDecision d =
      DecideCors(CorsPolicy{.mode = CorsPolicy::Mode::kAny}, FromOrigin("http://a.test"));
  EXPECT_EQ(HeaderOf(d, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(HeaderOf(d, "Access-Control-Allow-Credentials"), "<absent>");
  EXPECT_EQ(HeaderOf(d, "Vary"), "<absent>");
}

TEST(CorsTest, ListAllowsOnlyListedOrigins) {
  const CorsPolicy list{.mode = CorsPolicy::Mode::kList, .origins = {"http://ok.test"}};
  EXPECT_EQ(HeaderOf(DecideCors(list, FromOrigin("http://ok.test")), "Access-Control-Allow-Origin"),
            "http://ok.test");
  EXPECT_EQ(HeaderOf(DecideCors(list, FromOrigin("http://no.test")), "Access-Control-Allow-Origin"),
            "<absent>");
}

TEST(CorsTest, PreflightOfAnAllowedOriginGetsMethodsHeadersAndMaxAge) {
  HttpRequest request = FromOrigin("http://a.test", Method::kOptions);
  request.access_control_request_method = "POST";
  request.access_control_request_headers = "content-type, x-trace";
  const CorsDecision d = DecideCors(CorsPolicy{.mode = CorsPolicy::Mode::kReflect}, request);
  EXPECT_TRUE(d.preflight);
  EXPECT_EQ(HeaderOf(d, "Access-Control-Allow-Methods"), "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  EXPECT_EQ(HeaderOf(d, "Access-Control-Allow-Headers"), "content-type, x-trace");
  EXPECT_EQ(HeaderOf(d, "Access-Control-Max-Age"), "600");
  request.access_control_request_headers = "bad\r\nvalue";
  EXPECT_EQ(HeaderOf(DecideCors(CorsPolicy{.mode = CorsPolicy::Mode::kReflect}, request),
                     "Access-Control-Allow-Headers"),
            "Content-Type");
}

TEST(CorsTest, OptionsWithoutRequestMethodIsNotAPreflight) {
  EXPECT_FALSE(DecideCors(CorsPolicy{.mode = CorsPolicy::Mode::kReflect},
                          FromOrigin("http://a.test", Method::kOptions))
                   .preflight);
}

TEST(CorsTest, ParsesEveryPolicyForm) {
  CorsPolicy p;
  ASSERT_TRUE(ParseCorsPolicy("reflect", &p));
  EXPECT_EQ(p.mode, CorsPolicy::Mode::kReflect);
  ASSERT_TRUE(ParseCorsPolicy("*", &p));
  EXPECT_EQ(p.mode, CorsPolicy::Mode::kAny);
  ASSERT_TRUE(ParseCorsPolicy("off", &p));
  EXPECT_EQ(p.mode, CorsPolicy::Mode::kOff);
  ASSERT_TRUE(ParseCorsPolicy(" http://a.test ,,http://b.test,", &p));
  EXPECT_EQ(p.mode, CorsPolicy::Mode::kList);
  EXPECT_EQ(p.origins, (std::vector<std::string>{"http://a.test", "http://b.test"}));
  EXPECT_FALSE(ParseCorsPolicy(" , ", &p));
}

}  // namespace
}  // namespace mfa
