// SPDX-License-Identifier: Apache-2.0
#include "http/route_table.h"

#include <gtest/gtest.h>

namespace mfa {
namespace {

TEST(MatchPathTest, LiteralAndIdSegments) {
  std::string_view id;
  EXPECT_TRUE(MatchPath("/a/b", "/a/b", &id));
  EXPECT_FALSE(MatchPath("/a/b", "/a/b/", &id));
  EXPECT_FALSE(MatchPath("/a/b", "/a", &id));
  EXPECT_TRUE(MatchPath("/users/{id}", "/users/u-1", &id));
  EXPECT_EQ(id, "u-1");
  EXPECT_FALSE(MatchPath("/users/{id}", "/users/", &id));
  EXPECT_FALSE(MatchPath("/users/{id}", "/users/a/b", &id));
  EXPECT_TRUE(MatchPath("/sessions/{id}/identify", "/sessions/s1/identify", &id));
  EXPECT_EQ(id, "s1");
  EXPECT_FALSE(MatchPath("/sessions/{id}/identify", "/sessions/s1/other", &id));
}

class RouteTableTest : public ::testing::Test {
 protected:
  static Route Make(Method method, std::string_view path) {
    return {.method = method, .path = path, .handler = [](const HttpRequest&, Reply&) {}};
  }
  std::unique_ptr<metrics::Metrics> metrics_ = metrics::CreateNoopMetrics();
};

TEST_F(RouteTableTest, EarlierRoutesWinAndOtherMethodsAreListedOnce) {
  RouteTable table({Make(Method::kGet, "/v/export"), Make(Method::kGet, "/v/{id}"),
                    Make(Method::kDelete, "/v/{id}"), Make(Method::kPost, "/v")},
                   metrics::Listener::kAdmin, *metrics_);
  std::string_view id;
  std::vector<Method> allowed;
  const Route* exported = table.Match("/v/export", Method::kGet, &id, &allowed);
  ASSERT_NE(exported, nullptr);
  EXPECT_EQ(exported->path, "/v/export");
  const Route* record = table.Match("/v/abc", Method::kDelete, &id, &allowed);
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(id, "abc");
  allowed.clear();
  EXPECT_EQ(table.Match("/v/abc", Method::kPut, &id, &allowed), nullptr);
  EXPECT_EQ(allowed, (std::vector<Method>{Method::kGet, Method::kDelete}));
  allowed.clear();
  EXPECT_EQ(table.Match("/nothing", Method::kGet, &id, &allowed), nullptr);
  EXPECT_TRUE(allowed.empty());
}

}  // namespace
}  // namespace mfa
