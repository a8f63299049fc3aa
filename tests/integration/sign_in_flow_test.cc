// SPDX-License-Identifier: Apache-2.0
// The sign-in flow around the MFA step through the real binary (issue 14): GET /oidc/auth, the
// password verification, identification, submit with its MFA guard, and the sign-in experience
// a page reads, in the order Logto's own sign-in app calls them. Bodies are compared whole where
// Logto's key order matters to a client.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/totp.h"
#include "tests/support/server_process.h"
#include "tests/support/sessions_fixture.h"

namespace mfa_test {
namespace {

constexpr std::string_view kAuthorizePath = "/oidc/auth";
constexpr std::string_view kPasswordPath = "/api/experience/verification/password";
constexpr std::string_view kIdentificationPath = "/api/experience/identification";
constexpr std::string_view kSubmitPath = "/api/experience/submit";
constexpr std::string_view kSignInExperiencePath = "/api/.well-known/sign-in-exp";

constexpr std::string_view kDavePassword = "correct horse";
constexpr std::string_view kInvalidCredentials = "session.invalid_credentials";
constexpr std::string_view kInvalidCredentialsMessage =
    "Incorrect account or password. Please check your input.";
constexpr std::string_view kIdentifierNotFoundMessage =
    "User identifier not found. Please go back and sign in again.";
constexpr std::string_view kVerificationSessionNotFoundMessage =
    "The verification was not successful. Restart the verification flow and try again.";
// dave has both addresses and a password; erin only a username and a password.
constexpr std::string_view kDaveMfaRequired =
    R"({"code":"session.mfa.require_mfa_verification","data":{"availableFactors":)"
    R"(["PhoneVerificationCode","EmailVerificationCode"],"maskedIdentifiers":)"
    R"({"EmailVerificationCode":"dave****@example.com","PhoneVerificationCode":"****0104"}},)"
    R"("message":"Mfa verification is required to sign in."})";

std::string PasswordBody(std::string_view type, std::string_view value, std::string_view password) {
  return R"({"identifier":{"type":)" + Quote(type) + R"(,"value":)" + Quote(value) +
         R"(},"password":)" + Quote(password) + "}";
}

class SignInFlowFixture : public SessionsFixture {
 protected:
  void SetUp() override {
    SessionsFixture::SetUp();
    if (HasFatalFailure()) return;
    AddUser(R"({"id":"dave","username":"dave","primaryEmail":"dave.smith@example.com",)"
            R"("primaryPhone":"+15555550104","password":"correct horse"})");
    AddUser(R"({"id":"erin","username":"erin","password":"erin's secret"})");
    AddUser(R"({"id":"frank","username":"frank","primaryPhone":"+15555550106",)"
            R"("password":"frank's secret"})");
  }

  HttpResponse Authorize(std::string_view query = "") {
    return pub().Get(std::string(kAuthorizePath) + std::string(query));
  }
  HttpResponse PasswordIn(std::string_view cookie, std::string_view body) {
    return pub().Post(kPasswordPath, body, JsonIn(cookie));
  }
  HttpResponse IdentifyIn(std::string_view cookie, std::string_view body) {
    return pub().Post(kIdentificationPath, body, JsonIn(cookie));
  }
  HttpResponse IdentifyWith(std::string_view cookie, std::string_view verification_id) {
    return IdentifyIn(cookie, R"({"verificationId":)" + Quote(verification_id) + "}");
  }
  HttpResponse SubmitIn(std::string_view cookie) {
    return pub().Post(kSubmitPath, "", WithCookie(cookie));
  }
  static Headers JsonIn(std::string_view cookie) {
    Headers h = WithCookie(cookie);
    h.push_back({"Content-Type", "application/json"});
    return h;
  }

  // /oidc/auth, then the sign-in page's PUT /api/experience: a session with a started
  // interaction. Returns the cookie pair.
  std::string StartAuthorized(std::string_view query = "") {
    HttpResponse r = Authorize(query);
    EXPECT_TRUE(HasStatus(r, 303));
    std::string cookie = CookiePair(r);
    EXPECT_FALSE(cookie.empty()) << r.Describe();
    EXPECT_TRUE(HasStatus(PutExperience(cookie), 204));
    return cookie;
  }
  // A session identified as `username` through the password step.
  std::string SignedInWithPassword(std::string_view username, std::string_view password,
                                   std::string_view query = "") {
    std::string cookie = StartAuthorized(query);
    const std::string id = IdOf(PasswordIn(cookie, PasswordBody("username", username, password)));
    EXPECT_TRUE(HasStatus(IdentifyWith(cookie, id), 204));
    return cookie;
  }
  // Sends and verifies a code of `type` in the session.
  void PassMfa(const std::string& cookie, std::string_view type) {
    const std::string id = IdOf(SendIn(cookie, type));
    ASSERT_TRUE(HasStatus(VerifyIn(cookie, id, CodeOf(id), type), 200));
  }
};

class SignInFlowTest : public SignInFlowFixture {};

TEST_F(SignInFlowTest, OidcAuthStartsASessionAndRedirectsToTheSignInPage) {
  HttpResponse r = Authorize("?client_id=app&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcb");
  ASSERT_TRUE(HasStatus(r, 303));
  EXPECT_EQ(r.Header("Location"), "/sign-in");
  EXPECT_TRUE(r.body.empty()) << r.body;
  const std::vector<std::string> cookies = r.HeaderValues("Set-Cookie");
  ASSERT_EQ(cookies.size(), 1u) << r.Describe();
  EXPECT_NE(cookies[0].find("HttpOnly"), std::string::npos) << cookies[0];
  EXPECT_NE(cookies[0].find("SameSite=Lax"), std::string::npos) << cookies[0];
  EXPECT_NE(cookies[0].find("Path=/"), std::string::npos) << cookies[0];
  // The session exists; its interaction starts with the sign-in page's PUT.
  const std::string cookie = CookiePair(r);
  EXPECT_TRUE(IsError(Interaction(cookie), 404, "session.interaction_not_found",
                      "Interaction session not found. Please go back and start the session "
                      "again."));
  EXPECT_TRUE(HasStatus(PutExperience(cookie), 204));
  EXPECT_TRUE(HasStatus(Interaction(cookie), 200));
}

TEST_F(SignInFlowTest, TheWholeFlowEndsAtTheAppsRedirectUri) {
  const std::string cookie =
      SignedInWithPassword("dave", kDavePassword, "?redirect_uri=http%3A%2F%2Fapp.test%2Fcb");
  HttpResponse first = SubmitIn(cookie);
  ASSERT_TRUE(HasStatus(first, 403));
  EXPECT_EQ(first.body, kDaveMfaRequired);
  PassMfa(cookie, "email");
  HttpResponse done = SubmitIn(cookie);
  ASSERT_TRUE(HasStatus(done, 200));
  EXPECT_EQ(done.body, R"({"redirectTo":"http://app.test/cb"})");
  // Submit ends the interaction.
  EXPECT_TRUE(IsSessionNotFound(SubmitIn(cookie)));
  EXPECT_TRUE(IsSessionNotFound(Interaction(cookie)));
}

TEST_F(SignInFlowTest, ThePhoneFactorPassesTheGuardToo) {
  const std::string cookie = SignedInWithPassword("dave", kDavePassword);
  ASSERT_TRUE(HasStatus(SubmitIn(cookie), 403));
  PassMfa(cookie, "phone");
  HttpResponse done = SubmitIn(cookie);
  ASSERT_TRUE(HasStatus(done, 200));
  // No redirect_uri at /oidc/auth: --sign-in-redirect's default.
  EXPECT_EQ(done.body, R"({"redirectTo":"/"})");
}

TEST_F(SignInFlowTest, AUserWithoutAnMfaAddressSignsInWithoutThe403) {
  const std::string cookie = SignedInWithPassword("erin", "erin's secret");
  HttpResponse done = SubmitIn(cookie);
  ASSERT_TRUE(HasStatus(done, 200));
  EXPECT_EQ(done.body, R"({"redirectTo":"/"})");
}

TEST_F(SignInFlowTest, SubmitBeforeIdentificationIs404IdentifierNotFound) {
  const std::string cookie = StartAuthorized();
  EXPECT_TRUE(
      IsError(SubmitIn(cookie), 404, "session.identifier_not_found", kIdentifierNotFoundMessage));
  // A password verified but not used for identification does not identify either.
  IdOf(PasswordIn(cookie, PasswordBody("username", "dave", kDavePassword)));
  EXPECT_TRUE(
      IsError(SubmitIn(cookie), 404, "session.identifier_not_found", kIdentifierNotFoundMessage));
}

TEST_F(SignInFlowTest, WrongPasswordUnknownUserAndNoPasswordAreTheSame422) {
  const std::string cookie = StartAuthorized();
  for (const std::string& body :
       {PasswordBody("username", "dave", "wrong"), PasswordBody("username", "nobody", "x"),
        PasswordBody("username", "alice", "x"), PasswordBody("email", "erin@example.com", "x")}) {
    EXPECT_TRUE(
        IsError(PasswordIn(cookie, body), 422, kInvalidCredentials, kInvalidCredentialsMessage))
        << body;
  }
}

TEST_F(SignInFlowTest, PasswordFindsEmailsIgnoringCaseAndPhonesByDigits) {
  const std::string cookie = StartAuthorized();
  EXPECT_TRUE(HasStatus(
      PasswordIn(cookie, PasswordBody("email", "Dave.Smith@EXAMPLE.com", kDavePassword)), 200));
  EXPECT_TRUE(
      HasStatus(PasswordIn(cookie, PasswordBody("phone", "15555550104", kDavePassword)), 200));
  // Usernames compare exactly.
  EXPECT_TRUE(IsError(PasswordIn(cookie, PasswordBody("username", "Dave", kDavePassword)), 422,
                      kInvalidCredentials, kInvalidCredentialsMessage));
}

TEST_F(SignInFlowTest, PasswordBodyFailuresListEveryIssueAsZodDoes) {
  const std::string cookie = StartAuthorized();
  HttpResponse missing = PasswordIn(cookie, "{}");
  ASSERT_TRUE(HasStatus(missing, 400));
  Json m(missing.body);
  EXPECT_EQ(m.String("/code"), "guard.invalid_input");
  EXPECT_EQ(m.Dump("/data/issues/0/path"), R"(["identifier"])");
  EXPECT_EQ(m.Dump("/data/issues/1/path"), R"(["password"])");
  EXPECT_EQ(m.String("/data/issues/1/message"), "Required");

  HttpResponse bad = PasswordIn(cookie, R"({"identifier":{"type":"nickname","value":"d"},)"
                                        R"("password":""})");
  ASSERT_TRUE(HasStatus(bad, 400));
  Json b(bad.body);
  EXPECT_EQ(b.String("/data/issues/0/code"), "invalid_enum_value");
  EXPECT_EQ(b.Dump("/data/issues/0/path"), R"(["identifier","type"])");
  EXPECT_EQ(b.String("/data/issues/0/message"),
            "Invalid enum value. Expected 'username' | 'email' | 'phone', received 'nickname'");
  EXPECT_EQ(b.String("/data/issues/1/code"), "too_small");
  EXPECT_EQ(b.String("/data/issues/1/message"), "String must contain at least 1 character(s)");
  EXPECT_EQ(b.String("/details"),
            "Error in key path \"identifier.type\": (invalid_enum_value) Invalid enum value. "
            "Expected 'username' | 'email' | 'phone', received 'nickname'\n"
            "Error in key path \"password\": (too_small) String must contain at least 1 "
            "character(s)");
}

TEST_F(SignInFlowTest, FlowRoutesWithoutACookieAre400SessionNotFound) {
  EXPECT_TRUE(IsSessionNotFound(PasswordIn("", PasswordBody("username", "dave", kDavePassword))));
  EXPECT_TRUE(IsSessionNotFound(IdentifyWith("", "aaaaaaaaaaaaaaaaaaaaa")));
  EXPECT_TRUE(IsSessionNotFound(SubmitIn("")));
  // Session before body, as for send and verify.
  EXPECT_TRUE(IsSessionNotFound(PasswordIn("_interaction=unknown", "{}")));
}

TEST_F(SignInFlowTest, IdentificationChecksTheRecord) {
  const std::string cookie = StartAuthorized();
  EXPECT_TRUE(IsError(IdentifyWith(cookie, "aaaaaaaaaaaaaaaaaaaaa"), 404,
                      "session.verification_session_not_found",
                      kVerificationSessionNotFoundMessage));
  HttpResponse missing = IdentifyIn(cookie, "{}");
  ASSERT_TRUE(HasStatus(missing, 400));
  EXPECT_EQ(missing.body, R"({"code":"guard.invalid_input","details":"verificationId is missing",)"
                          R"("message":"The request body is invalid."})");
  const std::string id = IdOf(PasswordIn(cookie, PasswordBody("username", "dave", kDavePassword)));
  EXPECT_TRUE(HasStatus(IdentifyWith(cookie, id), 204));
  // Again with the same user: still 204.
  EXPECT_TRUE(HasStatus(IdentifyWith(cookie, id), 204));
}

TEST_F(SignInFlowTest, IdentifyingAnotherUserInTheSameInteractionIs409) {
  const std::string cookie = SignedInWithPassword("dave", kDavePassword);
  const std::string erin =
      IdOf(PasswordIn(cookie, PasswordBody("username", "erin", "erin's secret")));
  EXPECT_TRUE(IsError(IdentifyWith(cookie, erin), 409, "session.identity_conflict",
                      "Identity mismatch detected. Please initiate a new session to proceed with "
                      "a different identity."));
}

TEST_F(SignInFlowTest, AnUnverifiedCodeRecordCannotIdentify) {
  const std::string cookie = SignedInWithPassword("dave", kDavePassword);
  const std::string code_record = IdOf(SendIn(cookie, "email"));
  EXPECT_TRUE(IsError(IdentifyWith(cookie, code_record), 400, "session.verification_failed",
                      kVerificationSessionNotFoundMessage));
  ASSERT_TRUE(HasStatus(VerifyIn(cookie, code_record, CodeOf(code_record), "email"), 200));
  EXPECT_TRUE(HasStatus(IdentifyWith(cookie, code_record), 204));
}

TEST_F(SignInFlowTest, TheInteractionListsThePasswordRecord) {
  const std::string cookie = SignedInWithPassword("dave", kDavePassword);
  HttpResponse r = Interaction(cookie);
  ASSERT_TRUE(HasStatus(r, 200));
  Json view(r.body);
  EXPECT_EQ(view.String("/userId"), "dave");
  EXPECT_EQ(view.String("/verificationRecords/0/type"), "Password");
  EXPECT_EQ(view.Dump("/verificationRecords/0/identifier"),
            R"({"type":"username","value":"dave"})");
  EXPECT_EQ(view.Dump("/verificationRecords/0/verified"), "true");
}

// Logto's sanitizedInteractionStorageGuard, key for key and in order.
TEST_F(SignInFlowTest, TheInteractionHasLogtosShapeAndKeyOrder) {
  const std::string cookie = StartAuthorized();
  HttpResponse fresh = Interaction(cookie);
  ASSERT_TRUE(HasStatus(fresh, 200));
  EXPECT_EQ(fresh.body,
            R"({"interactionEvent":"SignIn","profile":{},"mfa":{},"verificationRecords":[],)"
            R"("captcha":{"verified":false,"skipped":false}})");
  const std::string pw = IdOf(PasswordIn(cookie, PasswordBody("username", "dave", kDavePassword)));
  ASSERT_TRUE(HasStatus(IdentifyWith(cookie, pw), 204));
  const std::string code = IdOf(SendIn(cookie, "email"));
  HttpResponse later = Interaction(cookie);
  ASSERT_TRUE(HasStatus(later, 200));
  EXPECT_EQ(later.body,
            R"({"interactionEvent":"SignIn","userId":"dave","profile":{},"mfa":{},)"
            R"("verificationRecords":[{"id":")" +
                pw +
                R"(","type":"Password","identifier":{"type":"username","value":"dave"},)"
                R"("verified":true},{"id":")" +
                code +
                R"(","type":"MfaEmailVerificationCode","identifier":{"type":"email",)"
                R"("value":"dave.smith@example.com"},"templateType":"MfaVerification",)"
                R"("verified":false}],"captcha":{"verified":false,"skipped":false}})");
}

TEST_F(SignInFlowTest, ANewInteractionDropsThePasswordRecordAndTheIdentity) {
  const std::string cookie = StartAuthorized();
  const std::string id = IdOf(PasswordIn(cookie, PasswordBody("username", "dave", kDavePassword)));
  ASSERT_TRUE(HasStatus(IdentifyWith(cookie, id), 204));
  ASSERT_TRUE(HasStatus(PutExperience(cookie), 204));
  EXPECT_TRUE(IsError(IdentifyWith(cookie, id), 404, "session.verification_session_not_found",
                      kVerificationSessionNotFoundMessage));
  EXPECT_TRUE(
      IsError(SubmitIn(cookie), 404, "session.identifier_not_found", kIdentifierNotFoundMessage));
}

// Difference 7 of logto-flow.md: a user deleted after identification is Logto's
// entity.not_found (findUserById), on send and on submit.
TEST_F(SignInFlowTest, AUserDeletedAfterIdentificationIs404EntityNotFound) {
  const std::string cookie = SignedInWithPassword("dave", kDavePassword);
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/users/dave"), 204));
  EXPECT_TRUE(
      IsError(SendIn(cookie, "email"), 404, "entity.not_found", "The resource does not exist."));
  EXPECT_TRUE(IsError(SubmitIn(cookie), 404, "entity.not_found", "The resource does not exist."));
}

// The mock has no captcha provider: a captchaToken gets the answer of a tenant without one.
TEST_F(SignInFlowTest, ACaptchaTokenIs422CaptchaFailed) {
  const std::string cookie = CookiePair(Authorize());
  HttpResponse r =
      pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn","captchaToken":"t"})",
                    WithCookie(cookie));
  EXPECT_TRUE(IsError(r, 422, "session.captcha_failed", "Captcha verification failed."));
  // The interaction did not start.
  EXPECT_TRUE(IsError(Interaction(cookie), 404, "session.interaction_not_found",
                      "Interaction session not found. Please go back and start the session "
                      "again."));
  HttpResponse bad =
      pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn","captchaToken":1})",
                    WithCookie(cookie));
  ASSERT_TRUE(HasStatus(bad, 400));
  EXPECT_EQ(Json(bad.body).Dump("/data/issues/0/path"), R"(["captchaToken"])");
}

