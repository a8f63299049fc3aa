// SPDX-License-Identifier: Apache-2.0
// One access-log line per request (--access-log json|logfmt|off), through spdlog.
#pragma once

#include <memory>
#include <string_view>

namespace spdlog {
class logger;
}

namespace mfa {

// Thread-safe (spdlog's multi-threaded sink serializes writes; turn the log off for load tests).
// Lines carry the route template, never a path with ids, a code or an address.
class AccessLog {
 public:
  enum class Format { kJson, kLogfmt };
  explicit AccessLog(Format format);
  void Write(std::string_view listener, std::string_view method, std::string_view route, int status,
             double seconds, std::string_view error_code);

 private:
  Format format_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace mfa
