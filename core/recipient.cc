// SPDX-License-Identifier: Apache-2.0
#include "core/recipient.h"

namespace mfa {

std::string NormalizeRecipient(IdentifierType type, std::string_view address) {
  std::string key;
  key.reserve(address.size());
  for (char c : address) {
    if (type == IdentifierType::kEmail) {
      key.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
    } else if (c >= '0' && c <= '9') {
      key.push_back(c);
    }
  }
  return key;
}

}  // namespace mfa
