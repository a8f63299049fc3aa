// SPDX-License-Identifier: Apache-2.0
// Logging goes through spdlog to stderr (stdout carries only the ready line).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>
#include <utility>

namespace mfa {

// Returns false if `level` is not one of trace, debug, info, warn, error, off.
bool InitLogging(std::string_view level);

template <typename... Args>
void LogInfo(spdlog::format_string_t<Args...> format, Args&&... args) {
  spdlog::info(format, std::forward<Args>(args)...);
}
template <typename... Args>
void LogWarn(spdlog::format_string_t<Args...> format, Args&&... args) {
  spdlog::warn(format, std::forward<Args>(args)...);
}
template <typename... Args>
void LogError(spdlog::format_string_t<Args...> format, Args&&... args) {
  spdlog::error(format, std::forward<Args>(args)...);
}
template <typename... Args>
void LogDebug(spdlog::format_string_t<Args...> format, Args&&... args) {
  spdlog::debug(format, std::forward<Args>(args)...);
}

}  // namespace mfa
