// SPDX-License-Identifier: Apache-2.0
// /admin/inbox: the codes "sent", newest first, with what became of each; waiting for the next
// one (latest?wait=) and following them (stream) without a thread per waiting request.
#include <chrono>

#include "admin/admin_routes.h"
#include "admin/admin_support.h"
#include "admin/inbox_waiters.h"
#include "http/answer_when_done.h"

namespace mfa {
namespace {

constexpr int64_t kMaxWaitSeconds = 30;
constexpr int64_t kStreamWaitSeconds = 25;  // the stream's default: under common proxy timeouts
constexpr size_t kStreamBatch = 100;        // events per stream response at most
// What an EventSource waits before it reconnects after a response ends (the SSE "retry" field).
constexpr int kStreamRetryMs = 100;
constexpr std::string_view kEventStream = "text/event-stream; charset=utf-8";

// A cursor: a decimal number from 0 to 2^63-1.
bool ParseCursor(std::string_view text, uint64_t* out) {
  if (text.empty() || text.size() > 18) return false;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = value;
  return true;
}

// Parses the inbox filters (to, channel, session, after); false sets a 400 on `reply`.
bool ReadInboxFilters(const HttpRequest& request, InboxQuery* query, Reply& reply) {
  if (auto to = request.Query("to")) query->to = *to;
  if (auto session = request.Query("session")) query->session = *session;
  if (auto channel = request.Query("channel")) {
    if (*channel == "email") {
      query->channel = IdentifierType::kEmail;
    } else if (*channel == "sms" || *channel == "phone") {
      query->channel = IdentifierType::kPhone;
    } else {
      SetError(reply, ApiError::kInvalidRequest, "channel must be \"email\" or \"sms\".");
      return false;
    }
  }
  if (auto after = request.Query("after"); after && !ParseCursor(*after, &query->after)) {
    SetError(reply, ApiError::kInvalidRequest,
             "after must be a cursor: a message's \"cursor\" (an integer from 0).");
    return false;
  }
  return true;
}

// The filters and `limit`.
bool ReadInboxQuery(const HttpRequest& request, InboxQuery* query, Reply& reply) {
  if (!ReadInboxFilters(request, query, reply)) return false;
  int64_t limit = 0;
  if (!ReadIntQuery(request, "limit", 1, 10000, static_cast<int64_t>(query->limit),
                    "an integer from 1 to 10000", &limit, reply)) {
    return false;
  }
  query->limit = static_cast<size_t>(limit);
  return true;
}

bool ReadWait(const HttpRequest& request, int64_t fallback, int64_t* seconds, Reply& reply) {
  return ReadIntQuery(request, "wait", 0, kMaxWaitSeconds, fallback,
                      "an integer from 0 to 30 (seconds)", seconds, reply);
}

// The 404 of a latest that found nothing.
std::string NothingFound(const InboxQuery& query, int64_t wait_seconds) {
  std::string text = query.to.empty() ? "No message" : "No message to \"" + query.to + "\"";
  if (!query.session.empty()) text += " in session \"" + query.session + "\"";
  if (query.after != 0) text += " after cursor " + std::to_string(query.after);
  if (wait_seconds > 0) {
    text += " arrived within " + std::to_string(wait_seconds) + " s";
  } else if (query.to.empty() && query.session.empty() && query.after == 0) {
    return "The inbox is empty.";
  }
  return text + ".";
}

// The answer to a wait that did not find anything: refused, draining or a store failure. False
// when `result` found or timed out (the caller answers those).
bool SetWaitError(Reply& out, const WaitResult& result) {
  switch (result.end) {
    case WaitEnd::kTooMany:
      SetError(out, ApiError::kTooManyWaiters);
      out.headers.push_back({"Retry-After", "1"});
      return true;
    case WaitEnd::kDraining:
      SetError(out, ApiError::kShuttingDown);
      return true;
    case WaitEnd::kStoreFailure:
      SetError(out, result.outcome);
      return true;
    case WaitEnd::kFound:
    case WaitEnd::kTimedOut:
      return false;
  }
  return false;
}

using InboxAnswer = StoreAnswer<std::vector<InboxEntry>>;

struct Handlers {
  CodeStore& codes;
  InboxWaiters& waiters;

