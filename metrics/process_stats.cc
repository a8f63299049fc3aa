// SPDX-License-Identifier: Apache-2.0
#include "metrics/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

namespace mfa::metrics {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(text).str();
}

std::optional<double> ParseNumber(std::string_view token) {
  double value = 0;
  auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (error != std::errc() || end != token.data() + token.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> SplitSpaces(std::string_view text) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
    if (i > start) tokens.push_back(text.substr(start, i - start));
  }
  return tokens;
}

// The "btime <seconds>" line of /proc/stat.
std::optional<double> ParseBootTime(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (line.starts_with("btime ")) {
      auto tokens = SplitSpaces(line);
      if (tokens.size() >= 2) return ParseNumber(tokens[1]);
    }
    pos = end + 1;
  }
  return std::nullopt;
}

// The soft limit of the "Max open files" line of /proc/self/limits.
std::optional<double> ParseMaxOpenFiles(std::string_view text) {
  constexpr std::string_view kPrefix = "Max open files";
  size_t pos = text.find(kPrefix);
  if (pos == std::string_view::npos) return std::nullopt;
  size_t end = text.find('\n', pos);
  if (end == std::string_view::npos) end = text.size();
  auto tokens = SplitSpaces(text.substr(pos + kPrefix.size(), end - pos - kPrefix.size()));
  if (tokens.empty()) return std::nullopt;
  return ParseNumber(tokens[0]);  // "unlimited" does not parse: no value
}

std::optional<double> CountOpenFds(const std::string& dir_path) {
  DIR* dir = opendir(dir_path.c_str());
  if (dir == nullptr) return std::nullopt;
  // In the real /proc/self/fd, the descriptor opendir() holds is listed too: not counted.
  const std::string own_fd = std::to_string(dirfd(dir));
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    if (entry->d_type == DT_LNK && own_fd == entry->d_name) continue;
    ++count;
  }
  closedir(dir);
  return count;
}

}  // namespace

void ParseProcSelfStat(const std::string& text, double ticks_per_second, double page_bytes,
                       std::optional<double> boot_time_seconds, ProcessStats* stats) {
  // Fields after the command name, which is wrapped in parentheses and may contain anything.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return;
  auto fields = SplitSpaces(std::string_view(text).substr(close + 1));
  // fields[0] is field 3 (state) of proc(5); field n is fields[n - 3].
  auto field = [&fields](size_t n) -> std::optional<double> {
    if (n - 3 >= fields.size()) return std::nullopt;
    return ParseNumber(fields[n - 3]);
  };
  auto utime = field(14);
  auto stime = field(15);
  if (utime && stime && ticks_per_second > 0) {
    stats->cpu_seconds = (*utime + *stime) / ticks_per_second;
  }
  if (auto start = field(22); start && boot_time_seconds && ticks_per_second > 0) {
    stats->start_time_seconds = *boot_time_seconds + *start / ticks_per_second;
  }
  if (auto vsize = field(23)) stats->virtual_bytes = *vsize;
  if (auto rss = field(24)) stats->resident_bytes = *rss * page_bytes;
}

ProcessStats ReadProcessStats(const std::string& proc_root) {
  ProcessStats stats;
  try {
    double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    std::optional<double> boot_time;
    if (auto proc_stat = ReadFile(proc_root + "/stat")) boot_time = ParseBootTime(*proc_stat);
    if (auto self_stat = ReadFile(proc_root + "/self/stat")) {
      ParseProcSelfStat(*self_stat, ticks, page, boot_time, &stats);
    }
    stats.open_fds = CountOpenFds(proc_root + "/self/fd");
    if (auto limits = ReadFile(proc_root + "/self/limits")) {
      stats.max_fds = ParseMaxOpenFiles(*limits);
    }
  } catch (...) {
    // Allocation failure: report what was read so far.
  }
  return stats;
}

}  // namespace mfa::metrics
