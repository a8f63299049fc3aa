// SPDX-License-Identifier: Apache-2.0
// Admin verification routes (issue 2 §3): seed, generate, export, get, delete.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/test_values.h"
#include "tests/support/wait.h"

namespace mfa_test {
namespace {

constexpr std::string_view kCsvHeader = "verificationId,code,identifierType,identifier";

struct ExportRow {
  std::string verification_id;
  std::string code;
  std::string identifier_type;
  std::string identifier;
};

// Parses a CSV export (header + rows; identifiers in the tests contain no commas or quotes).
bool ParseCsvExport(const std::string& body, std::vector<ExportRow>* rows, std::string* why) {
  std::vector<std::string> lines = SplitLines(body);
  if (lines.empty() || lines[0] != kCsvHeader) {
    *why = "first line is not the header: " + body.substr(0, 200);
    return false;
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> cols;
    size_t start = 0;
    while (true) {
      size_t comma = lines[i].find(',', start);
      cols.push_back(lines[i].substr(start, comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (cols.size() != 4) {
      *why = "line " + std::to_string(i + 1) + " has " + std::to_string(cols.size()) +
             " columns: " + lines[i];
      return false;
    }
    rows->push_back({cols[0], cols[1], cols[2], cols[3]});
  }
  return true;
}

bool ParseNdjsonExport(const std::string& body, std::vector<ExportRow>* rows, std::string* why) {
  for (const std::string& line : SplitLines(body)) {
    Json j(line);
    auto id = j.String("/verificationId");
    auto code = j.String("/code");
    auto type = j.String("/identifierType");
    auto identifier = j.String("/identifier");
    if (!id || !code || !type || !identifier) {
      *why = "bad NDJSON line: " + line;
      return false;
    }
    rows->push_back({*id, *code, *type, *identifier});
  }
  return true;
}

class AdminVerificationsTest : public MockServerTest {
 protected:
  HttpResponse Seed(std::string_view body) {
    return server().AdminPost("/admin/verifications", body);
  }
  HttpResponse GetRecord(std::string_view id) {
    return server().AdminGet("/admin/verifications/" + std::string(id));
  }
  std::vector<ExportRow> Export(std::string_view query) {
    HttpResponse r = server().AdminGet("/admin/verifications/export?" + std::string(query));
    std::vector<ExportRow> rows;
    EXPECT_TRUE(HasStatus(r, 200));
    std::string why;
    bool ok = query.find("format=ndjson") != std::string_view::npos
                  ? ParseNdjsonExport(r.body, &rows, &why)
                  : ParseCsvExport(r.body, &rows, &why);
    EXPECT_TRUE(ok) << why;
    return rows;
  }
};

TEST_F(AdminVerificationsTest, HealthzAnswersOk) {
  HttpResponse r = server().AdminGet("/healthz");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json(r.body).String("/status"), "ok");
  EXPECT_TRUE(IsJsonContentType(r, /*strict=*/false));
}

TEST_F(AdminVerificationsTest, SeedingOneObjectGeneratesIdCodeAndUsesDefaultAddress) {
  HttpResponse r = Seed(R"({"identifierType":"email"})");
  ASSERT_TRUE(HasStatus(r, 201));
  Json body(r.body);
  ASSERT_EQ(body.Size("/verifications"), 1u) << r.body;
  EXPECT_TRUE(IsVerificationId(body.String("/verifications/0/verificationId").value_or("")))
      << r.body;
  EXPECT_TRUE(IsSixDigitCode(body.String("/verifications/0/code").value_or(""))) << r.body;
  EXPECT_EQ(body.String("/verifications/0/identifierType"), "email");
  EXPECT_EQ(body.String("/verifications/0/identifier"), std::string(kDefaultEmail));
  EXPECT_TRUE(IsRfc3339Utc(body.String("/verifications/0/expiresAt").value_or(""))) << r.body;

  HttpResponse phone = Seed(R"({"identifierType":"phone"})");
  ASSERT_TRUE(HasStatus(phone, 201));
  EXPECT_EQ(Json(phone.body).String("/verifications/0/identifier"), std::string(kDefaultPhone));
}

TEST_F(AdminVerificationsTest, SeedingAnArrayStoresEveryItemWithItsCustomFields) {
  HttpResponse r = Seed(R"([
    {"verificationId":"a-1","identifierType":"email","identifier":"a@x.io","code":"111111",
     "ttlSeconds":120},
    {"verificationId":"B_2","identifierType":"phone","identifier":"+4930123","code":"abc",
     "identified":false},
    {"identifierType":"email"}])");
  ASSERT_TRUE(HasStatus(r, 201));
  Json body(r.body);
  ASSERT_EQ(body.Size("/verifications"), 3u) << r.body;
  EXPECT_EQ(body.String("/verifications/0/verificationId"), "a-1");
  EXPECT_EQ(body.String("/verifications/1/verificationId"), "B_2");
  EXPECT_EQ(body.String("/verifications/1/code"), "abc");

  HttpResponse a = GetRecord("a-1");
  ASSERT_TRUE(HasStatus(a, 200));
  Json rec(a.body);
  EXPECT_EQ(rec.String("/verificationId"), "a-1");
  EXPECT_EQ(rec.String("/identifierType"), "email");
  EXPECT_EQ(rec.String("/identifier"), "a@x.io");
  EXPECT_EQ(rec.String("/code"), "111111");
  EXPECT_EQ(rec.Int("/tryCount"), 0);
  EXPECT_EQ(rec.Bool("/consumed"), false);
  EXPECT_EQ(rec.Bool("/verified"), false);
  EXPECT_EQ(rec.Bool("/identified"), true);
  auto created = ParseRfc3339UtcMs(rec.String("/createdAt").value_or(""));
  auto expires = ParseRfc3339UtcMs(rec.String("/expiresAt").value_or(""));
  ASSERT_TRUE(created && expires) << a.body;
  EXPECT_NEAR(static_cast<double>(*expires - *created), 120000.0, 1000.0);
  EXPECT_EQ(rec.String("/expiresAt"), body.String("/verifications/0/expiresAt"));

  Json b(GetRecord("B_2").body);
  EXPECT_EQ(b.String("/identifierType"), "phone");
  EXPECT_EQ(b.String("/identifier"), "+4930123");
  EXPECT_EQ(b.Bool("/identified"), false);

  // Custom ids and codes work on the public route.
  EXPECT_TRUE(HasStatus(server().Verify("a-1", "111111", "email"), 200));
}

TEST_F(AdminVerificationsTest, RecordShowsEveryFieldOfIssue2) {
  ASSERT_TRUE(HasStatus(Seed(R"({"verificationId":"full","identifierType":"email"})"), 201));
  Json rec(GetRecord("full").body);
  std::set<std::string> keys;
  for (const std::string& k : rec.Keys()) keys.insert(k);
  for (const char* k : {"verificationId", "identifierType", "identifier", "code", "createdAt",
                        "expiresAt", "tryCount", "consumed", "verified", "identified"}) {
    EXPECT_TRUE(keys.count(k)) << "missing " << k << " in " << rec.Dump();
  }
  EXPECT_TRUE(IsRfc3339Utc(rec.String("/createdAt").value_or(""))) << rec.Dump();
}

TEST_F(AdminVerificationsTest, RecordReflectsAttemptsAndVerification) {
  ASSERT_TRUE(HasStatus(Seed(R"({"verificationId":"track","identifierType":"email",)"
                             R"("code":"123456"})"),
                        201));
  ASSERT_TRUE(HasStatus(server().Verify("track", "1", "email"), 400));
  EXPECT_EQ(Json(GetRecord("track").body).Int("/tryCount"), 1);
  ASSERT_TRUE(HasStatus(server().Verify("track", "123456", "email"), 200));
  Json rec(GetRecord("track").body);
  EXPECT_EQ(rec.Bool("/consumed"), true);
  EXPECT_EQ(rec.Bool("/verified"), true);
}

TEST_F(AdminVerificationsTest, IdOfSixtyFourAllowedCharactersIsAccepted) {
  std::string id = std::string(31, 'a') + "_-" + std::string(31, 'Z');
  ASSERT_EQ(id.size(), 64u);
  ASSERT_TRUE(
      HasStatus(Seed(R"({"verificationId":")" + id + R"(","identifierType":"email"})"), 201));
  EXPECT_TRUE(HasStatus(GetRecord(id), 200));
}

TEST_F(AdminVerificationsTest, InvalidItemsAnswer400AdminInvalidRequest) {
  const char* bad_items[] = {
      R"({"identifierType":"fax"})",
      R"({})",
      R"({"identifierType":1})",
      R"({"identifierType":"email","verificationId":""})",
      R"({"identifierType":"email","verificationId":"has space"})",
      R"({"identifierType":"email","verificationId":"dot.ted"})",
      R"({"identifierType":"email","verificationId":42})",
      R"({"identifierType":"email","ttlSeconds":0})",
      R"({"identifierType":"email","ttlSeconds":-5})",
      R"({"identifierType":"email","ttlSeconds":"60"})",
      R"({"identifierType":"email","ttlSeconds":1.5})",
      R"({"identifierType":"email","identified":"yes"})",
      R"({"identifierType":"email","code":123456})",
      R"({"identifierType":"email","identifier":7})",
  };
  for (const char* item : bad_items) {
    HttpResponse r = Seed(item);
    EXPECT_TRUE(IsErrorCode(r, 400, kAdminInvalidRequest)) << item;
    EXPECT_TRUE(IsJsonContentType(r, /*strict=*/false)) << item;
  }
  std::string long_id(65, 'a');
  EXPECT_TRUE(
      IsErrorCode(Seed(R"({"verificationId":")" + long_id + R"(","identifierType":"email"})"), 400,
                  kAdminInvalidRequest));
  for (const char* body : {R"("email")", "42", "null", "[1]"}) {
    EXPECT_TRUE(IsErrorCode(Seed(body), 400, kAdminInvalidRequest)) << body;
  }
  EXPECT_EQ(Export("format=ndjson").size(), 0u) << "nothing was stored";
}

TEST_F(AdminVerificationsTest, InvalidItemRejectsTheWholeArrayAndNamesItsIndex) {
  HttpResponse r = Seed(R"([
    {"verificationId":"keep-0","identifierType":"email"},
    {"verificationId":"keep-1","identifierType":"phone"},
    {"verificationId":"bad-2","identifierType":"fax"},
    {"verificationId":"keep-3","identifierType":"email"}])");
  ASSERT_TRUE(IsErrorCode(r, 400, kAdminInvalidRequest));
  std::string message = Json(r.body).String("/message").value_or("");
  EXPECT_EQ(message.rfind("Item 2:", 0), 0u) << message;
  for (const char* id : {"keep-0", "keep-1", "bad-2", "keep-3"}) {
    EXPECT_TRUE(IsErrorCode(GetRecord(id), 404, kAdminNotFound)) << id;
  }
}

TEST_F(AdminVerificationsTest, ExistingIdAnswers409AndStoresNothing) {
  ASSERT_TRUE(HasStatus(Seed(R"({"verificationId":"taken","identifierType":"email",)"
                             R"("code":"111111"})"),
                        201));
  HttpResponse r = Seed(R"([{"verificationId":"fresh","identifierType":"email"},)"
                        R"({"verificationId":"taken","identifierType":"phone"}])");
  EXPECT_TRUE(IsErrorCode(r, 409, kAdminVerificationExists));
  EXPECT_TRUE(IsErrorCode(GetRecord("fresh"), 404, kAdminNotFound));
  Json taken(GetRecord("taken").body);
  EXPECT_EQ(taken.String("/identifierType"), "email") << "the existing record is untouched";
  EXPECT_EQ(taken.String("/code"), "111111");
  EXPECT_TRUE(IsErrorCode(Seed(R"({"verificationId":"taken","identifierType":"email"})"), 409,
                          kAdminVerificationExists));
}

TEST_F(AdminVerificationsTest, DuplicateIdInsideOneArrayStoresNothing) {
  HttpResponse r = Seed(R"([{"verificationId":"twice","identifierType":"email"},)"
                        R"({"verificationId":"other","identifierType":"email"},)"
                        R"({"verificationId":"twice","identifierType":"email"}])");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.status == 400 || r.status == 409) << r.Describe();
  EXPECT_TRUE(IsErrorCode(GetRecord("twice"), 404, kAdminNotFound));
  EXPECT_TRUE(IsErrorCode(GetRecord("other"), 404, kAdminNotFound));
}

TEST_F(AdminVerificationsTest, GetAndDeleteOfUnknownIdAnswer404) {
  HttpResponse get = GetRecord("nope");
  EXPECT_TRUE(IsErrorCode(get, 404, kAdminNotFound));
  EXPECT_TRUE(IsJsonContentType(get, /*strict=*/false));
  EXPECT_TRUE(IsErrorCode(server().AdminDelete("/admin/verifications/nope"), 404, kAdminNotFound));
}

TEST_F(AdminVerificationsTest, DeletingOneRecordRemovesItEverywhere) {
  ASSERT_TRUE(
      HasStatus(Seed(R"([{"verificationId":"gone","identifierType":"email",)"
                     R"("code":"123456"},{"verificationId":"stays","identifierType":"email"}])"),
                201));
  HttpResponse del = server().AdminDelete("/admin/verifications/gone");
  EXPECT_TRUE(HasStatus(del, 204));
  EXPECT_TRUE(del.body.empty());
  EXPECT_TRUE(IsErrorCode(GetRecord("gone"), 404, kAdminNotFound));
  EXPECT_TRUE(IsError(server().Verify("gone", "123456", "email"), 404, kVerificationNotFound,
                      kVerificationNotFoundMessage));
  EXPECT_TRUE(HasStatus(GetRecord("stays"), 200));
  EXPECT_TRUE(IsErrorCode(server().AdminDelete("/admin/verifications/gone"), 404, kAdminNotFound));
}

TEST_F(AdminVerificationsTest, DeletingAllRecordsCountsThem) {
  ASSERT_TRUE(HasStatus(Seed(R"([{"identifierType":"email"},{"identifierType":"phone"},)"
                             R"({"identifierType":"email"}])"),
                        201));
  ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  HttpResponse r = server().AdminDelete("/admin/verifications");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json(r.body).Int("/deleted"), 4) << r.body;
  r = server().AdminDelete("/admin/verifications");
  ASSERT_TRUE(HasStatus(r, 200));
  EXPECT_EQ(Json(r.body).Int("/deleted"), 0) << r.body;
  EXPECT_EQ(Export("format=csv").size(), 0u);
}

