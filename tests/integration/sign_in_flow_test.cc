// SPDX-License-Identifier: Apache-2.0
// The sign-in flow around the MFA step through the real binary (issue 14): GET /oidc/auth, the
// password verification, identification, submit with its MFA guard, and the sign-in experience
// a page reads, in the order Logto's own sign-in app calls them. Bodies are compared whole where
// Logto's key order matters to a client.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

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
