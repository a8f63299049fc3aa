// SPDX-License-Identifier: Apache-2.0
// Compact string holders for the record store, where every byte is multiplied by millions.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <utility>

namespace mfa {

// A string of N bytes: up to N-1 characters inline, longer ones in one heap block.
// Inline form: byte 0 = (length << 1) | 1, bytes 1..N-1 = characters.
// Heap form: the first 8 bytes hold an aligned pointer (low bit 0) to {uint32 length; chars}.
// Not thread-safe; owned by whoever holds it (the store's shard mutex in practice).
template <size_t N>
class InlineText {
  static_assert(N >= sizeof(void*) && N <= 128, "N must hold a pointer and a 7-bit length");

 public:
  InlineText() { Reset(); }
  explicit InlineText(std::string_view s) {
    Reset();  // Assign() frees the old value: give it a valid empty one
    Assign(s);
  }
  InlineText(const InlineText&) = delete;
  InlineText& operator=(const InlineText&) = delete;
  InlineText(InlineText&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, N);
    other.Reset();
  }
  InlineText& operator=(InlineText&& other) noexcept {
    if (this != &other) {
      Free();
      std::memcpy(bytes_, other.bytes_, N);
      other.Reset();
    }
    return *this;
  }
  ~InlineText() { Free(); }

  void Assign(std::string_view s) {
    Free();
    if (s.size() < N) {
      bytes_[0] = static_cast<unsigned char>((s.size() << 1) | 1);
      if (!s.empty()) std::memcpy(bytes_ + 1, s.data(), s.size());
      return;
    }
    auto* block = static_cast<unsigned char*>(std::malloc(sizeof(uint32_t) + s.size()));
    if (block == nullptr) throw std::bad_alloc();
    const auto len = static_cast<uint32_t>(s.size());
    std::memcpy(block, &len, sizeof(len));
    std::memcpy(block + sizeof(len), s.data(), s.size());
    std::memcpy(bytes_, &block, sizeof(block));
  }

  std::string_view view() const {
    if (IsInline()) {
      return {reinterpret_cast<const char*>(bytes_ + 1), static_cast<size_t>(bytes_[0] >> 1)};
    }
    const unsigned char* block = HeapBlock();
    uint32_t len;
    std::memcpy(&len, block, sizeof(len));
    return {reinterpret_cast<const char*>(block + sizeof(len)), len};
  }
  bool IsInline() const { return (bytes_[0] & 1) != 0; }

 private:
  void Reset() {
    std::memset(bytes_, 0, N);
    bytes_[0] = 1;  // inline, empty
  }
  const unsigned char* HeapBlock() const {
    const unsigned char* block;
    std::memcpy(&block, bytes_, sizeof(block));
    return block;
  }
  void Free() {
    if (!IsInline()) std::free(const_cast<unsigned char*>(HeapBlock()));
    Reset();
  }

  alignas(8) unsigned char bytes_[N];
};

// An immutable, reference-counted string shared by many records (e.g. the default user's
// address). Thread-safe: the count is atomic, the text never changes.
class SharedText {
 public:
  static SharedText* Create(std::string_view s) {
    void* mem = ::operator new(sizeof(SharedText) + s.size());
    auto* t = new (mem) SharedText(static_cast<uint32_t>(s.size()));
    if (!s.empty()) std::memcpy(t->data(), s.data(), s.size());
    return t;
  }
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      this->~SharedText();
      ::operator delete(this);
    }
  }
  std::string_view view() const { return {data(), size_}; }

 private:
  explicit SharedText(uint32_t size) : refs_(1), size_(size) {}
  char* data() { return reinterpret_cast<char*>(this + 1); }
  const char* data() const { return reinterpret_cast<const char*>(this + 1); }

  std::atomic<uint32_t> refs_;
  uint32_t size_;
};

// Owning handle to a SharedText (intrusive, 8 bytes). Copy = Ref, destroy = Unref.
class SharedTextRef {
 public:
  SharedTextRef() = default;
  explicit SharedTextRef(std::string_view s) : text_(SharedText::Create(s)) {}
  SharedTextRef(const SharedTextRef& o) : text_(o.text_) {
    if (text_) text_->Ref();
  }
  SharedTextRef(SharedTextRef&& o) noexcept : text_(std::exchange(o.text_, nullptr)) {}
  SharedTextRef& operator=(SharedTextRef o) noexcept {
    std::swap(text_, o.text_);
    return *this;
  }
  ~SharedTextRef() {
    if (text_) text_->Unref();
  }
  std::string_view view() const { return text_ ? text_->view() : std::string_view(); }
  explicit operator bool() const { return text_ != nullptr; }
  // Gives up ownership; the caller must eventually Unref().
  SharedText* release() { return std::exchange(text_, nullptr); }
  SharedText* get() const { return text_; }

 private:
  SharedText* text_ = nullptr;
};

}  // namespace mfa
