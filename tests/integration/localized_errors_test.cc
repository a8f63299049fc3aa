// SPDX-License-Identifier: Apache-2.0
// Logto's error messages in the request's language through the real binary (issue 14): the
// public listener answers every error in Logto's words in the language Accept-Language asks
// for, negotiated as Logto's koa-i18next does (English otherwise), with the texts of
// @logto/phrases 1.31.0. The expected strings are the package's, typed out (and, for
// {{relativeTime}}, what V8's Intl.RelativeTimeFormat prints).

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/support/contract.h"
#include "tests/support/json_helpers.h"
#include "tests/support/mock_server.h"

namespace mfa_test {
namespace {

constexpr std::string_view kExperiencePath = "/api/experience";

std::string SendBody(std::string_view type) { return R"({"identifierType":)" + Quote(type) + "}"; }
std::string VerifyBody(std::string_view id, std::string_view code, std::string_view type) {
  return R"({"verificationId":)" + Quote(id) + R"(,"code":)" + Quote(code) +
         R"(,"identifierType":)" + Quote(type) + "}";
}

struct Expected {
  const char* accept_language;
  const char* message;
};

class LocalizedErrorsTest : public MockServerTest {
 protected:
  static Headers Lang(std::string_view accept_language, std::string_view cookie = {}) {
    Headers h = {{"Accept-Language", std::string(accept_language)}};
    if (!cookie.empty()) h.push_back({"Cookie", std::string(cookie)});
    return h;
  }
  HttpResponse VerifyAs(std::string_view lang, std::string_view id, std::string_view code,
                        std::string_view cookie = {}) {
    return pub().Post(kVerifyPath, VerifyBody(id, code, "email"), Lang(lang, cookie));
  }
  std::string Seed(std::string_view object_json) {
    std::string why;
    Json rec = server().SeedOne(object_json, &why);
    EXPECT_TRUE(rec.valid()) << why;
    return rec.String("/verificationId").value_or("");
  }
  // Every language's answer keeps the status and the code; only the message changes.
  void ExpectAll(const std::vector<Expected>& expected, int status, std::string_view code,
                 const std::function<HttpResponse(std::string_view lang)>& request) {
    for (const Expected& e : expected) {
      EXPECT_TRUE(IsError(request(e.accept_language), status, code, e.message))
          << "Accept-Language: " << e.accept_language;
    }
  }
};

TEST_F(LocalizedErrorsTest, WrongCode) {
  ExpectAll(
      {
          {"en", "Invalid verification code."},
          {"fr", "Code de vérification invalide."},
          {"de", "Ungültiger Bestätigungscode."},
          {"ja", "無効な検証コードです。"},
          {"zh-CN", "验证码不正确"},
          {"zh-cn", "验证码不正确"},  // i18next formats the code
          {"fr-CA,fr;q=0.9,en;q=0.8", "Code de vérification invalide."},  // the bare language
          {"fr-CA", "Invalid verification code."},  // no region fallback in Logto
          {"*", "Invalid verification code."},
          {"garbage;;,=", "Invalid verification code."},
          {"de;q=0.5,ja;q=0.8", "無効な検証コードです。"},
      },
      400, kCodeMismatch, [&](std::string_view lang) {
        // A record each: one has 10 tries.
        const std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
        return VerifyAs(lang, id, "000000");
      });
}

TEST_F(LocalizedErrorsTest, ExpiredCode) {
  const std::string id = Seed(R"({"identifierType":"email","code":"123456","ttlSeconds":1})");
  ASSERT_TRUE(HasStatus(server().AdvanceClock(5), 200));
  ExpectAll(
      {
          {"en", "Verification code has expired. Please request a new verification code."},
          {"fr",
           "Le code de vérification a expiré. Veuillez demander un nouveau code de vérification."},
          {"de",
           "Bestätigungscode ist abgelaufen. Bitte fordern Sie einen neuen Bestätigungscode an."},
          {"ja", "検証コードの有効期限が切れました。新しい検証コードをリクエストしてください。"},
          {"zh-CN", "验证码已过期，请尝试请求新的验证码。"},
          {"de-AT", "Verification code has expired. Please request a new verification code."},
          {"", "Verification code has expired. Please request a new verification code."},
      },
      400, kCodeExpired, [&](std::string_view lang) { return VerifyAs(lang, id, "123456"); });
}

TEST_F(LocalizedErrorsTest, VerificationSessionNotFound) {
  ExpectAll(
      {
          {"en",
           "The verification was not successful. Restart the verification flow and try again."},
          {"fr",
           "La vérification n'a pas abouti. Redémarrez le processus de vérification et "
           "réessayez."},
          {"de",
           "Die Verifizierung war nicht erfolgreich. Starte die Verifizierung neu und versuche es "
           "erneut."},
          {"ja", "検証が成功しませんでした。検証フローを再開してもう一度やり直してください。"},
          {"zh-CN", "验证失败，请重新验证。"},
          {"xx-YY",
           "The verification was not successful. Restart the verification flow and try again."},
      },
      404, kVerificationNotFound,
      [&](std::string_view lang) { return VerifyAs(lang, "aaaaaaaaaaaaaaaaaaaaa", "123456"); });
}

TEST_F(LocalizedErrorsTest, GuardInvalidInputKeepsItsDetails) {
  const auto send_empty = [&](std::string_view lang) {
    return pub().Post(kSendPath, "{}", Lang(lang));
  };
  ExpectAll(
      {
          {"en", "The request body is invalid."},
          {"fr", "La requête body n'est pas valide."},
          {"de", "Die Anfrage body ist ungültig."},
          {"ja", "リクエストbodyが無効です。"},
          {"zh-CN", "请求中 body 无效"},
          {"nonsense", "The request body is invalid."},
      },
      400, kInvalidInput, send_empty);
  // Only the message changes: data and details are the same as in English.
  Json en(send_empty("en").body);
  Json ja(send_empty("ja").body);
  EXPECT_EQ(en.Dump("/data"), ja.Dump("/data"));
  EXPECT_EQ(en.String("/details"), ja.String("/details"));
  // mfa-mock's own wording for malformed JSON stays English.
  EXPECT_TRUE(
      IsError(pub().Post(kSendPath, "{", Lang("fr")), 400, kInvalidInput, kInvalidJsonMessage));
}

TEST_F(LocalizedErrorsTest, SessionNotFound) {
  const auto send_in_unknown_session = [&](std::string_view lang) {
    return pub().Post(kSendPath, SendBody("email"), Lang(lang, "_interaction=unknown0session"));
  };
  ExpectAll(
      {
          {"en", "Session not found. Please go back and sign in again."},
          {"fr", "Session non trouvée. Veuillez revenir en arrière et vous connecter à nouveau."},
          {"de", "Sitzung nicht gefunden. Bitte melde dich erneut an."},
          {"ja", "セッションが見つかりません。戻って再度サインインしてください。"},
          {"zh-CN", "未找到会话。请返回并重新登录。"},
      },
      400, "session.not_found", send_in_unknown_session);
  // OIDC's error_description is oidc-provider's, untranslated in Logto too.
  EXPECT_EQ(Json(send_in_unknown_session("ja").body).String("/error_description"),
            "Session not found. Please go back and sign in again.");
}

TEST_F(LocalizedErrorsTest, RateLimitedIsEnglishEverywhereAsThePackageHasNoTranslation) {
  for (int i = 0; i < kDefaultMaxSends; ++i) ASSERT_TRUE(HasStatus(server().Send("email"), 200));
  ExpectAll(
      {
          {"en", "Too many messages sent to this recipient. Please try again later."},
          {"fr", "Too many messages sent to this recipient. Please try again later."},
          {"de", "Too many messages sent to this recipient. Please try again later."},
          {"ja", "Too many messages sent to this recipient. Please try again later."},
          {"zh-CN", "Too many messages sent to this recipient. Please try again later."},
      },
      429, kRateLimited,
      [&](std::string_view lang) { return pub().Post(kSendPath, SendBody("email"), Lang(lang)); });
}

TEST_F(LocalizedErrorsTest, LockoutRelativeTimeInTheLanguage) {
  ASSERT_TRUE(HasStatus(server().PatchConfig(R"({"lockout":{"maxFailures":2}})"), 200));
  ASSERT_TRUE(HasStatus(
      server().AdminPost("/admin/users", R"({"id":"lena","primaryEmail":"lena@example.com"})"),
      201));
  HttpResponse put = pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})");
  ASSERT_TRUE(HasStatus(put, 204));
  std::string cookie;
  for (const std::string& v : put.HeaderValues("Set-Cookie")) {
    if (v.rfind("_interaction=", 0) == 0) cookie = v.substr(0, v.find(';'));
  }
  ASSERT_FALSE(cookie.empty()) << put.Describe();
  const std::string session = cookie.substr(cookie.find('=') + 1);
  ASSERT_TRUE(HasStatus(
      server().AdminPost("/admin/sessions/" + session + "/identify", R"({"userId":"lena"})"), 200));
  HttpResponse sent = pub().Post(kSendPath, SendBody("email"), Lang("en", cookie));
  ASSERT_TRUE(HasStatus(sent, 200));
  const std::string id = Json(sent.body).String("/verificationId").value_or("");
  const std::string_view blocked = "session.verification_blocked_too_many_attempts";
  // The failure that reaches the threshold (2) is itself answered blocked, as Logto's sentinel.
  ASSERT_TRUE(IsErrorCode(VerifyAs("fr", id, "000000x", cookie), 400, kCodeMismatch));
  ASSERT_TRUE(IsError(VerifyAs("fr", id, "000000x", cookie), 400, blocked,
                      "Trop de tentatives en peu de temps. Veuillez réessayer dans 60 minutes."));
  const auto verify = [&](std::string_view lang) { return VerifyAs(lang, id, "000000", cookie); };
  ExpectAll(
      {
          {"en", "Too many attempts in a short time. Please try again in 60 minutes."},
          {"fr", "Trop de tentatives en peu de temps. Veuillez réessayer dans 60 minutes."},
          {"de", "Zu viele Versuche in kurzer Zeit. Bitte versuche es erneut in 60 Minuten."},
          {"ja", "試行回数が多すぎます。60 分後後に再度試してください。"},
          {"zh-CN", "尝试次数过多。请稍后再试 60分钟后。"},
          {"zh-TW", "在短時間內嘗試次數過多。請於 60 分鐘後 後再試。"},
      },
      400, blocked, verify);
  // About 45 s left: Math.round(0.75) minutes.
  ASSERT_TRUE(HasStatus(server().AdvanceClock(59 * 60 + 15), 200));
  ExpectAll(
      {
          {"en", "Too many attempts in a short time. Please try again in 1 minute."},
          {"fr", "Trop de tentatives en peu de temps. Veuillez réessayer dans 1 minute."},
          {"de", "Zu viele Versuche in kurzer Zeit. Bitte versuche es erneut in 1 Minute."},
          {"ja", "試行回数が多すぎます。1 分後後に再度試してください。"},
          {"zh-CN", "尝试次数过多。请稍后再试 1分钟后。"},
      },
      400, blocked, verify);
  // About 15 s left: Math.round(0.25) is 0, and Intl says so.
  ASSERT_TRUE(HasStatus(server().AdvanceClock(30), 200));
  ExpectAll(
      {
          {"en", "Too many attempts in a short time. Please try again in 0 minutes."},
          {"fr", "Trop de tentatives en peu de temps. Veuillez réessayer dans 0 minute."},
          {"de", "Zu viele Versuche in kurzer Zeit. Bitte versuche es erneut in 0 Minuten."},
          {"ja", "試行回数が多すぎます。0 分後後に再度試してください。"},
          {"zh-CN", "尝试次数过多。请稍后再试 0分钟后。"},
      },
      400, blocked, verify);
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/sessions"), 200));
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/users/lena"), 204));
}

