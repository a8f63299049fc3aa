// SPDX-License-Identifier: Apache-2.0
// Redis Cluster's key slot: CRC16-XMODEM of the key (or of its hash tag) modulo 16384.
#pragma once

#include <cstdint>
#include <string_view>

namespace mfa::redis {

inline constexpr uint16_t kSlotCount = 16384;

// CRC16-XMODEM (poly 0x1021, init 0), as Redis Cluster computes it.
uint16_t Crc16(std::string_view data);
// The key's slot: if the key holds "{...}" with something between the first '{' and the next
// '}', only that part is hashed (the hash tag), so keys sharing a tag share a slot.
uint16_t KeySlot(std::string_view key);

}  // namespace mfa::redis
