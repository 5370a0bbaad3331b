#include <doctest/doctest.h>

#include "util/base64.hpp"
#include "util/jwt.hpp"

using namespace anipipe::util;
using S = JwtResult::Status;

TEST_CASE("base64url: round trip, no padding, strict decoding") {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"}) {
    const auto e = base64url_encode(s);
    CHECK(e.find('=') == std::string::npos);
    CHECK(base64url_decode(e) == s);
  }
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK_FALSE(base64url_decode("a+b/"));
  CHECK_FALSE(base64url_decode("abcde"));
}

TEST_CASE("JWT HS256: the RFC 7515 A.1 token's signature checks out with its key") {
  // RFC 7515 appendix A.1 (exp 1300819380 is long past: checked at a time before it).
  const std::string token =
      "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
      "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const auto key = *base64url_decode("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow");
  const auto at = std::chrono::system_clock::time_point(std::chrono::seconds(1300819000));
  CHECK(verify_hs256(token, key, at).ok());
  CHECK(verify_hs256(token, key, at + std::chrono::hours(1)).status == S::expired);
  CHECK(verify_hs256(token, "another key", at).status == S::bad_signature);
}

TEST_CASE("JWT HS256: claims, scopes, and every way a token is refused") {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto good = sign_hs256(R"({"sub":"node-backend","scope":"internal read","exp":)" + std::to_string(t + 60) + "}", "k");
  auto r = verify_hs256(good, "k", now);
  REQUIRE(r.ok());
  CHECK(r.claims.subject == "node-backend");
  CHECK(r.claims.has_scope("internal"));
  CHECK_FALSE(r.claims.has_scope("admin"));

  CHECK(verify_hs256(good, "k2", now).status == S::bad_signature);
  CHECK(verify_hs256(sign_hs256(R"({"exp":)" + std::to_string(t - 120) + "}", "k"), "k", now).status == S::expired);
  CHECK(verify_hs256(sign_hs256(R"({"nbf":)" + std::to_string(t + 120) + "}", "k"), "k", now).status == S::not_yet_valid);
  CHECK(verify_hs256("abc", "k", now).status == S::malformed);
  CHECK(verify_hs256("a.b.c.d", "k", now).status == S::malformed);
  CHECK(verify_hs256("!!.!!.!!", "k", now).status == S::malformed);
  // alg "none" with an empty signature: refused, whatever the payload says.
  const auto none = base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(R"({"sub":"x"})") + ".";
  CHECK(verify_hs256(none, "k", now).status == S::wrong_algorithm);
  // A forged payload under a genuine signature.
  const auto dot = good.rfind('.');
  const auto forged = base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode(R"({"sub":"admin","scope":"internal"})") +
                      good.substr(dot);
  CHECK(verify_hs256(forged, "k", now).status == S::bad_signature);
}

TEST_CASE("JWT: one spelling per signature - padding is refused (RFC 7515 section 2)") {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const auto good = sign_hs256(R"({"sub":"svc","exp":)" + std::to_string(t + 60) + "}", "k");
  REQUIRE(verify_hs256(good, "k", now).ok());
  CHECK(verify_hs256(good + "=", "k", now).status == S::malformed);
  CHECK(verify_hs256(good + "==", "k", now).status == S::malformed);
  CHECK_FALSE(base64url_decode("Zm9v="));
}

TEST_CASE("JWT: service-token rules - exp required, a bounded lifetime, exp and nbf inside the range of exact seconds") {
  const auto now = std::chrono::system_clock::now();
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const JwtRules service{.require_exp = true, .max_lifetime = std::chrono::hours(24)};
  auto check = [&](const std::string& claims) {
    return verify_hs256(sign_hs256(claims, "k"), "k", now, std::chrono::seconds(30), service);
  };
  CHECK(check(R"({"sub":"svc","exp":)" + std::to_string(t + 3600) + "}").ok());
  CHECK(check(R"({"sub":"svc"})").status == S::malformed);                  // never expires: refused
  CHECK(verify_hs256(sign_hs256(R"({"sub":"svc"})", "k"), "k", now).ok());  // without the rules: allowed (user tokens)
  CHECK(check(R"({"sub":"svc","exp":)" + std::to_string(t + 3 * 86400) + "}").status == S::too_long_lived);
  CHECK(check(R"({"sub":"svc","iat":)" + std::to_string(t - 86400) + R"(,"exp":)" + std::to_string(t + 86400) + "}").status ==
        S::too_long_lived);
  CHECK(check(R"({"sub":"svc","iat":)" + std::to_string(t - 600) + R"(,"exp":)" + std::to_string(t + 600) + "}").ok());
  // Out of range: refused as malformed, never converted with undefined behaviour.
  for (const char* v : {"1e300", "-1", "9.3e18", "18446744073709551616"}) {
    CAPTURE(v);
    CHECK(verify_hs256(sign_hs256(std::string(R"({"exp":)") + v + "}", "k"), "k", now).status == S::malformed);
    CHECK(verify_hs256(sign_hs256(std::string(R"({"nbf":)") + v + "}", "k"), "k", now).status == S::malformed);
  }
}

TEST_CASE("Authorization: the Bearer scheme in any case (RFC 9110 section 11.1), nothing else") {
  CHECK(bearer_token("Bearer abc") == std::optional<std::string_view>("abc"));
  CHECK(bearer_token("bearer abc") == std::optional<std::string_view>("abc"));
  CHECK(bearer_token("BEARER  abc") == std::optional<std::string_view>("abc"));
  CHECK_FALSE(bearer_token("Basic abc"));
  CHECK_FALSE(bearer_token("Bearerabc"));
  CHECK_FALSE(bearer_token(""));
}
