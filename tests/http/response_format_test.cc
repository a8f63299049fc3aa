// SPDX-License-Identifier: Apache-2.0
#include "http/response_format.h"

#include <gtest/gtest.h>

namespace mfa {
namespace {

TEST(ResponseFormatTest, WritesStatusLineHeadersTypeLengthAndBody) {
  Reply reply;
  reply.body = "{\"a\":1}";
  reply.headers.push_back({"Vary", "Origin"});
  EXPECT_EQ(FormatResponse(HttpVersion::kHttp11, 200, "OK", reply, false),
            "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nVary: Origin\r\n"
            "Content-Type: application/json; charset=utf-8\r\nContent-Length: 7\r\n\r\n{\"a\":1}");
}

TEST(ResponseFormatTest, CloseAndHttp10AreSaid) {
  Reply reply;
  reply.status = 503;
  reply.body = "x";
  reply.content_type = "text/plain";
  EXPECT_EQ(FormatResponse(HttpVersion::kHttp10, 503, "Service Unavailable", reply, true),
            "HTTP/1.0 503 Service Unavailable\r\nConnection: Close\r\nContent-Type: text/plain\r\n"
            "Content-Length: 1\r\n\r\nx");
}

TEST(ResponseFormatTest, NoContentHasNoTypeAndNoBody) {
  Reply reply;
  reply.body = "ignored";
  EXPECT_EQ(FormatResponse(HttpVersion::kHttp11, 204, "No Content", reply, false),
            "HTTP/1.1 204 No Content\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseFormatTest, CookiesAreWrittenAsPistacheWritesThem) {
  Reply reply;
  reply.status = 204;
  reply.cookies.push_back(SetCookie{.name = "_interaction", .value = "abc"});
  const std::string bytes = FormatResponse(HttpVersion::kHttp11, 204, "No Content", reply, false);
  EXPECT_NE(bytes.find("\r\nSet-Cookie: _interaction=abc; Path=/; HttpOnly; SameSite=Lax\r\n"),
            std::string::npos)
      << bytes;
  SetCookie plain{.name = "a", .value = "b", .path = "", .http_only = false, .same_site = ""};
  EXPECT_EQ(FormatSetCookie(plain), "a=b");
}

TEST(FormatStreamHeadTest, Http11IsChunkedWithoutALength) {
  Reply reply;
  reply.content_type = "text/csv; charset=utf-8";
  const std::string head = FormatStreamHead(HttpVersion::kHttp11, 200, "OK", reply, false);
  EXPECT_EQ(head,
            "HTTP/1.1 200 OK\r\nConnection: Keep-Alive\r\nContent-Type: text/csv; "
            "charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST(FormatStreamHeadTest, Http10ClosesInsteadOfChunking) {
  Reply reply;
  const std::string head = FormatStreamHead(HttpVersion::kHttp10, 200, "OK", reply, false);
  EXPECT_EQ(head.find("Transfer-Encoding"), std::string::npos);
  EXPECT_EQ(head.find("Content-Length"), std::string::npos);
  EXPECT_NE(head.find("Connection: Close\r\n"), std::string::npos);
}

TEST(FrameChunkTest, SizeInHexThenDataThenTheLastChunkIsEmpty) {
  EXPECT_EQ(FrameChunk(HttpVersion::kHttp11, "hello"), "5\r\nhello\r\n");
  EXPECT_EQ(FrameChunk(HttpVersion::kHttp11, std::string(300, 'x')).substr(0, 5), "12c\r\n");
  EXPECT_EQ(FrameChunk(HttpVersion::kHttp11, ""), "0\r\n\r\n");
  EXPECT_EQ(FrameChunk(HttpVersion::kHttp10, "raw"), "raw");
}

}  // namespace
}  // namespace mfa
