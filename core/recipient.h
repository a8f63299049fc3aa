// SPDX-License-Identifier: Apache-2.0
// Recipient addresses: how Logto compares them.
#pragma once

#include <string>
#include <string_view>

#include "core/types.h"

namespace mfa {

// The comparison key of an address: emails lowercased (ASCII), phones reduced to their digits.
std::string NormalizeRecipient(IdentifierType type, std::string_view address);

}  // namespace mfa