TEST_F(AdminVerificationsTest, GenerateWithPatternAndFixedCodeExportsAsCsv) {
  constexpr int kCount = 50;
  HttpResponse r = server().AdminPost(
      "/admin/verifications/generate",
      R"({"count":50,"identifierType":"email","identifier":"user{n}@example.com","code":"111111"})");
  ASSERT_TRUE(HasStatus(r, 201));
  Json body(r.body);
  EXPECT_EQ(body.Int("/created"), kCount);
  std::string batch = body.String("/batchId").value_or("");
  ASSERT_FALSE(batch.empty()) << r.body;

  HttpResponse csv =
      server().AdminGet("/admin/verifications/export?batch=" + UrlEncode(batch) + "&format=csv");
  ASSERT_TRUE(HasStatus(csv, 200));
  std::vector<std::string> lines = SplitLines(csv.body);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], kCsvHeader);
  std::vector<ExportRow> rows;
  std::string why;
  ASSERT_TRUE(ParseCsvExport(csv.body, &rows, &why)) << why;
  ASSERT_EQ(rows.size(), static_cast<size_t>(kCount));
  std::set<std::string> ids;
  std::set<std::string> identifiers;
  for (const ExportRow& row : rows) {
    ids.insert(row.verification_id);
    identifiers.insert(row.identifier);
    EXPECT_TRUE(IsVerificationId(row.verification_id)) << row.verification_id;
    EXPECT_EQ(row.code, "111111");
    EXPECT_EQ(row.identifier_type, "email");
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kCount));
  std::set<std::string> expected;
  for (int n = 1; n <= kCount; ++n) expected.insert("user" + std::to_string(n) + "@example.com");
  EXPECT_EQ(identifiers, expected);

  // A few exported codes verify on the public route.
  for (size_t i : {size_t{0}, size_t{17}, size_t{kCount - 1}}) {
    HttpResponse v = server().Verify(rows[i].verification_id, rows[i].code, "email");
    EXPECT_TRUE(HasStatus(v, 200)) << rows[i].verification_id;
  }
  // The records read back with their pattern identifier.
  Json rec(GetRecord(rows[3].verification_id).body);
  EXPECT_EQ(rec.String("/identifier"), rows[3].identifier);
}

