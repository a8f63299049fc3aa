// SPDX-License-Identifier: Apache-2.0
// Scratch files and directories for tests, removed when their owner goes away.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mfa_test {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Empty if creating the directory failed.
  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string File(std::string_view name) const;

 private:
  std::string path_;
};

// Writes `content` to `path`, replacing it. Returns false on failure.
bool WriteFile(const std::string& path, std::string_view content);
// The whole file, or nullopt if it cannot be read.
std::optional<std::string> ReadFile(const std::string& path);
// A fresh empty file under $TMPDIR (or /tmp) named after `prefix`; empty string on failure.
// The caller removes it.
std::string MakeTempFile(std::string_view prefix);

}  // namespace mfa_test
