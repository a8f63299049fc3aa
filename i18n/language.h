// SPDX-License-Identifier: Apache-2.0
// The language Logto answers a request in, negotiated exactly as Logto's core does
// (packages/core/src/middleware/koa-i18next.ts with src/i18n/detect-language.ts and i18next
// 22.4's LanguageUtils; init: fallbackLng "en", supportedLngs = the package's locales):
//  1. candidates: every `locale` query parameter, in order, as sent (decoded); then each
//     comma-separated range of Accept-Language: the part before the first ';' (trimmed; empty
//     ones are dropped) with the first `q=` parameter that is a number to JavaScript's Number()
//     (so "q=" is 0, "q=abc" is ignored, "Q=0.5" is not a q), else 1; stably sorted by q, highest
//     first. q=0 does not remove a range.
//  2. each candidate formatted as i18next's formatLanguageCode (two subtags: "zh-cn" -> "zh-CN";
//     one subtag is kept as sent: "FR" stays "FR"), and the first one that is exactly a
//     supported code wins. No region fallback: "fr-CA" alone is not "fr" (Logto answers it in
//     English); "*" and garbage match nothing. "cimode" is i18next's key-echo mode.
//  3. nothing matched: English.
// Pure functions; thread-safe. The header is read as Node reads it (bytes as Latin-1).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "i18n/phrases.h"

namespace mfa::i18n {

LocaleId NegotiateLocale(std::span<const std::string> query_locales,
                         std::string_view accept_language);
inline LocaleId NegotiateLocale(std::string_view accept_language) {
  return NegotiateLocale({}, accept_language);
}

// Step 1 alone (for tests and logs): Accept-Language's ranges in the order Logto tries them.
std::vector<std::string_view> AcceptLanguageRanges(std::string_view accept_language);

// JavaScript's Number(text) for a string; nullopt for NaN. Exposed for tests.
std::optional<double> JsNumber(std::string_view text);

}  // namespace mfa::i18n