TEST_F(SignInFlowTest, RegistrationIsNotModelledAndSaysSo) {
  HttpResponse auth = Authorize();
  const std::string cookie = CookiePair(auth);
  ASSERT_TRUE(HasStatus(PutExperience(cookie, "Register"), 204));
  const std::string id = IdOf(PasswordIn(cookie, PasswordBody("username", "dave", kDavePassword)));
  EXPECT_TRUE(IsErrorCode(IdentifyWith(cookie, id), 501, "mock.not_modelled"));
}

TEST_F(SignInFlowTest, TheSignInExperienceListsTheFactorsAndThePolicy) {
  HttpResponse r = pub().Get(kSignInExperiencePath);
  ASSERT_TRUE(HasStatus(r, 200));
  Json exp(r.body);
  EXPECT_EQ(exp.Dump("/mfa"),
            R"({"factors":["EmailVerificationCode","PhoneVerificationCode"],"policy":"NoPrompt"})");
  EXPECT_EQ(exp.String("/signIn/methods/0/identifier"), "username");
  EXPECT_EQ(exp.Dump("/signIn/methods/0/password"), "true");
}

// The sentinel counts password failures per identifier, as Logto's withSentinel does: the failure
// that reaches the threshold answers blocked, and so does a correct password while blocked.
class SignInFlowLockoutTest : public SignInFlowFixture {
 public:
  static void SetUpTestSuite() { StartSharedServer({"--lockout-threshold", "3"}); }
};

