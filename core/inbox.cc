#include "core/inbox.h"

#include <algorithm>
#include <stdexcept>

#include "core/recipient.h"

namespace mfa {

Inbox::Inbox(size_t capacity) : slots_(capacity) {
  if (capacity == 0) throw std::invalid_argument("inbox capacity must be at least 1");
}

void Inbox::Add(InboxMessage message) {
  const uint64_t seq = next_seq_.fetch_add(1, std::memory_order_acq_rel);
  message.seq = seq;
  Slot& slot = slots_[seq % slots_.size()];
  std::lock_guard<std::mutex> lock(slot.mu);
  // A slower writer of an older message must not overwrite a newer one.
  if (slot.used && slot.message.seq > seq) return;
  slot.message = std::move(message);
  slot.used = true;
}

std::vector<InboxMessage> Inbox::List(const InboxQuery& query) const {
  std::vector<InboxMessage> out;
  const uint64_t newest = next_seq_.load(std::memory_order_acquire);  // exclusive
  const uint64_t floor = std::max<uint64_t>(cleared_below_.load(std::memory_order_acquire),
                                            newest > slots_.size() ? newest - slots_.size() : 1);
  std::string want_email, want_phone;
  if (!query.to.empty()) {
    want_email = NormalizeRecipient(IdentifierType::kEmail, query.to);
    want_phone = NormalizeRecipient(IdentifierType::kPhone, query.to);
  }
  for (uint64_t seq = newest; seq-- > floor && out.size() < query.limit;) {
    const Slot& slot = slots_[seq % slots_.size()];
    std::lock_guard<std::mutex> lock(slot.mu);
    if (!slot.used || slot.message.seq != seq) continue;
    const InboxMessage& m = slot.message;
    if (query.channel && m.type != *query.channel) continue;
    if (!query.to.empty()) {
      const std::string& want = m.type == IdentifierType::kEmail ? want_email : want_phone;
      if (want.empty() || NormalizeRecipient(m.type, m.to) != want) continue;
    }
    out.push_back(m);
  }
  return out;
}

void Inbox::Clear() {
  cleared_below_.store(next_seq_.load(std::memory_order_acquire), std::memory_order_release);
}

size_t Inbox::size() const {
  const uint64_t newest = next_seq_.load(std::memory_order_acquire);
  const uint64_t cleared = cleared_below_.load(std::memory_order_acquire);
  return static_cast<size_t>(std::min<uint64_t>(newest - cleared, slots_.size()));
}

}  // namespace mfa
