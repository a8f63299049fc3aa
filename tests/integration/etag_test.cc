// SPDX-License-Identifier: Apache-2.0
// Logto's ETag on the GET routes under /api (middleware/koa-body-etag.ts): a tag of the JSON body
// on every 2xx answer, 304 without a body to a matching If-None-Match, none on errors or outside
// /api.

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"

namespace mfa_test {
namespace {

constexpr std::string_view kSignInExperience = "/api/.well-known/sign-in-exp";

class EtagTest : public MockServerTest {};

TEST_F(EtagTest, AGetUnderApiIsTaggedAndAMatchingIfNoneMatchGets304) {
  HttpResponse first = pub().Get(kSignInExperience);
  ASSERT_TRUE(HasStatus(first, 200)) << first.Describe();
  const std::string tag = first.Header("ETag").value_or("");
  // "<body length in hex>-<27 characters of base64>"
  EXPECT_TRUE(std::regex_match(tag, std::regex(R"re("[0-9a-f]+-[A-Za-z0-9+/]{27}")re"))) << tag;
  char length[24];
  std::snprintf(length, sizeof(length), "\"%zx-", first.body.size());
  EXPECT_EQ(tag.rfind(length, 0), 0u) << tag;

  HttpResponse again = pub().Get(kSignInExperience);
  EXPECT_EQ(again.Header("ETag"), tag) << "the same body has the same tag";

  HttpResponse cached = pub().Get(kSignInExperience, {{"If-None-Match", tag}});
  ASSERT_TRUE(HasStatus(cached, 304)) << cached.Describe();
  EXPECT_TRUE(cached.body.empty());
  EXPECT_FALSE(cached.HasHeader("Content-Type")) << cached.Describe();
  EXPECT_EQ(cached.Header("ETag"), tag);
  EXPECT_TRUE(HasStatus(pub().Get(kSignInExperience, {{"If-None-Match", "W/" + tag}}), 304));
  EXPECT_TRUE(HasStatus(pub().Get(kSignInExperience, {{"If-None-Match", "\"0-x\", " + tag}}), 304));

  // Another tag, or no-cache: the whole answer.
  HttpResponse stale = pub().Get(kSignInExperience, {{"If-None-Match", "\"1-abc\""}});
  ASSERT_TRUE(HasStatus(stale, 200)) << stale.Describe();
  EXPECT_EQ(stale.body, first.body);
  EXPECT_TRUE(HasStatus(pub().Get(kSignInExperience,
                                  {{"If-None-Match", tag}, {"Cache-Control", "no-cache"}}),
                        200));
}

TEST_F(EtagTest, ErrorsAndRoutesOutsideApiCarryNoTag) {
  HttpResponse error = pub().Get("/api/experience/interaction");  // no session
  ASSERT_TRUE(HasStatus(error, 400)) << error.Describe();
  EXPECT_FALSE(error.HasHeader("ETag")) << error.Describe();
  HttpResponse unknown = pub().Get("/api/nothing-here");
  EXPECT_FALSE(unknown.HasHeader("ETag")) << unknown.Describe();
  HttpResponse authorize = pub().Get("/oidc/auth");
  ASSERT_TRUE(HasStatus(authorize, 303)) << authorize.Describe();
  EXPECT_FALSE(authorize.HasHeader("ETag"));
  HttpResponse post = pub().Post("/api/experience/verification/mfa-verification-code",
                                 R"({"identifierType":"email"})");
  ASSERT_TRUE(HasStatus(post, 200)) << post.Describe();
  EXPECT_FALSE(post.HasHeader("ETag")) << "only GET answers are tagged";
}

}  // namespace
}  // namespace mfa_test
