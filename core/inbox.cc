// SPDX-License-Identifier: Apache-2.0
#include "core/inbox.h"

#include <algorithm>

#include "core/recipient.h"

namespace mfa {

uint64_t Inbox::Add(InboxMessage message) { return log_.Add(std::move(message)); }

InboxFilter::InboxFilter(const InboxQuery& query)
    : channel_(query.channel), session_(query.session), after_(query.after) {
  if (query.to.empty()) return;
  any_recipient_ = false;
  want_email_ = NormalizeRecipient(IdentifierType::kEmail, query.to);
  want_phone_ = NormalizeRecipient(IdentifierType::kPhone, query.to);
}

bool InboxFilter::Matches(const InboxMessage& m, uint64_t cursor) const {
  if (after_ != 0 && cursor <= after_) return false;
  if (channel_ && m.type != *channel_) return false;
  if (!session_.empty() && m.session_id != session_) return false;
  if (any_recipient_) return true;
  const std::string& want = m.type == IdentifierType::kEmail ? want_email_ : want_phone_;
  return !want.empty() && NormalizeRecipient(m.type, m.to) == want;
}

std::vector<InboxMessage> Inbox::List(const InboxQuery& query) const {
  std::vector<InboxMessage> out;
  if (query.limit == 0) return out;
  const InboxFilter filter(query);
  log_.ForEachNewestSlot([&](uint64_t seq, const InboxMessage* m) {
    if (seq <= query.after) return false;  // newest first: the rest is older still
    if (m == nullptr) {
      // Still being added: the oldest-first reader stops below it, so it never moves its cursor
      // past a message it has not seen.
      if (query.oldest_first) out.clear();
      return true;
    }
    if (!filter.Matches(*m, seq)) return true;
    out.push_back(*m);
    out.back().seq = seq;
    return query.oldest_first || out.size() < query.limit;
  });
  if (query.oldest_first) {
    std::reverse(out.begin(), out.end());
    if (out.size() > query.limit) out.resize(query.limit);
  }
  return out;
}

size_t Inbox::Erase(const InboxQuery& query) {
  InboxQuery any_cursor = query;
  any_cursor.after = 0;
  const InboxFilter filter(any_cursor);
  return log_.EraseIf([&](const InboxMessage& m) { return filter.Matches(m); });
}

}  // namespace mfa