TEST_F(SignInFlowLockoutTest, TheThirdWrongPasswordBlocksAndACorrectOneStaysBlocked) {
  const std::string cookie = StartAuthorized();
  const std::string wrong = PasswordBody("username", "dave", "wrong");
  for (int i = 1; i <= 2; ++i) {
    EXPECT_TRUE(
        IsError(PasswordIn(cookie, wrong), 422, kInvalidCredentials, kInvalidCredentialsMessage))
        << "failure " << i;
  }
  EXPECT_TRUE(IsError(PasswordIn(cookie, wrong), 400, kBlocked, BlockedMessage("in 60 minutes")));
  EXPECT_TRUE(IsError(PasswordIn(cookie, PasswordBody("username", "dave", kDavePassword)), 400,
                      kBlocked, BlockedMessage("in 60 minutes")));
  // Another identifier is not blocked.
  EXPECT_TRUE(
      HasStatus(PasswordIn(cookie, PasswordBody("username", "erin", "erin's secret")), 200));
}

// The user's own factors (TOTP and backup codes) next to the implicit ones, with a lockout
// threshold of 3. grace has every factor; heidi only TOTP.
constexpr std::string_view kGraceSecret = "JBSWY3DPEHPK3PXPJBSWY3DP";
constexpr std::string_view kTotpVerifyPath = "/api/experience/verification/totp/verify";
constexpr std::string_view kBackupCodeVerifyPath =
    "/api/experience/verification/backup-code/verify";
