// SPDX-License-Identifier: Apache-2.0
// The default store: this process's memory, through MfaService. Every call completes before it
// returns, so a route over it answers without deferring.
#pragma once

#include "core/code_store.h"

namespace mfa {

// Thread-safe: all state is in the MfaService it is given, which must outlive it.
class MemoryCodeStore final : public CodeStore {
 public:
  explicit MemoryCodeStore(MfaService& service) : service_(service) {}

  void Send(IdentifierType type, Done<SendResult> done) override;
  void Verify(IdentifierType type, std::string_view verification_id, std::string_view code,
              Done<Outcome> done) override;
  void AdminSend(IdentifierType type, std::string_view identifier, Done<SendResult> done) override;
  void Seed(std::vector<SeedItem> items, Done<SeedResult> done) override;
  void Generate(const GenerateSpec& spec, Done<GenerateResult> done) override;
  void Get(std::string_view verification_id,
           Done<StoreAnswer<std::optional<RecordSnapshot>>> done) override;
  void Erase(std::string_view verification_id, Done<StoreAnswer<bool>> done) override;
  void Clear(Done<StoreAnswer<size_t>> done) override;
  void ListInbox(const InboxQuery& query, Done<StoreAnswer<std::vector<InboxEntry>>> done) override;
  void ClearInbox(const InboxQuery& query, Done<Outcome> done) override;
  void InboxHead(Done<StoreAnswer<uint64_t>> done) override;
  void AddExternalMessage(InboxMessage message, Done<StoreAnswer<uint64_t>> done) override;
  bool Ready() const override { return true; }
  std::string Describe() const override { return "memory"; }

 private:
  MfaService& service_;
};

}  // namespace mfa
