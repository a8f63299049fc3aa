// SPDX-License-Identifier: Apache-2.0
#include "i18n/relative_time.h"

#include <unicode/locid.h>
#include <unicode/reldatefmt.h>
#include <unicode/unistr.h>

#include <cmath>

namespace mfa::i18n {

double RoundedMinutes(int64_t remaining_ms) {
  // floor(ms / 60000 + 1/2) in integers: exact where the double division could land a hair off.
  int64_t shifted = remaining_ms + 30'000;
  int64_t minutes = shifted / 60'000;
  if (shifted % 60'000 != 0 && shifted < 0) --minutes;  // floor, not truncation
  if (minutes == 0 && remaining_ms < 0) return -0.0;    // Math.round(-0.4) is -0: "0 minutes ago"
  return static_cast<double>(minutes);
}

std::string MinutesFromNow(int64_t remaining_ms, LocaleId locale) {
  const double minutes = RoundedMinutes(remaining_ms);
  std::string tag(locale == kCiMode ? std::string_view("en") : LocaleTag(locale));
  // CLDR 44 (V8's ICU since Node 22, the Node Logto runs on) writes Arabic with Latin digits;
  // Debian bookworm's ICU 72 (CLDR 42) still defaults to Arabic-Indic ones.
  if (tag == "ar") tag += "-u-nu-latn";
  UErrorCode status = U_ZERO_ERROR;
  const icu::Locale icu_locale = icu::Locale::forLanguageTag(tag, status);
  icu::RelativeDateTimeFormatter formatter(icu_locale, nullptr, UDAT_STYLE_LONG,
                                           UDISPCTX_CAPITALIZATION_NONE, status);
  icu::UnicodeString text;
  formatter.formatNumeric(minutes, UDAT_REL_UNIT_MINUTE, text, status);
  std::string out;
  if (U_SUCCESS(status)) return text.toUTF8String(out);
  // ICU without its locale data: English, as Intl falls back to its default locale.
  const long long n = std::llround(std::fabs(minutes));
  const std::string count = std::to_string(n) + (n == 1 ? " minute" : " minutes");
  return std::signbit(minutes) ? count + " ago" : "in " + count;
}

}  // namespace mfa::i18n