constexpr std::string_view kInvalidTotp = "session.mfa.invalid_totp_code";
constexpr std::string_view kInvalidBackup = "session.mfa.invalid_backup_code";

// The TOTP code of `secret` `steps_ahead` steps from now (the server runs on this clock).
std::string TotpNow(std::string_view secret, int64_t steps_ahead = 0) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  return mfa::HotpCode(*mfa::DecodeBase32(secret),
                       static_cast<uint64_t>(now_ms / mfa::kTotpStepMs + steps_ahead));
}

std::string CodeBody(std::string_view code) { return R"({"code":)" + Quote(code) + "}"; }

class SignInFlowFactorsTest : public SignInFlowFixture {
 public:
  static void SetUpTestSuite() {
    StartSharedServer({"--mfa-factors",
                       "Totp,EmailVerificationCode,PhoneVerificationCode,BackupCode",
                       "--lockout-threshold", "3"});
  }

 protected:
  void SetUp() override {
    SignInFlowFixture::SetUp();
    if (HasFatalFailure()) return;
    AddUser(R"({"id":"grace","username":"grace","primaryEmail":"grace@example.com",)"
            R"("primaryPhone":"+15555550107","password":"grace's secret","totpSecret":")" +
            std::string(kGraceSecret) +
            R"(","backupCodes":["0123456789","abcdef0123","1111111111","2222222222",)"
            R"("3333333333","4444444444","5555555555","6666666666","7777777777","888888888a"]})");
    AddUser(R"({"id":"heidi","username":"heidi","password":"heidi's secret",)"
            R"("totpSecret":"GEZDGNBVGY3TQOJQ"})");
  }
  std::string Grace() { return SignedInWithPassword("grace", "grace's secret"); }
  HttpResponse TotpIn(std::string_view cookie, std::string_view body,
                      std::string_view lang = "en") {
    Headers h = JsonIn(cookie);
    h.push_back({"Accept-Language", std::string(lang)});
    return pub().Post(kTotpVerifyPath, body, h);
  }
  HttpResponse BackupIn(std::string_view cookie, std::string_view body,
                        std::string_view lang = "en") {
    Headers h = JsonIn(cookie);
    h.push_back({"Accept-Language", std::string(lang)});
    return pub().Post(kBackupCodeVerifyPath, body, h);
  }
};

