// SPDX-License-Identifier: Apache-2.0
// The command line (issue 2 §4): --help, bad values, flags and env vars, --seed, signals.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"
#include "tests/support/server_process.h"
#include "tests/support/temp_files.h"
#include "tests/support/test_values.h"

namespace mfa_test {
namespace {

const std::vector<std::string> kLoopback = {"--listen", "127.0.0.1:0", "--admin-listen",
                                            "127.0.0.1:0"};

std::vector<std::string> WithLoopback(std::vector<std::string> args) {
  args.insert(args.end(), kLoopback.begin(), kLoopback.end());
  return args;
}

// Non-empty lines of `text`.
std::vector<std::string> NonEmptyLines(const std::string& text) {
  std::vector<std::string> lines;
  for (const std::string& line : SplitLines(text)) {
    if (line.find_first_not_of(" \t") != std::string::npos) lines.push_back(line);
  }
  return lines;
}

// Exit code 2, exactly one line on stderr mentioning one of `mentions` (any, if empty), and no
// ready line.
::testing::AssertionResult IsStartupError(const RunResult& r,
                                          const std::vector<std::string>& mentions) {
  if (r.timed_out) {
    return ::testing::AssertionFailure() << "it kept running:\n" << r.Describe();
  }
  if (r.exit_code != 2) {
    return ::testing::AssertionFailure() << "expected exit code 2:\n" << r.Describe();
  }
  std::vector<std::string> lines = NonEmptyLines(r.err);
  if (lines.size() != 1) {
    return ::testing::AssertionFailure() << "expected one line on stderr:\n" << r.Describe();
  }
  bool mentioned = mentions.empty();
  for (const std::string& m : mentions) mentioned |= lines[0].find(m) != std::string::npos;
  if (!mentioned) {
    return ::testing::AssertionFailure()
           << "the stderr line does not mention '" << mentions[0] << "':\n"
           << r.Describe();
  }
  if (r.out.find("mfa-mock ready") != std::string::npos) {
    return ::testing::AssertionFailure() << "it printed the ready line:\n" << r.Describe();
  }
  return ::testing::AssertionSuccess();
}

TEST(CliTest, HelpExitsZeroAndListsEveryOption) {
  RunResult r = RunBinary({"--help"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  for (const char* option :
       {"--listen", "--admin-listen", "--admin-token", "--threads", "--shards", "--profile",
        "--code-ttl", "--max-attempts", "--connectors", "--send-limit", "--fixed-code",
        "--default-email", "--default-phone", "--max-records", "--connector-dir", "--seed",
        "--log-level", "--public-max-body", "--admin-max-body"}) {
    EXPECT_NE(r.out.find(option), std::string::npos) << option << " missing from --help:\n"
                                                     << r.out;
  }
  // Defaults are shown for the listeners (issue 2: "listing every option with its default").
  EXPECT_NE(r.out.find("127.0.0.1:3001"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("127.0.0.1:3002"), std::string::npos) << r.out;
}

struct BadArgs {
  std::vector<std::string> args;
  std::vector<std::string> mentions;  // the error line must contain one of these
};

TEST(CliTest, BadValuesExitTwoWithOneLineOnStderr) {
  const std::vector<BadArgs> cases = {
      {{"--threads", "abc"}, {"threads"}},
      {{"--shards", "3"}, {"shards"}},
      {{"--shards", "0"}, {"shards"}},
      {{"--profile", "x"}, {"profile"}},
      {{"--code-ttl", "0"}, {"code-ttl"}},
      {{"--code-ttl", "abc"}, {"code-ttl"}},
      {{"--max-attempts", "0"}, {"max-attempts"}},
      {{"--connectors", "fax"}, {"connectors"}},
      {{"--fixed-code", "12ab"}, {"fixed-code", "fixedCode"}},
      {{"--log-level", "loud"}, {"log-level"}},
      {{"--max-records", "-1"}, {"max-records"}},
      {{"--no-such-option"}, {"no-such-option"}},
  };
  for (const BadArgs& c : cases) {
    RunResult r = RunBinary(WithLoopback(c.args), std::chrono::seconds(60));
    std::string joined;
    for (const std::string& a : c.args) joined += a + " ";
    EXPECT_TRUE(IsStartupError(r, c.mentions)) << joined;
  }
}

TEST(CliTest, BadListenAddressesExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--listen", "nonsense", "--admin-listen", "127.0.0.1:0"},
           {"--listen", "127.0.0.1:99999", "--admin-listen", "127.0.0.1:0"},
           {"--listen", "127.0.0.1:0", "--admin-listen", "nonsense"}}) {
    RunResult r = RunBinary(args, std::chrono::seconds(60));
    EXPECT_TRUE(IsStartupError(r, {})) << args[1] << " " << args[3];
  }
}

TEST(CliTest, BadValueFromEnvironmentExitsTwo) {
  RunResult r = RunBinary(kLoopback, std::chrono::seconds(60), {{"MFA_MOCK_THREADS", "abc"}});
  EXPECT_TRUE(IsStartupError(r, {})) << "MFA_MOCK_THREADS=abc";
  r = RunBinary(kLoopback, std::chrono::seconds(60), {{"MFA_MOCK_PROFILE", "nope"}});
  EXPECT_TRUE(IsStartupError(r, {})) << "MFA_MOCK_PROFILE=nope";
}

TEST(CliTest, PortInUseStopsStartUpWithAnError) {
  MockServer first;
  ASSERT_TRUE(first.Start()) << first.error();
  RunResult r = RunBinary({"--listen", "127.0.0.1:" + std::to_string(first.process().public_port()),
                           "--admin-listen", "127.0.0.1:0"},
                          std::chrono::seconds(60));
  EXPECT_FALSE(r.timed_out) << r.Describe();
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  EXPECT_FALSE(NonEmptyLines(r.err).empty()) << r.Describe();
  EXPECT_EQ(r.out.find("mfa-mock ready"), std::string::npos) << r.Describe();
}

TEST(CliTest, FlagsSetTheInitialConfig) {
  MockServer s;
  ASSERT_TRUE(s.Start({"--profile", "logto", "--code-ttl", "120", "--max-attempts", "3",
                       "--fixed-code", "424242", "--default-email", "cli@example.com",
                       "--default-phone", "+15550009999", "--connectors", "email"}))
      << s.error();
  HttpResponse r = s.AdminGet("/admin/config");
  ASSERT_TRUE(HasStatus(r, 200));
  Json c(r.body);
  EXPECT_EQ(c.String("/profile"), "logto");
  EXPECT_EQ(c.Int("/codeTtlSeconds"), 120);
  EXPECT_EQ(c.Int("/maxAttempts"), 3);
  EXPECT_EQ(c.String("/fixedCode"), "424242");
  EXPECT_EQ(c.String("/defaultUser/email"), "cli@example.com");
  EXPECT_EQ(c.String("/defaultUser/phone"), "+15550009999");
  EXPECT_EQ(c.Bool("/connectors/email"), true);
  EXPECT_EQ(c.Bool("/connectors/phone"), false);

  ASSERT_TRUE(HasStatus(s.Send("email"), 200));
  EXPECT_EQ(s.LatestCode("cli@example.com"), "424242");
  EXPECT_TRUE(IsError(s.Send("phone"), 501, kConnectorNotFound, kSmsConnectorNotFoundMessage));
  EXPECT_EQ(s.Stop(), 0);
}

TEST(CliTest, SendLimitFlagSetsMaxSendsAndWindow) {
  MockServer s;
  ASSERT_TRUE(s.Start({"--send-limit", "2/60"})) << s.error();
  Json c(s.AdminGet("/admin/config").body);
  EXPECT_EQ(c.Int("/sendRateLimit/maxSends"), 2);
  EXPECT_EQ(c.Int("/sendRateLimit/windowSeconds"), 60);
  ASSERT_TRUE(HasStatus(s.Send("email"), 200));
  ASSERT_TRUE(HasStatus(s.Send("email"), 200));
  EXPECT_TRUE(IsError(s.Send("email"), 429, kRateLimited, kRateLimitedMessage));

  MockServer off;
  ASSERT_TRUE(off.Start({"--send-limit", "0"})) << off.error();
  EXPECT_EQ(Json(off.AdminGet("/admin/config").body).Int("/sendRateLimit/maxSends"), 0);

  RunResult bad = RunBinary(WithLoopback({"--send-limit", "x/y"}), std::chrono::seconds(60));
  EXPECT_TRUE(IsStartupError(bad, {"send-limit"}));
}

TEST(CliTest, ConnectorsNoneSwitchesBothOff) {
  MockServer s;
  ASSERT_TRUE(s.Start({"--connectors", "none"})) << s.error();
  Json c(s.AdminGet("/admin/config").body);
  EXPECT_EQ(c.Bool("/connectors/email"), false);
  EXPECT_EQ(c.Bool("/connectors/phone"), false);
  EXPECT_TRUE(IsError(s.Send("email"), 501, kConnectorNotFound, kEmailConnectorNotFoundMessage));
}

TEST(CliTest, EnvironmentVariablesSetOptions) {
  MockServer s;
  ASSERT_TRUE(s.Start({}, {{"MFA_MOCK_PROFILE", "logto"},
                           {"MFA_MOCK_DEFAULT_EMAIL", "env@example.com"},
                           {"MFA_MOCK_MAX_ATTEMPTS", "4"}}))
      << s.error();
  Json c(s.AdminGet("/admin/config").body);
  EXPECT_EQ(c.String("/profile"), "logto");
  EXPECT_EQ(c.String("/defaultUser/email"), "env@example.com");
  EXPECT_EQ(c.Int("/maxAttempts"), 4);
}

// An idle kept-alive connection does not hold the shutdown: the server exits long before its
// drain grace (set to 120 s here, so the order is clear however slow the machine is).
TEST(CliTest, SigtermExitsZero) {
  ServerProcess p;
  ASSERT_TRUE(p.Start({"--shutdown-grace", "120"})) << p.error();
  HttpClient client(p.public_port());
  ASSERT_TRUE(HasStatus(client.Get("/nope"), 404));  // a kept-alive connection stays open
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(p.Stop(std::chrono::seconds(110)), 0) << p.Stderr();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60))
      << "the shutdown waited for the idle kept-alive connection";
}

TEST(CliTest, SigintExitsZero) {
  ServerProcess p;
  ASSERT_TRUE(p.Start()) << p.error();
  ASSERT_TRUE(p.Signal(SIGINT));
  EXPECT_EQ(p.WaitForExit(std::chrono::seconds(60)), 0) << p.Stderr();
}

TEST(CliTest, ReadyLineNamesBothListeners) {
  ServerProcess p;
  ASSERT_TRUE(p.Start()) << p.error();
  EXPECT_EQ(p.ready_fields().at("public").rfind("127.0.0.1:", 0), 0u) << p.ready_line();
  EXPECT_EQ(p.ready_fields().at("admin").rfind("127.0.0.1:", 0), 0u) << p.ready_line();
  EXPECT_NE(p.public_port(), p.admin_port());
  EXPECT_GT(ReadRssBytes(p.pid()), 0);
}

// --seed FILE (CSV or NDJSON in the export format, optional ttlSeconds).
class SeedFileTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(SeedFileTest, CsvSeedIsLoadedBeforeTheListenersOpen) {
  std::string path = dir_.File("seed.csv");
  ASSERT_TRUE(WriteFile(path,
                        "verificationId,code,identifierType,identifier,ttlSeconds\n"
                        "csv-1,111111,email,a@example.com,120\n"
                        "csv-2,222222,phone,+15550000001,600\n"
                        "csv-3,333333,email,c@example.com,30\n"));
  MockServer s;
  ASSERT_TRUE(s.Start({"--seed", path})) << s.error();
  // No waiting: the records are there when the ready line is.
  HttpResponse r = s.AdminGet("/admin/verifications/csv-1");
  ASSERT_TRUE(HasStatus(r, 200));
  Json rec(r.body);
  EXPECT_EQ(rec.String("/identifier"), "a@example.com");
  EXPECT_EQ(rec.String("/code"), "111111");
  auto created = ParseRfc3339UtcMs(rec.String("/createdAt").value_or(""));
  auto expires = ParseRfc3339UtcMs(rec.String("/expiresAt").value_or(""));
  ASSERT_TRUE(created && expires) << r.body;
  EXPECT_NEAR(static_cast<double>(*expires - *created), 120000.0, 1000.0);

