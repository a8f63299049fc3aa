// SPDX-License-Identifier: Apache-2.0
#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace mfa_test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kExchangeCap(180);
constexpr size_t kReadChunk = 64 * 1024;

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// True if the comma-separated header value contains `token` (case-insensitive).
bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view part = Trim(value.substr(0, comma));
    if (EqualsIgnoreCase(part, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits until `fd` is ready for `events`. Returns 1 ready, 0 timeout, -1 error.
int WaitFd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  while (true) {
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    return r < 0 ? -1 : (r == 0 ? 0 : 1);
  }
}

// Writes everything. Returns false with `*error` set on failure or timeout.
bool WriteAll(int fd, std::string_view data, std::chrono::milliseconds timeout,
              Clock::time_point cap, std::string* error) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      int wait_ms = std::min<int>(static_cast<int>(timeout.count()), RemainingMs(cap));
      int w = WaitFd(fd, POLLOUT, wait_ms);
      if (w == 1) continue;
      *error = "write timed out after " + std::to_string(done) + " of " +
               std::to_string(data.size()) + " bytes";
      return false;
    }
    *error = std::string("write failed after ") + std::to_string(done) +
             " bytes: " + std::strerror(errno);
    return false;
  }
  return true;
}

enum class ReadResult { kData, kEof, kReset, kTimeout, kError };

// Appends what is available (waiting up to `timeout_ms`) to `buf`.
ReadResult ReadSome(int fd, std::string* buf, int timeout_ms) {
  int w = WaitFd(fd, POLLIN, timeout_ms);
  if (w == 0) return ReadResult::kTimeout;
  if (w < 0) return ReadResult::kError;
  char chunk[kReadChunk];
  while (true) {
    ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      buf->append(chunk, static_cast<size_t>(n));
      return ReadResult::kData;
    }
    if (n == 0) return ReadResult::kEof;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return ReadResult::kData;  // spurious wake
    if (errno == ECONNRESET || errno == EPIPE) return ReadResult::kReset;
    return ReadResult::kError;
  }
}

bool ParseHex(std::string_view s, size_t* out) {
  s = Trim(s);
  if (s.empty() || s.size() > 15) return false;
  size_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = v * 16 + static_cast<size_t>(d);
  }
  *out = v;
  return true;
}

bool ParseDecimal(std::string_view s, size_t* out) {
  s = Trim(s);
  if (s.empty() || s.size() > 18) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  *out = v;
  return true;
}

// Decodes a chunked body starting at `pos`.
ParseStatus ParseChunked(std::string_view data, size_t pos, bool eof, HttpResponse* out,
                         size_t* consumed) {
  std::string body;
  while (true) {
    size_t line_end = data.find("\r\n", pos);
    if (line_end == std::string_view::npos) break;
    std::string_view size_line = data.substr(pos, line_end - pos);
    size_t semi = size_line.find(';');
    size_t size = 0;
    if (!ParseHex(size_line.substr(0, semi), &size)) {
      out->error = "bad chunk size line: '" + std::string(size_line.substr(0, 40)) + "'";
      return ParseStatus::kError;
    }
    pos = line_end + 2;
    if (size == 0) {
      // Trailer fields, then an empty line.
      while (true) {
        size_t end = data.find("\r\n", pos);
        if (end == std::string_view::npos) goto incomplete;
        bool empty = end == pos;
        pos = end + 2;
        if (empty) {
          out->body = std::move(body);
          *consumed = pos;
          return ParseStatus::kComplete;
        }
      }
    }
    if (data.size() < pos + size + 2) break;
    body.append(data.substr(pos, size));
    if (data.substr(pos + size, 2) != "\r\n") {
      out->error = "chunk of " + std::to_string(size) + " bytes not followed by CRLF";
      return ParseStatus::kError;
    }
    pos += size + 2;
  }
incomplete:
  if (eof) {
    out->body = std::move(body);
    out->error = "connection closed inside a chunked body";
    return ParseStatus::kError;
  }
  return ParseStatus::kIncomplete;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

std::vector<std::string> HttpResponse::HeaderValues(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& [key, value] : headers) {
    if (EqualsIgnoreCase(key, name)) values.push_back(value);
  }
  return values;
}