TEST_F(SignInFlowFactorsTest, TotpComesFirstAndBackupCodesLastInThe403) {
  HttpResponse r = SubmitIn(Grace());
  ASSERT_TRUE(HasStatus(r, 403));
  EXPECT_EQ(r.body, R"({"code":"session.mfa.require_mfa_verification","data":{"availableFactors":)"
                    R"(["Totp","PhoneVerificationCode","EmailVerificationCode","BackupCode"],)"
                    R"("maskedIdentifiers":{"EmailVerificationCode":"grac****@example.com",)"
                    R"("PhoneVerificationCode":"****0107"}},)"
                    R"("message":"Mfa verification is required to sign in."})");
  HttpResponse heidi = SubmitIn(SignedInWithPassword("heidi", "heidi's secret"));
  ASSERT_TRUE(HasStatus(heidi, 403));
  EXPECT_EQ(Json(heidi.body).Dump("/data"),
            R"({"availableFactors":["Totp"],"maskedIdentifiers":{}})");
}

TEST_F(SignInFlowFactorsTest, TheCodeOfNowPassesSubmitAndTheInteractionListsTheRecord) {
  const std::string cookie = Grace();
  HttpResponse r = TotpIn(cookie, CodeBody(TotpNow(kGraceSecret)));
  ASSERT_TRUE(HasStatus(r, 200));
  const std::string id = IdOf(r);
  EXPECT_EQ(id.size(), 21u);
  EXPECT_EQ(r.body, R"({"verificationId":")" + id + R"("})");
  Json view(Interaction(cookie).body);
  EXPECT_EQ(view.Dump("/verificationRecords/1"),
            R"({"id":")" + id + R"(","type":"Totp","userId":"grace","verified":true})");
  HttpResponse done = SubmitIn(cookie);
  ASSERT_TRUE(HasStatus(done, 200));
  EXPECT_EQ(done.body, R"({"redirectTo":"/"})");
}

