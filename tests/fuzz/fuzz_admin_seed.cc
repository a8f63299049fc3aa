// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the admin seeding parsers.
//
// Input layout: byte 0 picks the parser by its value modulo 8: '0' = ParseSeedItems on a JSON
// body, as POST /admin/verifications gets it; '1' = ParseSeedFile on a --seed file, CSV or NDJSON;
// and the other small admin bodies: '2' = ParseGenerateSpec, '3' = ParseAdminSend,
// '4' = ParseClockAdvance ('5'..'7' = ParseSeedItems again). The rest is the text.
//
// Invariants checked:
//   - every item returned satisfies the documented field rules (verificationId 1-64 of
//     [A-Za-z0-9_-], identifier 1-254 printable, code 1-64 printable, ttlSeconds 1..ten years);
//   - ParseSeedItems: success returns at least one item, one per array element; failure has a
//     message, "Item N: " for item errors with N inside the array;
//   - ParseSeedFile: success returns one line number per item, increasing, each naming a
//     non-blank line of the input; failure reads "line N: ..." with N a line of the input;
//   - every accepted text field is valid UTF-8 (it is echoed in JSON responses);
//   - a CSV round trip: items rendered back as quoted CSV parse to the same items;
//   - generate / admin send / clock advance: results inside their documented ranges, and an
//     error message on failure.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "tests/fuzz/fuzz_check.h"
#include "wire/admin_parser.h"

namespace {

bool Printable(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7f;
  });
}

// Seeded text is echoed in JSON (GET /admin/verifications, the inbox), so it must be UTF-8.
void CheckUtf8(const std::optional<std::string>& field) {
  if (field) CHECK_UTF8(*field, "a seeded text field");
}

void CheckItem(const mfa::SeedItem& item) {
  CheckUtf8(item.identifier);
  CheckUtf8(item.code);
  if (item.verification_id) {
    CHECK(mfa::IsValidVerificationId(*item.verification_id), *item.verification_id);
  }
  CHECK(item.type == mfa::IdentifierType::kEmail || item.type == mfa::IdentifierType::kPhone);
  if (item.identifier) {
    CHECK(
        !item.identifier->empty() && item.identifier->size() <= 254 && Printable(*item.identifier),
        *item.identifier);
  }
  if (item.code) {
    CHECK(!item.code->empty() && item.code->size() <= 64 && Printable(*item.code), *item.code);
  }
  if (item.ttl_seconds) {
    CHECK(*item.ttl_seconds >= 1 && *item.ttl_seconds <= mfa::kMaxTtlSeconds);
  }
}

bool SameItem(const mfa::SeedItem& a, const mfa::SeedItem& b) {
  return a.verification_id == b.verification_id && a.type == b.type &&
         a.identifier == b.identifier && a.code == b.code && a.ttl_seconds == b.ttl_seconds &&
         a.identified == b.identified;
}

