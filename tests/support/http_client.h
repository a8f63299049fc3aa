// SPDX-License-Identifier: Apache-2.0
// A small blocking HTTP/1.1 client over POSIX sockets, for tests that talk to a server on
// loopback (127.0.0.1 or ::1). No TLS, no redirects, no pipelining.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mfa_test {

// Header fields in the order they are sent or were received. Names keep their spelling.
using Headers = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality, for header names.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct HttpResponse {
  // Empty when a complete response was read; otherwise what went wrong (connect, timeout,
  // unparsable bytes). When set, the other fields hold whatever was parsed before the failure.
  std::string error;
  std::string version;  // e.g. "HTTP/1.1"
  int status = 0;
  std::string reason;
  Headers headers;
  std::string body;  // decoded (chunked framing removed)
  bool chunked = false;

  bool ok() const { return error.empty(); }
  // The first header with this name (case-insensitive), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const { return Header(name).has_value(); }
  // Every header with this name (case-insensitive), in received order.
  std::vector<std::string> HeaderValues(std::string_view name) const;
  // Status line, headers and body, for failure messages (body truncated to `max_body`).
  std::string Describe(size_t max_body = 2000) const;
};

enum class ParseStatus { kIncomplete, kComplete, kError };

// Parses one HTTP/1.x response at the start of `data`. kComplete sets `*consumed` to the bytes
// it used. `eof` says the peer closed, which completes a body that runs until close.
// `head_request` says the response has no body whatever its headers say. 1xx interim responses
// are skipped. kError leaves a reason in `out->error`.
ParseStatus ParseHttpResponse(std::string_view data, bool eof, bool head_request, HttpResponse* out,
                              size_t* consumed);

// What a raw exchange returned.
struct RawExchange {
  std::string bytes;       // everything received
  bool closed = false;     // the peer closed the connection (EOF or reset)
  bool timed_out = false;  // the read timeout ran out first
  std::string error;       // connect or write failure, if any
  // `bytes` parsed as one response (error set if it does not parse as one).
  HttpResponse Parse() const;
};

// One client owns at most one connection at a time. Not thread-safe; use one per thread.
class HttpClient {
 public:
  // `host` is a numeric IPv4 or IPv6 address. `timeout` bounds connect, every write and every
  // read (inactivity); one exchange is also capped at 180 s in total. The default is generous:
  // an exchange returns as soon as its answer (or the close) arrives, so the bound only decides
  // when a server that never answers is given up on, and a 1M-record generate on a sanitized
  // build of a busy machine can take well over 5 s to answer.
  explicit HttpClient(uint16_t port, std::string host = "127.0.0.1",
                      std::chrono::milliseconds timeout = std::chrono::seconds(60));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request on the kept-alive connection (opening one if needed) and reads the
  // response. Adds `Host`, and `Content-Length` when there is a body or the method is POST,
  // PUT or PATCH, and `Content-Type: application/json` when there is a body; a header of the
  // same name in `headers` (or the default headers) replaces the automatic one. Sends no
  // `Connection` header unless asked. If a reused connection turns out to be closed before any
  // response byte arrives, reconnects once and resends.
  HttpResponse Request(std::string_view method, std::string_view target, std::string_view body = {},
                       const Headers& headers = {});
  HttpResponse Get(std::string_view target, const Headers& headers = {}) {
    return Request("GET", target, {}, headers);
  }
  HttpResponse Post(std::string_view target, std::string_view body, const Headers& headers = {}) {
    return Request("POST", target, body, headers);
  }
  HttpResponse Patch(std::string_view target, std::string_view body, const Headers& headers = {}) {
    return Request("PATCH", target, body, headers);
  }
  HttpResponse Delete(std::string_view target, const Headers& headers = {}) {
    return Request("DELETE", target, {}, headers);
  }

  // Opens a fresh connection, writes `bytes` as they are, and reads until the peer closes, the
  // timeout (default: the client's) runs out, or, when `stop_after_response`, one complete
  // response has arrived. Does not touch the kept-alive connection.
  RawExchange SendRaw(std::string_view bytes, bool stop_after_response = true,
                      std::optional<std::chrono::milliseconds> timeout = std::nullopt) const;

  // As SendRaw, writing `pieces` one after the other with `pause` between them (TCP_NODELAY), so
  // the server sees them in separate reads.
  RawExchange SendRawInPieces(
      const std::vector<std::string>& pieces, std::chrono::milliseconds pause,
      bool stop_after_response = true,
      std::optional<std::chrono::milliseconds> timeout = std::nullopt) const;

  // Headers added to every Request (e.g. Authorization). Replaced, not merged.
  void set_default_headers(Headers headers) { default_headers_ = std::move(headers); }
  // Closes the kept-alive connection, if any.
  void Disconnect();
  bool connected() const { return fd_ >= 0; }
  // TCP connections this client opened for Request() so far (SendRaw not counted).
  int connections_opened() const { return connections_opened_; }
  uint16_t port() const { return port_; }

 private:
  // Opens a connection; returns the fd or -1 with `*error` set.
  int Connect(std::string* error) const;
  // One attempt on the current connection. `*retryable` is set when the connection was reused
  // and failed before any response byte.
  HttpResponse Exchange(std::string_view request, bool head_request, bool reused, bool* retryable);

  std::string host_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  Headers default_headers_;
  int fd_ = -1;
  std::string pending_;  // bytes read past the last response (should stay empty)
  int connections_opened_ = 0;
};

}  // namespace mfa_test
