// SPDX-License-Identifier: Apache-2.0
// Ids and codes of generated batches, derived from a secret key instead of stored: a keyed
// permutation of (batch serial, sequence number) written as Logto's 21 characters of [0-9a-z],
// and a keyed 6-digit code per record. Built on AES-128 (OpenSSL) as the round function of a
// balanced Feistel network over 108 bits (2^108 < 36^21).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mfa {

using Uint128 = unsigned __int128;

inline constexpr int kDerivedBits = 108;
inline constexpr int kDerivedSeqBits = 40;     // sequence numbers (from 1) below 2^40
inline constexpr int kDerivedSerialBits = 64;  // a batch's serial; the top 4 plaintext bits are 0
inline constexpr size_t kDerivedKeyBytes = 16;
inline constexpr size_t kDerivedCodeLength = 6;

// The 108-bit plaintext of record `n` of the batch with `serial`. REQUIRES: n < 2^40.
inline Uint128 DerivedPlain(uint64_t serial, uint64_t n) {
  return (Uint128{serial} << kDerivedSeqBits) | n;
}
// Whether a decrypted value can name a record at all (its top 4 bits are 0).
inline bool IsDerivedPlain(Uint128 plain) {
  return (plain >> (kDerivedSeqBits + kDerivedSerialBits)) == 0;
}
inline uint64_t SerialOf(Uint128 plain) { return static_cast<uint64_t>(plain >> kDerivedSeqBits); }
inline uint64_t SeqOf(Uint128 plain) {
  return static_cast<uint64_t>(plain & ((Uint128{1} << kDerivedSeqBits) - 1));
}

// `value` (< 36^21) as 21 characters of [0-9a-z], most significant first. Writes out[0..21).
void EncodeId21(Uint128 value, char* out);
// The value of a 21-character [0-9a-z] id if it is below 2^108 (the derived part of the id
// space); nullopt for any other string. Individually created records draw their ids from the
// rest of the space (NewIndividualId), so they never decode.
std::optional<Uint128> DecodeDerivedId(std::string_view id);

// A fresh random 21-character id outside the derived part of the space: its first character is
// one of p..z (every such id is >= 2^108), the other 20 uniform. ~107 bits of randomness.
std::string NewIndividualId();
// The same written to out[0..21).
void FillIndividualId(char* out);

// The keyed permutation and code function. Thread-safe after construction (each thread keeps its
// own cipher context). Copyable: a copy shares the key.
class IdCipher {
 public:
  // A fresh random key.
  IdCipher();
  explicit IdCipher(const std::array<uint8_t, kDerivedKeyBytes>& key);

  const std::array<uint8_t, kDerivedKeyBytes>& key() const { return key_; }

  // The permutation of [0, 2^108) and its inverse. REQUIRES: plain < 2^108.
  Uint128 Encrypt(Uint128 plain) const;
  Uint128 Decrypt(Uint128 cipher) const;
  // Encrypt over n values at once (one cipher call per round for all of them): out[i] =
  // Encrypt(in[i]). `in` and `out` may be the same array.
  void EncryptMany(const Uint128* in, Uint128* out, size_t n) const;

  // The 6-digit code of `plain` (leading zeros kept), written to out[0..6).
  void Code(Uint128 plain, char* out) const;
  // Code over n values at once; out holds 6 * n characters.
  void CodeMany(const Uint128* plain, char* out, size_t n) const;

 private:
  // AES-128 of n 16-byte blocks, in place.
  void Blocks(uint8_t* blocks, size_t n) const;

  std::array<uint8_t, kDerivedKeyBytes> key_{};
  uint64_t instance_ = 0;  // which key a thread's cached context holds
};

}  // namespace mfa
