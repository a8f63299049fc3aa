// SPDX-License-Identifier: Apache-2.0
// Admin JSON bodies and seed-file lines -> domain requests, with one clear error message each.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"
#include "core/inbox.h"
#include "core/mfa_service.h"
#include "core/sessions.h"

namespace mfa {

// Where a parse failed: `kind` picks the admin error code, `message` says what to fix.
struct AdminParseError {
  enum Kind { kInvalidJson, kInvalidRequest } kind = kInvalidRequest;
  std::string message;
};

// One object or an array of objects (POST /admin/verifications). Item errors start "Item N: ".
bool ParseSeedItems(std::string_view body, std::vector<SeedItem>* items, AdminParseError* error);
bool ParseGenerateSpec(std::string_view body, GenerateSpec* spec, AdminParseError* error);
// POST /admin/send {"identifierType", "identifier"}.
bool ParseAdminSend(std::string_view body, IdentifierType* type, std::string* identifier,
                    AdminParseError* error);
// POST /connectors/http-email and /connectors/http-sms: what Logto's HTTP connectors send,
// {"to", "type", "payload": {"code"?, ...}, "ip"?}, into a message for `channel` (to, code and
// template_type set). Members other than these, and payload's other members, are ignored.
bool ParseConnectorMessage(std::string_view body, IdentifierType channel, InboxMessage* message,
                           AdminParseError* error);
// A JSON merge patch applied to `config` (unchanged on failure, including validation failures).
bool ApplyConfigPatch(std::string_view body, Config* config, AdminParseError* error);
// POST /admin/clock/advance {"seconds": N}.
bool ParseClockAdvance(std::string_view body, int64_t* seconds, AdminParseError* error);

// Seed files (--seed): CSV with header verificationId,code,identifierType[,identifier][,ttlSeconds]
// [,identified]
// or NDJSON of the same fields. Detected by the first non-blank character ('{' = NDJSON).
// On failure `error` reads "line N: ...".
// `lines` (optional) receives each item's line number.
bool ParseSeedFile(std::string_view content, std::vector<SeedItem>* items, std::string* error,
                   std::vector<size_t>* lines = nullptr);

// POST /admin/users {"id"?, "username"?, "primaryEmail"?, "primaryPhone"?, "password"?}; a missing
// id is generated.
bool ParseUser(std::string_view body, User* user, AdminParseError* error);
// --users FILE: a JSON array of user objects. Errors name the item index.
bool ParseUsersFile(std::string_view content, std::vector<User>* users, std::string* error);
// POST /admin/sessions {"userId"?, "interactionEvent"?, "startInteraction"?}.
bool ParseCreateSession(std::string_view body, std::string* user_id, InteractionEvent* event,
                        bool* start_interaction, AdminParseError* error);
// POST /admin/sessions/{id}/identify {"userId"}.
bool ParseIdentify(std::string_view body, std::string* user_id, AdminParseError* error);
std::string UserToJson(const User& user);

// JSON of the whole config (GET /admin/config).
std::string ConfigToJson(const Config& config);

// Validators shared by every entry point.
bool IsValidVerificationId(std::string_view id);  // 1-64 of [A-Za-z0-9_-]

}  // namespace mfa