// The sign-in flow's codes (issue 14 part 1) come from the same table.
TEST_F(LocalizedErrorsTest, SignInFlowErrors) {
  HttpResponse put = pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})");
  ASSERT_TRUE(HasStatus(put, 204));
  std::string cookie;
  for (const std::string& v : put.HeaderValues("Set-Cookie")) {
    if (v.rfind("_interaction=", 0) == 0) cookie = v.substr(0, v.find(';'));
  }
  ASSERT_FALSE(cookie.empty()) << put.Describe();
  ExpectAll(
      {
          {"en", "Incorrect account or password. Please check your input."},
          {"fr", "Informations d'identification non valides. Veuillez vérifier votre saisie."},
          {"de", "Ungültige Zugangsdaten. Überprüfe deine Eingaben."},
          {"ja", "アカウントまたはパスワードが正しくありません。入力内容を確認してください。"},
          {"zh-CN", "账号或密码错误，请重新输入。"},
      },
      422, "session.invalid_credentials", [&](std::string_view lang) {
        return pub().Post("/api/experience/verification/password",
                          R"({"identifier":{"type":"username","value":"nobody"},"password":"x"})",
                          {{"Accept-Language", std::string(lang)},
                           {"Cookie", cookie},
                           {"Content-Type", "application/json"}});
      });
  ExpectAll(
      {
          {"en", "User identifier not found. Please go back and sign in again."},
          {"fr",
           "Identifiant utilisateur introuvable. Veuillez retourner en arrière et vous connecter à "
           "nouveau."},
          {"de",
           "Benutzerkennung nicht gefunden. Bitte gehen Sie zurück und melden Sie sich erneut an."},
          {"ja", "ユーザー ID が見つかりません。戻って再度サインインしてください。"},
          {"zh-CN", "找不到用户标识符。请返回并重新登录。"},
      },
      404, "session.identifier_not_found", [&](std::string_view lang) {
        return pub().Post("/api/experience/submit", "", Lang(lang, cookie));
      });
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/sessions"), 200));
}

