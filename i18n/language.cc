// SPDX-License-Identifier: Apache-2.0
#include "i18n/language.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

namespace mfa::i18n {
namespace {

// String.prototype.trim's white space, for a header Node decoded as Latin-1 (one byte, one
// character): the ASCII controls \t..\r, space and U+00A0.
bool IsJsSpace(unsigned char c) { return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0xA0; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsJsSpace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && IsJsSpace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Digits of `base` only, at least one.
std::optional<double> ParseRadix(std::string_view digits, int base) {
  if (digits.empty()) return std::nullopt;
  double value = 0;
  for (char c : digits) {
    int d;
    if (IsDigit(c)) {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    if (d >= base) return std::nullopt;
    value = value * base + d;
  }
  return value;
}

// StrDecimalLiteral: [+-] (digits [. digits] | . digits) [(e|E) [+-] digits].
bool IsDecimalLiteral(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t int_digits = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++int_digits;
  size_t frac_digits = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exp_digits;
    if (exp_digits == 0) return false;
  }
  return i == s.size();
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

// i18next 22.4 LanguageUtils.formatLanguageCode then isSupportedCode (lowerCaseLng, cleanCode,
// load and nonExplicitSupportedLngs at their defaults). With three subtags the result is never
// a supported code (none has three), with four or more it is the input. JavaScript's
// toLowerCase/toUpperCase turn no non-ASCII Latin-1 character into one that a supported code
// holds, so ASCII case mapping decides the same.
std::optional<LocaleId> SupportedLocale(std::string_view code) {
  const size_t dash = code.find('-');
  if (dash == std::string_view::npos) return FindLocale(code);
  const size_t second = code.find('-', dash + 1);
  if (second != std::string_view::npos) {
    const bool four_or_more = code.find('-', second + 1) != std::string_view::npos;
    return four_or_more ? FindLocale(code) : std::nullopt;
  }
  std::string formatted(code);
  for (size_t i = 0; i < dash; ++i) formatted[i] = AsciiLower(formatted[i]);
  for (size_t i = dash + 1; i < formatted.size(); ++i) formatted[i] = AsciiUpper(formatted[i]);
  return FindLocale(formatted);
}

struct Range {
  std::string_view language;
  double q;
};

// detect-language.ts resolveLanguage: the language and its q, or nothing for an empty part.
std::optional<Range> ResolveRange(std::string_view part) {
  size_t semicolon = part.find(';');
  const std::string_view language = Trim(part.substr(0, semicolon));
  if (language.empty()) return std::nullopt;
  while (semicolon != std::string_view::npos) {
    const size_t start = semicolon + 1;
    semicolon = part.find(';', start);
    const std::string_view item = Trim(part.substr(start, semicolon - start));
    // item.split('='): the key is before the first '=', the value between it and the next.
    const size_t eq = item.find('=');
    const std::string_view key = item.substr(0, eq);
    if (key != "q" || eq == std::string_view::npos) continue;  // Number(undefined) is NaN
    const size_t value_end = item.find('=', eq + 1);
    const std::optional<double> q = JsNumber(item.substr(eq + 1, value_end - (eq + 1)));
    if (q) return Range{language, *q};
  }
  return Range{language, 1};
}

std::vector<Range> SortedRanges(std::string_view header) {
  std::vector<Range> ranges;
  size_t start = 0;
  while (true) {
    const size_t comma = header.find(',', start);
    if (auto range = ResolveRange(header.substr(start, comma - start))) ranges.push_back(*range);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  // Array.prototype.sort is stable; (b.q - a.q) is NaN, i.e. "equal", for two equal infinities.
  std::stable_sort(ranges.begin(), ranges.end(),
                   [](const Range& a, const Range& b) { return a.q > b.q; });
  return ranges;
}

}  // namespace

std::optional<double> JsNumber(std::string_view text) {
  const std::string_view s = Trim(text);
  if (s.empty()) return 0.0;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (s == "Infinity" || s == "+Infinity") return kInf;
  if (s == "-Infinity") return -kInf;
  if (s.size() > 2 && s[0] == '0') {
    const char prefix = AsciiLower(s[1]);
    if (prefix == 'x') return ParseRadix(s.substr(2), 16);
    if (prefix == 'o') return ParseRadix(s.substr(2), 8);
    if (prefix == 'b') return ParseRadix(s.substr(2), 2);
  }
  if (!IsDecimalLiteral(s)) return std::nullopt;
  // strtod in the "C" locale the process runs in reads exactly this grammar, overflowing to
  // infinity and underflowing to zero as Number() does.
  const std::string copy(s);
  return std::strtod(copy.c_str(), nullptr);
}

std::vector<std::string_view> AcceptLanguageRanges(std::string_view accept_language) {
  std::vector<std::string_view> out;
  for (const Range& r : SortedRanges(accept_language)) out.push_back(r.language);
  return out;
}

LocaleId NegotiateLocale(std::span<const std::string> query_locales,
                         std::string_view accept_language) {
  for (const std::string& candidate : query_locales) {
    if (auto locale = SupportedLocale(candidate)) return *locale;
  }
  if (!accept_language.empty()) {
    for (const Range& r : SortedRanges(accept_language)) {
      if (auto locale = SupportedLocale(r.language)) return *locale;
    }
  }
  return EnglishLocale();
}

}  // namespace mfa::i18n
