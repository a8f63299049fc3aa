// SPDX-License-Identifier: Apache-2.0
// The result of a start-up step (loading a file, binding a port): ok, or what went wrong.
#pragma once

#include <string>
#include <utility>

namespace mfa {

class Status {
 public:
  enum class Code { kOk, kInvalidArgument, kFailed };

  Status() = default;
  static Status Ok() { return Status(); }
  // The user's input is wrong (a bad file, a conflicting option): the usage exit code.
  static Status InvalidArgument(std::string message) {
    return Status(Code::kInvalidArgument, std::move(message));
  }
  // Something the user asked for could not be done (a corrupt snapshot, a busy port).
  static Status Failed(std::string message) { return Status(Code::kFailed, std::move(message)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

}  // namespace mfa
