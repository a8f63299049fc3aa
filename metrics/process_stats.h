// SPDX-License-Identifier: Apache-2.0
// The standard process_* metrics, read from /proc (Linux). Private to metrics/.
#pragma once

#include <optional>
#include <string>

namespace mfa::metrics {

// Each field is empty when its source could not be read or parsed.
struct ProcessStats {
  std::optional<double> cpu_seconds;         // utime + stime
  std::optional<double> resident_bytes;      // rss pages * page size
  std::optional<double> virtual_bytes;       // vsize
  std::optional<double> open_fds;            // entries of self/fd
  std::optional<double> max_fds;             // soft "Max open files" of self/limits
  std::optional<double> start_time_seconds;  // btime + starttime / CLK_TCK (Unix seconds)
};

// Reads `proc_root`/self/stat, `proc_root`/stat, `proc_root`/self/fd and
// `proc_root`/self/limits. `proc_root` is "/proc" outside tests. Never throws.
ProcessStats ReadProcessStats(const std::string& proc_root);

// Parses the text of /proc/<pid>/stat (the command name may contain spaces and ')').
// Exposed for tests. `ticks_per_second` is sysconf(_SC_CLK_TCK), `page_bytes` the page size,
// `boot_time_seconds` the btime line of /proc/stat (empty: no start time).
void ParseProcSelfStat(const std::string& text, double ticks_per_second, double page_bytes,
                       std::optional<double> boot_time_seconds, ProcessStats* stats);

}  // namespace mfa::metrics
