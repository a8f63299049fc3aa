// SPDX-License-Identifier: Apache-2.0
#include "http/header_screen.h"

#include <gtest/gtest.h>

#include <string>

namespace mfa {
namespace {

TEST(HeaderScreenTest, AWholeBlockInOneChunkYieldsItsHeaders) {
  HeaderScreener screener;
  RawHeaders raw;
  const std::string chunk =
      "POST /x HTTP/1.1\r\nHost: a\r\ncontent-TYPE:  application/json \r\nOrigin: http://o\r\n"
      "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(screener.Screen(chunk, &raw), HeaderScreen::kOk);
  EXPECT_TRUE(raw.complete);
  EXPECT_EQ(raw.content_type, "application/json");  // the first wins, blanks trimmed
  EXPECT_EQ(raw.origin, "http://o");
}

TEST(HeaderScreenTest, ABlockSplitOverChunksIsAcceptedButNotComplete) {
  HeaderScreener screener;
  RawHeaders raw;
  EXPECT_EQ(screener.Screen("GET / HTTP/1.1\r\nHost: a\r", &raw), HeaderScreen::kOk);
  EXPECT_EQ(screener.Screen("\n\r\n", &raw), HeaderScreen::kOk);
  EXPECT_FALSE(raw.complete);
  screener.NextRequest();
  EXPECT_EQ(screener.Screen("GET / HTTP/1.1\r\n\r\n", &raw), HeaderScreen::kOk);
  EXPECT_TRUE(raw.complete);
}

TEST(HeaderScreenTest, OversizedBlocksAreRefusedWholeOrInPieces) {
  const std::string big = "GET / HTTP/1.1\r\nX: " + std::string(kMaxHeaderBytes, 'a');
  HeaderScreener whole;
  RawHeaders raw;
  EXPECT_EQ(whole.Screen(big + "\r\n\r\n", &raw), HeaderScreen::kTooLarge);
  HeaderScreener pieces;
  HeaderScreen result = HeaderScreen::kOk;
  for (size_t at = 0; at < big.size() && result == HeaderScreen::kOk; at += 1000) {
    result = pieces.Screen(std::string_view(big).substr(at, 1000), &raw);
  }
  EXPECT_EQ(result, HeaderScreen::kTooLarge);
}

TEST(HeaderScreenTest, ContentLengthMustBePlainDigitsAndAgree) {
  for (const char* bad : {"26abc", "+26", "26 26", "-5", ""}) {
    HeaderScreener screener;
    RawHeaders raw;
    EXPECT_EQ(screener.Screen(std::string("POST / HTTP/1.1\r\nContent-Length: ") + bad + "\r\n\r\n",
                              &raw),
              HeaderScreen::kBadContentLength)
        << bad;
  }
  HeaderScreener conflicting;
  RawHeaders raw;
  EXPECT_EQ(
      conflicting.Screen("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\n", &raw),
      HeaderScreen::kBadContentLength);
  HeaderScreener repeated;
  EXPECT_EQ(
      repeated.Screen("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n", &raw),
      HeaderScreen::kOk);
}

TEST(HeaderScreenTest, TheBodyOfARequestIsNotScreenedAsHeaders) {
  HeaderScreener screener;
  RawHeaders raw;
  EXPECT_EQ(screener.Screen("POST / HTTP/1.1\r\nContent-Length: 40000\r\n\r\n", &raw),
            HeaderScreen::kOk);
  EXPECT_EQ(screener.Screen(std::string(40000, 'x'), &raw), HeaderScreen::kOk);
}

}  // namespace
}  // namespace mfa