// The TOTP and backup-code factors' wrong-code answers, inside a session whose user signed in
// with a password.
TEST_F(LocalizedErrorsTest, MfaFactorErrors) {
  ASSERT_TRUE(HasStatus(
      server().AdminPost(
          "/admin/users",
          R"({"id":"tara","username":"tara","password":"pw","totpSecret":"JBSWY3DPEHPK3PXP",)"
          R"("backupCodes":["0123456789","abcdef0123","1111111111","2222222222","3333333333",)"
          R"("4444444444","5555555555","6666666666","7777777777","8888888888"]})"),
      201));
  HttpResponse put = pub().Request("PUT", kExperiencePath, R"({"interactionEvent":"SignIn"})");
  ASSERT_TRUE(HasStatus(put, 204));
  std::string cookie;
  for (const std::string& v : put.HeaderValues("Set-Cookie")) {
    if (v.rfind("_interaction=", 0) == 0) cookie = v.substr(0, v.find(';'));
  }
  const Headers json = {{"Cookie", cookie}, {"Content-Type", "application/json"}};
  HttpResponse password =
      pub().Post("/api/experience/verification/password",
                 R"({"identifier":{"type":"username","value":"tara"},"password":"pw"})", json);
  ASSERT_TRUE(HasStatus(password, 200)) << password.Describe();
  const std::string id = Json(password.body).String("/verificationId").value_or("");
  ASSERT_TRUE(HasStatus(
      pub().Post("/api/experience/identification", R"({"verificationId":")" + id + R"("})", json),
      204));
  auto with = [&](std::string_view lang) {
    Headers h = json;
    h.push_back({"Accept-Language", std::string(lang)});
    return h;
  };
  // A code of another format can never be right, whatever the clock.
  ExpectAll(
      {
          {"en", "Invalid TOTP code."},
          {"fr", "Code TOTP non valide."},
          {"de", "Ungültiger TOTP-Code."},
          {"ja", "無効な TOTP コード。"},
          {"zh-CN", "无效的 TOTP 代码。"},
      },
      400, "session.mfa.invalid_totp_code", [&](std::string_view lang) {
        return pub().Post("/api/experience/verification/totp/verify", R"({"code":"12345"})",
                          with(lang));
      });
  ExpectAll(
      {
          {"en", "Invalid backup code."},
          {"fr", "Code de sauvegarde non valide."},
          {"de", "Ungültiger Backup-Code."},
          {"ja", "無効なバックアップコード。"},
          {"zh-CN", "无效的备用代码。"},
      },
      400, "session.mfa.invalid_backup_code", [&](std::string_view lang) {
        return pub().Post("/api/experience/verification/backup-code/verify",
                          R"({"code":"9999999999"})", with(lang));
      });
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/sessions"), 200));
  ASSERT_TRUE(HasStatus(server().AdminDelete("/admin/users/tara"), 204));
}

