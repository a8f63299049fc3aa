// SPDX-License-Identifier: Apache-2.0
#include "core/inbox.h"

#include "core/recipient.h"

namespace mfa {

void Inbox::Add(InboxMessage message) { log_.Add(std::move(message)); }

std::vector<InboxMessage> Inbox::List(const InboxQuery& query) const {
  std::vector<InboxMessage> out;
  if (query.limit == 0) return out;
  std::string want_email, want_phone;
  if (!query.to.empty()) {
    want_email = NormalizeRecipient(IdentifierType::kEmail, query.to);
    want_phone = NormalizeRecipient(IdentifierType::kPhone, query.to);
  }
  log_.ForEachNewest([&](uint64_t seq, const InboxMessage& m) {
    if (query.channel && m.type != *query.channel) return true;
    if (!query.to.empty()) {
      const std::string& want = m.type == IdentifierType::kEmail ? want_email : want_phone;
      if (want.empty() || NormalizeRecipient(m.type, m.to) != want) return true;
    }
    out.push_back(m);
    out.back().seq = seq;
    return out.size() < query.limit;
  });
  return out;
}

}  // namespace mfa
