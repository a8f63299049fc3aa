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
  uint64_t seq = 0;  // assigned by the inbox; increases with each message
};

struct InboxQuery {
  std::string to;  // exact recipient after normalization; empty = any
  std::optional<IdentifierType> channel;
  size_t limit = 100;
};

// Whether a message passes a query's recipient and channel filters (not its limit).
class InboxFilter {
 public:
  explicit InboxFilter(const InboxQuery& query);
  bool Matches(const InboxMessage& message) const;

 private:
  std::optional<IdentifierType> channel_;
  bool any_recipient_ = true;
  std::string want_email_, want_phone_;  // the query's recipient, normalized per channel
};

// Thread-safe: see BoundedLog (no global lock; each slot has its own mutex).
class Inbox {
 public:
  explicit Inbox(size_t capacity) : log_(capacity) {}
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  void Add(InboxMessage message);
  std::vector<InboxMessage> List(const InboxQuery& query) const;
  void Clear() { log_.Clear(); }
  size_t size() const { return log_.size(); }
  size_t capacity() const { return log_.capacity(); }

 private:
  BoundedLog<InboxMessage> log_;
};

}  // namespace mfa
