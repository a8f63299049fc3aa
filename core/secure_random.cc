// SPDX-License-Identifier: Apache-2.0
#include "core/secure_random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <system_error>

namespace mfa {
namespace {

// Per-thread pool so an id costs a few buffer reads, not a syscall.
struct Pool {
  uint8_t bytes[4096];
  size_t next = sizeof(bytes);

  uint8_t Take() {
    if (next == sizeof(bytes)) Refill();
    return bytes[next++];
  }
  void Refill() {
    size_t filled = 0;
    while (filled < sizeof(bytes)) {
      ssize_t n = getrandom(bytes + filled, sizeof(bytes) - filled, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::system_error(errno, std::generic_category(), "getrandom");
      }
      filled += static_cast<size_t>(n);
    }
    next = 0;
  }
};

thread_local Pool pool;

// Unbiased pick in [0, range) by rejecting the top remainder of the byte space.
inline uint8_t Uniform(uint8_t range) {
  const unsigned limit = 256 - (256 % range);
  for (;;) {
    uint8_t b = pool.Take();
    if (b < limit) return static_cast<uint8_t>(b % range);
  }
}

constexpr char kIdAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";

}  // namespace

void SecureRandom::Fill(void* out, size_t n) {
  auto* p = static_cast<uint8_t*>(out);
  for (size_t i = 0; i < n; ++i) p[i] = pool.Take();
}

void SecureRandom::FillId(char* out) {
  for (size_t i = 0; i < kGeneratedIdLength; ++i) out[i] = kIdAlphabet[Uniform(36)];
}

uint8_t SecureRandom::Uniform(uint8_t range) { return mfa::Uniform(range); }

void SecureRandom::FillDigits(char* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<char>('0' + Uniform(10));
}

std::string SecureRandom::NewId() {
  std::string id(kGeneratedIdLength, '\0');
  FillId(id.data());
  return id;
}

std::string SecureRandom::NewCode() {
  std::string code(kGeneratedCodeLength, '\0');
  FillDigits(code.data(), code.size());
  return code;
}

}  // namespace mfa
