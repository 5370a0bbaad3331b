#include "util/jwt.hpp"

#include <simdjson.h>

#include <cctype>

#include "util/base64.hpp"
#include "util/hmac.hpp"

namespace anipipe::util {

bool JwtClaims::has_scope(std::string_view s) const {
  for (const auto& x : scopes)
    if (x == s) return true;
  return false;
}

namespace {
JwtResult refuse(JwtResult::Status s, std::string detail) {
  JwtResult r;
  r.status = s;
  r.detail = std::move(detail);
  return r;
}
}  // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer";
  if (authorization.size() <= scheme.size() || authorization[scheme.size()] != ' ') return std::nullopt;
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return std::nullopt;
  auto token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

JwtResult verify_hs256(std::string_view token, std::string_view secret, std::chrono::system_clock::time_point now,
                       std::chrono::seconds leeway, JwtRules rules) {
  using S = JwtResult::Status;
  const auto d1 = token.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return refuse(S::malformed, "a JWT has three dot-separated parts");
  const auto header_b64 = token.substr(0, d1), payload_b64 = token.substr(d1 + 1, d2 - d1 - 1), sig_b64 = token.substr(d2 + 1);
  const auto header = base64url_decode(header_b64), payload = base64url_decode(payload_b64), sig = base64url_decode(sig_b64);
  if (!header || !payload || !sig) return refuse(S::malformed, "a JWT part is not base64url");

  thread_local simdjson::dom::parser parser;  // tokens are checked per request: no allocation each time
  simdjson::dom::element h;
  std::string_view alg;
  if (parser.parse(*header).get(h) || h["alg"].get(alg)) return refuse(S::malformed, "the JWT header is not JSON with an alg");
  if (alg != "HS256") return refuse(S::wrong_algorithm, "only HS256 tokens are accepted, not " + std::string(alg));

  const auto mac = hmac_sha256(secret, token.substr(0, d2));
  if (!constant_time_equal(*sig, std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size())))
    return refuse(S::bad_signature, "the JWT signature does not match");

  simdjson::dom::element p;
  if (parser.parse(*payload).get(p) || !p.is_object()) return refuse(S::malformed, "the JWT payload is not a JSON object");
  JwtResult r;
  r.status = S::ok;
  std::string_view sv;
  if (!p["sub"].get(sv)) r.claims.subject = std::string(sv);
  if (!p["scope"].get(sv))
    for (std::size_t i = 0; i < sv.size();) {
      const auto end = std::min(sv.find(' ', i), sv.size());
      if (end > i) r.claims.scopes.emplace_back(sv.substr(i, end - i));
      i = end + 1;
    }
  auto number = [&](const char* name, std::optional<std::int64_t>& out) {
    auto v = p[name];
    if (v.error()) return true;
    double d = 0;
    // Converting a double outside int64 is undefined behaviour: bound it first (2^53: exact).
    if (v.get(d) || !(d >= 0 && d <= 9007199254740992.0)) return false;
    out = static_cast<std::int64_t>(d);
    return true;
  };
  if (!number("exp", r.claims.expires_at) || !number("nbf", r.claims.not_before) || !number("iat", r.claims.issued_at))
    return refuse(S::malformed, "exp, nbf and iat must be numbers of seconds from 0 to 2^53");
  const auto t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (rules.require_exp && !r.claims.expires_at) return refuse(S::malformed, "the JWT must expire (exp)");
  if (r.claims.expires_at && t > *r.claims.expires_at + leeway.count()) return refuse(S::expired, "the JWT has expired");
  if (r.claims.not_before && t + leeway.count() < *r.claims.not_before) return refuse(S::not_yet_valid, "the JWT is not valid yet");
  if (rules.max_lifetime && r.claims.expires_at) {
    const auto from = r.claims.issued_at ? *r.claims.issued_at : t;
    if (*r.claims.expires_at - from > rules.max_lifetime->count() + leeway.count())
      return refuse(S::too_long_lived, "the JWT lives longer than " + std::to_string(rules.max_lifetime->count()) + " s");
  }
  return r;
}

std::string sign_hs256(std::string_view payload_json, std::string_view secret) {
  std::string token = base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(payload_json);
  const auto mac = hmac_sha256(secret, token);
  token += "." + base64url_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return token;
}

}  // namespace anipipe::util
