// SPDX-License-Identifier: Apache-2.0
// CHECK for the fuzz targets: a violated invariant prints what failed and aborts, which libFuzzer
// reports as a crash and saves as crash-<sha1> (ASan and UBSan findings are reported the same way).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace mfa_fuzz {

[[noreturn]] inline void Fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "INVARIANT VIOLATED: %s\n  detail: %.*s\n", what,
               static_cast<int>(detail.size() > 2000 ? 2000 : detail.size()), detail.data());
  std::abort();
}

}  // namespace mfa_fuzz

#define CHECK(cond, ...)                                  \
  do {                                                    \
    if (!(cond)) ::mfa_fuzz::Fail(#cond, ##__VA_ARGS__); \
  } while (0)

namespace mfa_fuzz {

// MFA_FUZZ_RELAX=<comma-separated checks> turns off named invariants, to look past a bug that is
// already reported (never in CI: scripts/fuzz.sh leaves it unset unless you export it). Checks:
//   views  fuzz_public_request: do not read the verify views after the parse returns
//   utf8   every target: outputs must be JSON, but need not be valid UTF-8
inline bool Relaxed(std::string_view check) {
  static const char* env = std::getenv("MFA_FUZZ_RELAX");
  if (env == nullptr) return false;
  const std::string_view list(env);
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t end = list.find(',', pos);
    if (end == std::string_view::npos) end = list.size();
    if (list.substr(pos, end - pos) == check) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace mfa_fuzz

namespace mfa_fuzz {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..U+DFFF), nothing past
// U+10FFFF.
inline bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n;
    unsigned cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto t = static_cast<unsigned char>(s[i + k]);
      if ((t & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (t & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace mfa_fuzz

// Output that ends up in a JSON response must be valid UTF-8 (unless MFA_FUZZ_RELAX has utf8).
#define CHECK_UTF8(text, what)                                                        \
  do {                                                                                \
    if (!::mfa_fuzz::ValidUtf8(text) && !::mfa_fuzz::Relaxed("utf8")) {               \
      ::mfa_fuzz::Fail(what " is not valid UTF-8 (MFA_FUZZ_RELAX=utf8 skips this)", text); \
    }                                                                                 \
  } while (0)
