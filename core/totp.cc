// SPDX-License-Identifier: Apache-2.0
#include "core/totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>

namespace mfa {
namespace {

int Base32Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

bool IsValidTotpSecret(std::string_view secret) {
  if (secret.size() < 16 || secret.size() > 32) return false;
  // Logto's regex: groups of 8, the last one possibly padded to 8 with '='.
  if (secret.size() % 8 != 0) return false;
  const size_t pad_from = secret.find('=');
  const std::string_view body = secret.substr(0, pad_from);
  for (char c : body) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return false;
  }
  if (pad_from == std::string_view::npos) return true;
  for (char c : secret.substr(pad_from)) {
    if (c != '=') return false;
  }
  // Only these data lengths in the last group are valid base32: 2, 4, 5 or 7 characters.
  const size_t last = body.size() % 8;
  return last == 2 || last == 4 || last == 5 || last == 7;
}

std::optional<std::string> DecodeBase32(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = Base32Value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

std::string HotpCode(std::string_view key, uint64_t counter, int digits) {
  std::array<unsigned char, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<size_t>(i)] = static_cast<unsigned char>(counter & 0xFF);
    counter >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_size = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
       mac.data(), &mac_size);
  // RFC 4226 5.3: dynamic truncation.
  const unsigned offset = mac[mac_size - 1] & 0x0F;
  const uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7F) << 24) |
                          (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                          (static_cast<uint32_t>(mac[offset + 2]) << 8) |
                          static_cast<uint32_t>(mac[offset + 3]);
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

std::optional<int64_t> TotpMatchingStep(std::string_view key, std::string_view code,
                                        int64_t now_ms) {
  if (code.size() != 6 || now_ms < 0) return std::nullopt;
  const int64_t step = now_ms / kTotpStepMs;
  for (const int64_t candidate : {step, step - 1, step + 1}) {
    if (candidate < 0) continue;
    if (HotpCode(key, static_cast<uint64_t>(candidate)) == code) return candidate;
  }
  return std::nullopt;
}

}  // namespace mfa
