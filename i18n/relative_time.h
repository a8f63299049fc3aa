// SPDX-License-Identifier: Apache-2.0
// {{relativeTime}} as Logto fills it (routes/experience/classes/libraries/sentinel-guard.ts):
//   new Intl.RelativeTimeFormat([...ctx.i18n.languages])
//       .format(Math.round(remaining_ms / 1000 / 60), 'minute')
// Always minutes, rounded to the nearest (half up: 30 s is "in 1 minute", 29.999 s "in 0
// minutes"), numeric "always", style "long", through ICU's RelativeDateTimeFormatter. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "i18n/phrases.h"

namespace mfa::i18n {

// Math.round(remaining_ms / 60000) as JavaScript computes it (a result of -0 for (-30000, 0)).
double RoundedMinutes(int64_t remaining_ms);

// "in 60 minutes" (en), "dans 60 minutes" (fr), "in 60 Minuten" (de), "60 分後" (ja),
// "60分钟后" (zh-CN). kCiMode formats as English.
std::string MinutesFromNow(int64_t remaining_ms, LocaleId locale);

}  // namespace mfa::i18n
