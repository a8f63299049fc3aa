// SPDX-License-Identifier: Apache-2.0
#include "http/etag.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>

namespace mfa {

std::string EtagOf(std::string_view body) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(body.data()), body.size(), digest);
  unsigned char base64[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  EVP_EncodeBlock(base64, digest, SHA_DIGEST_LENGTH);
  char length[24];
  std::snprintf(length, sizeof(length), "%zx", body.size());
  return "\"" + std::string(length) + "-" + std::string(reinterpret_cast<const char*>(base64), 27) +
         "\"";
}

namespace {

bool HasNoCache(std::string_view cache_control) {
  // The `fresh` package: /(?:^|,)\s*?no-cache\s*?(?:,|$)/
  size_t from = 0;
  while (from <= cache_control.size()) {
    const size_t comma = std::min(cache_control.find(',', from), cache_control.size());
    std::string_view token = cache_control.substr(from, comma - from);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (token == "no-cache") return true;
    from = comma + 1;
  }
  return false;
}

}  // namespace

bool IsFresh(std::string_view if_none_match, std::string_view cache_control,
             std::string_view etag) {
  if (if_none_match.empty() || HasNoCache(cache_control)) return false;
  if (if_none_match == "*") return true;
  // parseTokenList: comma-separated, spaces around the commas dropped.
  size_t from = 0;
  while (from <= if_none_match.size()) {
    const size_t comma = std::min(if_none_match.find(',', from), if_none_match.size());
    std::string_view match = if_none_match.substr(from, comma - from);
    while (!match.empty() && match.front() == ' ') match.remove_prefix(1);
    while (!match.empty() && match.back() == ' ') match.remove_suffix(1);
    if (match == etag || (match.size() == etag.size() + 2 && match.substr(0, 2) == "W/" &&
                          match.substr(2) == etag)) {
      return true;
    }
    from = comma + 1;
  }
  return false;
}

}  // namespace mfa