std::string HttpResponse::Describe(size_t max_body) const {
  std::string s;
  if (!error.empty()) s += "[error: " + error + "]\n";
  s += version + " " + std::to_string(status) + " " + reason + "\n";
  for (const auto& [key, value] : headers) s += key + ": " + value + "\n";
  s += "\n";
  if (body.size() > max_body) {
    s += body.substr(0, max_body) + "... (" + std::to_string(body.size()) + " bytes)";
  } else {
    s += body;
  }
  return s;
}

ParseStatus ParseHttpResponse(std::string_view data, bool eof, bool head_request, HttpResponse* out,
                              size_t* consumed) {
  size_t pos = 0;
  while (true) {
    *out = HttpResponse();
    size_t head_end = data.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) {
      if (!eof) return ParseStatus::kIncomplete;
      out->error = pos == data.size() ? "connection closed before any response byte"
                                      : "connection closed inside the response head";
      return ParseStatus::kError;
    }
    std::string_view head = data.substr(pos, head_end - pos);
    size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    // "HTTP/1.1 200 OK"
    size_t sp1 = status_line.find(' ');
    if (status_line.substr(0, 5) != "HTTP/" || sp1 == std::string_view::npos) {
      out->error = "bad status line: '" + std::string(status_line.substr(0, 80)) + "'";
      return ParseStatus::kError;
    }
    out->version = std::string(status_line.substr(0, sp1));
    std::string_view rest = status_line.substr(sp1 + 1);
    size_t sp2 = rest.find(' ');
    size_t status = 0;
    if (!ParseDecimal(rest.substr(0, sp2), &status) || status < 100 || status > 999) {
      out->error = "bad status code in: '" + std::string(status_line.substr(0, 80)) + "'";
      return ParseStatus::kError;
    }
    out->status = static_cast<int>(status);
    if (sp2 != std::string_view::npos) out->reason = std::string(rest.substr(sp2 + 1));

    std::string_view fields =
        line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!fields.empty()) {
      size_t end = fields.find("\r\n");
      std::string_view line = fields.substr(0, end);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        out->error = "bad header line: '" + std::string(line.substr(0, 80)) + "'";
        return ParseStatus::kError;
      }
      out->headers.emplace_back(std::string(line.substr(0, colon)),
                                std::string(Trim(line.substr(colon + 1))));
      if (end == std::string_view::npos) break;
      fields.remove_prefix(end + 2);
    }

    size_t body_start = head_end + 4;
    if (out->status < 200 && out->status != 101) {  // interim response: skip it
      pos = body_start;
      continue;
    }
    if (head_request || out->status == 204 || out->status == 304) {
      *consumed = body_start;
      return ParseStatus::kComplete;
    }
    std::optional<std::string> te = out->Header("Transfer-Encoding");
    if (te && HasToken(*te, "chunked")) {
      out->chunked = true;
      return ParseChunked(data, body_start, eof, out, consumed);
    }
    std::vector<std::string> lengths = out->HeaderValues("Content-Length");
    if (!lengths.empty()) {
      size_t length = 0;
      if (!ParseDecimal(lengths[0], &length)) {
        out->error = "bad Content-Length: '" + lengths[0] + "'";
        return ParseStatus::kError;
      }
      for (const std::string& other : lengths) {
        if (Trim(other) != Trim(lengths[0])) {
          out->error = "conflicting Content-Length headers";
          return ParseStatus::kError;
        }
      }
      if (data.size() - body_start < length) {
        if (!eof) return ParseStatus::kIncomplete;
        out->body = std::string(data.substr(body_start));
        out->error = "connection closed after " + std::to_string(out->body.size()) + " of " +
                     std::to_string(length) + " body bytes";
        return ParseStatus::kError;
      }
      out->body = std::string(data.substr(body_start, length));
      *consumed = body_start + length;
      return ParseStatus::kComplete;
    }
    // No framing: the body runs until the peer closes.
    if (!eof) return ParseStatus::kIncomplete;
    out->body = std::string(data.substr(body_start));
    *consumed = data.size();
    return ParseStatus::kComplete;
  }
}

