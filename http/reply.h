// SPDX-License-Identifier: Apache-2.0
// What a handler produces: status, body and what goes with them. Written to the wire by the
// transport; recorded (metrics, journal, access log) by the dispatcher when it is sent.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/deviation.h"
#include "core/outcome.h"
#include "core/types.h"
#include "wire/error_table.h"

namespace mfa {

inline constexpr std::string_view kJsonContentType = "application/json; charset=utf-8";
// On a public answer that relied on a leniency: "<kind>; <what Logto would answer>".
inline constexpr std::string_view kDeviationHeader = "Mfa-Mock-Deviation";

struct SetCookie {
  std::string name = {};
  std::string value = {};
  std::string path = "/";
  bool http_only = true;
  std::string same_site = "Lax";  // "" = no SameSite attribute
};

// A response header. The name is a string literal; no CR or LF in the value.
struct ReplyHeader {
  std::string_view name;
  std::string value;
};

struct Reply {
  int status = 200;
  std::string body;
  std::string_view content_type = kJsonContentType;  // a string literal; none on 204 and 304
  std::vector<ReplyHeader> headers;
  std::vector<SetCookie> cookies;
  // The Logto-style code of an error answer, for the journal, the access log and metrics;
  // empty on success. Set by the SetError helpers below.
  std::string error_code;
  // Set with an error in Logto's words (SetError of an Outcome): the public listener rewords
  // the body's message in the request's language when it sends it (Dispatcher::Finish).
  TranslatableError translatable;
  // Leniencies the answer relied on (with those the handler noted on the request before it
  // deferred): the dispatcher adds the Mfa-Mock-Deviation header, counts and journals them.
  DeviationSet deviations;
  // A streamed body (200, chunked): called until it returns false, each call appending the
  // next piece to *chunk. `body` is ignored when set.
  std::function<bool(std::string* chunk)> stream;
};

// The error answer of a domain outcome, in English (with the {type} and {{relativeTime}}
// placeholders filled: `remaining_ms` is the lockout's remaining time), marked translatable.
// REQUIRES: outcome != Outcome::kOk.
void SetError(Reply& reply, Outcome outcome, IdentifierType type = IdentifierType::kEmail,
              int64_t remaining_ms = -1);
// The error answer of an outcome whose body carries `data` (a JSON value).
void SetErrorWithData(Reply& reply, Outcome outcome, std::string_view data_json);
// The error answer of the HTTP layer or the admin API; `message` replaces the default.
void SetError(Reply& reply, ApiError error, std::string_view message = {});

// An answer completed after the handler returned (see HttpRequest::Defer). Movable, not
// copyable; thread-safe. Dropping it without Complete answers 500 (a handler bug, logged).
class PendingAnswer {
 public:
  class Target {
   public:
    virtual ~Target() = default;
    virtual void Complete(Reply reply) = 0;  // the first call wins; later ones do nothing
    virtual bool decided() const = 0;        // an answer (or the deadline's) was given
  };

  PendingAnswer() = default;
  explicit PendingAnswer(std::shared_ptr<Target> target) : target_(std::move(target)) {}
  PendingAnswer(PendingAnswer&&) = default;
  PendingAnswer& operator=(PendingAnswer&& other);
  PendingAnswer(const PendingAnswer&) = delete;
  PendingAnswer& operator=(const PendingAnswer&) = delete;
  ~PendingAnswer();

  void Complete(Reply reply);
  bool valid() const { return target_ != nullptr; }

 private:
  std::shared_ptr<Target> target_;
};

}  // namespace mfa
