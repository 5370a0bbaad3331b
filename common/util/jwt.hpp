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
  std::string subject;               // "sub"
  std::vector<std::string> scopes;   // "scope": a space-separated string, as OAuth writes it
  std::optional<std::int64_t> expires_at, not_before;  // "exp", "nbf" (unix seconds)
  bool has_scope(std::string_view s) const;
};

struct JwtResult {
  enum class Status { ok, malformed, bad_signature, expired, not_yet_valid, wrong_algorithm } status = Status::malformed;
  JwtClaims claims;
  std::string detail;  // why it was refused
  bool ok() const { return status == Status::ok; }
};

/// Checks signature, algorithm, exp and nbf (with `leeway` for clock skew).
JwtResult verify_hs256(std::string_view token, std::string_view secret,
                       std::chrono::system_clock::time_point now = std::chrono::system_clock::now(),
                       std::chrono::seconds leeway = std::chrono::seconds(30));
/// A signed token (tests, tools): payload is the JSON claims object.
std::string sign_hs256(std::string_view payload_json, std::string_view secret);

}  // namespace anipipe::util