TEST_F(AdminVerificationsTest, GenerateWithRandomCodesExportsAsNdjson) {
  HttpResponse r = server().AdminPost("/admin/verifications/generate",
                                      R"({"count":20,"identifierType":"phone",)"
                                      R"("identifier":"+1555000{n}","ttlSeconds":90})");
  ASSERT_TRUE(HasStatus(r, 201));
  std::string batch = Json(r.body).String("/batchId").value_or("");
  std::vector<ExportRow> rows = Export("batch=" + UrlEncode(batch) + "&format=ndjson");
  ASSERT_EQ(rows.size(), 20u);
  std::set<std::string> identifiers;
  for (const ExportRow& row : rows) {
    EXPECT_TRUE(IsSixDigitCode(row.code)) << row.code;
    EXPECT_EQ(row.identifier_type, "phone");
    identifiers.insert(row.identifier);
  }
  EXPECT_TRUE(identifiers.count("+15550001"));
  EXPECT_TRUE(identifiers.count("+155500020"));
  for (size_t i : {size_t{0}, size_t{9}, size_t{19}}) {
    EXPECT_TRUE(HasStatus(server().Verify(rows[i].verification_id, rows[i].code, "phone"), 200));
  }
  Json rec(GetRecord(rows[1].verification_id).body);
  auto created = ParseRfc3339UtcMs(rec.String("/createdAt").value_or(""));
  auto expires = ParseRfc3339UtcMs(rec.String("/expiresAt").value_or(""));
  ASSERT_TRUE(created && expires) << rec.Dump();
  EXPECT_NEAR(static_cast<double>(*expires - *created), 90000.0, 1000.0);
}

