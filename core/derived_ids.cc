// SPDX-License-Identifier: Apache-2.0
#include "core/derived_ids.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <stdexcept>

#include "core/secure_random.h"

namespace mfa {
namespace {

constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr int kHalfBits = kDerivedBits / 2;  // 54
constexpr uint64_t kHalfMask = (uint64_t{1} << kHalfBits) - 1;
// Feistel rounds: 4 make a strong pseudorandom permutation (Luby-Rackoff); more push the
// security bound of 54-bit halves well past the number of ids a batch can have.
constexpr int kRounds = 8;
constexpr uint8_t kRoundTag = 0x46;  // 'F': domain separation between rounds and codes
constexpr uint8_t kCodeTag = 0x43;   // 'C'
constexpr size_t kChunk = 256;       // blocks per cipher call in the *Many functions
constexpr uint64_t k36Pow11 = 131621703842267136ULL;  // 36^11 (< 2^64)

std::atomic<uint64_t> next_instance{1};

// Each thread's AES context, re-keyed when it is used with another IdCipher's key.
struct ThreadCipher {
  uint64_t instance = 0;
  EVP_CIPHER_CTX* ctx = nullptr;
  ~ThreadCipher() { EVP_CIPHER_CTX_free(ctx); }
};
thread_local ThreadCipher thread_cipher;

void PutRoundBlock(uint8_t* block, int round, uint64_t half) {
  std::memset(block, 0, 16);
  block[0] = kRoundTag;
  block[1] = static_cast<uint8_t>(round);
  for (int i = 0; i < 7; ++i) block[2 + i] = static_cast<uint8_t>(half >> (8 * i));
}

uint64_t Low64(const uint8_t* block) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | block[i];
  return v;
}

void PutCodeBlock(uint8_t* block, Uint128 plain) {
  std::memset(block, 0, 16);
  block[0] = kCodeTag;
  for (int i = 0; i < 14; ++i) block[1 + i] = static_cast<uint8_t>(plain >> (8 * i));
}

void WriteCode(const uint8_t* block, char* out) {
  // The bias of 2^64 mod 10^6 is below 10^-13 per code.
  uint64_t v = Low64(block) % 1'000'000;
  for (int i = static_cast<int>(kDerivedCodeLength) - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

}  // namespace

void EncodeId21(Uint128 value, char* out) {
  // One 128-bit division, then 64-bit ones: 36^11 and the quotient both fit in 64 bits.
  uint64_t low = static_cast<uint64_t>(value % k36Pow11);
  uint64_t high = static_cast<uint64_t>(value / k36Pow11);
  for (int i = 20; i >= 10; --i) {
    out[i] = kAlphabet[low % 36];
    low /= 36;
  }
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[high % 36];
    high /= 36;
  }
}

std::optional<Uint128> DecodeDerivedId(std::string_view id) {
  // A first character above 'o' is >= 25 * 36^20 > 2^108: the individual ids, rejected at once.
  if (id.size() != 21 || id[0] > 'o') return std::nullopt;
  Uint128 v = 0;
  for (char c : id) {
    unsigned d;
    if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (c >= 'a' && c <= 'z') {
      d = static_cast<unsigned>(c - 'a') + 10;
    } else {
      return std::nullopt;
    }
    v = v * 36 + d;
  }
  if (v >> kDerivedBits) return std::nullopt;
  return v;
}

void FillIndividualId(char* out) {
  SecureRandom::FillId(out);
  // 25 * 36^20 > 2^108: a first character of p..z puts the id above every derived one.
  out[0] = kAlphabet[25 + SecureRandom::Uniform(11)];
}

std::string NewIndividualId() {
  std::string id(kGeneratedIdLength, '\0');
  FillIndividualId(id.data());
  return id;
}

IdCipher::IdCipher() : instance_(next_instance.fetch_add(1)) {
  SecureRandom::Fill(key_.data(), key_.size());
}

IdCipher::IdCipher(const std::array<uint8_t, kDerivedKeyBytes>& key)
    : key_(key), instance_(next_instance.fetch_add(1)) {}

void IdCipher::Blocks(uint8_t* blocks, size_t n) const {
  ThreadCipher& tc = thread_cipher;
  if (tc.ctx == nullptr) {
    tc.ctx = EVP_CIPHER_CTX_new();
    if (tc.ctx == nullptr) throw std::runtime_error("EVP_CIPHER_CTX_new failed");
  }
  if (tc.instance != instance_) {
    if (EVP_EncryptInit_ex(tc.ctx, EVP_aes_128_ecb(), nullptr, key_.data(), nullptr) != 1) {
      throw std::runtime_error("AES-128 key setup failed");
    }
    EVP_CIPHER_CTX_set_padding(tc.ctx, 0);
    tc.instance = instance_;
  }
  int written = 0;
  if (EVP_EncryptUpdate(tc.ctx, blocks, &written, blocks, static_cast<int>(n * 16)) != 1 ||
      written != static_cast<int>(n * 16)) {
    throw std::runtime_error("AES-128 encryption failed");
  }
}

Uint128 IdCipher::Encrypt(Uint128 plain) const {
  Uint128 out;
  EncryptMany(&plain, &out, 1);
  return out;
}

void IdCipher::EncryptMany(const Uint128* in, Uint128* out, size_t n) const {
  uint8_t blocks[kChunk * 16];
  uint64_t left[kChunk], right[kChunk];
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    for (size_t i = 0; i < m; ++i) {
      left[i] = static_cast<uint64_t>(in[base + i] >> kHalfBits) & kHalfMask;
      right[i] = static_cast<uint64_t>(in[base + i]) & kHalfMask;
    }
    for (int round = 0; round < kRounds; ++round) {
      for (size_t i = 0; i < m; ++i) PutRoundBlock(blocks + 16 * i, round, right[i]);
      Blocks(blocks, m);
      for (size_t i = 0; i < m; ++i) {
        const uint64_t mixed = left[i] ^ (Low64(blocks + 16 * i) & kHalfMask);
        left[i] = right[i];
        right[i] = mixed;
      }
    }
    for (size_t i = 0; i < m; ++i) out[base + i] = (Uint128{left[i]} << kHalfBits) | right[i];
  }
}

Uint128 IdCipher::Decrypt(Uint128 cipher) const {
  uint64_t left = static_cast<uint64_t>(cipher >> kHalfBits) & kHalfMask;
  uint64_t right = static_cast<uint64_t>(cipher) & kHalfMask;
  uint8_t block[16];
  for (int round = kRounds - 1; round >= 0; --round) {
    PutRoundBlock(block, round, left);
    Blocks(block, 1);
    const uint64_t previous_left = right ^ (Low64(block) & kHalfMask);
    right = left;
    left = previous_left;
  }
  return (Uint128{left} << kHalfBits) | right;
}

void IdCipher::Code(Uint128 plain, char* out) const { CodeMany(&plain, out, 1); }

void IdCipher::CodeMany(const Uint128* plain, char* out, size_t n) const {
  uint8_t blocks[kChunk * 16];
  for (size_t base = 0; base < n; base += kChunk) {
    const size_t m = std::min(kChunk, n - base);
    for (size_t i = 0; i < m; ++i) PutCodeBlock(blocks + 16 * i, plain[base + i]);
    Blocks(blocks, m);
    for (size_t i = 0; i < m; ++i) {
      WriteCode(blocks + 16 * i, out + kDerivedCodeLength * (base + i));
    }
  }
}

}  // namespace mfa