// Two failures at most per user and factor here: the third would reach the lockout threshold.
TEST_F(SignInFlowFactorsTest, AUsedCodeAWrongCodeAndAFarCodeAreInvalidInEveryLanguage) {
  const std::string first = Grace();
  const std::string code = TotpNow(kGraceSecret);
  ASSERT_TRUE(HasStatus(TotpIn(first, CodeBody(code)), 200));
  // Logto remembers the last used step: the same code (or one of an earlier step) is refused.
  const std::string second = Grace();
  EXPECT_TRUE(IsError(TotpIn(second, CodeBody(code)), 400, kInvalidTotp, "Invalid TOTP code."));
  EXPECT_TRUE(IsError(TotpIn(second, CodeBody(TotpNow(kGraceSecret, 3)), "fr"), 400, kInvalidTotp,
                      "Code TOTP non valide."));
  EXPECT_TRUE(IsError(SubmitIn(second), 403, "session.mfa.require_mfa_verification",
                      "Mfa verification is required to sign in."));
  // A user without TOTP: the same answer (Logto's "for security reason").
  const std::string dave = SignedInWithPassword("dave", kDavePassword);
  EXPECT_TRUE(
      IsError(TotpIn(dave, CodeBody("123456"), "de"), 400, kInvalidTotp, "Ungültiger TOTP-Code."));
}

