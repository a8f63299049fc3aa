// SPDX-License-Identifier: Apache-2.0
#include "i18n/phrases.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace mfa::i18n {
namespace generated {
#include "i18n/phrases_table.inc"
}  // namespace generated
namespace {

using generated::kRows;

static_assert(generated::kLocaleCount < kCiMode, "LocaleId must hold every locale and kCiMode");

constexpr bool Sorted() {
  for (size_t i = 1; i < kRows.size(); ++i) {
    if (!(kRows[i - 1].code < kRows[i].code)) return false;
  }
  return true;
}
static_assert(Sorted(), "phrases_table.inc must be sorted by code (binary search)");

}  // namespace

LocaleId EnglishLocale() { return static_cast<LocaleId>(generated::kEnglish); }

size_t LocaleCount() { return generated::kLocaleCount; }

std::string_view LocaleTag(LocaleId locale) {
  if (locale == kCiMode) return "cimode";
  return locale < generated::kLocaleCount ? generated::kLocaleTags[locale] : std::string_view();
}

std::optional<LocaleId> FindLocale(std::string_view tag) {
  for (size_t i = 0; i < generated::kLocaleCount; ++i) {
    if (generated::kLocaleTags[i] == tag) return static_cast<LocaleId>(i);
  }
  if (tag == "cimode") return kCiMode;
  return std::nullopt;
}

std::string_view PhrasesPackageVersion() { return generated::kPackageVersion; }

size_t PhraseCount() { return kRows.size(); }

std::optional<std::string_view> Phrase(std::string_view code, LocaleId locale) {
  const auto* row = std::lower_bound(
      kRows.begin(), kRows.end(), code,
      [](const generated::Row& r, std::string_view wanted) { return r.code < wanted; });
  if (row == kRows.end() || row->code != code) return std::nullopt;
  if (locale < generated::kLocaleCount && !row->text[locale].empty()) return row->text[locale];
  return row->text[generated::kEnglish];
}

}  // namespace mfa::i18n
