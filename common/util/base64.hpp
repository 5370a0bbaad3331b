#pragma once
#include <string>
#include <string_view>

namespace anipipe::util {

/// Standard base64 with padding (RFC 4648 §4).
std::string base64_encode(std::string_view in);

}  // namespace anipipe::util
