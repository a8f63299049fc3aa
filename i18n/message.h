// SPDX-License-Identifier: Apache-2.0
// A Logto error message in a locale: the phrase (phrases.h) with i18next's interpolation applied
// as Logto's RequestError.toBody does it (escapeValue off). Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "i18n/phrases.h"

namespace mfa::i18n {

// The values a message of mfa-mock can need. `type`: {{type}} ("Email", "Sms", or "body" for
// guard.invalid_input); `remaining_ms`: {{relativeTime}} (relative_time.h), none when < 0.
struct MessageArgs {
  std::string_view type = {};
  int64_t remaining_ms = -1;
};

// i18next 22.4's interpolation with skipOnVariables: each {{ name }} (also {{- name}} and
// {{name, format}}) is replaced by its value left to right, without rescanning what was put in;
// a name with no value stays as written ("{{type}}"), as Logto leaves it.
std::string Interpolate(std::string_view text,
                        std::span<const std::pair<std::string_view, std::string_view>> values);

// The message Logto sends for `code` in `locale` (English where the locale lacks the phrase);
// kCiMode answers the code itself, as i18next's cimode does. nullopt: not a code of the table.
std::optional<std::string> LogtoMessage(std::string_view code, LocaleId locale,
                                        const MessageArgs& args);

}  // namespace mfa::i18n
