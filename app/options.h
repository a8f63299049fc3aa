// SPDX-License-Identifier: Apache-2.0
// Start-up options (command line and MFA_MOCK_* environment variables).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"

namespace mfa {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

struct AppOptions {
  HostPort listen{"127.0.0.1", 3001};
  HostPort admin_listen{"127.0.0.1", 3002};
  std::optional<HostPort> metrics_listen;
  std::string admin_token;
  std::string connector_authorization;  // what /connectors/* require instead of the token
  bool admin_insecure = false;
  bool metrics_public = false;
  bool metrics_enabled = true;
  int threads = 0;  // resolved to the core count
  size_t shards = 64;
  size_t max_records = 20'000'000;
  size_t inbox_size = 1000;
  size_t inbox_max_waiters = 500;  // requests waiting for the inbox at once (per node)
  size_t public_max_body = 16 * 1024;
  size_t admin_max_body = 8 * 1024 * 1024;
  uint32_t sweep_interval_seconds = 5;
  uint32_t retention_seconds = 600;
  std::string connector_dir;
  std::string seed_file;
  std::string log_level = "info";
  std::string users_file;
  std::string cors_origin = "reflect";  // reflect | * | off | comma-separated origins
  size_t journal_size = 1000;           // 0 = off
  bool journal_show_codes = false;
  std::string access_log = "logfmt";  // logfmt | json | off
  std::string faults_json;            // applied like PATCH /admin/config {"faults": ...}
  std::string snapshot_file;
  uint32_t snapshot_interval_seconds = 60;  // 0 = only at shutdown
  bool snapshot_ignore_corrupt = false;
  uint32_t shutdown_grace_seconds = 10;
  // --store: "memory" (this process) or redis://HOST:PORT[,HOST:PORT...][?prefix=NAME] (shared
  // by many nodes; one server or any nodes of a Redis Cluster).
  std::string store = "memory";
  std::vector<HostPort> redis;  // the seeds, parsed from a redis:// store
  std::string redis_prefix = "mfa";
  uint32_t store_timeout_ms = 1000;
  size_t store_max_in_flight = 10000;
  Config config;

  bool shared_store() const { return store != "memory"; }
};

enum class ParseStatus { kRun, kExitOk, kExitUsage };

// Parses argv (and the environment). On kExitUsage `message` holds one line for stderr; on
// kExitOk (--help, --version) `message` holds what to print on stdout.
ParseStatus ParseOptions(int argc, char** argv, AppOptions* options, std::string* message);

// "redis://HOST:PORT[,HOST:PORT...][?prefix=NAME]" (prefix: letters, digits, '_', '-', ':', '.';
// 1 to 64 of them); false with `why` set if malformed.
bool ParseRedisUrl(const std::string& url, std::vector<HostPort>* seeds, std::string* prefix,
                   std::string* why);

// "host:port", "[v6]:port" or ":port"; false if malformed.
bool ParseHostPort(const std::string& text, HostPort* out);

}  // namespace mfa
