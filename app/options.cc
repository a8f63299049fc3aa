// SPDX-License-Identifier: Apache-2.0
#include "app/options.h"

#include <CLI/CLI.hpp>

#include "wire/admin_parser.h"

#include <thread>

namespace mfa {

bool ParseRedisUrl(const std::string& url, std::vector<HostPort>* seeds, std::string* prefix,
                   std::string* why) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) {
    *why = "it does not start with redis://";
    return false;
  }
  std::string rest = url.substr(kScheme.size());
  std::string query;
  if (const size_t q = rest.find('?'); q != std::string::npos) {
    query = rest.substr(q + 1);
    rest.resize(q);
  }
  if (rest.find('@') != std::string::npos || rest.find('/') != std::string::npos) {
    *why = "no user, password or database number (hiredis 0.14 has no AUTH here; use a prefix)";
    return false;
  }
  seeds->clear();
  size_t start = 0;
  for (;;) {
    const size_t comma = rest.find(',', start);
    HostPort address;
    if (!ParseHostPort(rest.substr(start, comma - start), &address) || address.host.empty() ||
        address.port == 0) {
      *why = "HOST:PORT is missing or malformed";
      return false;
    }
    seeds->push_back(std::move(address));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (seeds->size() > 64) {
    *why = "at most 64 HOST:PORT seeds";
    return false;
  }
  *prefix = "mfa";
  if (!query.empty()) {
    if (query.rfind("prefix=", 0) != 0 || query.find('&') != std::string::npos) {
      *why = "the only parameter is prefix=NAME";
      return false;
    }
    std::string name = query.substr(7);
    const bool valid = !name.empty() && name.size() <= 64 &&
                       name.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                           "0123456789_-:.") == std::string::npos;
    if (!valid) {
      *why = "prefix must be 1 to 64 of [A-Za-z0-9_-:.]";
      return false;
    }
    *prefix = std::move(name);
  }
  return true;
}

bool ParseHostPort(const std::string& text, HostPort* out) {
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return false;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos) return false;  // bare IPv6 needs brackets
  }
  if (host.empty()) host = "127.0.0.1";
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const unsigned long value = std::stoul(port);
  if (value > 65535) return false;
  out->host = host;
  out->port = static_cast<uint16_t>(value);
  return true;
}

