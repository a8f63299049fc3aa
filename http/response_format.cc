// SPDX-License-Identifier: Apache-2.0
#include "http/response_format.h"

namespace mfa {
namespace {

void AppendDecimal(std::string& out, size_t n) {
  char digits[20];
  size_t len = 0;
  do {
    digits[len++] = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  while (len > 0) out.push_back(digits[--len]);
}

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

std::string FormatSetCookie(const SetCookie& cookie) {
  std::string out = cookie.name + "=" + cookie.value;
  if (!cookie.path.empty()) out += "; Path=" + cookie.path;
  if (cookie.http_only) out += "; HttpOnly";
  if (!cookie.same_site.empty()) out += "; SameSite=" + cookie.same_site;
  return out;
}

namespace {

// The status line and every header but the body's length.
void AppendHead(std::string& out, HttpVersion version, int status, std::string_view reason,
                const Reply& reply, bool close, bool no_content) {
  out += version == HttpVersion::kHttp10 ? "HTTP/1.0 " : "HTTP/1.1 ";
  AppendDecimal(out, static_cast<size_t>(status));
  out += ' ';
  out += reason;
  out += "\r\n";
  AppendHeader(out, "Connection", close ? "Close" : "Keep-Alive");
  for (const ReplyHeader& header : reply.headers) AppendHeader(out, header.name, header.value);
  for (const SetCookie& cookie : reply.cookies) {
    AppendHeader(out, "Set-Cookie", FormatSetCookie(cookie));
  }
  if (!no_content && !reply.content_type.empty()) {
    AppendHeader(out, "Content-Type", reply.content_type);
  }
}

}  // namespace

std::string FormatResponse(HttpVersion version, int status, std::string_view reason,
                           const Reply& reply, bool close) {
  const bool no_content = status == 204 || status == 304;
  const std::string_view body = no_content ? std::string_view() : std::string_view(reply.body);
  std::string out;
  out.reserve(160 + body.size());
  AppendHead(out, version, status, reason, reply, close, no_content);
  out += "Content-Length: ";
  AppendDecimal(out, body.size());
  out += "\r\n\r\n";
  out += body;
  return out;
}

std::string FormatStreamHead(HttpVersion version, int status, std::string_view reason,
                             const Reply& reply, bool close) {
  std::string out;
  out.reserve(200);
  const bool chunked = version == HttpVersion::kHttp11;
  AppendHead(out, version, status, reason, reply, close || !chunked, /*no_content=*/false);
  if (chunked) out += "Transfer-Encoding: chunked\r\n";
  out += "\r\n";
  return out;
}

std::string FrameChunk(HttpVersion version, std::string_view data) {
  if (version == HttpVersion::kHttp10) return std::string(data);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string size;
  for (size_t n = data.size(); n > 0 || size.empty(); n >>= 4)
    size.insert(size.begin(), kHex[n & 15]);
  std::string out;
  out.reserve(size.size() + data.size() + 4);
  out += size;
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

}  // namespace mfa