TEST_F(SignInFlowFactorsTest, ABackupCodeWorksOnceAndCountsDown) {
  const std::string cookie = Grace();
  HttpResponse r = BackupIn(cookie, CodeBody("abcdef0123"));
  ASSERT_TRUE(HasStatus(r, 200));
  const std::string id = IdOf(r);
  EXPECT_EQ(Json(Interaction(cookie).body).Dump("/verificationRecords/1"),
            R"({"id":")" + id + R"(","type":"BackupCode","userId":"grace","code":"abcdef0123"})");
  ASSERT_TRUE(HasStatus(SubmitIn(cookie), 200));
  const std::string again = Grace();
  EXPECT_TRUE(IsError(BackupIn(again, CodeBody("abcdef0123")), 400, kInvalidBackup,
                      "Invalid backup code."));
  EXPECT_TRUE(IsError(BackupIn(again, CodeBody("ABCDEF0123"), "fr"), 400, kInvalidBackup,
                      "Code de sauvegarde non valide."));
  HttpResponse user = server().AdminGet("/admin/users/grace");
  ASSERT_TRUE(HasStatus(user, 200));
  EXPECT_EQ(Json(user.body).Dump("/mfaVerifications"),
            R"([{"type":"Totp"},{"type":"BackupCode","remainCodes":9}])");
  EXPECT_EQ(user.body.find(kGraceSecret), std::string::npos);
  EXPECT_EQ(user.body.find("0123456789"), std::string::npos);
}

TEST_F(SignInFlowFactorsTest, BothRoutesNeedASessionAndAnIdentifiedUser) {
  EXPECT_TRUE(IsSessionNotFound(pub().Post(kTotpVerifyPath, CodeBody("123456"), JsonIn(""))));
  const std::string cookie = StartAuthorized();
  EXPECT_TRUE(IsError(TotpIn(cookie, CodeBody("123456")), 404, "session.identifier_not_found",
                      kIdentifierNotFoundMessage));
  EXPECT_TRUE(IsError(BackupIn(cookie, CodeBody("0123456789")), 404, "session.identifier_not_found",
                      kIdentifierNotFoundMessage));
}

TEST_F(SignInFlowFactorsTest, TheBodyGuardWantsANonEmptyCode) {
  const std::string cookie = Grace();
  HttpResponse empty = BackupIn(cookie, CodeBody(""));
  ASSERT_TRUE(IsError(empty, 400, "guard.invalid_input", "The request body is invalid."));
  Json issues(empty.body);
  EXPECT_EQ(issues.String("/data/issues/0/code"), "too_small");
  EXPECT_EQ(issues.Dump("/data/issues/0/path"), R"(["code"])");
  HttpResponse missing = TotpIn(cookie, R"({"verificationId":7})");
  ASSERT_TRUE(IsError(missing, 400, "guard.invalid_input", "The request body is invalid."));
  Json both(missing.body);
  EXPECT_EQ(both.Dump("/data/issues/0/path"), R"(["code"])");
  EXPECT_EQ(both.Dump("/data/issues/1/path"), R"(["verificationId"])");
}

// A verificationId names the record of a newly generated secret (POST .../totp/secret), which
// the mock does not serve: an unknown id is 404, the id of a verified existing TOTP is 400.
TEST_F(SignInFlowFactorsTest, AVerificationIdNamesANewSecretsRecord) {
  const std::string cookie = Grace();
  EXPECT_TRUE(IsError(TotpIn(cookie, R"({"code":"123456","verificationId":"nope"})"), 404,
                      "session.verification_session_not_found",
                      kVerificationSessionNotFoundMessage));
  const std::string id = IdOf(TotpIn(cookie, CodeBody(TotpNow(kGraceSecret))));
  EXPECT_TRUE(IsError(TotpIn(cookie, R"({"code":"123456","verificationId":")" + id + R"("})"), 400,
                      kInvalidTotp, "Invalid TOTP code."));
}

// Logto's withSentinel per user and factor: the third failure blocks, and while blocked the
// check still runs: a right code answers blocked and is used up. Backup codes count apart.
TEST_F(SignInFlowFactorsTest, TheThirdFailureBlocksTheFactorAndARightCodeIsStillUsedUp) {
  const std::string cookie = Grace();
  for (int i = 1; i <= 2; ++i) {
    EXPECT_TRUE(
        IsError(TotpIn(cookie, CodeBody("000000x")), 400, kInvalidTotp, "Invalid TOTP code."))
        << "failure " << i;
  }
  EXPECT_TRUE(
      IsError(TotpIn(cookie, CodeBody("000000x")), 400, kBlocked, BlockedMessage("in 60 minutes")));
  const std::string code = TotpNow(kGraceSecret);
  EXPECT_TRUE(IsError(TotpIn(cookie, CodeBody(code), "fr"), 400, kBlocked,
                      "Trop de tentatives en peu de temps. Veuillez réessayer dans 60 minutes."));
  EXPECT_TRUE(IsError(SubmitIn(cookie), 403, "session.mfa.require_mfa_verification",
                      "Mfa verification is required to sign in."));
  // Backup codes have their own count.
  ASSERT_TRUE(HasStatus(BackupIn(cookie, CodeBody("1111111111")), 200));
  // Lockouts forgotten: the code used while blocked stays used.
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/sessions"), 200));
  EXPECT_TRUE(IsError(TotpIn(Grace(), CodeBody(code)), 400, kInvalidTotp, "Invalid TOTP code."));
}