TEST_F(AdminVerificationsTest, GenerateWithoutIdentifierUsesTheDefaultAddress) {
  HttpResponse r = server().AdminPost("/admin/verifications/generate",
                                      R"({"count":3,"identifierType":"email"})");
  ASSERT_TRUE(HasStatus(r, 201));
  std::vector<ExportRow> rows =
      Export("batch=" + UrlEncode(Json(r.body).String("/batchId").value_or("")) + "&format=csv");
  ASSERT_EQ(rows.size(), 3u);
  for (const ExportRow& row : rows) EXPECT_EQ(row.identifier, std::string(kDefaultEmail));
}

TEST_F(AdminVerificationsTest, JsonExportIsOneArrayOfTheNdjsonRowsWithCodesAsStrings) {
  HttpResponse r = server().AdminPost("/admin/verifications/generate",
                                      R"({"count":300,"identifierType":"email",)"
                                      R"("identifier":"j{n}@example.com"})");
  ASSERT_TRUE(HasStatus(r, 201));
  const std::string batch = UrlEncode(Json(r.body).String("/batchId").value_or(""));
  HttpResponse json = server().AdminGet("/admin/verifications/export?format=json&batch=" + batch);
  ASSERT_TRUE(HasStatus(json, 200));
  EXPECT_EQ(json.Header("Content-Type"), "application/json; charset=utf-8");
  Json array(json.body);
  ASSERT_TRUE(array.IsArray()) << array.error();
  ASSERT_EQ(array.Size(), 300u);
  const std::vector<ExportRow> ndjson = Export("batch=" + batch + "&format=ndjson");
  ASSERT_EQ(ndjson.size(), 300u);
  bool leading_zero = false;
  for (size_t i = 0; i < ndjson.size(); ++i) {
    const std::string at = "/" + std::to_string(i);
    EXPECT_EQ(array.String(at + "/verificationId"), ndjson[i].verification_id);
    // A string, not a number: "075746" keeps its zero.
    EXPECT_EQ(array.String(at + "/code"), ndjson[i].code);
    EXPECT_EQ(array.String(at + "/identifierType"), "email");
    EXPECT_EQ(array.String(at + "/identifier"), ndjson[i].identifier);
    leading_zero = leading_zero || ndjson[i].code[0] == '0';
  }
  EXPECT_TRUE(leading_zero) << "one in ten random codes starts with 0";

  HttpResponse empty =
      server().AdminGet("/admin/verifications/export?format=json&batch=" + batch + "x");
  EXPECT_TRUE(IsErrorCode(empty, 404, "admin.not_found"));
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/verifications"), 200));
  HttpResponse none = server().AdminGet("/admin/verifications/export?format=json");
  ASSERT_TRUE(HasStatus(none, 200));
  EXPECT_EQ(none.body, "[\n]\n");
  EXPECT_TRUE(IsErrorCode(server().AdminGet("/admin/verifications/export?format=xml"), 400,
                          "admin.invalid_request"));
}