TEST_F(LocalizedErrorsTest, LocaleQueryParameterComesFirst) {
  const std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  HttpResponse r = pub().Post(std::string(kVerifyPath) + "?locale=de",
                              VerifyBody(id, "000000", "email"), Lang("fr"));
  EXPECT_TRUE(IsError(r, 400, kCodeMismatch, "Ungültiger Bestätigungscode."));
}

TEST_F(LocalizedErrorsTest, NoContentLanguageNorVaryAsLogto) {
  const std::string id = Seed(R"({"identifierType":"email","code":"123456"})");
  HttpResponse r = VerifyAs("fr", id, "000000");
  ASSERT_TRUE(IsErrorCode(r, 400, kCodeMismatch));
  EXPECT_TRUE(r.HeaderValues("Content-Language").empty());
  for (const std::string& v : r.HeaderValues("Vary")) {
    EXPECT_EQ(v.find("Accept-Language"), std::string::npos) << v;
  }
}

TEST_F(LocalizedErrorsTest, MockAndAdminErrorsStayEnglish) {
  HttpResponse unknown = pub().Get("/api/nowhere", Lang("fr"));
  EXPECT_TRUE(IsErrorCode(unknown, 404, kRouteNotFound));
  EXPECT_EQ(Json(unknown.body).String("/message"), "No route matches GET /api/nowhere.");
  HttpResponse admin = server().admin().Get("/admin/verifications/nope", Lang("fr"));
  EXPECT_TRUE(IsErrorCode(admin, 404, "admin.not_found"));
  EXPECT_EQ(Json(admin.body).String("/message"), "No verification with id \"nope\".");
}

TEST_F(LocalizedErrorsTest, SuccessIsByteIdenticalWithAndWithoutAcceptLanguage) {
  const std::string id = Seed(
      R"({"verificationId":"lang0000000000000000a","identifierType":"email","code":"123456"})");
  const std::string id2 = Seed(
      R"({"verificationId":"lang0000000000000000b","identifierType":"email","code":"123456"})");
  HttpResponse plain = pub().Post(kVerifyPath, VerifyBody(id, "123456", "email"));
  HttpResponse french = VerifyAs("fr", id2, "123456");
  ASSERT_TRUE(HasStatus(plain, 200));
  ASSERT_TRUE(HasStatus(french, 200));
  std::string expected_french = plain.body;
  expected_french.replace(expected_french.find(id), id.size(), id2);
  EXPECT_EQ(french.body, expected_french);
  EXPECT_EQ(plain.headers.size(), french.headers.size());
  EXPECT_TRUE(french.HeaderValues("Content-Language").empty());
}

}  // namespace
}  // namespace mfa_test
