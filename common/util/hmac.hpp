#pragma once
// HMAC-SHA256 (OpenSSL): notify signs its webhook calls with it, the edge checks HS256 tokens.
#include <array>
#include <string>
#include <string_view>

namespace anipipe::util {

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view message);
/// Lower-case hex of the MAC.
std::string hmac_sha256_hex(std::string_view key, std::string_view message);
/// Compares in time independent of where the inputs differ (for checking received signatures).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace anipipe::util
