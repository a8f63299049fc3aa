// SPDX-License-Identifier: Apache-2.0
#include "tests/support/large_fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <vector>

namespace mfa_test {

Fetched FetchLarge(uint16_t port, const std::string& target, std::chrono::milliseconds timeout,
                   const std::function<void()>& on_head) {
  Fetched out;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    out.error = "connect failed";
    if (fd >= 0) close(fd);
    return out;
  }
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    out.error = "send failed";
    close(fd);
    return out;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string buf;
  size_t pos = 0;  // next unparsed byte of buf
  bool chunked = false;
  int64_t length = -1;  // Content-Length, if not chunked
  bool head_done = false;
  std::vector<char> chunk(1 << 20);
  auto read_more = [&]() {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    const ssize_t n = recv(fd, chunk.data(), chunk.size(), 0);
    if (n <= 0) return false;
    if (pos > (8 << 20)) {
      buf.erase(0, pos);
      pos = 0;
    }
    buf.append(chunk.data(), static_cast<size_t>(n));
    return true;
  };
  while (true) {
    if (!head_done) {
      const size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::string head = buf.substr(0, end);
        for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.status = std::atoi(head.c_str() + head.find(' ') + 1);
        chunked = head.find("transfer-encoding: chunked") != std::string::npos;
        if (const size_t cl = head.find("content-length:"); cl != std::string::npos) {
          length = std::atoll(head.c_str() + cl + 15);
        }
        pos = end + 4;
        head_done = true;
        if (on_head) on_head();
        continue;
      }
    } else if (!chunked) {
      if (length >= 0 && buf.size() - pos >= static_cast<size_t>(length)) {
        out.body = buf.substr(pos, static_cast<size_t>(length));
        break;
      }
    } else {
      const size_t eol = buf.find("\r\n", pos);
      if (eol != std::string::npos) {
        const size_t size = std::strtoul(buf.c_str() + pos, nullptr, 16);
        if (size == 0) {
          if (buf.size() >= eol + 4) break;  // "0\r\n\r\n"
        } else if (buf.size() >= eol + 2 + size + 2) {
          out.body.append(buf, eol + 2, size);
          pos = eol + 2 + size + 2;
          continue;
        }
      }
    }
    if (!read_more()) {
      out.error =
          "connection closed or timed out after " + std::to_string(out.body.size()) + " body bytes";
      break;
    }
  }
  close(fd);
  return out;
}

}  // namespace mfa_test
