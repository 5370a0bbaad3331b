#pragma once
// Base64 (RFC 4648): standard for WebSocket keys, URL-safe without padding for JSON Web Tokens.
#include <optional>
#include <string>
#include <string_view>

namespace anipipe::util {

/// Standard base64 with padding (RFC 4648 §4).
std::string base64_encode(std::string_view in);
/// URL-safe base64 without padding (RFC 4648 §5), as JWTs use it.
std::string base64url_encode(std::string_view in);
/// Decodes URL-safe base64 without padding (a JWS has one spelling); nullopt on any other
/// character, padding included, or a bad length.
std::optional<std::string> base64url_decode(std::string_view in);
/// Standard base64 with padding (RFC 4648 §4); nullopt if it is not.
std::optional<std::string> base64_decode(std::string_view in);
/// Standard base64 with padding (RFC 4648 §4); nullopt if it is not.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace anipipe::util
