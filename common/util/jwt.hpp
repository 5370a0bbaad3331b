#pragma once
// HS256 JSON Web Tokens (RFC 7519 with RFC 7515's HMAC-SHA256), as the Node.js back end issues
// them: the edge checks service tokens on its internal API and user tokens on WebSockets.
// Only HS256 is accepted ("alg":"none" and every other algorithm are refused: no downgrade).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace anipipe::util {

struct JwtClaims {
  std::string subject;                                            // "sub"
  std::vector<std::string> scopes;                                // "scope": a space-separated string, as OAuth writes it
  std::optional<std::int64_t> expires_at, not_before, issued_at;  // "exp", "nbf", "iat" (unix seconds)
  bool has_scope(std::string_view s) const;
};

struct JwtResult {
  enum class Status { ok, malformed, bad_signature, expired, not_yet_valid, wrong_algorithm, too_long_lived } status = Status::malformed;
  JwtClaims claims;
  std::string detail;  // why it was refused
  bool ok() const { return status == Status::ok; }
};

/// What a kind of token must also satisfy. Service tokens open the internal API: they must expire
/// (exp), and not claim to live longer than max_lifetime (from iat, or from now without one).
struct JwtRules {
  bool require_exp = false;
  std::optional<std::chrono::seconds> max_lifetime;
};

/// Checks signature, algorithm, exp and nbf (with `leeway` for clock skew) and the rules. Every
/// part is canonical base64url (no padding: RFC 7515 §2); exp, nbf and iat are numbers of seconds
/// from 0 to 2^53.
JwtResult verify_hs256(std::string_view token, std::string_view secret,
                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now(),
                       std::chrono::seconds leeway = std::chrono::seconds(30), JwtRules rules = {});
/// A signed token (tests, tools): payload is the JSON claims object.
std::string sign_hs256(std::string_view payload_json, std::string_view secret);

/// The token of an Authorization header with the Bearer scheme (case-insensitive, RFC 9110 §11.1),
/// nullopt for any other scheme or none.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace anipipe::util
