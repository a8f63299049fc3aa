// SPDX-License-Identifier: Apache-2.0
#include "core/memory_code_store.h"

namespace mfa {

void MemoryCodeStore::Send(IdentifierType type, Done<SendResult> done) {
  done(service_.Send(type));
}

void MemoryCodeStore::Verify(IdentifierType type, std::string_view verification_id,
                             std::string_view code, Done<Outcome> done) {
  done(service_.Verify(type, verification_id, code));
}

void MemoryCodeStore::AdminSend(IdentifierType type, std::string_view identifier,
                                Done<SendResult> done) {
  done(service_.AdminSend(type, identifier));
}

void MemoryCodeStore::Seed(std::vector<SeedItem> items, Done<SeedResult> done) {
  done(service_.Seed(std::move(items)));
}

void MemoryCodeStore::Generate(const GenerateSpec& spec, Done<GenerateResult> done) {
  done(service_.Generate(spec));
}

void MemoryCodeStore::Get(std::string_view verification_id,
                          Done<StoreAnswer<std::optional<RecordSnapshot>>> done) {
  done({Outcome::kOk, service_.store().Get(verification_id)});
}

void MemoryCodeStore::Erase(std::string_view verification_id, Done<StoreAnswer<bool>> done) {
  done({Outcome::kOk, service_.store().Erase(verification_id)});
}

void MemoryCodeStore::Clear(Done<StoreAnswer<size_t>> done) {
  done({Outcome::kOk, service_.ClearVerifications()});
}

void MemoryCodeStore::ListInbox(const InboxQuery& query,
                                Done<StoreAnswer<std::vector<InboxEntry>>> done) {
  StoreAnswer<std::vector<InboxEntry>> answer;
  for (InboxMessage& m : service_.inbox().List(query)) {
    const MessageState state = service_.StateOf(m);
    answer.value.push_back(InboxEntry{std::move(m), state});
  }
  done(std::move(answer));
}

void MemoryCodeStore::ClearInbox(const InboxQuery& query, Done<Outcome> done) {
  if (query.to.empty() && !query.channel && query.session.empty()) {
    service_.inbox().Clear();
  } else {
    service_.inbox().Erase(query);
  }
  done(Outcome::kOk);
}

void MemoryCodeStore::AddExternalMessage(InboxMessage message, Done<StoreAnswer<uint64_t>> done) {
  done({Outcome::kOk, service_.RecordExternalMessage(std::move(message))});
}

void MemoryCodeStore::InboxHead(Done<StoreAnswer<uint64_t>> done) {
  done({Outcome::kOk, service_.inbox().newest_cursor()});
}

}  // namespace mfa