ParseStatus ParseOptions(int argc, char** argv, AppOptions* o, std::string* message) {
  CLI::App app{
      "mfa-mock: a mock of Logto's MFA verification-code API "
      "(POST /api/experience/verification/mfa-verification-code[/verify]).\n"
      "Every option can also be set through the environment variable shown as MFA_MOCK_<NAME>.",
      "mfa-mock"};
  app.get_formatter()->column_width(34);
  std::string listen = "127.0.0.1:3001", admin_listen = "127.0.0.1:3002", metrics_listen;
  std::string profile = "documented", connectors = "email,phone", send_limit = "10/600";
  std::string fixed_code, metrics = "on", sessions_mode = "optional";
  std::string mfa_factors = "EmailVerificationCode,PhoneVerificationCode", mfa_policy = "NoPrompt";
  Config& c = o->config;
  std::string default_email = c.default_user.email, default_phone = c.default_user.phone;
  int threads = 0;
  uint32_t ttl = c.code_ttl_seconds, attempts = c.max_attempts;

  app.set_version_flag("--version", "mfa-mock 0.1.0");
  app.add_option("--listen", listen, "Public listener HOST:PORT (Logto's port by default)")
      ->envname("MFA_MOCK_LISTEN")
      ->capture_default_str();
  app.add_option("--admin-listen", admin_listen, "Admin listener HOST:PORT")
      ->envname("MFA_MOCK_ADMIN_LISTEN")
      ->capture_default_str();
  app.add_option("--metrics-listen", metrics_listen,
                 "Also serve /metrics alone on HOST:PORT (default: admin listener only)")
      ->envname("MFA_MOCK_METRICS_LISTEN");
  app.add_option("--admin-token", o->admin_token,
                 "Require 'Authorization: Bearer TOKEN' on /admin/* (default: none)")
      ->envname("MFA_MOCK_ADMIN_TOKEN");
  app.add_option("--connector-authorization", o->connector_authorization,
                 "Require exactly this Authorization value on /connectors/* (Logto's HTTP "
                 "connectors), instead of the admin token (default: the admin token's rule)")
      ->envname("MFA_MOCK_CONNECTOR_AUTHORIZATION");
  app.add_flag("--admin-insecure", o->admin_insecure,
               "Allow a non-loopback admin listener without a token")
      ->envname("MFA_MOCK_ADMIN_INSECURE");
  app.add_flag("--metrics-public", o->metrics_public, "Serve /metrics without the admin token")
      ->envname("MFA_MOCK_METRICS_PUBLIC");
  app.add_option("--metrics", metrics, "Record metrics: on or off")
      ->envname("MFA_MOCK_METRICS")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  app.add_option("--threads", threads, "HTTP worker threads per listener (0 = core count)")
      ->envname("MFA_MOCK_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  app.add_option("--shards", o->shards, "Store shards, a power of two (1-65536)")
      ->envname("MFA_MOCK_SHARDS")
      ->check(CLI::Range(size_t{1}, size_t{65536}))
      ->capture_default_str();
  bool strict = false;
  app.add_flag("--strict", strict,
               "Every leniency Logto does not have off: --profile logto, --sessions required, "
               "sessions only from /oidc/auth, JSON only with a JSON Content-Type, CORS without "
               "credentials (no answer carries Mfa-Mock-Deviation)")
      ->envname("MFA_MOCK_STRICT");
  app.add_option("--profile", profile, "Error profile: documented or logto")
      ->envname("MFA_MOCK_PROFILE")
      ->check(CLI::IsMember({"documented", "logto"}))
      ->capture_default_str();
  app.add_option("--code-ttl", ttl, "Code lifetime in seconds")
      ->envname("MFA_MOCK_CODE_TTL")
      ->check(CLI::Range(uint32_t{1}, kMaxTtlSeconds))
      ->capture_default_str();
  app.add_option("--max-attempts", attempts, "Wrong codes allowed per record")
      ->envname("MFA_MOCK_MAX_ATTEMPTS")
      ->check(CLI::Range(uint32_t{1}, kMaxAttemptsLimit))
      ->capture_default_str();
  app.add_option("--connectors", connectors,
                 "Enabled connectors: email,phone | email | phone | none")
      ->envname("MFA_MOCK_CONNECTORS")
      ->capture_default_str();
  app.add_option("--send-limit", send_limit,
                 "Sends per recipient per window: N/SECONDS, N (600 s window) or 0 = off")
      ->envname("MFA_MOCK_SEND_LIMIT")
      ->capture_default_str();
  app.add_option("--fixed-code", fixed_code,
                 "Use this code (digits) for every send (default: random)")
      ->envname("MFA_MOCK_FIXED_CODE");
  app.add_option("--default-email", default_email, "The default user's email ('' = none)")
      ->envname("MFA_MOCK_DEFAULT_EMAIL")
      ->capture_default_str();
  app.add_option("--default-phone", default_phone, "The default user's phone ('' = none)")
      ->envname("MFA_MOCK_DEFAULT_PHONE")
      ->capture_default_str();
  app.add_option("--max-records", o->max_records, "Cap on stored records (0 = no cap)")
      ->envname("MFA_MOCK_MAX_RECORDS")
      ->check(CLI::Range(size_t{0}, size_t{1} << 32))
      ->capture_default_str();
  app.add_option("--inbox-size", o->inbox_size, "Messages kept in the inbox (oldest dropped)")
      ->envname("MFA_MOCK_INBOX_SIZE")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--inbox-max-waiters", o->inbox_max_waiters,
                 "Requests that may wait for the inbox at once (latest?wait=, stream)")
      ->envname("MFA_MOCK_INBOX_MAX_WAITERS")
      ->check(CLI::Range(size_t{1}, size_t{100'000}))
      ->capture_default_str();
  app.add_option("--public-max-body", o->public_max_body, "Largest public request body, bytes")
      ->envname("MFA_MOCK_PUBLIC_MAX_BODY")
      ->check(CLI::Range(size_t{256}, size_t{1 << 20}))
      ->capture_default_str();
  app.add_option("--admin-max-body", o->admin_max_body, "Largest admin request body, bytes")
      ->envname("MFA_MOCK_ADMIN_MAX_BODY")
      ->check(CLI::Range(size_t{1024}, size_t{256} << 20))
      ->capture_default_str();
  app.add_option("--sweep-interval", o->sweep_interval_seconds,
                 "Seconds between sweeps of expired and consumed records")
      ->envname("MFA_MOCK_SWEEP_INTERVAL")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--retention", o->retention_seconds,
                 "Seconds an expired or consumed record still answers before it is swept")
      ->envname("MFA_MOCK_RETENTION")
      ->check(CLI::Range(uint32_t{0}, kMaxTtlSeconds))
      ->capture_default_str();
  app.add_option("--connector-dir", o->connector_dir,
                 "Also write each send to DIR/mock_email_record.txt or mock_sms_record.txt")
      ->envname("MFA_MOCK_CONNECTOR_DIR")
      ->check(CLI::ExistingDirectory);
  app.add_option("--seed", o->seed_file, "Load records from a CSV or NDJSON FILE at start-up")
      ->envname("MFA_MOCK_SEED")
      ->check(CLI::ExistingFile);
  app.add_option("--sessions", sessions_mode,
                 "Interaction sessions (_interaction cookie): off, optional or required")
      ->envname("MFA_MOCK_SESSIONS")
      ->check(CLI::IsMember({"off", "optional", "required"}))
      ->capture_default_str();
  app.add_option("--session-ttl", c.session_ttl_seconds, "Session lifetime in seconds")
      ->envname("MFA_MOCK_SESSION_TTL")
      ->check(CLI::Range(uint32_t{1}, kMaxTtlSeconds))
      ->capture_default_str();
  app.add_option("--sign-in-url", c.sign_in_url,
                 "Where GET /oidc/auth redirects (303) once it has started a session")
      ->envname("MFA_MOCK_SIGN_IN_URL")
      ->capture_default_str();
  app.add_option("--sign-in-redirect", c.sign_in_redirect,
                 "Submit's redirectTo when /oidc/auth had no redirect_uri")
      ->envname("MFA_MOCK_SIGN_IN_REDIRECT")
      ->capture_default_str();
  app.add_option("--mfa-factors", mfa_factors,
                 "MFA factors of the sign-in experience, comma-separated: Totp, "
                 "EmailVerificationCode, PhoneVerificationCode, BackupCode (or none)")
      ->envname("MFA_MOCK_MFA_FACTORS")
      ->capture_default_str();
  app.add_option("--mfa-policy", mfa_policy,
                 "MFA policy: NoPrompt (users without a factor sign in directly) or Mandatory "
                 "(they get 422 user.missing_mfa)")
      ->envname("MFA_MOCK_MFA_POLICY")
      ->check(CLI::IsMember({"NoPrompt", "Mandatory"}))
      ->capture_default_str();
  app.add_option("--lockout-threshold", c.lockout.max_failures,
                 "Failed verifications per identifier that lock it (sessions; 0 = off)")
      ->envname("MFA_MOCK_LOCKOUT_THRESHOLD")
      ->check(CLI::Range(uint32_t{0}, kMaxSendsLimit))
      ->capture_default_str();
  app.add_option("--lockout-window", c.lockout.window_seconds,
                 "Seconds over which failures are counted")
      ->envname("MFA_MOCK_LOCKOUT_WINDOW")
      ->check(CLI::Range(uint32_t{1}, kMaxTtlSeconds))
      ->capture_default_str();
  app.add_option("--lockout-duration", c.lockout.duration_seconds,
                 "Seconds a locked identifier stays blocked")
      ->envname("MFA_MOCK_LOCKOUT_DURATION")
      ->check(CLI::Range(uint32_t{1}, kMaxTtlSeconds))
      ->capture_default_str();
  app.add_option("--users", o->users_file, "Load users (JSON array) at start-up")
      ->envname("MFA_MOCK_USERS")
      ->check(CLI::ExistingFile);
  app.add_option("--cors-origin", o->cors_origin,
                 "CORS on the public listener: reflect (any origin, with credentials), *, off, or "
                 "a comma-separated list of origins")
      ->envname("MFA_MOCK_CORS_ORIGIN")
      ->capture_default_str();
  app.add_option("--journal-size", o->journal_size,
                 "Public requests kept for GET /admin/requests (0 = off)")
      ->envname("MFA_MOCK_JOURNAL_SIZE")
      ->check(CLI::Range(size_t{0}, size_t{1'000'000}))
      ->capture_default_str();
  app.add_flag("--journal-show-codes", o->journal_show_codes,
               "Keep codes in journaled request bodies (masked by default)")
      ->envname("MFA_MOCK_JOURNAL_SHOW_CODES");
  app.add_option("--access-log", o->access_log, "Access log to stderr: logfmt, json or off")
      ->envname("MFA_MOCK_ACCESS_LOG")
      ->check(CLI::IsMember({"logfmt", "json", "off"}))
      ->capture_default_str();
  app.add_option("--faults", o->faults_json,
                 "Fault injection, JSON as in PATCH /admin/config \"faults\", e.g. "
                 "'{\"verify\":{\"delayMs\":{\"min\":50,\"max\":200}}}'")
      ->envname("MFA_MOCK_FAULTS");
  app.add_option("--snapshot", o->snapshot_file,
                 "Save store and inbox to FILE at shutdown and every --snapshot-interval; load at "
                 "start-up")
      ->envname("MFA_MOCK_SNAPSHOT");
  app.add_option("--snapshot-interval", o->snapshot_interval_seconds,
                 "Seconds between periodic snapshots (0 = only at shutdown)")
      ->envname("MFA_MOCK_SNAPSHOT_INTERVAL")
      ->check(CLI::Range(0, 86400))
      ->capture_default_str();
  app.add_flag("--snapshot-ignore-corrupt", o->snapshot_ignore_corrupt,
               "Start empty instead of stopping when the snapshot is corrupt")
      ->envname("MFA_MOCK_SNAPSHOT_IGNORE_CORRUPT");
  app.add_option("--shutdown-grace", o->shutdown_grace_seconds,
                 "Seconds SIGTERM waits for requests in flight")
      ->envname("MFA_MOCK_SHUTDOWN_GRACE")
      ->check(CLI::Range(0, 600))
      ->capture_default_str();
  app.add_option(
         "--store", o->store,
         "Where the verification-code state lives: memory (this process) or "
         "redis://HOST:PORT[,HOST:PORT...][?prefix=NAME] (shared by every node pointed at it; "
         "a Redis Cluster is found by itself from any of its nodes)")
      ->envname("MFA_MOCK_STORE")
      ->capture_default_str();
  app.add_option("--store-timeout-ms", o->store_timeout_ms,
                 "Longest wait for the shared store before a request answers 503")
      ->envname("MFA_MOCK_STORE_TIMEOUT_MS")
      ->check(CLI::Range(10, 60'000))
      ->capture_default_str();
  app.add_option("--store-max-in-flight", o->store_max_in_flight,
                 "Calls waiting for the shared store on this node before new ones answer 503")
      ->envname("MFA_MOCK_STORE_MAX_IN_FLIGHT")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}))
      ->capture_default_str();
  app.add_option("--log-level", o->log_level, "trace, debug, info, warn, error or off")
      ->envname("MFA_MOCK_LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    *message = app.help();
    return ParseStatus::kExitOk;
  } catch (const CLI::CallForVersion&) {
    *message = "mfa-mock 0.1.0\n";
    return ParseStatus::kExitOk;
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    for (char& ch : what) {
      if (ch == '\n') ch = ' ';
    }
    *message = "mfa-mock: " + what + " (see --help)";
    return ParseStatus::kExitUsage;
  }

  auto usage = [message](std::string text) {
    *message = "mfa-mock: " + text + " (see --help)";
    return ParseStatus::kExitUsage;
  };
  if (!ParseHostPort(listen, &o->listen))
    return usage("--listen must be HOST:PORT, got '" + listen + "'");
  if (!ParseHostPort(admin_listen, &o->admin_listen)) {
    return usage("--admin-listen must be HOST:PORT, got '" + admin_listen + "'");
  }
  if (!metrics_listen.empty()) {
    HostPort hp;
    if (!ParseHostPort(metrics_listen, &hp)) {
      return usage("--metrics-listen must be HOST:PORT, got '" + metrics_listen + "'");
    }
    o->metrics_listen = hp;
  }
  if ((o->shards & (o->shards - 1)) != 0) {
    return usage("--shards must be a power of two, got " + std::to_string(o->shards));
  }
  o->metrics_enabled = metrics == "on";
  o->threads =
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (strict) {
    if (app.count("--profile") > 0 && profile != "logto") {
      return usage("--strict needs --profile logto, got '" + profile + "'");
    }
    if (app.count("--sessions") > 0 && sessions_mode != "required") {
      return usage("--strict needs --sessions required, got '" + sessions_mode + "'");
    }
    profile = "logto";
    sessions_mode = "required";
  }
  c.strict = strict;
  c.profile = *ParseProfile(profile);
  c.sessions = *ParseSessionMode(sessions_mode);
  c.mfa.policy = *ParseMfaPolicy(mfa_policy);
  c.mfa.factors = 0;
  if (mfa_factors != "none") {
    for (size_t pos = 0; pos <= mfa_factors.size();) {
      const size_t comma = std::min(mfa_factors.find(',', pos), mfa_factors.size());
      const std::string item = mfa_factors.substr(pos, comma - pos);
      const std::optional<MfaFactor> factor = ParseMfaFactor(item);
      // WebAuthn has no verification route here.
      if (!factor || factor == MfaFactor::kWebAuthn) {
        return usage("--mfa-factors: '" + item +
                     "' is not one of Totp, EmailVerificationCode, PhoneVerificationCode, "
                     "BackupCode, none");
      }
      c.mfa.set(*factor, true);
      pos = comma + 1;
    }
  }
  if (c.sign_in_url.empty() || c.sign_in_url.find_first_of("\r\n") != std::string::npos ||
      c.sign_in_redirect.find_first_of("\r\n") != std::string::npos) {
    return usage("--sign-in-url and --sign-in-redirect must be one non-empty line each");
  }
  c.code_ttl_seconds = ttl;
  c.max_attempts = attempts;
  if (connectors == "none") {
    c.email_connector = c.phone_connector = false;
  } else {
    c.email_connector = c.phone_connector = false;
    size_t pos = 0;
    while (pos <= connectors.size()) {
      const size_t comma = connectors.find(',', pos);
      const std::string item =
          connectors.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (item == "email") {
        c.email_connector = true;
      } else if (item == "phone" || item == "sms") {
        c.phone_connector = true;
      } else {
        return usage("--connectors must list email and/or phone, or be none; got '" + connectors +
                     "'");
      }
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  {
    const size_t slash = send_limit.find('/');
    const std::string n = send_limit.substr(0, slash);
    const std::string w = slash == std::string::npos ? "600" : send_limit.substr(slash + 1);
    auto digits = [](const std::string& s) {
      return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos;
    };
    if (!digits(n) || !digits(w) || std::stoul(w) == 0) {
      return usage("--send-limit must be N, N/SECONDS or 0, got '" + send_limit + "'");
    }
    c.send_rate_limit.max_sends = static_cast<uint32_t>(std::stoul(n));
    c.send_rate_limit.window_seconds = static_cast<uint32_t>(std::stoul(w));
  }
  if (!fixed_code.empty()) {
    if (fixed_code.size() > kMaxFixedCodeLength ||
        fixed_code.find_first_not_of("0123456789") != std::string::npos) {
      return usage("--fixed-code must be 1 to 32 decimal digits, got '" + fixed_code + "'");
    }
    c.fixed_code = fixed_code;
  }
  c.default_user.email = default_email;
  c.default_user.phone = default_phone;
  if (std::string why = ValidateConfig(c); !why.empty()) return usage(why);
  if (o->store != "memory") {
    std::string why;
    if (!ParseRedisUrl(o->store, &o->redis, &o->redis_prefix, &why)) {
      return usage("--store must be memory or redis://HOST:PORT[,HOST:PORT...][?prefix=NAME]: " +
                   why);
    }
    // What a shared store does not hold yet: refused rather than kept per node in silence.
    if (!o->snapshot_file.empty()) {
      return usage(
          "--snapshot does not apply to --store redis (Redis holds the state; use its "
          "own persistence)");
    }
    if (!o->connector_dir.empty()) {
      return usage("--connector-dir is not available with --store redis yet (docs/scale-out.md)");
    }
    if (app.get_option("--max-records")->count() > 0) {
      return usage("--max-records does not apply to --store redis: cap Redis itself (maxmemory)");
    }
  }
  if (!o->faults_json.empty()) {
    // The same parser as PATCH /admin/config, so both accept exactly the same rules.
    AdminParseError error;
    if (!ApplyConfigPatch("{\"faults\":" + o->faults_json + "}", &c, &error)) {
      return usage("--faults: " + error.message);
    }
  }
  return ParseStatus::kRun;
}

}  // namespace mfa