HttpResponse RawExchange::Parse() const {
  HttpResponse r;
  size_t consumed = 0;
  // With more than one response in `bytes`, the first is returned.
  ParseHttpResponse(bytes, /*eof=*/true, false, &r, &consumed);
  if (r.error.empty() && !error.empty()) r.error = error;
  return r;
}

HttpClient::HttpClient(uint16_t port, std::string host, std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), timeout_(timeout) {}

HttpClient::~HttpClient() { Disconnect(); }

void HttpClient::Disconnect() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  pending_.clear();
}

int HttpClient::Connect(std::string* error) const {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  int family = host_.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET6) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&addr);
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons(port_);
    if (inet_pton(AF_INET6, host_.c_str(), &a6->sin6_addr) != 1) {
      *error = "bad IPv6 address: " + host_;
      return -1;
    }
    addr_len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&addr);
    a4->sin_family = AF_INET;
    a4->sin_port = htons(port_);
    if (inet_pton(AF_INET, host_.c_str(), &a4->sin_addr) != 1) {
      *error = "bad IPv4 address: " + host_;
      return -1;
    }
    addr_len = sizeof(sockaddr_in);
  }
  int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  int r = connect(fd, reinterpret_cast<sockaddr*>(&addr), addr_len);
  if (r < 0 && errno != EINPROGRESS) {
    *error = "connect to " + host_ + ":" + std::to_string(port_) + ": " + std::strerror(errno);
    close(fd);
    return -1;
  }
  if (r < 0) {
    int w = WaitFd(fd, POLLOUT, static_cast<int>(timeout_.count()));
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (w != 1 || so_error != 0) {
      *error = "connect to " + host_ + ":" + std::to_string(port_) + ": " +
               (w == 0 ? std::string("timed out") : std::string(std::strerror(so_error)));
      close(fd);
      return -1;
    }
  }
  return fd;
}

HttpResponse HttpClient::Request(std::string_view method, std::string_view target,
                                 std::string_view body, const Headers& headers) {
  auto given = [&](std::string_view name) {
    for (const auto& h : headers) {
      if (EqualsIgnoreCase(h.first, name)) return true;
    }
    for (const auto& h : default_headers_) {
      if (EqualsIgnoreCase(h.first, name)) return true;
    }
    return false;
  };
  std::string request;
  request.reserve(256 + body.size());
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  if (!given("Host")) {
    std::string host = host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_;
    request.append("Host: ").append(host).append(":").append(std::to_string(port_)).append("\r\n");
  }
  bool wants_length = !body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
  if (wants_length && !given("Content-Length") && !given("Transfer-Encoding")) {
    request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  if (!body.empty() && !given("Content-Type")) {
    request.append("Content-Type: application/json\r\n");
  }
  for (const auto& [name, value] : default_headers_) {
    bool overridden = false;
    for (const auto& h : headers) overridden |= EqualsIgnoreCase(h.first, name);
    if (!overridden) request.append(name).append(": ").append(value).append("\r\n");
  }
  for (const auto& [name, value] : headers) {
    request.append(name).append(": ").append(value).append("\r\n");
  }
  request.append("\r\n").append(body);

  bool head_request = method == "HEAD";
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = fd_ >= 0;
    if (!reused) {
      std::string error;
      fd_ = Connect(&error);
      if (fd_ < 0) {
        HttpResponse r;
        r.error = error;
        return r;
      }
      ++connections_opened_;
      pending_.clear();
    }
    bool retryable = false;
    HttpResponse r = Exchange(request, head_request, reused, &retryable);
    if (retryable && attempt == 0) continue;
    return r;
  }
  HttpResponse unreachable;
  unreachable.error = "unreachable";
  return unreachable;
}

