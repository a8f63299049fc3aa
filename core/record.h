// SPDX-License-Identifier: Apache-2.0
// The verification record as stored (compact) and as read out (a plain snapshot).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/compact_text.h"
#include "core/types.h"

namespace mfa {

// Where a record's identifier (email or phone) comes from: a shared string, or a generated
// batch's pattern and the record's sequence number in it. 8 bytes, owning.
// Encoding: SharedText* (aligned, low bit 0), or (batch << 32) | (seq << 1) | 1.
class IdentifierRef {
 public:
  IdentifierRef() = default;
  static IdentifierRef Shared(SharedTextRef text) {
    IdentifierRef r;
    r.raw_ = reinterpret_cast<uintptr_t>(text.release());
    return r;
  }
  static IdentifierRef Generated(uint32_t batch, uint32_t seq) {
    IdentifierRef r;
    r.raw_ = (uint64_t{batch} << 32) | (uint64_t{seq & 0x7fffffffu} << 1) | 1;
    return r;
  }
  IdentifierRef(const IdentifierRef&) = delete;
  IdentifierRef& operator=(const IdentifierRef&) = delete;
  IdentifierRef(IdentifierRef&& o) noexcept : raw_(o.raw_) { o.raw_ = 0; }
  IdentifierRef& operator=(IdentifierRef&& o) noexcept {
    if (this != &o) {
      Release();
      raw_ = o.raw_;
      o.raw_ = 0;
    }
    return *this;
  }
  ~IdentifierRef() { Release(); }

  bool IsGenerated() const { return (raw_ & 1) != 0; }
  uint32_t batch() const { return static_cast<uint32_t>(raw_ >> 32); }
  uint32_t seq() const { return static_cast<uint32_t>((raw_ & 0xffffffffu) >> 1); }
  // Only for the shared form; empty otherwise.
  std::string_view SharedView() const {
    return (raw_ != 0 && !IsGenerated()) ? reinterpret_cast<const SharedText*>(raw_)->view()
                                         : std::string_view();
  }

 private:
  void Release() {
    if (raw_ != 0 && !IsGenerated()) reinterpret_cast<SharedText*>(raw_)->Unref();
    raw_ = 0;
  }
  uint64_t raw_ = 0;
};

// One verification record, 64 bytes. Not thread-safe: guarded by its shard's mutex.
struct Record {
  enum Flag : uint8_t {
    kLive = 1,
    kPhone = 2,
    kConsumed = 4,
    kVerified = 8,
    kIdentified = 16,
    kSessionBound = 32,  // created by a send inside an interaction session
  };

  InlineText<24> id;   // ids up to 23 chars inline (generated ids are 21)
  InlineText<8> code;  // codes up to 7 chars inline
  IdentifierRef identifier;
  int64_t created_ms = 0;
  uint32_t ttl_seconds = 0;
  uint32_t consumed_after_seconds = 0;  // since created_ms; valid when consumed
  uint16_t try_count = 0;
  uint8_t flags = 0;

  IdentifierType type() const {
    return (flags & kPhone) ? IdentifierType::kPhone : IdentifierType::kEmail;
  }
  bool live() const { return flags & kLive; }
  bool consumed() const { return flags & kConsumed; }
  bool verified() const { return flags & kVerified; }
  bool identified() const { return flags & kIdentified; }
  bool session_bound() const { return flags & kSessionBound; }
  int64_t expires_ms() const { return created_ms + int64_t{ttl_seconds} * 1000; }
  // When the record stopped answering normally: expired, or consumed if that came first. A
  // sweep removes it once this is more than the retention ago.
  int64_t settled_ms() const {
    const int64_t expires = expires_ms();
    if (!consumed()) return expires;
    const int64_t consumed_at = created_ms + int64_t{consumed_after_seconds} * 1000;
    return consumed_at < expires ? consumed_at : expires;
  }
};

// A record copied out of the store.
struct RecordSnapshot {
  std::string verification_id;
  IdentifierType identifier_type = IdentifierType::kEmail;
  std::string identifier;
  std::string code;
  int64_t created_ms = 0;
  int64_t expires_ms = 0;
  uint32_t try_count = 0;
  bool consumed = false;
  bool verified = false;
  bool identified = false;
  std::string batch_id;  // empty unless created by generate
};

// A borrowed view of one record, valid only inside a store callback.
struct RecordView {
  std::string_view verification_id;
  IdentifierType identifier_type;
  std::string_view identifier;
  std::string_view code;
  const Record* record;  // null for a record of a derived batch
};

}  // namespace mfa
