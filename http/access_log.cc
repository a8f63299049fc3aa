// SPDX-License-Identifier: Apache-2.0
#include "http/access_log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "wire/json_util.h"
#include "wire/json_writer.h"

namespace mfa {

AccessLog::AccessLog(Format format) : format_(format) {
  logger_ =
      std::make_shared<spdlog::logger>("access", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::info);
}

void AccessLog::Write(std::string_view listener, std::string_view method, std::string_view route,
                      int status, double seconds, std::string_view error_code) {
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const double ms = seconds * 1000.0;
  std::string line;
  line.reserve(160);
  if (format_ == Format::kJson) {
    JsonWriter json(line);
    json.BeginObject()
        .String("time", FormatRfc3339(now))
        .String("listener", listener)
        .String("method", method)
        .String("route", route)
        .Int("status", status)
        .Key("durationMs")
        .Raw(fmt::format("{:.3f}", ms));
    if (!error_code.empty()) json.String("errorCode", error_code);
    json.EndObject();
  } else {
    line = fmt::format("time={} listener={} method={} route=\"{}\" status={} duration_ms={:.3f}",
                       FormatRfc3339(now), listener, method, route, status, ms);
    if (!error_code.empty()) line += fmt::format(" error_code={}", error_code);
  }
  logger_->info(line);
}

}  // namespace mfa
