// SPDX-License-Identifier: Apache-2.0
// The request as handlers see it: a plain value, free of the HTTP framework.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/deviation.h"

namespace mfa {

enum class Method : uint8_t { kGet, kPost, kPut, kPatch, kDelete, kOptions, kHead, kOther };
std::string_view MethodName(Method method);

enum class HttpVersion : uint8_t { kHttp10, kHttp11 };

class PendingAnswer;
namespace internal {
class Deferral;
}

// One parsed request. Every view points into the transport's buffers and is valid only while
// the handler runs: a handler that answers later (Defer) copies what it still needs first.
struct HttpRequest {
  using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;

  Method method = Method::kGet;
  HttpVersion version = HttpVersion::kHttp11;
  std::string_view path;  // without the query
  std::string_view id;    // the route's {id} segment as sent (percent-encoded); set on match
  std::string_view body;
  std::string_view peer;  // the client's address, "host:port"
  // The few headers anything reads ("" when absent). Authorization is filled on listeners with
  // an admin token, the Access-Control-Request-* pair on OPTIONS requests only.
  std::string_view content_type;
  std::string_view origin;
  std::string_view accept_language;  // read only to word a Logto error (i18n/language.h)
  std::string_view authorization;
  std::string_view access_control_request_method;
  std::string_view access_control_request_headers;
  std::string_view last_event_id;  // Last-Event-ID (server-sent events), on GET requests only
  std::string_view if_none_match;  // on GET requests only (Logto's ETag on /api)
  std::string_view cache_control;  // on GET requests with If-None-Match only
  Pairs query;                     // as sent (percent-encoded); the first of repeated names wins
  Pairs cookies;                   // the first of repeated names wins

  // The first cookie of that name, or "".
  std::string_view Cookie(std::string_view name) const;
  // The percent-decoded value of the first query parameter of that name.
  std::optional<std::string> Query(std::string_view name) const;
  // The route's {id}, percent-decoded.
  std::string DecodedId() const;

  // Takes over the answer: the dispatcher sends nothing when the handler returns, and the
  // returned handle completes it later, from any thread (once). The listener's answer deadline
  // applies. REQUIRES: called from the handler, at most once.
  PendingAnswer Defer() const;

  // Says the answer relies on a leniency Logto does not have. Call before Defer(): the
  // dispatcher adds the Mfa-Mock-Deviation header, counts it and journals it.
  void NoteDeviation(Deviation kind) const { deviations.Add(kind); }
  // What the handler noted; written only by the one thread running the handler.
  mutable DeviationSet deviations;

  internal::Deferral* deferral = nullptr;  // set by the dispatcher
};

// "%41" -> "A"; malformed escapes are kept as they are.
std::string PercentDecode(std::string_view s);

}  // namespace mfa
