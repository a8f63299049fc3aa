// SPDX-License-Identifier: Apache-2.0
#include "app/connector_files.h"

#include <cstdio>

#include "http/log.h"
#include "wire/json_writer.h"

namespace mfa {

void ConnectorFiles::Write(const InboxMessage& m) {
  const bool email = m.type == IdentifierType::kEmail;
  std::string line;
  JsonWriter(line)
      .BeginObject()
      .String(email ? "address" : "phone", m.to)
      .String("code", m.code)
      .String("type", m.template_type.empty() ? "MfaVerification" : m.template_type)
      .Key("payload")
      .BeginObject()
      .String("code", m.code)
      .EndObject()
      .EndObject();
  line += '\n';
  const std::string path = dir_ + (email ? "/mock_email_record.txt" : "/mock_sms_record.txt");
  const std::string temp = path + ".tmp";
  std::lock_guard<std::mutex> lock(mu_);
  FILE* f = std::fopen(temp.c_str(), "w");
  if (f == nullptr) {
    LogWarn("cannot write {}: open failed", temp);
    return;
  }
  const bool ok = std::fwrite(line.data(), 1, line.size(), f) == line.size();
  if (std::fclose(f) != 0 || !ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    LogWarn("cannot write {}", path);
  }
}

}  // namespace mfa