HttpResponse HttpClient::Exchange(std::string_view request, bool head_request, bool reused,
                                  bool* retryable) {
  const Clock::time_point cap = Clock::now() + kExchangeCap;
  std::string write_error;
  WriteAll(fd_, request, timeout_, cap, &write_error);  // on failure, still read any answer

  std::string buf = std::move(pending_);
  pending_.clear();
  bool eof = false;
  bool reset = false;
  while (true) {
    HttpResponse r;
    size_t consumed = 0;
    ParseStatus s = ParseHttpResponse(buf, eof, head_request, &r, &consumed);
    if (s == ParseStatus::kComplete) {
      pending_ = buf.substr(consumed);
      std::optional<std::string> connection = r.Header("Connection");
      bool close_after =
          eof || (connection && HasToken(*connection, "close")) ||
          (r.version == "HTTP/1.0" && !(connection && HasToken(*connection, "keep-alive")));
      if (close_after) Disconnect();
      return r;
    }
    if (s == ParseStatus::kError) {
      if (buf.empty() && reused) *retryable = true;
      if (!write_error.empty()) r.error = write_error + "; " + r.error;
      if (reset) r.error += " (connection reset)";
      Disconnect();
      return r;
    }
    int wait_ms = std::min<int>(static_cast<int>(timeout_.count()), RemainingMs(cap));
    ReadResult rr = ReadSome(fd_, &buf, wait_ms);
    if (rr == ReadResult::kEof || rr == ReadResult::kReset) {
      eof = true;
      reset = rr == ReadResult::kReset;
    } else if (rr == ReadResult::kTimeout || rr == ReadResult::kError) {
      HttpResponse t;
      ParseHttpResponse(buf, false, head_request, &t, &consumed);  // partial fields, if any
      t.error = (rr == ReadResult::kTimeout ? "timed out after " + std::to_string(wait_ms) + " ms"
                                            : std::string("read failed: ") + std::strerror(errno)) +
                " waiting for the response (" + std::to_string(buf.size()) + " bytes received)";
      if (!write_error.empty()) t.error = write_error + "; " + t.error;
      Disconnect();
      return t;
    }
  }
}

RawExchange HttpClient::SendRaw(std::string_view bytes, bool stop_after_response,
                                std::optional<std::chrono::milliseconds> timeout) const {
  return SendRawInPieces({std::string(bytes)}, std::chrono::milliseconds(0), stop_after_response,
                         timeout);
}

RawExchange HttpClient::SendRawInPieces(const std::vector<std::string>& pieces,
                                        std::chrono::milliseconds pause, bool stop_after_response,
                                        std::optional<std::chrono::milliseconds> timeout) const {
  RawExchange result;
  const std::chrono::milliseconds t = timeout.value_or(timeout_);
  const Clock::time_point cap = Clock::now() + kExchangeCap;
  int fd = Connect(&result.error);
  if (fd < 0) return result;
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // each piece its own segment
  std::string write_error;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (i > 0) std::this_thread::sleep_for(pause);
    if (!WriteAll(fd, pieces[i], t, cap, &write_error)) {
      result.error = write_error;
      break;
    }
  }
  while (true) {
    if (stop_after_response) {
      HttpResponse r;
      size_t consumed = 0;
      if (ParseHttpResponse(result.bytes, false, false, &r, &consumed) == ParseStatus::kComplete) {
        break;
      }
    }
    int wait_ms = std::min<int>(static_cast<int>(t.count()), RemainingMs(cap));
    ReadResult rr = ReadSome(fd, &result.bytes, wait_ms);
    if (rr == ReadResult::kData) continue;
    if (rr == ReadResult::kTimeout) {
      result.timed_out = true;
    } else {
      result.closed = true;
    }
    break;
  }
  close(fd);
  return result;
}

}  // namespace mfa_test