TEST_F(AdminVerificationsTest, ExportFiltersByBatchAndWithoutBatchListsEveryRecord) {
  ASSERT_TRUE(HasStatus(Seed(R"([{"verificationId":"s1","identifierType":"email"},)"
                             R"({"verificationId":"s2","identifierType":"phone"}])"),
                        201));
  HttpResponse a = server().AdminPost("/admin/verifications/generate",
                                      R"({"count":5,"identifierType":"email"})");
  HttpResponse b = server().AdminPost("/admin/verifications/generate",
                                      R"({"count":7,"identifierType":"phone"})");
  ASSERT_TRUE(HasStatus(a, 201));
  ASSERT_TRUE(HasStatus(b, 201));
  std::string batch_a = Json(a.body).String("/batchId").value_or("");
  std::string batch_b = Json(b.body).String("/batchId").value_or("");
  EXPECT_NE(batch_a, batch_b);
  EXPECT_EQ(Export("batch=" + UrlEncode(batch_a) + "&format=csv").size(), 5u);
  EXPECT_EQ(Export("batch=" + UrlEncode(batch_b) + "&format=ndjson").size(), 7u);
  std::vector<ExportRow> all = Export("format=csv");
  EXPECT_EQ(all.size(), 14u);
  std::map<std::string, ExportRow> by_id;
  for (const ExportRow& row : all) by_id[row.verification_id] = row;
  EXPECT_EQ(by_id.size(), 14u);
  ASSERT_TRUE(by_id.count("s2"));
  EXPECT_EQ(by_id["s2"].identifier_type, "phone");
  EXPECT_EQ(by_id["s2"].identifier, std::string(kDefaultPhone));
  EXPECT_EQ(Export("format=ndjson").size(), 14u);
}