  void List(const HttpRequest& request, Reply& reply) const {
    InboxQuery query;
    if (!ReadInboxQuery(request, &query, reply)) return;
    AnswerWhenDone<InboxAnswer>(
        request, reply, [&](Done<InboxAnswer> done) { codes.ListInbox(query, std::move(done)); },
        [](Reply& out, const InboxAnswer& listed) {
          if (listed.outcome != Outcome::kOk) return SetError(out, listed.outcome);
          JsonWriter json(out.body);
          json.BeginObject().Key("messages").BeginArray();
          for (const InboxEntry& e : listed.value) WriteMessage(json, e.message, e.state);
          json.EndArray().EndObject();
        });
  }

  // The newest matching message; with `wait`, held until one newer than `after` exists.
  void Latest(const HttpRequest& request, Reply& reply) const {
    InboxQuery query;
    int64_t wait = 0;
    if (!ReadInboxQuery(request, &query, reply) || !ReadWait(request, 0, &wait, reply)) return;
    query.limit = 1;
    AnswerWhenDone<WaitResult>(
        request, reply,
        [&](Done<WaitResult> done) {
          waiters.Wait(query, std::chrono::seconds(wait), std::move(done));
        },
        [query, wait](Reply& out, const WaitResult& result) {
          if (SetWaitError(out, result)) return;
          if (result.end == WaitEnd::kTimedOut) {
            return SetError(out, ApiError::kNotFound, NothingFound(query, wait));
          }
          JsonWriter json(out.body);
          WriteMessage(json, result.messages.front().message, result.messages.front().state);
        });
  }

  // Server-sent events, one bounded response at a time: the matching messages after the cursor
  // (`after`, or the Last-Event-ID an EventSource sends when it reconnects), oldest first, as
  // soon as there is one; or, after `wait` with none, a comment only. Either way the response
  // ends and carries "retry", so an EventSource reconnects at once and goes on from the last id.
  void Stream(const HttpRequest& request, Reply& reply) const {
    InboxQuery query;
    int64_t wait = 0;
    if (!ReadInboxFilters(request, &query, reply) ||
        !ReadWait(request, kStreamWaitSeconds, &wait, reply)) {
      return;
    }
    if (!request.last_event_id.empty() && !ParseCursor(request.last_event_id, &query.after)) {
      return SetError(reply, ApiError::kInvalidRequest,
                      "Last-Event-ID must be a cursor: the id of an event of this stream.");
    }
    query.limit = kStreamBatch;
    query.oldest_first = true;
    AnswerWhenDone<WaitResult>(
        request, reply,
        [&](Done<WaitResult> done) {
          waiters.Wait(query, std::chrono::seconds(wait), std::move(done));
        },
        [](Reply& out, const WaitResult& result) {
          if (SetWaitError(out, result)) return;
          out.content_type = kEventStream;
          out.headers.push_back({"Cache-Control", "no-cache"});
          out.body = "retry: " + std::to_string(kStreamRetryMs) + "\n\n";
          if (result.end == WaitEnd::kTimedOut) {
            out.body += ": no new message; reconnect\n\n";
            return;
          }
          for (const InboxEntry& e : result.messages) {
            out.body += "id: " + std::to_string(e.message.seq) + "\ndata: ";
            JsonWriter json(out.body);
            WriteMessage(json, e.message, e.state);
            out.body += "\n\n";
          }
        });
  }

  // Every message, or those that pass the filters (to, channel, session).
  void Clear(const HttpRequest& request, Reply& reply) const {
    InboxQuery query;
    if (!ReadInboxFilters(request, &query, reply)) return;
    if (query.after != 0) {
      return SetError(reply, ApiError::kInvalidRequest,
                      "after does not apply to DELETE /admin/inbox: filter by to, channel or "
                      "session.");
    }
    AnswerWhenDone<Outcome>(
        request, reply, [&](Done<Outcome> done) { codes.ClearInbox(query, std::move(done)); },
        [](Reply& out, Outcome cleared) {
          if (cleared != Outcome::kOk) return SetError(out, cleared);
          out.status = 204;
        });
  }
};

}  // namespace

std::vector<Route> InboxRoutes(CodeStore& codes, InboxWaiters& waiters) {
  const Handlers h{codes, waiters};
  return {
      {.method = Method::kGet, .path = "/admin/inbox", .handler = Bind(h, &Handlers::List)},
      {.method = Method::kGet,
       .path = "/admin/inbox/latest",
       .handler = Bind(h, &Handlers::Latest)},
      {.method = Method::kGet,
       .path = "/admin/inbox/stream",
       .handler = Bind(h, &Handlers::Stream)},
      {.method = Method::kDelete,
       .path = "/admin/inbox",
       .handler = Bind(h, &Handlers::Clear),
       .success_status = 204},
  };
}

}  // namespace mfa
