// SPDX-License-Identifier: Apache-2.0
// A fast reader for one large answer (50 MB exports): HttpClient re-parses its whole buffer on
// every read, which is quadratic for a big chunked body.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace mfa_test {

struct Fetched {
  int status = 0;
  std::string body;
  std::string error;  // empty on success
};

// One GET of `target` on a fresh IPv4 loopback connection to `port`, read in a single pass;
// handles chunked and Content-Length answers. `on_head`, if set, runs once the response head has
// arrived (before the body is read).
Fetched FetchLarge(uint16_t port, const std::string& target,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60),
                   const std::function<void()>& on_head = {});

}  // namespace mfa_test