TEST_F(SignInFlowFactorsTest, TheAdminApiChecksLogtosFormats) {
  auto refused = [&](std::string_view body) {
    HttpResponse r = server().AdminPost("/admin/users", body);
    return HasStatus(r, 400) ? std::string(Json(r.body).String("/message").value_or(""))
                             : "status " + std::to_string(r.status);
  };
  EXPECT_NE(refused(R"({"id":"x1","totpSecret":"short"})").find("totpSecret"), std::string::npos);
  EXPECT_NE(refused(R"({"id":"x2","totpSecret":"jbswy3dpehpk3pxp"})").find("base32"),
            std::string::npos);
  EXPECT_NE(refused(R"({"id":"x3","totpSecret":"JBSWY3DPEHPK3PXP","backupCodes":["0123456789"]})")
                .find("10 codes"),
            std::string::npos);
  EXPECT_NE(refused(R"({"id":"x4","backupCodes":["0123456789","0123456789","0123456789",)"
                    R"("0123456789","0123456789","0123456789","0123456789","0123456789",)"
                    R"("0123456789","0123456789"]})")
                .find("backup_code_can_not_be_alone"),
            std::string::npos);
}

// WebAuthn has no route here, so enabling it would list a factor nobody can verify.
TEST(SignInFlowCliTest, MfaFactorsRefusesWebAuthnAndUnknownNames) {
  for (const char* factors : {"Totp,WebAuthn", "Sms"}) {
    RunResult r = RunBinary(
        {"--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0", "--mfa-factors", factors});
    EXPECT_EQ(r.exit_code, 2) << factors << "\n" << r.Describe();
    EXPECT_NE(r.err.find("is not one of Totp, EmailVerificationCode, PhoneVerificationCode, "
                         "BackupCode, none"),
              std::string::npos)
        << r.Describe();
  }
}

// --mfa-policy Mandatory with only the email factor enabled.
class SignInFlowMandatoryTest : public SignInFlowFixture {
 public:
  static void SetUpTestSuite() {
    StartSharedServer({"--mfa-policy", "Mandatory", "--mfa-factors", "EmailVerificationCode",
                       "--sign-in-url", "/login", "--sign-in-redirect", "/home"});
  }
};

TEST_F(SignInFlowMandatoryTest, AUserWithoutAnEnabledFactorGets422MissingMfa) {
  for (const auto& [user, password] :
       {std::pair<std::string_view, std::string_view>{"erin", "erin's secret"},
        {"frank", "frank's secret"}}) {
    const std::string cookie = SignedInWithPassword(user, password);
    HttpResponse r = SubmitIn(cookie);
    ASSERT_TRUE(HasStatus(r, 422)) << user;
    EXPECT_EQ(r.body,
              R"({"code":"user.missing_mfa","data":{"availableFactors":["EmailVerificationCode"]},)"
              R"("message":"You need to bind additional MFA before signing-in."})")
        << user;
  }
}

TEST_F(SignInFlowMandatoryTest, OnlyTheEnabledFactorsAreListedAndAccepted) {
  const std::string cookie = SignedInWithPassword("dave", kDavePassword);
  HttpResponse r = SubmitIn(cookie);
  ASSERT_TRUE(HasStatus(r, 403));
  EXPECT_EQ(r.body,
            R"({"code":"session.mfa.require_mfa_verification","data":{"availableFactors":)"
            R"(["EmailVerificationCode"],"maskedIdentifiers":{"EmailVerificationCode":)"
            R"("dave****@example.com"}},"message":"Mfa verification is required to sign in."})");
  PassMfa(cookie, "email");
  HttpResponse done = SubmitIn(cookie);
  ASSERT_TRUE(HasStatus(done, 200));
  EXPECT_EQ(done.body, R"({"redirectTo":"/home"})");
}

TEST_F(SignInFlowMandatoryTest, OidcAuthRedirectsToTheConfiguredSignInUrl) {
  HttpResponse r = Authorize();
  ASSERT_TRUE(HasStatus(r, 303));
  EXPECT_EQ(r.Header("Location"), "/login");
}

}  // namespace
}  // namespace mfa_test
