// SPDX-License-Identifier: Apache-2.0
#include "http/request_journal.h"

#include "wire/json_util.h"

namespace mfa {

namespace {
constexpr size_t kMaxStoredBody = 4096;
}

void RequestJournal::Record(int64_t time_ms, std::string_view method, std::string_view path,
                            int status, double duration_seconds, std::string_view error_code,
                            std::string_view request_body) {
  log_.AddInPlace([&](JournalEntry& e) {
    e.time_ms = time_ms;
    e.method.assign(method);
    e.path.assign(path);
    e.status = status;
    e.duration_seconds = duration_seconds;
    e.error_code.assign(error_code);
    // Stored as received and masked when read: the request path pays a copy (into the buffers
    // of the entry it replaces), not a JSON parse.
    e.body.assign(request_body.substr(0, kMaxStoredBody));
    e.truncated = request_body.size() > kMaxStoredBody;
  });
}

std::vector<JournalEntry> RequestJournal::List(size_t limit, int status) const {
  std::vector<JournalEntry> out;
  if (limit == 0) return out;
  log_.ForEachNewest([&](uint64_t, const JournalEntry& e) {
    if (status == 0 || e.status == status) out.push_back(e);
    return out.size() < limit;
  });
  if (!show_codes_) {
    for (JournalEntry& e : out) {
      e.body = e.truncated ? "<" + std::to_string(e.body.size()) + "+ bytes, too long to show>"
                           : MaskCodes(e.body);
    }
  }
  return out;
}

}  // namespace mfa