std::string CsvField(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

// Renders items as a seed CSV and parses it back. Only items CSV can express take part: every
// item needs a verificationId and code, identified=true, and ttlSeconds on all or none.
void CheckCsvRoundTrip(const std::vector<mfa::SeedItem>& items) {
  if (items.empty()) return;
  const bool ttl = items[0].ttl_seconds.has_value();
  for (const auto& item : items) {
    if (!item.verification_id || !item.code || !item.identified ||
        item.ttl_seconds.has_value() != ttl) {
      return;
    }
  }
  std::string csv = "verificationId,code,identifierType,identifier";
  if (ttl) csv += ",ttlSeconds";
  csv += "\r\n";
  for (const auto& item : items) {
    csv += CsvField(*item.verification_id) + ',' + CsvField(*item.code) + ',' +
           std::string(mfa::ToString(item.type)) + ',' +
           (item.identifier ? CsvField(*item.identifier) : std::string());
    if (ttl) csv += ',' + std::to_string(*item.ttl_seconds);
    csv += "\r\n";
  }
  if (!mfa_fuzz::ValidUtf8(csv)) return;  // MFA_FUZZ_RELAX=utf8 only (CheckItem checks)
  std::vector<mfa::SeedItem> again;
  std::string error;
  std::vector<size_t> lines;
  CHECK(mfa::ParseSeedFile(csv, &again, &error, &lines), error + "\n" + csv);
  CHECK(again.size() == items.size(), csv);
  for (size_t i = 0; i < items.size(); ++i) {
    CHECK(SameItem(items[i], again[i]), csv);
    CHECK(lines[i] == i + 2, csv);
  }
}

// 1-based line numbers of `content` (split at '\n'), as ParseSeedFile counts them.
size_t LineCount(std::string_view content) {
  return static_cast<size_t>(std::count(content.begin(), content.end(), '\n')) + 1;
}

std::string_view Line(std::string_view content, size_t n) {
  size_t pos = 0;
  for (size_t i = 1; i < n; ++i) pos = content.find('\n', pos) + 1;
  const size_t end = content.find('\n', pos);
  return content.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
}

void FuzzSeedItems(std::string_view body) {
  std::vector<mfa::SeedItem> items;
  mfa::AdminParseError error;
  const bool ok = mfa::ParseSeedItems(body, &items, &error);
  // How many items the body holds, read independently (0 = not a JSON array or object).
  rapidjson::Document ref;
  ref.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(body.data(),
                                                                                    body.size());
  // RapidJSON stops at a NUL byte and accepts what came before; the server rejects such bodies.
  const bool ref_ok = !ref.HasParseError() && body.find('\0') == std::string_view::npos;
  const size_t expected = !ref_ok ? 0 : ref.IsArray() ? ref.Size() : 1;
  if (ok) {
    CHECK(!items.empty());
    CHECK(items.size() == expected);
    for (const auto& item : items) CheckItem(item);
    CheckCsvRoundTrip(items);
    return;
  }
  CHECK(!error.message.empty());
  if (error.kind == mfa::AdminParseError::kInvalidJson) {
    CHECK(error.message.rfind("The request body is", 0) == 0, error.message);
    CHECK(expected == 0, error.message);
  } else if (error.message.rfind("Item ", 0) == 0) {
    const size_t n = std::strtoul(error.message.c_str() + 5, nullptr, 10);
    CHECK(n < std::max<size_t>(expected, 1), error.message);
  } else {
    CHECK(error.message.rfind("The array is empty", 0) == 0, error.message);
  }
}

void FuzzSeedFile(std::string_view content) {
  std::vector<mfa::SeedItem> items;
  std::vector<size_t> lines;
  std::string error;
  const size_t line_count = LineCount(content);
  if (mfa::ParseSeedFile(content, &items, &error, &lines)) {
    CHECK(lines.size() == items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      CheckItem(items[i]);
      CHECK(lines[i] >= 1 && lines[i] <= line_count);
      CHECK(i == 0 || lines[i] > lines[i - 1]);
      CHECK(Line(content, lines[i]).find_first_not_of(" \t\r") != std::string_view::npos);
    }
    // Without the optional out-parameter the answer is the same.
    std::vector<mfa::SeedItem> again;
    std::string error2;
    CHECK(mfa::ParseSeedFile(content, &again, &error2));
    CHECK(again.size() == items.size());
    CheckCsvRoundTrip(items);
    return;
  }
  CHECK(error.rfind("line ", 0) == 0, error);
  size_t n = 0;
  size_t i = 5;
  for (; i < error.size() && error[i] >= '0' && error[i] <= '9'; ++i) n = n * 10 + (error[i] - '0');
  CHECK(i > 5 && i + 1 < error.size() && error[i] == ':' && error[i + 1] == ' ', error);
  CHECK(n >= 1 && n <= line_count, error);
  CHECK(error.size() > i + 2, error);
}

void FuzzOtherBodies(unsigned which, std::string_view body) {
  mfa::AdminParseError error;
  bool ok;
  if (which == 2) {
    mfa::GenerateSpec spec;
    ok = mfa::ParseGenerateSpec(body, &spec, &error);
    if (ok) {
      // Derived batches go to a billion codes; stored records to ten million (issue 17).
      CHECK(spec.count >= 1 && spec.count <= 1'000'000'000u);
      CHECK(spec.derived || spec.count <= 10'000'000u);
      CHECK(spec.type == mfa::IdentifierType::kEmail || spec.type == mfa::IdentifierType::kPhone);
      CheckUtf8(spec.identifier_pattern);
      CheckUtf8(spec.code);
    }
  } else if (which == 3) {
    mfa::IdentifierType type = mfa::IdentifierType::kEmail;
    std::string identifier;
    ok = mfa::ParseAdminSend(body, &type, &identifier, &error);
    if (ok) {
      CHECK(!identifier.empty() && identifier.size() <= 254 && Printable(identifier), identifier);
      CHECK_UTF8(identifier, "the admin send identifier");
    }
  } else {
    int64_t seconds = -1;
    ok = mfa::ParseClockAdvance(body, &seconds, &error);
    if (ok) CHECK(seconds >= 0 && seconds <= int64_t{mfa::kMaxTtlSeconds} * 10);
  }
  if (!ok) CHECK(!error.message.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // An exactly-sized heap copy, so ASan catches a read past the end of the text.
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 8) {
    case 1:
      FuzzSeedFile(text);
      break;
    case 2:
    case 3:
    case 4:
      FuzzOtherBodies(data[0] % 8, text);
      break;
    default:
      FuzzSeedItems(text);
  }
  return 0;
}
