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

// Thread-safe without a global lock: a message takes the next sequence number from an atomic
// counter and lands in slot seq % capacity, whose own mutex guards that slot only. The oldest
// message is overwritten once `capacity` is reached.
class Inbox {
 public:
  explicit Inbox(size_t capacity);
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  void Add(InboxMessage message);
  std::vector<InboxMessage> List(const InboxQuery& query) const;
  void Clear();
  size_t size() const;
  size_t capacity() const { return slots_.size(); }

 private:
  struct Slot {
    mutable std::mutex mu;
    InboxMessage message;  // GUARDED_BY(mu)
    bool used = false;     // GUARDED_BY(mu)
  };
  std::vector<Slot> slots_;
  std::atomic<uint64_t> next_seq_{1};
  std::atomic<uint64_t> cleared_below_{1};  // messages with seq < this are hidden
};

}  // namespace mfa