TEST_F(AdminVerificationsTest, LargeBatchExportsEveryRowOnce) {
  constexpr int kCount = 20000;
  HttpResponse r = server().AdminPost(
      "/admin/verifications/generate",
      R"({"count":20000,"identifierType":"email","identifier":"load{n}@example.com"})");
  ASSERT_TRUE(HasStatus(r, 201));
  EXPECT_EQ(Json(r.body).Int("/created"), kCount);
  std::string batch = Json(r.body).String("/batchId").value_or("");
  std::vector<ExportRow> rows = Export("batch=" + UrlEncode(batch) + "&format=csv");
  ASSERT_EQ(rows.size(), static_cast<size_t>(kCount));
  std::set<std::string> ids;
  for (const ExportRow& row : rows) ids.insert(row.verification_id);
  EXPECT_EQ(ids.size(), static_cast<size_t>(kCount));
  EXPECT_TRUE(
      HasStatus(server().Verify(rows[12345].verification_id, rows[12345].code, "email"), 200));
}

// An export request on a raw connection, so that a test decides whether the client reads
// (HttpClient always reads the whole answer).
class RawExport {
 public:
  RawExport(uint16_t port, const std::string& target) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    const int small = 4096;  // the kernel's buffers fill at once when the test stops reading
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    timeval timeout{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return;
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != ssize_t(request.size())) return;
    char buf[4096];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);  // the head and the first rows
    if (n > 0) head_.assign(buf, static_cast<size_t>(n));
  }
  ~RawExport() { Close(); }
  RawExport(const RawExport&) = delete;
  RawExport& operator=(const RawExport&) = delete;

  const std::string& head() const { return head_; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  std::string head_;
};

