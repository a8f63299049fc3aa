// SPDX-License-Identifier: Apache-2.0
#include "core/inbox.h"

#include "core/recipient.h"

namespace mfa {

void Inbox::Add(InboxMessage message) { log_.Add(std::move(message)); }

InboxFilter::InboxFilter(const InboxQuery& query) : channel_(query.channel) {
  if (query.to.empty()) return;
  any_recipient_ = false;
  want_email_ = NormalizeRecipient(IdentifierType::kEmail, query.to);
  want_phone_ = NormalizeRecipient(IdentifierType::kPhone, query.to);
}

bool InboxFilter::Matches(const InboxMessage& m) const {
  if (channel_ && m.type != *channel_) return false;
  if (any_recipient_) return true;
  const std::string& want = m.type == IdentifierType::kEmail ? want_email_ : want_phone_;
  return !want.empty() && NormalizeRecipient(m.type, m.to) == want;
}

std::vector<InboxMessage> Inbox::List(const InboxQuery& query) const {
  std::vector<InboxMessage> out;
  if (query.limit == 0) return out;
  const InboxFilter filter(query);
  log_.ForEachNewest([&](uint64_t seq, const InboxMessage& m) {
    if (!filter.Matches(m)) return true;
    out.push_back(m);
    out.back().seq = seq;
    return out.size() < query.limit;
  });
  return out;
}

}  // namespace mfa
