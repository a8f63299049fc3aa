// SPDX-License-Identifier: Apache-2.0
#include "http/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace mfa {

bool InitLogging(std::string_view level) {
  static const std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},   {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (const auto& [name, value] : kLevels) {
    if (name == level) {
      auto logger = spdlog::stderr_logger_mt("mfa-mock");
      logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
      logger->set_level(value);
      spdlog::set_default_logger(logger);
      return true;
    }
  }
  return false;
}

}  // namespace mfa
