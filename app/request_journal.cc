#include "app/request_journal.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace mfa {

namespace {
constexpr size_t kMaxStoredBody = 4096;
}

std::string_view ErrorCodeOf(std::string_view body) {
  constexpr std::string_view kPrefix = "{\"code\":\"";
  if (body.substr(0, kPrefix.size()) != kPrefix) return {};
  const size_t end = body.find('"', kPrefix.size());
  if (end == std::string_view::npos) return {};
  return body.substr(kPrefix.size(), end - kPrefix.size());
}

std::string MaskCodes(std::string_view body) {
  if (body.empty()) return {};
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(body.data(),
                                                                                    body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    return "<" + std::to_string(body.size()) + " bytes, not a JSON object>";
  }
  auto it = doc.FindMember("code");
  if (it != doc.MemberEnd() && it->value.IsString()) it->value.SetString("******");
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  doc.Accept(writer);
  return std::string(out.GetString(), out.GetSize());
}

void RequestJournal::Record(int64_t time_ms, std::string_view method, std::string_view path,
                            int status, double duration_seconds, std::string_view response_body,
                            std::string_view request_body) {
  log_.AddInPlace([&](JournalEntry& e) {
    e.time_ms = time_ms;
    e.method.assign(method);
    e.path.assign(path);
    e.status = status;
    e.duration_seconds = duration_seconds;
    e.error_code.assign(status >= 400 ? ErrorCodeOf(response_body) : std::string_view());
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