// utime + stime of a process, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stol(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A 10M-code batch takes seconds to export in full: an export that went on after its client
// left would keep its slot (and a core) that long.
std::string GenerateTenMillion(MockServer& mock) {
  HttpResponse r = mock.AdminPost("/admin/verifications/generate",
                                  R"({"count":10000000,"identifierType":"email"})");
  return HasStatus(r, 201) ? Json(r.body).String("/batchId").value_or("") : "";
}

TEST_F(AdminVerificationsTest, AFifthExportAtOnceAnswers503AndALeftExportFreesItsSlotAtOnce) {
  const std::string batch = GenerateTenMillion(server());
  ASSERT_FALSE(batch.empty());
  const std::string target = "/admin/verifications/export?format=csv&batch=" + UrlEncode(batch);
  std::vector<std::unique_ptr<RawExport>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawExport>(server().process().admin_port(), target));
    ASSERT_TRUE(held.back()->head().starts_with("HTTP/1.1 200")) << held.back()->head();
  }
  HttpResponse busy = server().AdminGet(target);
  EXPECT_TRUE(HasStatus(busy, 503));
  EXPECT_EQ(Json(busy.body).String("/code"), "admin.too_many_exports");
  EXPECT_EQ(busy.Header("Retry-After"), "1");
  // The other admin routes still answer: no request worker streams an export.
  EXPECT_TRUE(HasStatus(server().AdminGet("/admin/stats"), 200));

  for (auto& e : held) e->Close();
  // Each export ends with its client's next write, not after its 10M rows (many seconds).
  std::unique_ptr<RawExport> next;
  EXPECT_TRUE(WaitFor(
      "an export slot to be freed",
      [&] {
        next = std::make_unique<RawExport>(server().process().admin_port(), target);
        return next->head().starts_with("HTTP/1.1 200");
      },
      {}, std::chrono::seconds(3)));
}

TEST_F(AdminVerificationsTest, AnExportWhoseClientStopsReadingWaitsWithoutSpinning) {
  const std::string batch = GenerateTenMillion(server());
  ASSERT_FALSE(batch.empty());
  RawExport stalled(server().process().admin_port(),
                    "/admin/verifications/export?format=csv&batch=" + UrlEncode(batch));
  ASSERT_TRUE(stalled.head().starts_with("HTTP/1.1 200")) << stalled.head();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the buffers fill
  const double before = CpuSeconds(server().process().pid());
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double used = CpuSeconds(server().process().pid()) - before;
  // A busy-waiting writer would use most of a core: 2 s.
  EXPECT_LT(used, 0.3) << "CPU seconds used in 2 s while the export waits for its client";
}

TEST_F(AdminVerificationsTest, InvalidGenerateRequestsAnswer400) {
  for (const char* body :
       {R"({"count":0,"identifierType":"email"})",
        R"({"count":1000000001,"identifierType":"email"})",
        R"({"count":10000001,"identifierType":"email","derived":false})",
        R"({"count":-1,"identifierType":"email"})", R"({"count":"5","identifierType":"email"})",
        R"({"count":5})", R"({"count":5,"identifierType":"fax"})", R"({"identifierType":"email"})",
        R"({"count":5,"identifierType":"email","ttlSeconds":0})",
        R"({"count":5,"identifierType":"email","code":5})", R"([])"}) {
    EXPECT_TRUE(IsErrorCode(server().AdminPost("/admin/verifications/generate", body), 400,
                            kAdminInvalidRequest))
        << body;
  }
  EXPECT_EQ(Export("format=csv").size(), 0u);
}

}  // namespace
}  // namespace mfa_test
