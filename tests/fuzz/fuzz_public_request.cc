// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the public request parser (POST .../verification-codes and .../verify).
//
// Input layout (so the seed corpus stays readable):
//   byte 0        flags, low three bits: 1 = verify (else send), 2 = profile "logto" (else
//                 "documented"), 4 = a Content-Type header is present. '0'..'7' are handy.
//   if flag 4:    the Content-Type value, up to the first '\n'
//   the rest:     the request body
//
// Invariants checked (any violation aborts, which libFuzzer reports as a crash):
//   - success: the type is email or phone and matches the body's identifierType under the
//     profile; for verify, the verificationId and code views equal what an independent RapidJSON
//     parse of the body reads (every byte of the views is read, so a dangling view is caught by
//     ASan); the views are no longer than the body; the Content-Type was JSON (or absent).
//   - failure: either malformed_json with a parse error (exactly when an independent parse of a
//     JSON body fails) or at least one issue with a known code and path; the rendered 400 body is
//     valid JSON *and valid UTF-8* (RapidJSON with kParseValidateEncodingFlag), with Logto's keys
//     in Logto's order and one entry per issue.
#include <rapidjson/document.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/fuzz/fuzz_check.h"
#include "wire/public_request.h"

namespace {

constexpr unsigned kStrict = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
constexpr unsigned kNoUtf8Check = rapidjson::kParseIterativeFlag;

bool LooksLikeJsonContentType(std::string_view ct) {
  if (ct.empty()) return true;
  std::string lower;
  for (char c : ct.substr(0, ct.find(';'))) {
    if (c != ' ' && c != '\t') {
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  // koa-body 8's JSON types, and (the default, lenient rules) any other +json type.
  return lower == "application/json" || lower == "application/csp-report" ||
         (lower.size() > 5 && lower.compare(lower.size() - 5, 5, "+json") == 0);
}

// Of repeated keys the last, as JSON.parse (and so Logto) keeps it.
rapidjson::Value::ConstMemberIterator Last(const rapidjson::Value& obj, std::string_view key) {
  auto found = obj.MemberEnd();
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    if (std::string_view(it->name.GetString(), it->name.GetStringLength()) == key) found = it;
  }
  return found;
}

// Reads every byte so ASan sees a use of freed or out-of-bounds memory.
size_t Touch(std::string_view v) {
  size_t h = 0;
  for (unsigned char c : v) h = h * 31 + c;
  return h;
}

std::string_view Str(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

void CheckRenderedBody(const mfa::GuardFailure& failure) {
  const std::string body = mfa::GuardFailureBody(failure);
  CHECK_UTF8(body, "the rendered 400 body");
  rapidjson::Document doc;
  if (mfa_fuzz::Relaxed("utf8")) {
    doc.Parse<kNoUtf8Check>(body.data(), body.size());
  } else {
    doc.Parse<kStrict>(body.data(), body.size());
  }
  CHECK(!doc.HasParseError(), body);
  CHECK(doc.IsObject(), body);
  auto it = doc.MemberBegin();
  CHECK(it != doc.MemberEnd() && Str(it->name) == "code" && it->value.IsString() &&
            Str(it->value) == "guard.invalid_input",
        body);
  ++it;
  if (!failure.malformed_json) {
    CHECK(it != doc.MemberEnd() && Str(it->name) == "data" && it->value.IsObject(), body);
    const auto issues = it->value.FindMember("issues");
    CHECK(issues != it->value.MemberEnd() && issues->value.IsArray(), body);
    CHECK(issues->value.Size() == failure.issues.size(), body);
    for (const auto& issue : issues->value.GetArray()) {
      CHECK(issue.IsObject() && issue.HasMember("code") && issue.HasMember("path") &&
                issue.HasMember("message") && issue["path"].IsArray(),
            body);
    }
    const auto name = it->value.FindMember("name");  // the ZodError as JSON.stringify writes it
    CHECK(name != it->value.MemberEnd() && name->value.IsString() && Str(name->value) == "ZodError",
          body);
    ++it;
  }
  CHECK(it != doc.MemberEnd() && Str(it->name) == "details" && it->value.IsString(), body);
  ++it;
  CHECK(it != doc.MemberEnd() && Str(it->name) == "message" && it->value.IsString(), body);
  ++it;
  CHECK(it == doc.MemberEnd(), body);
}

void CheckFailure(const mfa::GuardFailure& failure, bool reference_parsed) {
  if (failure.malformed_json) {
    CHECK(!failure.parse_error.empty());
    CHECK(failure.issues.empty());
    CHECK(!reference_parsed);
  } else {
    CHECK(reference_parsed);  // a JSON body RapidJSON rejects must be reported as malformed
    CHECK(!failure.issues.empty());
    for (const mfa::GuardIssue& issue : failure.issues) {
      CHECK(issue.code == "invalid_type" || issue.code == "invalid_enum_value", issue.code);
      CHECK(issue.path.empty() || issue.path == "verificationId" || issue.path == "code" ||
                issue.path == "identifierType",
            issue.path);
      CHECK(!issue.message.empty());
      if (issue.code == "invalid_enum_value") {
        CHECK(issue.path == "identifierType");
        CHECK(issue.options.size() == 2 || issue.options.size() == 4);
      } else {
        CHECK(issue.options.empty());
        CHECK(!issue.expected.empty() && !issue.received.empty());
      }
    }
  }
  CheckRenderedBody(failure);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const unsigned flags = data[0] & 7u;
  const bool verify = flags & 1u;
  const mfa::Profile profile = (flags & 2u) ? mfa::Profile::kLogto : mfa::Profile::kDocumented;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string_view content_type;
  if (flags & 4u) {
    const size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) {
      content_type = rest;
      rest = {};
    } else {
      content_type = rest.substr(0, nl);
      rest.remove_prefix(nl + 1);
    }
  }
  // Copy the body into an exactly-sized heap buffer so ASan catches reads past its end.
  const std::string body_copy(rest);
  const std::string_view body(body_copy);

  // One parser for the whole run, like the server's one per worker thread: buffer reuse between
  // requests is part of what is being tested.
  static mfa::PublicRequestParser parser;
  mfa::PublicRequest out;
  mfa::GuardFailure failure;
  const bool ok = verify ? parser.ParseVerify(content_type, body, profile, &out, &failure)
                         : parser.ParseSend(content_type, body, profile, &out, &failure);

  // The independent reading of the same body.
  // koa-body (co-body, strict): no text is {}; otherwise only an object or an array is parsed.
  rapidjson::Document ref;
  bool reference_parsed = true;
  if (!body.empty()) {
    const size_t first = body.find_first_not_of(" \t\r\n");
    const bool opens =
        first != std::string_view::npos && (body[first] == '{' || body[first] == '[');
    ref.Parse<kStrict>(body.data(), body.size());
    // RapidJSON stops at a NUL byte and accepts what came before; the server rejects such bodies.
    reference_parsed = opens && !ref.HasParseError() && body.find('\0') == std::string_view::npos;
  } else {
    ref.SetObject();
  }

  if (!ok) {
    CheckFailure(failure, reference_parsed || !LooksLikeJsonContentType(content_type));
    return 0;
  }

  CHECK(failure.issues.empty() && !failure.malformed_json);
  CHECK(LooksLikeJsonContentType(content_type), content_type);
  CHECK(reference_parsed && ref.IsObject(), body);
  CHECK(out.type == mfa::IdentifierType::kEmail || out.type == mfa::IdentifierType::kPhone);

  const auto type_it = Last(ref, "identifierType");
  CHECK(type_it != ref.MemberEnd() && type_it->value.IsString());
  const std::string_view type_text = Str(type_it->value);
  if (profile == mfa::Profile::kLogto) {
    CHECK(type_text == "email" || type_text == "phone", type_text);
  } else {
    CHECK(type_text == "email" || type_text == "phone" || type_text == "Email" ||
              type_text == "Phone",
          type_text);
  }
  CHECK((out.type == mfa::IdentifierType::kEmail) == (type_text[0] == 'e' || type_text[0] == 'E'));

  if (verify && !mfa_fuzz::Relaxed("views")) {
    // Both views must be readable now (not freed with the parse's temporary memory) and hold
    // exactly the decoded strings.
    volatile size_t sink = Touch(out.verification_id) + Touch(out.code);
    (void)sink;
    CHECK(out.verification_id.size() <= body.size());
    CHECK(out.code.size() <= body.size());
    const auto id_it = Last(ref, "verificationId");
    const auto code_it = Last(ref, "code");
    CHECK(id_it != ref.MemberEnd() && id_it->value.IsString());
    CHECK(code_it != ref.MemberEnd() && code_it->value.IsString());
    CHECK(out.verification_id == Str(id_it->value), out.verification_id);
    CHECK(out.code == Str(code_it->value), out.code);
  }
  return 0;
}
