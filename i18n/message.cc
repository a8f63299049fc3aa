// SPDX-License-Identifier: Apache-2.0
#include "i18n/message.h"

#include <array>

#include "i18n/relative_time.h"

namespace mfa::i18n {
namespace {

std::string_view TrimSpaces(std::string_view s) {
  // String.prototype.trim over the phrase's characters; the phrases' names hold ASCII only.
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// The variable a placeholder's inside names: "- name" -> "name", "names, list(...)" -> "names".
std::string_view VariableName(std::string_view inside) {
  std::string_view name = TrimSpaces(inside);
  if (!name.empty() && name.front() == '-') name = TrimSpaces(name.substr(1));
  if (const size_t comma = name.find(','); comma != std::string_view::npos) {
    name = TrimSpaces(name.substr(0, comma));
  }
  return name;
}

}  // namespace

std::string Interpolate(std::string_view text,
                        std::span<const std::pair<std::string_view, std::string_view>> values) {
  std::string out;
  out.reserve(text.size() + 16);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    // /{{(.+?)}}/: at least one character, none of them a line break, up to the first "}}".
    const size_t close = text.find("}}", open + 3);
    const std::string_view inside = close == std::string_view::npos
                                        ? std::string_view()
                                        : text.substr(open + 2, close - open - 2);
    if (close == std::string_view::npos || inside.find_first_of("\r\n") != std::string_view::npos) {
      out.append(text.substr(pos, open + 1 - pos));  // no match starting here; try the next '{'
      pos = open + 1;
      continue;
    }
    out.append(text.substr(pos, open - pos));
    const std::string_view name = VariableName(inside);
    const std::string_view* value = nullptr;
    for (const auto& [key, v] : values) {
      if (key == name) value = &v;
    }
    if (value != nullptr) {
      out.append(*value);
    } else {
      out.append(text.substr(open, close + 2 - open));
    }
    pos = close + 2;
  }
  out.append(text.substr(pos < text.size() ? pos : text.size()));
  return out;
}

std::optional<std::string> LogtoMessage(std::string_view code, LocaleId locale,
                                        const MessageArgs& args) {
  const std::optional<std::string_view> phrase = Phrase(code, locale);
  if (!phrase) return std::nullopt;
  if (locale == kCiMode) return std::string(code);
  std::string relative_time;
  std::array<std::pair<std::string_view, std::string_view>, 2> values;
  size_t count = 0;
  if (!args.type.empty()) values[count++] = {"type", args.type};
  if (args.remaining_ms >= 0 && phrase->find("relativeTime") != std::string_view::npos) {
    relative_time = MinutesFromNow(args.remaining_ms, locale);
    values[count++] = {"relativeTime", relative_time};
  }
  return Interpolate(*phrase, std::span(values.data(), count));
}

}  // namespace mfa::i18n
