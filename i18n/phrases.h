// SPDX-License-Identifier: Apache-2.0
// Logto's error phrases (npm @logto/phrases, every locale it ships), by error code: the code is
// the i18n key under `errors` ("verification_code.code_mismatch"). The table is generated
// (phrases_table.inc, scripts/phrases/generate.mjs) and checked against the package by CTest.
// Everything here is immutable static data: thread-safe, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace mfa::i18n {

// A locale of the package: an index into its locale list (LocaleTag), or kCiMode.
using LocaleId = uint8_t;

// i18next's "cimode" (a supported language of every i18next instance): t() answers the key.
inline constexpr LocaleId kCiMode = 255;

LocaleId EnglishLocale();
size_t LocaleCount();  // the ids 0..LocaleCount()-1 are the package's locales
// "fr", "zh-CN" as the package spells them (i18next's supported codes); "cimode" for kCiMode.
std::string_view LocaleTag(LocaleId locale);
// The id of an exact tag as LocaleTag spells it ("zh-CN", not "zh-cn"), or nullopt.
std::optional<LocaleId> FindLocale(std::string_view tag);
std::string_view PhrasesPackageVersion();  // "1.31.0"

// The phrase of `code` in `locale`, falling back to English when that locale lacks it (as
// i18next's fallbackLng "en" does); nullopt when the package has no such code in the namespaces
// the table holds (mfa-mock's own codes: admin.*, mock.*, route.*). For kCiMode: English.
// The text may hold i18next placeholders ({{type}}); see message.h.
std::optional<std::string_view> Phrase(std::string_view code, LocaleId locale);

// How many codes the table holds (for tests and docs).
size_t PhraseCount();

}  // namespace mfa::i18n
