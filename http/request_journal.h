// SPDX-License-Identifier: Apache-2.0
// The last N requests of the public listener, for GET /admin/requests and the inbox page.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/bounded_log.h"
#include "core/deviation.h"

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
  std::string session_id;  // the request's interaction-session cookie; empty = none
  // The verificationId the request body named, or else the one its answer named (a send's new
  // record); empty = none. The `to` filter goes through it (the inbox says who it was sent to).
  std::string verification_id;
  DeviationSet deviations;  // the leniencies the answer relied on (Mfa-Mock-Deviation)
};

// Which entries List returns and Erase removes.
struct JournalQuery {
  size_t limit = 100;   // List only
  int status = 0;       // 0 = any
  std::string session;  // exact session id; empty = any
  // Only entries whose verification_id is one of these; nullopt = any.
  std::optional<std::unordered_set<std::string>> verification_ids;
  bool deviations_only = false;  // only answers that relied on a leniency
};

// Thread-safe (BoundedLog).
class RequestJournal {
 public:
  // `session_cookie`: the cookie whose value is an entry's session id.
  RequestJournal(size_t capacity, bool show_codes, std::string session_cookie = "_interaction")
      : log_(capacity), show_codes_(show_codes), session_cookie_(std::move(session_cookie)) {}
  void Record(int64_t time_ms, std::string_view method, std::string_view path, int status,
              double duration_seconds, std::string_view error_code, std::string_view request_body,
              std::string_view session_id = {}, std::string_view reply_body = {},
              DeviationSet deviations = {});
  // Newest first.
  std::vector<JournalEntry> List(const JournalQuery& query) const;
  std::vector<JournalEntry> List(size_t limit, int status) const {
    JournalQuery query;
    query.limit = limit;
    query.status = status;
    return List(query);
  }
  void Clear() { log_.Clear(); }
  // Removes the entries that pass `query`'s filters (not its limit); returns how many.
  size_t Erase(const JournalQuery& query);
  const std::string& session_cookie() const { return session_cookie_; }
  size_t size() const { return log_.size(); }
  size_t capacity() const { return log_.capacity(); }

 private:
  BoundedLog<JournalEntry> log_;
  bool show_codes_;
  std::string session_cookie_;
};

// The value of the first "verificationId" string member of a JSON object's text (a light scan,
// not a parse: good enough for the bodies of the public routes), or "".
std::string_view FindVerificationId(std::string_view json);

}  // namespace mfa
