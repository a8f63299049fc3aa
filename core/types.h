// SPDX-License-Identifier: Apache-2.0
// Small value types shared by every layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mfa {

enum class IdentifierType : uint8_t { kEmail = 0, kPhone = 1 };
inline constexpr int kIdentifierTypeCount = 2;

// documented: Logto's published API reference. logto: the runtime's exact behaviour.
enum class Profile : uint8_t { kDocumented = 0, kLogto = 1 };

inline constexpr std::string_view ToString(IdentifierType type) {
  return type == IdentifierType::kEmail ? "email" : "phone";
}
// Inbox channel name of a type: email or sms.
inline constexpr std::string_view ChannelName(IdentifierType type) {
  return type == IdentifierType::kEmail ? "email" : "sms";
}
// Connector type name as Logto prints it in connector.not_found.
inline constexpr std::string_view ConnectorTypeName(IdentifierType type) {
  return type == IdentifierType::kEmail ? "Email" : "Sms";
}
inline constexpr std::string_view ToString(Profile profile) {
  return profile == Profile::kDocumented ? "documented" : "logto";
}

// Lowercase names only.
inline std::optional<IdentifierType> ParseIdentifierType(std::string_view s) {
  if (s == "email") return IdentifierType::kEmail;
  if (s == "phone") return IdentifierType::kPhone;
  return std::nullopt;
}
inline std::optional<Profile> ParseProfile(std::string_view s) {
  if (s == "documented") return Profile::kDocumented;
  if (s == "logto") return Profile::kLogto;
  return std::nullopt;
}

}  // namespace mfa
