// SPDX-License-Identifier: Apache-2.0
// Writes each send the way Logto's mock connectors do, so test helpers written for Logto work.
#pragma once

#include <mutex>
#include <string>

#include "core/inbox.h"

namespace mfa {

// Thread-safe: `mu_` serializes writes so a file always holds one whole, latest line.
class ConnectorFiles {
 public:
  explicit ConnectorFiles(std::string dir) : dir_(std::move(dir)) {}
  // Overwrites DIR/mock_email_record.txt or DIR/mock_sms_record.txt (atomic rename).
  void Write(const InboxMessage& message);

 private:
  std::mutex mu_;
  std::string dir_;
};

}  // namespace mfa
