// SPDX-License-Identifier: Apache-2.0
// Cryptographically secure ids and codes, from getrandom(2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace mfa {

inline constexpr size_t kGeneratedIdLength = 21;  // Logto: 21 chars of [0-9a-z]
inline constexpr size_t kGeneratedCodeLength = 6;

// Thread-safe: each thread draws from its own buffer refilled by getrandom(2).
// Throws std::system_error only if the kernel refuses randomness (never on Linux >= 3.17).
class SecureRandom {
 public:
  // Fills `out[0..n)` with uniformly random bytes.
  static void Fill(void* out, size_t n);
  // Writes kGeneratedIdLength characters of [0-9a-z] to `out`.
  static void FillId(char* out);
  // Writes `n` uniformly random decimal digits to `out`.
  static void FillDigits(char* out, size_t n);
  // A uniformly random number in [0, range). REQUIRES: range >= 1.
  static uint8_t Uniform(uint8_t range);

  static std::string NewId();
  static std::string NewCode();
};

}  // namespace mfa
