// SPDX-License-Identifier: Apache-2.0
#include "http/request_journal.h"

#include "wire/json_util.h"

namespace mfa {

namespace {
constexpr size_t kMaxStoredBody = 4096;
constexpr size_t kMaxVerificationId = 128;

bool Passes(const JournalQuery& query, const JournalEntry& e) {
  if (query.status != 0 && e.status != query.status) return false;
  if (!query.session.empty() && e.session_id != query.session) return false;
  if (query.deviations_only && e.deviations.empty()) return false;
  return !query.verification_ids || query.verification_ids->count(e.verification_id) != 0;
}
}  // namespace

std::string_view FindVerificationId(std::string_view json) {
  constexpr std::string_view kKey = "\"verificationId\"";
  auto skip_space = [&](size_t i) {
    while (i < json.size() &&
           (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r')) {
      ++i;
    }
    return i;
  };
  for (size_t at = json.find(kKey); at != std::string_view::npos; at = json.find(kKey, at + 1)) {
    size_t i = skip_space(at + kKey.size());
    if (i >= json.size() || json[i] != ':') continue;  // a value that says "verificationId"
    i = skip_space(i + 1);
    if (i >= json.size() || json[i] != '"') return {};
    const size_t end = json.find('"', i + 1);
    if (end == std::string_view::npos || end - i - 1 > kMaxVerificationId) return {};
    const std::string_view id = json.substr(i + 1, end - i - 1);
    if (id.find('\\') != std::string_view::npos) return {};  // escapes: not an id we made
    return id;
  }
  return {};
}

void RequestJournal::Record(int64_t time_ms, std::string_view method, std::string_view path,
                            int status, double duration_seconds, std::string_view error_code,
                            std::string_view request_body, std::string_view session_id,
                            std::string_view reply_body, DeviationSet deviations) {
  std::string_view verification_id = FindVerificationId(request_body);
  if (verification_id.empty()) verification_id = FindVerificationId(reply_body);
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
    e.session_id.assign(session_id.substr(0, kMaxStoredBody));
    e.verification_id.assign(verification_id);
    e.deviations = deviations;
  });
}

size_t RequestJournal::Erase(const JournalQuery& query) {
  return log_.EraseIf([&](const JournalEntry& e) { return Passes(query, e); });
}

std::vector<JournalEntry> RequestJournal::List(const JournalQuery& query) const {
  std::vector<JournalEntry> out;
  if (query.limit == 0) return out;
  log_.ForEachNewest([&](uint64_t, const JournalEntry& e) {
    if (Passes(query, e)) out.push_back(e);
    return out.size() < query.limit;
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
