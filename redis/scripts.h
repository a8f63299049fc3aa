// SPDX-License-Identifier: Apache-2.0
// The Lua scripts of redis/scripts/, compiled in byte for byte by redis/CMakeLists.txt
// (scripts/send_limit.lua becomes kSendLimitLua and kSendLimitLua_size).
#pragma once

#include <cstddef>
#include <string>

#include "redis/client.h"

namespace mfa {
extern const char kVerifyLua[];
extern const std::size_t kVerifyLua_size;
extern const char kCreateLua[];
extern const std::size_t kCreateLua_size;
extern const char kCreateManyLua[];
extern const std::size_t kCreateManyLua_size;
extern const char kSendLimitLua[];
extern const std::size_t kSendLimitLua_size;
extern const char kInboxAddLua[];
extern const std::size_t kInboxAddLua_size;
extern const char kBatchAddLua[];
extern const std::size_t kBatchAddLua_size;
extern const char kControlPollLua[];
extern const std::size_t kControlPollLua_size;
extern const char kControlPublishLua[];
extern const std::size_t kControlPublishLua_size;
extern const char kSessionCreateLua[];
extern const std::size_t kSessionCreateLua_size;
extern const char kSessionPasswordLua[];
extern const std::size_t kSessionPasswordLua_size;
extern const char kSessionEndLua[];
extern const std::size_t kSessionEndLua_size;
extern const char kSessionStartLua[];
extern const std::size_t kSessionStartLua_size;
extern const char kSessionRecordLua[];
extern const std::size_t kSessionRecordLua_size;
extern const char kSessionIdentifyLua[];
extern const std::size_t kSessionIdentifyLua_size;
extern const char kUserMfaUseLua[];
extern const std::size_t kUserMfaUseLua_size;
extern const char kSentinelFailLua[];
extern const std::size_t kSentinelFailLua_size;
extern const char kVerifyDerivedLua[];
extern const std::size_t kVerifyDerivedLua_size;
extern const char kDerivedKeyLua[];
extern const std::size_t kDerivedKeyLua_size;
extern const char kDerivedAddLua[];
extern const std::size_t kDerivedAddLua_size;
extern const char kDerivedEraseLua[];
extern const std::size_t kDerivedEraseLua_size;
extern const char kDerivedDropLua[];
extern const std::size_t kDerivedDropLua_size;
}  // namespace mfa

namespace mfa::redis {

// An embedded script as a Script (its SHA-1 is of exactly these bytes).
inline Script EmbeddedScript(const char* source, std::size_t size) {
  return Script(std::string(source, size));
}

}  // namespace mfa::redis
