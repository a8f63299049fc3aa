// SPDX-License-Identifier: Apache-2.0
// The bounded log of every code "sent", newest first when read.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/bounded_log.h"
#include "core/types.h"

namespace mfa {

struct InboxMessage {
  IdentifierType type = IdentifierType::kEmail;  // channel: email or sms
  std::string to;
  std::string code;
  std::string verification_id;
  int64_t sent_ms = 0;
  // The interaction session the code was sent in (its _interaction cookie value); empty for a
  // send in open mode or through the admin API.
  std::string session_id;
  // Logto's TemplateType of a message a real Logto posted to an HTTP connector route ("SignIn",
  // "MfaVerification", ...); empty for the mock's own sends (always "MfaVerification"). Such a
  // message has no record behind it: verification_id is empty, and code is empty when the
  // payload held none (an organization invitation's link).
  std::string template_type;
  // The message's cursor: assigned by the inbox, larger for each newer message, never reused
  // (not even across clears). With a shared store it is one counter for every node.
  uint64_t seq = 0;
};

struct InboxQuery {
  std::string to;  // exact recipient after normalization; empty = any
  std::optional<IdentifierType> channel;
  std::string session;  // exact session id; empty = any (a session's messages or none)
  uint64_t after = 0;   // only messages whose cursor is larger; 0 = any
  size_t limit = 100;
  // false: the newest `limit` messages, newest first. true: the oldest `limit` messages after
  // `after`, oldest first, stopping before a message still being added by another thread (so a
  // reader that follows the cursor never skips one).
  bool oldest_first = false;
};

// Whether a message passes a query's recipient, channel, session and cursor filters (not its
// limit).
class InboxFilter {
 public:
  explicit InboxFilter(const InboxQuery& query);
  bool Matches(const InboxMessage& message) const { return Matches(message, message.seq); }
  // With the message's cursor given apart (the in-memory log keeps it beside the message).
  bool Matches(const InboxMessage& message, uint64_t cursor) const;

 private:
  std::optional<IdentifierType> channel_;
  std::string session_;
  uint64_t after_ = 0;
  bool any_recipient_ = true;
  std::string want_email_, want_phone_;  // the query's recipient, normalized per channel
};

// Thread-safe: see BoundedLog (no global lock; each slot has its own mutex).
class Inbox {
 public:
  explicit Inbox(size_t capacity) : log_(capacity) {}
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // Returns the message's cursor.
  uint64_t Add(InboxMessage message);
  std::vector<InboxMessage> List(const InboxQuery& query) const;
  void Clear() { log_.Clear(); }
  // Removes the messages that pass `query`'s filters (its cursor, limit and order are ignored);
  // returns how many.
  size_t Erase(const InboxQuery& query);
  // The cursor of the newest message ever added (0 = none).
  uint64_t newest_cursor() const { return log_.newest_seq(); }
  size_t size() const { return log_.size(); }
  size_t capacity() const { return log_.capacity(); }

 private:
  BoundedLog<InboxMessage> log_;
};

}  // namespace mfa
