// SPDX-License-Identifier: Apache-2.0
// The last N requests of the public listener, for GET /admin/requests and the inbox page.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bounded_log.h"

namespace mfa {

struct JournalEntry {
  int64_t time_ms = 0;
  std::string method;
  std::string path;
  int status = 0;
  double duration_seconds = 0;
  std::string error_code;  // Logto code of an error answer; empty on success
  std::string body;        // the request body, "code" masked when listed unless configured
  bool truncated = false;  // the body was longer than the journal keeps
};

// Thread-safe (BoundedLog).
class RequestJournal {
 public:
  RequestJournal(size_t capacity, bool show_codes) : log_(capacity), show_codes_(show_codes) {}
  void Record(int64_t time_ms, std::string_view method, std::string_view path, int status,
              double duration_seconds, std::string_view error_code, std::string_view request_body);
  // Newest first; `status` 0 = any.
  std::vector<JournalEntry> List(size_t limit, int status) const;
  void Clear() { log_.Clear(); }
  size_t size() const { return log_.size(); }
  size_t capacity() const { return log_.capacity(); }

 private:
  BoundedLog<JournalEntry> log_;
  bool show_codes_;
};

}  // namespace mfa