  Json rec2(s.AdminGet("/admin/verifications/csv-2").body);
  EXPECT_EQ(rec2.String("/identifierType"), "phone");
  EXPECT_EQ(rec2.String("/identifier"), "+15550000001");

  EXPECT_TRUE(HasStatus(s.Verify("csv-2", "222222", "phone"), 200));
  EXPECT_TRUE(HasStatus(s.Verify("csv-3", "333333", "email"), 200));
}

TEST_F(SeedFileTest, EmptyTtlCellTakesThePolicyTtl) {
  std::string path = dir_.File("seed.csv");
  ASSERT_TRUE(WriteFile(path,
                        "verificationId,code,identifierType,identifier,ttlSeconds\n"
                        "ttl-set,111111,email,a@example.com,120\n"
                        "ttl-empty,222222,phone,+15550000001,\n"));
  MockServer s;
  ASSERT_TRUE(s.Start({"--seed", path})) << s.error();
  Json rec(s.AdminGet("/admin/verifications/ttl-empty").body);
  auto created = ParseRfc3339UtcMs(rec.String("/createdAt").value_or(""));
  auto expires = ParseRfc3339UtcMs(rec.String("/expiresAt").value_or(""));
  ASSERT_TRUE(created && expires) << rec.Dump();
  EXPECT_NEAR(static_cast<double>(*expires - *created), kDefaultTtlSeconds * 1000.0, 1000.0);
}

TEST_F(SeedFileTest, CsvSeedWithoutTtlColumnIsLoaded) {
  std::string path = dir_.File("seed.csv");
  ASSERT_TRUE(WriteFile(path,
                        "verificationId,code,identifierType,identifier\n"
                        "plain-1,000001,email,p@example.com\n"));
  MockServer s;
  ASSERT_TRUE(s.Start({"--seed", path})) << s.error();
  EXPECT_TRUE(HasStatus(s.Verify("plain-1", "000001", "email"), 200));
}

TEST_F(SeedFileTest, NdjsonSeedIsLoaded) {
  std::string path = dir_.File("seed.ndjson");
  ASSERT_TRUE(WriteFile(
      path,
      R"({"verificationId":"nd-1","code":"123123","identifierType":"email","identifier":"n@x.io"})"
      "\n"
      R"({"verificationId":"nd-2","code":"456456","identifierType":"phone","identifier":"+1999",)"
      R"("ttlSeconds":60})"
      "\n"));
  MockServer s;
  ASSERT_TRUE(s.Start({"--seed", path})) << s.error();
  Json rec(s.AdminGet("/admin/verifications/nd-2").body);
  EXPECT_EQ(rec.String("/identifier"), "+1999");
  EXPECT_EQ(rec.String("/code"), "456456");
  EXPECT_TRUE(HasStatus(s.Verify("nd-1", "123123", "email"), 200));
}

TEST_F(SeedFileTest, ExportedCsvCanBeSeededIntoAFreshServer) {
  std::string path = dir_.File("export.csv");
  {
    MockServer s;
    ASSERT_TRUE(s.Start()) << s.error();
    HttpResponse g =
        s.AdminPost("/admin/verifications/generate", R"({"count":25,"identifierType":"email",)"
                                                     R"("identifier":"round{n}@example.com"})");
    ASSERT_TRUE(HasStatus(g, 201));
    HttpResponse csv = s.AdminGet("/admin/verifications/export?format=csv");
    ASSERT_TRUE(HasStatus(csv, 200));
    ASSERT_TRUE(WriteFile(path, csv.body));
  }
  MockServer s;
  ASSERT_TRUE(s.Start({"--seed", path})) << s.error();
  std::vector<std::string> lines = SplitLines(ReadFile(path).value_or(""));
  ASSERT_EQ(lines.size(), 26u);
  // Row 5: verificationId,code,identifierType,identifier
  std::string row = lines[5];
  std::string id = row.substr(0, row.find(','));
  std::string code = row.substr(id.size() + 1, 6);
  EXPECT_TRUE(HasStatus(s.Verify(id, code, "email"), 200)) << row;
}

TEST_F(SeedFileTest, BadCsvLineStopsStartUpNamingItsLineNumber) {
  std::string path = dir_.File("bad.csv");
  ASSERT_TRUE(WriteFile(path,
                        "verificationId,code,identifierType,identifier\n"
                        "ok-1,111111,email,a@example.com\n"
                        "ok-2,222222,phone,+15550000001\n"
                        "bad-3,333333,fax,c@example.com\n"
                        "ok-4,444444,email,d@example.com\n"));
  RunResult r = RunBinary(WithLoopback({"--seed", path}), std::chrono::seconds(60));
  EXPECT_TRUE(IsStartupError(r, {})) << "bad line 4";
  EXPECT_TRUE(std::regex_search(r.err, std::regex("\\b4\\b"))) << r.Describe();
}

TEST_F(SeedFileTest, BadNdjsonLineStopsStartUpNamingItsLineNumber) {
  std::string path = dir_.File("bad.ndjson");
  ASSERT_TRUE(WriteFile(
      path, R"({"verificationId":"a","code":"1","identifierType":"email","identifier":"a@x.io"})"
            "\n"
            R"({"verificationId":"b","code":"2","identifierType":"email",)"
            "\n"));
  RunResult r = RunBinary(WithLoopback({"--seed", path}), std::chrono::seconds(60));
  EXPECT_TRUE(IsStartupError(r, {})) << "bad line 2";
  EXPECT_TRUE(std::regex_search(r.err, std::regex("\\b2\\b"))) << r.Describe();
}

TEST_F(SeedFileTest, MissingSeedFileStopsStartUp) {
  RunResult r =
      RunBinary(WithLoopback({"--seed", dir_.File("does-not-exist.csv")}), std::chrono::seconds(60));
  EXPECT_TRUE(IsStartupError(r, {})) << r.Describe();
}

}  // namespace
}  // namespace mfa_test
